// Bytes against docs/runtime.md's worked example: FC layers with Di = 8, Do = 4, batch 4 on
// 1xtpu-v2,1xtpu-v3. The plan's alpha cannot be forced, so the expected bytes of each plan come
// from docs/design.md's tables, transcribed here with the integer splits of the plan's alpha, not
// from the planner's code.
#include "runtime_test.h"
#include "test_support.h"

extern "C" {
#include "array_model.h"
#include "cost.h"
}

#include <cmath>
#include <cstdio>
#include <fstream>

namespace {

// A group's share of d: round(alpha d), half away from zero (docs/design.md, docs/cost-model.md).
int64_t share(int64_t d, double alpha, int g) {
    int64_t i = std::llround(alpha * (double)d);
    return g == 0 ? i : d - i;
}

// docs/design.md's intra-layer table: each group receives |T| fp32 elements, T = dW (I), F(l+1)
// (II) or E(l) (III; none when the layer reads the network input, its E(l) is not computed).
uint64_t intra_bytes(int type, int64_t b, int64_t di, int64_t dout, bool needs_backward) {
    int64_t t[3] = {di * dout, b * dout, needs_backward ? b * di : 0};
    return 4 * (uint64_t)t[type];
}

// docs/design.md's conversion table for group g between layer types l -> l1 of an FC edge with B
// samples and C channels, as element counts (F part + E part) from the groups' integer shares:
// alpha B -> b[g], alpha C -> c[g]; "beta" is the other group's share.
uint64_t inter_bytes(int l, int l1, int g, int64_t B, int64_t C, const int64_t b[2],
                     const int64_t c[2]) {
    int o = 1 - g;
    int64_t table[3][3] = {
        {0, b[o] * c[g] + b[g] * c[o], b[o] * C}, // I -> I, II, III
        {b[o] * C, B * c[o], 0},                  // II -> ...
        {b[g] * c[o] + b[o] * c[g], 0, B * c[o]}, // III -> ...
    };
    return 2 * (uint64_t)table[l][l1];
}

std::string example_net() {
    std::string path = test_dir() + "fc-example.net";
    std::ofstream(path) << "network fc-example\ninput data c=8 h=1 w=1\n"
                           "fc fc0 in=data out=8\nfc fc1 in=fc0 out=4\n";
    return path;
}

// The cost model's conversion and reduction counts (cost_layouts, cost_convert_elems,
// cost_intra_elems) equal the design tables for every pair of types, on the worked example's
// uneven shares and on others; and the worked example's numbers are docs/runtime.md's.
TEST(Bytes, TheCostModelsCountsAreTheDesignTables) {
    const int64_t B = 4, C = 8;
    net_node fc{};
    fc.kind = NODE_FC;
    fc.cin = C;
    fc.cout = 4;
    fc.k = fc.hin = fc.win = fc.hout = fc.wout = 1;
    for (double alpha : {0.25, 0.5, 0.8}) {
        int64_t b[2] = {share(B, alpha, 0), share(B, alpha, 1)};
        int64_t c[2] = {share(C, alpha, 0), share(C, alpha, 1)};
        for (int l = 0; l < 3; l++)
            for (int l1 = 0; l1 < 3; l1++)
                for (int g = 0; g < 2; g++) {
                    node_layouts lu = cost_layouts(NODE_FC, l), lv = cost_layouts(NODE_FC, l1);
                    int64_t f = cost_convert_elems(lu.produce_f, lv.require_f, B, C, 1, b[g], c[g]);
                    int64_t e = cost_convert_elems(lv.produce_e, lu.require_e, B, C, 1, b[g], c[g]);
                    EXPECT_EQ(2 * (uint64_t)(f + e), inter_bytes(l, l1, g, B, C, b, c))
                        << "alpha " << alpha << " " << l << " -> " << l1 << " group " << g;
                }
        for (int t = 0; t < 3; t++)
            EXPECT_EQ(4 * (uint64_t)cost_intra_elems(&fc, (layer_type)t, B, C, 4),
                      intra_bytes(t, B, C, 4, true));
    }
    // docs/runtime.md: Type I -> Type II at 1 | 3 samples and 2 | 6 channels: each group
    // receives 12 bytes of F forward and 12 bytes of E backward
    int64_t b[2] = {1, 3}, c[2] = {2, 6};
    EXPECT_EQ(inter_bytes(0, 1, 0, 4, 8, b, c), 24u);
    EXPECT_EQ(inter_bytes(0, 1, 1, 4, 8, b, c), 24u);
}

TEST(Bytes, EveryPlanOfTheWorkedExampleMovesDesignMdsBytes) {
    std::string path = example_net();
    int seen_types = 0, shapes_checked = 0;
    for (strategy s : {STRATEGY_ACCPAR, STRATEGY_HYPAR, STRATEGY_OWT})
        for (const char *model : {"exact", "peak"}) {
            static accel_array a;
            char err[1024];
            net g{};
            ASSERT_EQ(accel_array_parse("1xtpu-v2,1xtpu-v3", &a, err, sizeof err), 0) << err;
            ASSERT_EQ(array_model_select(&a, model, nullptr, err, sizeof err), 0) << err;
            ASSERT_EQ(net_find(path.c_str(), &g, err, sizeof err), 0) << err;
            plan_options po{s, 4, 0, 0, 0};
            plan p{};
            ASSERT_EQ(plan_make(&g, &a, &po, &p, err, sizeof err), 0) << err;
            run_options o{};
            o.fidelity = RUN_FIDELITY_GOLDEN;
            o.seed = 1;
            run_result r{};
            ASSERT_EQ(run_step(&g, &a, &p, &o, &r, err, sizeof err), 0) << err;
            EXPECT_TRUE(r.verified) << r.failure;
            ASSERT_EQ(r.n_levels, 1);
            const plan_level &lv = r.plan->levels[0];
            const int64_t B = 4, C = 8;
            int64_t b[2] = {share(B, lv.alpha, 0), share(B, lv.alpha, 1)};
            int64_t c[2] = {share(C, lv.alpha, 0), share(C, lv.alpha, 1)};
            int t0 = lv.state[1], t1 = lv.state[2];
            std::string what = std::string(strategy_name(s)) + " " + model + ": " +
                               std::to_string(t0) + "," + std::to_string(t1) + " at " +
                               std::to_string(lv.alpha);
            // fc0 reads the network input: its reduction only
            EXPECT_EQ(r.layers[1].bytes[0], 2 * intra_bytes(t0, B, 8, 8, false)) << what;
            // fc1 (the example layer): its reduction and both groups' conversions of its input
            uint64_t fc1 = 2 * intra_bytes(t1, B, 8, 4, true) + inter_bytes(t0, t1, 0, B, C, b, c) +
                           inter_bytes(t0, t1, 1, B, C, b, c);
            EXPECT_EQ(r.layers[2].bytes[0], fc1) << what;
            EXPECT_EQ(r.bytes_moved, r.layers[1].bytes[0] + fc1) << what;
            EXPECT_EQ(r.link_bytes, r.bytes_moved) << what;
            // the example's GEMM shapes on the v2 when the plan splits like alpha = 0.25 does
            if (b[0] == 1 && c[0] == 2) { // Do = 4 splits 1 | 3 like B
                shapes_checked++;
                const gemm_dims want[3][3] = {{{1, 8, 4}, {1, 4, 8}, {8, 1, 4}},
                                              {{4, 2, 4}, {4, 4, 2}, {2, 4, 4}},
                                              {{4, 8, 1}, {4, 1, 8}, {8, 4, 1}}};
                for (int ph = 0; ph < 3; ph++) {
                    const gemm_dims &gd = *plan_gemm(r.plan, 0, 2, (gemm_phase)ph); // device 0
                    EXPECT_EQ(gd.m, want[t1][ph].m) << what << " phase " << ph;
                    EXPECT_EQ(gd.k, want[t1][ph].k) << what << " phase " << ph;
                    EXPECT_EQ(gd.n, want[t1][ph].n) << what << " phase " << ph;
                }
            }
            seen_types |= 1 << t0 | 1 << t1;
            run_result_free(&r);
            plan_free(&p);
            net_free(&g);
        }
    EXPECT_EQ(seen_types, 7); // types I, II and III all occur
    EXPECT_GT(shapes_checked, 0);
}

} // namespace
