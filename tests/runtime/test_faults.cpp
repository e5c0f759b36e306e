// Deliberate faults must be caught by the run's verification and named in its report.
#include "runtime_test.h"

namespace {

TEST(Faults, CorruptedTileIsCaughtAndNamed) {
    const char *phase[3] = {"forward", "backward", "gradient"};
    for (int ph = 0; ph < 3; ph++) {
        step_case k{"tiny-cnn", "1xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, RUN_FIDELITY_GOLDEN, 0.5};
        run_fault f{};
        f.kind = RUN_FAULT_CORRUPT_TILE;
        f.node = 2; // conv2
        f.device = 1;
        f.phase = ph;
        run_result r{};
        net g{};
        static accel_array a;
        run_case(k, &r, &g, &a, f);
        EXPECT_FALSE(r.verified) << phase[ph];
        std::string why = r.failure;
        EXPECT_NE(why.find(std::string("layer conv2 ") + phase[ph]), std::string::npos) << why;
        EXPECT_NE(why.find("OpenBLAS"), std::string::npos) << why;
        EXPECT_NE(why.find(" 1"), std::string::npos) << why;
        run_result_free(&r);
        net_free(&g);
    }
}

TEST(Faults, DroppedTransferIsCaughtAndNamed) {
    for (int t : {0, 5, 11}) {
        step_case k{
            "tiny-resnet", "2xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, RUN_FIDELITY_GOLDEN, 0.5};
        run_fault f{};
        f.kind = RUN_FAULT_DROP_TRANSFER;
        f.transfer = t;
        run_result r{};
        net g{};
        static accel_array a;
        run_case(k, &r, &g, &a, f);
        ASSERT_GT(r.transfers, 11u);
        EXPECT_FALSE(r.verified);
        std::string why = r.failure;
        EXPECT_EQ(why.rfind("transfer " + std::to_string(t) + " (layer ", 0), 0u) << why;
        run_result_free(&r);
        net_free(&g);
    }
}

TEST(Faults, NoFaultNoFailure) {
    step_case k{"tiny-cnn", "1xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 4, RUN_FIDELITY_GOLDEN, 0.5};
    run_result r{};
    net g{};
    static accel_array a;
    run_case(k, &r, &g, &a);
    EXPECT_TRUE(r.verified) << r.failure;
    EXPECT_EQ(std::string(r.failure), "");
    run_result_free(&r);
    net_free(&g);
}

} // namespace
