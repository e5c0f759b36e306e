// Plans: conservation of work, strategy constraints, closed forms for data parallelism.
#include "net_find.h"
#include "plan.h"
#include "systolic_model.h"

#include <gtest/gtest.h>

#include <string>

namespace {

struct Fixture {
    accel_array arr;
    net g{};
    char err[512] = "";
    Fixture(const char *accels, const char *network) {
        EXPECT_EQ(accel_array_parse(accels, &arr, err, sizeof err), 0) << err;
        EXPECT_EQ(net_find(network, &g, err, sizeof err), 0) << err;
    }
    ~Fixture() {
        net_free(&g);
    }
};

} // namespace

// Every level cuts one of B, Di, Do of each layer, so the devices' forward sub-GEMMs add up to
// the whole layer's M*K*N, on an odd, heterogeneous array.
TEST(Plan, DeviceSubGemmsAddUpToTheWholeLayer) {
    static Fixture f("3xtpu-v2,5xtpu-v3", "resnet18");
    for (int s = 0; s < STRATEGY_COUNT; s++) {
        plan_options o{(strategy)s, 64, 0};
        plan p;
        ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
        for (int v = 0; v < f.g.n; v++) {
            const net_node &nd = f.g.nodes[v];
            if (!net_is_weighted(&nd))
                continue;
            int64_t whole = net_rows(&nd, 64) * net_di(&nd) * nd.cout, sum = 0;
            for (int d = 0; d < p.n_devices; d++) {
                const gemm_dims &fw = p.gemms[((size_t)d * f.g.n + v) * 3];
                sum += fw.m * fw.k * fw.n;
            }
            EXPECT_EQ(sum, whole) << nd.name << " " << strategy_name((strategy)s);
        }
        plan_free(&p);
    }
}

TEST(Plan, StrategiesKeepTheirTypeSets) {
    static Fixture f("2xtpu-v2,2xtpu-v3", "alexnet");
    for (int s = 0; s < STRATEGY_COUNT; s++) {
        plan_options o{(strategy)s, 128, 0};
        plan p;
        ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
        for (int h = 0; h < p.n_levels; h++)
            for (int v = 1; v < f.g.n; v++) {
                int t = p.levels[h].state[v];
                bool fc = f.g.nodes[v].kind == NODE_FC;
                int expect = s == STRATEGY_DP ? 0 : s == STRATEGY_OWT ? (fc ? 1 : 0) : t;
                EXPECT_EQ(t, expect);
                EXPECT_TRUE(s != STRATEGY_HYPAR || t < 2);
            }
        plan_free(&p);
    }
}

// Data parallelism: alpha is the peak-throughput ratio; every split all-reduces every weight
// gradient in fp32 between two groups, and there are n - 1 splits in a bisection tree.
TEST(Plan, DataParallelAlphaAndBytesFollowClosedForms) {
    static Fixture f("1xtpu-v2-full,3xtpu-v3-full", "vgg11");
    plan_options o{STRATEGY_DP, 64, 0};
    plan p;
    ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
    double v2 = 128.0 * 128 * 2 * 700, v3 = 3 * 128.0 * 128 * 4 * 940;
    EXPECT_NEAR(p.levels[0].alpha, v2 / (v2 + v3), 1e-12);
    uint64_t weights = 0;
    for (int v = 0; v < f.g.n; v++)
        if (net_is_weighted(&f.g.nodes[v]))
            weights += (uint64_t)(net_di(&f.g.nodes[v]) * f.g.nodes[v].cout);
    EXPECT_EQ(p.comm_bytes, (uint64_t)(f.arr.n - 1) * 2 * 4 * weights);
    plan_free(&p);
}

TEST(Plan, HomogeneousSplitsUseHalf) {
    static Fixture f("4xtpu-v2", "tiny-cnn");
    plan_options o{STRATEGY_ACCPAR, 32, 0};
    plan p;
    ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
    ASSERT_EQ(p.n_levels, 2);
    for (int h = 0; h < p.n_levels; h++)
        EXPECT_EQ(p.levels[h].alpha, 0.5);
    plan_free(&p);
}

// One device: no communication, and compute is the closed-form cycle count of the layers.
TEST(Plan, SingleDeviceComputeIsTheSystolicClosedForm) {
    static Fixture f("1xtiny", "mlp");
    plan_options o{STRATEGY_ACCPAR, 16, 0};
    plan p;
    ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
    EXPECT_EQ(p.n_levels, 0);
    EXPECT_EQ(p.comm_s, 0.0);
    uint64_t cycles = 0;
    int64_t widths[] = {784, 512, 256, 10};
    for (int l = 0; l < 3; l++) {
        int64_t shapes[3][3] = {{16, widths[l], widths[l + 1]},
                                {16, widths[l + 1], widths[l]},
                                {widths[l], 16, widths[l + 1]}};
        for (int ph = 0; ph < 3; ph++) {
            if (ph == 1 && l == 0)
                continue; // no error for the network input
            gemm_schedule s;
            cycle_breakdown cb;
            ASSERT_EQ(gemm_schedule_make(&f.arr.kinds[0], shapes[ph][0], shapes[ph][1],
                                         shapes[ph][2], 0, &s, f.err, sizeof f.err),
                      0);
            gemm_cycles_closed_form(&s, &cb);
            cycles += cb.total;
        }
    }
    EXPECT_DOUBLE_EQ(p.compute_s, model_seconds(&f.arr.kinds[0], cycles));
    plan_free(&p);
}

TEST(Plan, BatchSmallerThanTheSplitIsAnError) {
    static Fixture f("8xtpu-v2", "mlp");
    plan_options o{STRATEGY_DP, 4, 0};
    plan p;
    EXPECT_NE(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0);
    EXPECT_NE(std::string(f.err).find("field 'batch'"), std::string::npos) << f.err;
}

// Levels beyond --levels are data parallel.
TEST(Plan, SearchLevelsLimitsTheSearch) {
    static Fixture f("8xtpu-v3", "mlp");
    plan_options o{STRATEGY_ACCPAR, 64, 1};
    plan p;
    ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
    for (int h = 1; h < p.n_levels; h++)
        for (int v = 1; v < f.g.n; v++)
            EXPECT_EQ(p.levels[h].state[v], 0);
    plan_free(&p);
}
