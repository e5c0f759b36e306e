// One training step of the small networks under every strategy on mixed arrays: numerics
// (OpenBLAS, inside the run), bytes against the planner's per-split prediction, cycles against
// the closed form recomputed here from the planner's shapes, RTL against replay.
#include "runtime_test.h"
#include "rtl_available.h"

extern "C" {
#include "plan_memory.h"
}

#include <algorithm>
#include <cmath>
#include <memory>
#include <tuple>
#include <vector>

namespace {

using Param = std::tuple<const char *, strategy, const char *, run_fidelity>;

class Step : public testing::TestWithParam<Param> {};

TEST_P(Step, VerifiesAndMatchesThePlannersBytesAndCycles) {
    auto [name, strat, accels, fidelity] = GetParam();
    if (fidelity != RUN_FIDELITY_GOLDEN)
        REQUIRE_RTL(accels);
    step_case k{name, accels, strat, 6, fidelity, 0.5};
    step_run s;
    ASSERT_TRUE(run_case(k, s));
    const run_result &r = s.r;
    const net &g = s.g;
    EXPECT_TRUE(r.verified) << r.failure;
    // bytes: each split's groups against the planner's intra + inter bytes, summed here
    uint64_t predicted_total = 0;
    for (int v = 0; v < g.n; v++)
        for (int h = 0; h < r.plan->n_levels; h++) {
            uint64_t want = 0;
            const plan_level &lv = r.plan->levels[h];
            for (int q = 0; q < lv.n_pairs; q++)
                want += 2 * lv.pairs[q].intra_bytes[v] + lv.pairs[q].inter_bytes[2 * v] +
                        lv.pairs[q].inter_bytes[2 * v + 1];
            EXPECT_EQ(r.layers[v].bytes[h], want) << g.nodes[v].name << " level " << h;
            predicted_total += want;
        }
    EXPECT_EQ(r.bytes_moved, r.plan->comm_bytes);
    EXPECT_EQ(r.link_bytes, r.bytes_moved);
    EXPECT_EQ(predicted_total, r.plan->comm_bytes);
    // cycles: every device, every layer
    for (int v = 0; v < g.n; v++) {
        if (!net_is_weighted(&g.nodes[v]))
            continue;
        for (int d = 0; d < r.n_devices; d++)
            EXPECT_EQ(r.layers[v].cycles[d], planned_cycles(*r.plan, s.a, d, v))
                << g.nodes[v].name << " device " << d;
        for (int ph = 0; ph < PHASES; ph++) {
            if (r.layers[v].checked[ph]) {
                EXPECT_LE(r.layers[v].check[ph].max_bound_ratio, 1.0);
            }
        }
        EXPECT_TRUE(r.layers[v].checked[0] && r.layers[v].checked[2]);
    }
    // the simulated step can only add barriers to the planner's sum: close, never far
    EXPECT_NEAR(r.simulated_step_s, r.predicted_step_s, 0.05 * r.predicted_step_s);
}

std::string case_name(const testing::TestParamInfo<Param> &info) {
    std::string s = std::string(std::get<0>(info.param)) + "_" +
                    strategy_name(std::get<1>(info.param)) + "_" + std::get<2>(info.param);
    for (char &ch : s)
        if (!isalnum((unsigned char)ch))
            ch = '_';
    return s;
}

INSTANTIATE_TEST_SUITE_P(
    SmallNetworks, Step,
    testing::Combine(testing::Values("mlp", "tiny-cnn", "tiny-resnet"),
                     testing::Values(STRATEGY_ACCPAR, STRATEGY_HYPAR, STRATEGY_OWT, STRATEGY_DP),
                     testing::Values("1xtpu-v2,2xtpu-v3", "2xtpu-v2,2xtpu-v3", "3xtpu-v3"),
                     testing::Values(RUN_FIDELITY_GOLDEN)),
    case_name);

// The same properties with every GEMM on the verilated RTL.
INSTANTIATE_TEST_SUITE_P(
    Rtl, Step,
    testing::Combine(testing::Values("tiny-resnet"),
                     testing::Values(STRATEGY_ACCPAR, STRATEGY_HYPAR, STRATEGY_OWT, STRATEGY_DP),
                     testing::Values("1xtpu-v2,2xtpu-v3"), testing::Values(RUN_FIDELITY_RTL)),
    case_name);

TEST(Step, EveryLayerTypeIsExercised) {
    // the matrix above must cover types I, II and III somewhere, or it proves less than it says
    int seen[3] = {0, 0, 0};
    for (const char *name : {"mlp", "tiny-cnn", "tiny-resnet"}) {
        step_case k{name, "2xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 6, RUN_FIDELITY_GOLDEN, 0.5};
        step_run s;
        ASSERT_TRUE(run_case(k, s));
        for (int h = 0; h < s.p.n_levels; h++)
            for (int v = 0; v < s.g.n; v++)
                if (net_is_weighted(&s.g.nodes[v]))
                    seen[s.p.levels[h].state[v]]++;
    }
    EXPECT_GT(seen[0], 0);
    EXPECT_GT(seen[1], 0);
    EXPECT_GT(seen[2], 0);
}

TEST(Step, ReplayGivesTheSameCyclesAsRtl) {
    REQUIRE_RTL("1xtpu-v2,2xtpu-v3");
    for (const char *name : {"mlp", "tiny-cnn", "tiny-resnet"}) {
        step_case k{name, "1xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, RUN_FIDELITY_RTL, 0.5};
        step_run s1, s2;
        ASSERT_TRUE(run_case(k, s1));
        k.fidelity = RUN_FIDELITY_REPLAY;
        ASSERT_TRUE(run_case(k, s2));
        const run_result &rtl = s1.r, &rep = s2.r;
        const net &g1 = s1.g;
        EXPECT_TRUE(rtl.verified) << rtl.failure;
        EXPECT_TRUE(rep.verified) << rep.failure;
        for (int v = 0; v < g1.n; v++)
            for (int d = 0; d < rtl.n_devices; d++)
                EXPECT_EQ(rtl.layers[v].cycles[d], rep.layers[v].cycles[d]) << name;
        EXPECT_EQ(rtl.simulated_step_s, rep.simulated_step_s) << name;
        EXPECT_EQ(rtl.bytes_moved, rep.bytes_moved) << name;
    }
}

// Same seed: the same bits in every verified result, the same cycles, time and bytes. Another
// seed: other results (the hashes cover the assembled F(l+1), E(l) and dW of every layer).
TEST(Step, SameSeedSameResult) {
    step_case k{"tiny-resnet", "1xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 5, RUN_FIDELITY_GOLDEN, 0.5};
    step_run s1, s2, s3;
    ASSERT_TRUE(run_case(k, s1));
    ASSERT_TRUE(run_case(k, s2));
    ASSERT_TRUE(run_case(k, s3, 8));
    const run_result &r1 = s1.r, &r2 = s2.r, &r3 = s3.r;
    const net &g1 = s1.g;
    EXPECT_EQ(r1.simulated_step_s, r2.simulated_step_s);
    EXPECT_EQ(r1.bytes_moved, r2.bytes_moved);
    int checked = 0, changed = 0;
    for (int v = 0; v < g1.n; v++) {
        for (int d = 0; d < r1.n_devices; d++)
            EXPECT_EQ(r1.layers[v].cycles[d], r2.layers[v].cycles[d]) << g1.nodes[v].name;
        for (int ph = 0; ph < PHASES; ph++) {
            if (!r1.layers[v].checked[ph])
                continue;
            checked++;
            EXPECT_EQ(r1.layers[v].result_hash[ph], r2.layers[v].result_hash[ph])
                << g1.nodes[v].name << " phase " << ph;
            changed += r1.layers[v].result_hash[ph] != r3.layers[v].result_hash[ph];
        }
    }
    EXPECT_GT(checked, 10);
    EXPECT_EQ(changed, checked);
    EXPECT_TRUE(r3.verified) << r3.failure;
}

TEST(Step, BatchSmallerThanTheSplitIsAnError) {
    char err[1024];
    net g{};
    static accel_array a;
    ASSERT_EQ(accel_array_parse("4xtpu-v2", &a, err, sizeof err), 0);
    ASSERT_EQ(net_find("mlp", &g, err, sizeof err), 0);
    plan_options po{STRATEGY_DP, 2, 0, 0, 0};
    plan p{};
    EXPECT_EQ(plan_make(&g, &a, &po, &p, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find("field 'batch'"), std::string::npos) << err;
    net_free(&g);
}

} // namespace

namespace {

// Bytes a GEMM's operands take on a device, laid out as docs/accelerator.md describes: A in
// panels of m_c = min(M, activation rows, accumulator rows) rows by R bf16, one per chunk and
// k tile; B in blocks of X tiles of R x C bf16, one per k tile and group of X n tiles; C in
// tiles of m_c rows by C fp32, one per chunk and n tile; each panel, block and tile rounded up
// to whole port words.
uint64_t padded_bytes(const accel_preset &p, const gemm_dims &g) {
    auto up = [](int64_t x, int64_t to) { return (x + to - 1) / to * to; };
    int64_t R = p.array_rows, C = p.array_cols, X = p.mxus, bw = p.mem_bytes_per_cycle;
    int64_t mc = std::min<int64_t>(g.m, std::min(p.act_buffer_rows, p.acc_buffer_rows));
    int64_t chunks = up(g.m, mc) / mc, kt = up(g.k, R) / R, nt = up(g.n, C) / C;
    int64_t groups = up(nt, X) / X;
    return (uint64_t)(chunks * kt * up(mc * R * 2, bw) + kt * groups * up(X * R * C * 2, bw) +
                      chunks * nt * up(mc * C * 4, bw));
}

// docs/runtime.md calls host_bytes exact: every GEMM's operands in and result out, padded, and
// every transfer's payload staged into its source and read back from its destination.
TEST(Step, HostBytesAreExact) {
    for (const char *name : {"mlp", "tiny-cnn", "tiny-resnet"}) {
        step_case k{name, "1xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 5, RUN_FIDELITY_GOLDEN, 0.5};
        step_run s;
        ASSERT_TRUE(run_case(k, s));
        uint64_t want = 2 * s.r.link_bytes;
        for (int d = 0; d < s.a.n; d++)
            for (int v = 0; v < s.g.n; v++)
                for (int ph = 0; ph < PHASES; ph++) {
                    const gemm_dims *g = plan_gemm(&s.p, d, v, (gemm_phase)ph);
                    if (g->m)
                        want += padded_bytes(s.a.kinds[s.a.kind_of[d]], *g);
                }
        EXPECT_EQ(s.r.host_bytes, want) << name;
    }
}

} // namespace

namespace {

// The runtime reserves each device's resident set from its own geometry and reports its
// allocator's high-water mark: the resident bytes are the planner's, and the peak is the
// planner's exactly where the largest GEMM outweighs the staging bound.
TEST(Step, DeviceMemoryIsThePlannersFootprint) {
    int exact = 0;
    for (const char *name : {"mlp", "tiny-cnn", "tiny-resnet"})
        for (strategy s : {STRATEGY_ACCPAR, STRATEGY_HYPAR, STRATEGY_DP}) {
            step_case k{name, "1xtpu-v2,2xtpu-v3", s, 6, RUN_FIDELITY_GOLDEN, 0.5};
            step_run r;
            ASSERT_TRUE(run_case(k, r));
            EXPECT_TRUE(r.r.verified) << r.r.failure;
            for (int d = 0; d < r.r.n_devices; d++) {
                const plan_memory &m = r.p.memory[d];
                EXPECT_GT(m.resident, 0u);
                EXPECT_EQ(r.r.device_mem_resident[d], m.resident) << name << " device " << d;
                EXPECT_LE(r.r.device_mem_peak[d], m.peak) << name << " device " << d;
                EXPECT_GE(r.r.device_mem_peak[d], m.resident + m.gemm) << name;
                if (m.gemm >= m.staging) {
                    EXPECT_EQ(r.r.device_mem_peak[d], m.peak) << name << " device " << d;
                    exact++;
                }
            }
        }
    EXPECT_GT(exact, 10);
}

} // namespace
