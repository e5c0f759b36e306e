// Deliberate faults must be caught by the run's verification and named in its report.
#include "runtime_test.h"
#include "rtl_available.h"

#include <algorithm>
#include <sstream>
#include <vector>

namespace {

// The devices a failure names after "held by device".
std::vector<int> holders(const std::string &why) {
    std::vector<int> out;
    size_t at = why.find("held by device");
    if (at == std::string::npos)
        return out;
    std::istringstream in(why.substr(at + 14, why.find(')', at) - at - 14));
    for (int d; in >> d;)
        out.push_back(d);
    return out;
}

// A step with a fault injected (the runtime's test build, run_step_faulty).
struct faulty_run : step_run {
    testing::AssertionResult ran = testing::AssertionSuccess();
    faulty_run(const step_case &k, const run_fault &f) {
        ran = prepare_case(k, *this);
        char err[1024];
        run_options o = case_options(k, 7);
        if (ran && run_step_faulty(&g, &a, &p, &o, &f, &r, err, sizeof err) != 0)
            ran = testing::AssertionFailure() << err;
    }
    int node(const char *name) const {
        for (int v = 0; v < g.n; v++)
            if (std::string(g.nodes[v].name) == name)
                return v;
        return -1;
    }
};

run_fault fault(run_fault_kind kind, int node, int phase) {
    run_fault f{};
    f.kind = kind;
    f.node = node;
    f.phase = phase;
    return f;
}

// A tile of device 1's result of tiny-cnn's layer (node index, name) corrupted.
void expect_corrupt_tile_named(run_fidelity fidelity, int ph, int64_t check_chunk = 0, int node = 2,
                               const char *name = "conv2") {
    const char *phase[3] = {"forward", "backward", "gradient"};
    step_case k{"tiny-cnn", "1xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, fidelity, 0.5};
    run_fault f = fault(RUN_FAULT_CORRUPT_TILE, node, ph);
    f.device = 1;
    f.check_chunk = check_chunk;
    faulty_run run(k, f);
    ASSERT_TRUE(run.ran);
    ASSERT_STREQ(run.g.nodes[node].name, name);
    EXPECT_FALSE(run.r.verified) << phase[ph];
    std::string why = run.r.failure;
    EXPECT_NE(why.find(std::string("layer ") + name + " " + phase[ph] + " result vs OpenBLAS"),
              std::string::npos)
        << why;
    // the element the message names is in device 1's own block
    std::vector<int> who = holders(why);
    EXPECT_NE(std::find(who.begin(), who.end(), 1), who.end()) << why;
}

TEST(Faults, CorruptedTileIsCaughtAndNamed) {
    for (int ph = 0; ph < 3; ph++)
        expect_corrupt_tile_named(RUN_FIDELITY_GOLDEN, ph);
}

// The checks cut into small chunks (pieces of one sample, chunks of several samples, dW summed
// over chunks or, when one chunk holds every row, checked in blocks of its rows; run_verify.c)
// keep the whole check's verdicts: a clean step verifies with the same results (each within the
// bound, though OpenBLAS rounds a chunk's rows and sums otherwise than the whole's), and a
// corrupted element is caught and named in every phase. (At chunks of 5000 values, fc1's dW,
// 256 x 32 over 4 rows, is checked in blocks of 156 rows.)
TEST(Faults, ChunkedChecksKeepTheirVerdicts) {
    step_case k{"tiny-cnn", "1xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, RUN_FIDELITY_GOLDEN, 0.5};
    faulty_run whole(k, run_fault{});
    ASSERT_TRUE(whole.ran);
    ASSERT_TRUE(whole.r.verified) << whole.r.failure;
    for (int64_t chunk : {1, 50, 700, 5000}) {
        run_fault f{};
        f.check_chunk = chunk;
        faulty_run run(k, f);
        ASSERT_TRUE(run.ran);
        EXPECT_TRUE(run.r.verified) << chunk << ": " << run.r.failure;
        for (int v = 0; v < run.g.n; v++)
            for (int ph = 0; ph < 3; ph++) {
                const run_layer &a = whole.r.layers[v], &b = run.r.layers[v];
                ASSERT_EQ(a.checked[ph], b.checked[ph]);
                if (!a.checked[ph])
                    continue;
                EXPECT_EQ(a.result_hash[ph], b.result_hash[ph]);
                EXPECT_LE(b.check[ph].max_bound_ratio, 1.0); // OpenBLAS rounds a chunk otherwise
            }
    }
    for (int ph = 0; ph < 3; ph++)
        expect_corrupt_tile_named(RUN_FIDELITY_GOLDEN, ph, 50);
    expect_corrupt_tile_named(RUN_FIDELITY_GOLDEN, PHASE_GRADIENT, 5000, 3, "fc1");
}

TEST(Faults, CorruptedTileIsCaughtUnderRtl) {
    REQUIRE_RTL("1xtpu-v2,2xtpu-v3");
    expect_corrupt_tile_named(RUN_FIDELITY_RTL, 0);
}

TEST(Faults, HoldersAreTheDevicesOfTheNamedElement) {
    // forward of a Type-I layer: rows are samples, each held by exactly one device
    step_case k{"mlp", "2xtpu-v3", STRATEGY_DP, 4, RUN_FIDELITY_GOLDEN, 0.25};
    run_fault f = fault(RUN_FAULT_CORRUPT_TILE, 1, 0); // fc1
    f.device = 1;
    faulty_run run(k, f);
    ASSERT_TRUE(run.ran);
    std::string why = run.r.failure;
    EXPECT_NE(why.find("C[3]["), std::string::npos) << why; // device 1's middle row: sample 3
    EXPECT_NE(why.find("(held by device 1)"), std::string::npos) << why;
}

TEST(Faults, DroppedTransferIsCaughtAndNamed) {
    for (int t : {0, 5, 11}) {
        step_case k{
            "tiny-resnet", "2xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, RUN_FIDELITY_GOLDEN, 0.5};
        run_fault f{};
        f.kind = RUN_FAULT_DROP_TRANSFER;
        f.transfer = t;
        faulty_run run(k, f);
        ASSERT_TRUE(run.ran);
        ASSERT_GT(run.r.transfers, 11u);
        EXPECT_FALSE(run.r.verified);
        std::string why = run.r.failure;
        EXPECT_EQ(why.rfind("transfer " + std::to_string(t) + " (layer ", 0), 0u) << why;
    }
}

// The same under the RTL and replay fidelities: transfers are the runtime's, whatever computes.
TEST(Faults, DroppedTransferIsCaughtUnderRtlAndReplay) {
    REQUIRE_RTL("2xtpu-v2,2xtpu-v3");
    for (run_fidelity fid : {RUN_FIDELITY_RTL, RUN_FIDELITY_REPLAY}) {
        step_case k{"tiny-cnn", "2xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, fid, 0.5};
        run_fault f{};
        f.kind = RUN_FAULT_DROP_TRANSFER;
        f.transfer = 3;
        faulty_run run(k, f);
        ASSERT_TRUE(run.ran);
        EXPECT_FALSE(run.r.verified);
        EXPECT_EQ(std::string(run.r.failure).rfind("transfer 3 (layer ", 0), 0u) << run.r.failure;
    }
}

// Right count, wrong elements: every transfer arrives as sent and the bytes match the planner,
// but the assembled piece differs from its tensor.
TEST(Faults, MispackedConversionIsCaughtAndNamed) {
    step_case k{"tiny-cnn", "2xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 8, RUN_FIDELITY_GOLDEN, 0.5};
    for (int error : {0, 1}) {
        faulty_run clean(k, run_fault{});
        ASSERT_TRUE(clean.ran);
        ASSERT_TRUE(clean.r.verified) << clean.r.failure;
        int v = clean.node("fc1"); // its input is converted between layouts (see the plan)
        faulty_run run(k, fault(RUN_FAULT_MISPACK, v, error));
        ASSERT_TRUE(run.ran);
        EXPECT_FALSE(run.r.verified);
        std::string why = run.r.failure;
        std::string kind = error ? "E conversion" : "F conversion";
        EXPECT_EQ(why.rfind("layer fc1, level ", 0), 0u) << why;
        EXPECT_NE(why.find(", " + kind + ", group "), std::string::npos) << why;
        EXPECT_NE(why.find("of the assembled piece is"), std::string::npos) << why;
        EXPECT_EQ(run.r.bytes_moved, clean.r.bytes_moved);
        if (error == 0) {
            // chained: the devices computed fc1 from the mispacked pieces
            EXPECT_FALSE(run.r.layers[v].check[0].passed);
            EXPECT_FALSE(run.r.layers[v].check[2].passed);
        }
    }
}

// Every reduced tensor: F(l+1) of a Type-II layer, E(l) of a Type-III one, dW of a Type-I one
// (tiny-cnn's plan at batch 8: fc1 is II at level 0, fc2 III at level 0, conv2 I).
TEST(Faults, OneSidedReductionIsCaughtForEveryTensor) {
    step_case k{"tiny-cnn", "2xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 8, RUN_FIDELITY_GOLDEN, 0.5};
    faulty_run clean(k, run_fault{});
    ASSERT_TRUE(clean.ran);
    struct Case {
        const char *layer;
        gemm_phase ph;
        layer_type type;
        const char *what;
    } cases[] = {{"fc1", PHASE_FORWARD, TYPE_II, "F reduction"},
                 {"fc2", PHASE_BACKWARD, TYPE_III, "E reduction"},
                 {"conv2", PHASE_GRADIENT, TYPE_I, "dW reduction"}};
    for (const Case &c : cases) {
        int v = clean.node(c.layer);
        ASSERT_EQ(clean.p.levels[0].state[v], c.type) << c.layer << ": the plan changed";
        faulty_run run(k, fault(RUN_FAULT_ONE_SIDED_SUM, v, c.ph));
        ASSERT_TRUE(run.ran);
        EXPECT_FALSE(run.r.verified) << c.layer;
        std::string why = run.r.failure;
        EXPECT_EQ(why.rfind(std::string("layer ") + c.layer + ", level ", 0), 0u) << why;
        EXPECT_NE(why.find(std::string(c.what) + ": the groups' sums differ"), std::string::npos)
            << why;
    }
}

// One element too many on the wire: the destination uses what it needs, the bytes delivered
// still equal the planner's, and the links' count exposes the extra bytes.
TEST(Faults, ExtraElementIsCaughtByTheDeliveredBytes) {
    step_case k{"tiny-cnn", "2xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 8, RUN_FIDELITY_GOLDEN, 0.5};
    faulty_run clean(k, run_fault{});
    ASSERT_TRUE(clean.ran);
    int v = clean.node("fc1");
    for (int kind : {0, 1}) { // F conversions, E conversions
        faulty_run run(k, fault(RUN_FAULT_EXTRA_ELEMENT, v, kind));
        ASSERT_TRUE(run.ran);
        EXPECT_FALSE(run.r.verified);
        std::string why = run.r.failure;
        EXPECT_NE(why.find(kind ? "E conversion, group " : "F conversion, group "),
                  std::string::npos)
            << why;
        EXPECT_NE(why.find("elements, needs"), std::string::npos) << why;
        for (int h = 0; h < run.r.n_levels; h++)
            EXPECT_EQ(run.r.layers[v].bytes[h], run.r.layers[v].predicted_bytes[h]) << h;
        EXPECT_EQ(run.r.bytes_moved, run.r.predicted_bytes);
        EXPECT_GT(run.r.link_bytes, run.r.bytes_moved);
    }
    EXPECT_EQ(clean.r.link_bytes, clean.r.bytes_moved);
}

TEST(Faults, NoFaultNoFailure) {
    step_case k{"tiny-cnn", "1xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, RUN_FIDELITY_GOLDEN, 0.5};
    faulty_run run(k, run_fault{});
    ASSERT_TRUE(run.ran);
    EXPECT_TRUE(run.r.verified) << run.r.failure;
    EXPECT_EQ(std::string(run.r.failure), "");
}

} // namespace
