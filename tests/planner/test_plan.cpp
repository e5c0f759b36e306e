// Plans: conservation of work, strategy constraints, closed forms for data parallelism.
#include "array_model.h"
#include "cycle_oracle.h"
#include "net_find.h"
#include "plan.h"
#include "systolic_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

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
        plan_options o{(strategy)s, 64, 0, 0, 0};
        plan p;
        ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
        for (int v = 0; v < f.g.n; v++) {
            const net_node &nd = f.g.nodes[v];
            if (!net_is_weighted(&nd))
                continue;
            int64_t whole = net_rows(&nd, 64) * net_di(&nd) * nd.cout, sum = 0;
            for (int d = 0; d < p.n_devices; d++) {
                const gemm_dims &fw = *plan_gemm(&p, d, v, PHASE_FORWARD);
                sum += fw.m * fw.k * fw.n;
            }
            EXPECT_EQ(sum, whole) << nd.name << " " << strategy_name((strategy)s);
        }
        plan_free(&p);
    }
}

// On a large array, devices alike in their sub-problem share one class of GEMM shapes (plan
// time and memory grow with levels x layers, not devices x layers), and the shapes still add up
// to every whole layer.
TEST(Plan, ManyDevicesShareAFewGemmClasses) {
    static Fixture f("512xtpu-v2,512xtpu-v3", "mlp");
    for (strategy s : {STRATEGY_DP, STRATEGY_ACCPAR}) {
        plan_options o{s, 4096, 0, 0, 0};
        plan p;
        ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
        EXPECT_EQ(p.n_levels, 10);
        EXPECT_LE(p.n_classes, 2 * p.n_levels) << strategy_name(s);
        for (int v = 0; v < f.g.n; v++) {
            const net_node &nd = f.g.nodes[v];
            if (!net_is_weighted(&nd))
                continue;
            int64_t sum = 0;
            for (int d = 0; d < p.n_devices; d++) {
                const gemm_dims &fw = *plan_gemm(&p, d, v, PHASE_FORWARD);
                sum += fw.m * fw.k * fw.n;
            }
            EXPECT_EQ(sum, net_rows(&nd, 4096) * net_di(&nd) * nd.cout) << nd.name;
        }
        plan_free(&p);
    }
}

// Every level's states lie in the strategy's set (layers: DP {I}; OWT {I} for CONV, {II} for FC;
// HyPar {I, II}; AccPar {I, II, III}; adds any layout), and the searches use their freedom.
TEST(Plan, StrategiesKeepTheirTypeSets) {
    static Fixture alex("2xtpu-v2-full,2xtpu-v3-full", "alexnet"),
        res("2xtpu-v2,2xtpu-v3", "tiny-resnet");
    auto allowed = [](strategy s, node_kind kind, int t) {
        if (kind == NODE_ADD)
            return t >= 0 && t < 3;
        switch (s) {
        case STRATEGY_DP:
            return t == 0;
        case STRATEGY_OWT:
            return t == (kind == NODE_FC ? 1 : 0);
        case STRATEGY_HYPAR:
            return t == 0 || t == 1;
        default:
            return t >= 0 && t < 3;
        }
    };
    for (Fixture *f : {&alex, &res}) {
        for (int s = 0; s < STRATEGY_COUNT; s++) {
            plan_options o{(strategy)s, 128, 0, 0, 0};
            plan p;
            ASSERT_EQ(plan_make(&f->g, &f->arr, &o, &p, f->err, sizeof f->err), 0) << f->err;
            int used[3] = {0, 0, 0};
            for (int h = 0; h < p.n_levels; h++)
                for (int v = 0; v < f->g.n; v++) {
                    const net_node &nd = f->g.nodes[v];
                    int t = p.levels[h].state[v];
                    if (nd.kind == NODE_INPUT) {
                        EXPECT_EQ(t, -1);
                        continue;
                    }
                    EXPECT_TRUE(allowed((strategy)s, nd.kind, t))
                        << strategy_name((strategy)s) << " " << nd.name << " level " << h << ": "
                        << t;
                    used[t] += net_is_weighted(&nd);
                }
            // on AlexNet the FC layers make HyPar use II and AccPar use III
            if (f == &alex && s == STRATEGY_HYPAR) {
                EXPECT_GT(used[1], 0);
            }
            if (f == &alex && s == STRATEGY_ACCPAR) {
                EXPECT_GT(used[2], 0);
            }
            plan_free(&p);
        }
    }
}

// The level-0 objective at alpha, minimised over every state assignment by enumeration.
static double best_over_states(const Fixture &f, const plan_options &o, double alpha) {
    std::vector<int> free_nodes, s(f.g.n, -1);
    for (int v = 0; v < f.g.n; v++)
        if (f.g.nodes[v].kind != NODE_INPUT)
            free_nodes.push_back(v);
    int combos = 1;
    for (size_t k = 0; k < free_nodes.size(); k++)
        combos *= 3;
    double best = INFINITY;
    char err[256];
    for (int code = 0; code < combos; code++) {
        for (size_t k = 0, c = code; k < free_nodes.size(); k++, c /= 3)
            s[free_nodes[k]] = (int)(c % 3);
        double x;
        EXPECT_EQ(plan_root_objective(&f.g, &f.arr, &o, alpha, s.data(), &x, err, sizeof err), 0)
            << err;
        best = std::fmin(best, x);
    }
    return best;
}

// The alpha the search picks for a heterogeneous split is as good as the best point of a fine
// sweep of the same objective (each point minimised over all state assignments).
TEST(Plan, SearchedAlphaMatchesAFineSweep) {
    for (const char *network : {"mlp", "tiny-cnn"}) {
        Fixture f("1xtpu-v2,1xtpu-v3", network);
        plan_options o{STRATEGY_ACCPAR, 64, 0, 0, 0};
        plan p;
        ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
        ASSERT_EQ(p.n_levels, 1);
        double chosen = best_over_states(f, o, p.levels[0].alpha), sweep = INFINITY, at = 0;
        for (int k = 1; k < 400; k++) {
            double x = best_over_states(f, o, k / 400.0);
            if (x < sweep)
                sweep = x, at = k / 400.0;
        }
        EXPECT_LE(chosen, sweep * (1 + 1e-3))
            << network << ": alpha " << p.levels[0].alpha << " gives " << chosen
            << ", the sweep's best is " << sweep << " at " << at;
        plan_free(&p);
    }
}

// Data parallelism is balanced under the model that judges it: its alpha splits the batch at the
// number of samples k that minimises the top level's objective, checked against every k by brute
// force, under the exact, calibrated and peak models; under the peak model that is the
// peak-throughput ratio to one sample.
TEST(Plan, DataParallelIsBalancedUnderTheModelInUse) {
    const int64_t batch = 64;
    for (const char *model : {"exact", "calibrated", "peak"}) {
        SCOPED_TRACE(model);
        Fixture f("1xtpu-v2,1xtpu-v3", "tiny-cnn");
        ASSERT_EQ(array_model_select(&f.arr, model, nullptr, f.err, sizeof f.err), 0) << f.err;
        plan_options o{STRATEGY_DP, batch, 0, 0, 0};
        plan p;
        ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
        std::vector<int> type_i(f.g.n, TYPE_I);
        for (int v = 0; v < f.g.n; v++)
            if (f.g.nodes[v].kind == NODE_INPUT)
                type_i[v] = STATE_NONE;
        auto objective = [&](double alpha) {
            double x;
            EXPECT_EQ(plan_root_objective(&f.g, &f.arr, &o, alpha, type_i.data(), &x, f.err,
                                          sizeof f.err),
                      0)
                << f.err;
            return x;
        };
        double chosen = objective(p.levels[0].alpha), best = INFINITY;
        for (int64_t k = 1; k < batch; k++)
            best = std::fmin(best, objective((double)k / batch));
        EXPECT_EQ(chosen, best) << "alpha " << p.levels[0].alpha;
        EXPECT_EQ(p.levels[0].alpha * batch, std::round(p.levels[0].alpha * batch));
        if (std::string(model) == "peak") {
            double v2 = 16.0 * 16 * 2 * 700, v3 = 16.0 * 16 * 4 * 940;
            EXPECT_NEAR(p.levels[0].alpha, v2 / (v2 + v3), 1.0 / batch);
        }
        plan_free(&p);
    }
}

// Data parallelism: every split all-reduces every weight gradient in fp32 between two groups, and
// there are n - 1 splits in a bisection tree, whatever alpha.
TEST(Plan, DataParallelBytesFollowTheClosedForm) {
    static Fixture f("1xtpu-v2-full,3xtpu-v3-full", "vgg11");
    plan_options o{STRATEGY_DP, 64, 0, 0, 0};
    plan p;
    ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
    uint64_t weights = 0;
    for (int v = 0; v < f.g.n; v++)
        if (net_is_weighted(&f.g.nodes[v]))
            weights += (uint64_t)(net_di(&f.g.nodes[v]) * f.g.nodes[v].cout);
    EXPECT_EQ(p.comm_bytes, (uint64_t)(f.arr.n - 1) * 2 * 4 * weights);
    plan_free(&p);
}

// Bytes in a plan are the design table's element counts times 2 (bf16 activations and errors)
// for conversions and times 4 (fp32 partial sums) for reductions. OWT makes every FC layer of
// the MLP Type II: II -> II moves beta * A_E, and II reduces F(l+1) = b * Do.
TEST(Plan, BytesAreBf16ConversionsAndFp32Reductions) {
    static Fixture f("2xtpu-v2", "mlp");
    const int64_t b = 64;
    plan_options o{STRATEGY_OWT, b, 0, 0, 0};
    plan p;
    ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
    ASSERT_EQ(p.n_levels, 1);
    ASSERT_EQ(p.levels[0].alpha, 0.5);
    const plan_pair &pp = p.levels[0].pairs[0];
    for (int v = 1; v < f.g.n; v++) {
        const net_node &nd = f.g.nodes[v];
        ASSERT_EQ(p.levels[0].state[v], 1) << nd.name;
        EXPECT_EQ(pp.intra_bytes[v], (uint64_t)(b * nd.cout) * 4) << nd.name;
        bool reads_input = f.g.nodes[nd.in[0]].kind == NODE_INPUT;
        uint64_t e_elems = reads_input ? 0 : (uint64_t)(0.5 * (double)(b * nd.cin));
        EXPECT_EQ(pp.inter_bytes[2 * v], e_elems * 2) << nd.name;
        EXPECT_EQ(pp.inter_bytes[2 * v + 1], e_elems * 2) << nd.name;
    }
    plan_free(&p);
}

TEST(Plan, HomogeneousSplitsUseHalf) {
    static Fixture f("4xtpu-v2", "tiny-cnn");
    plan_options o{STRATEGY_ACCPAR, 32, 0, 0, 0};
    plan p;
    ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
    ASSERT_EQ(p.n_levels, 2);
    for (int h = 0; h < p.n_levels; h++)
        EXPECT_EQ(p.levels[h].alpha, 0.5);
    plan_free(&p);
}

// One device: no communication, and compute is the layers' cycles by the independent oracle.
TEST(Plan, SingleDeviceComputeIsTheOraclesCycles) {
    static Fixture f("1xtiny", "mlp");
    plan_options o{STRATEGY_ACCPAR, 16, 0, 0, 0};
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
            cycles +=
                oracle_gemm_cycles(f.arr.kinds[0], shapes[ph][0], shapes[ph][1], shapes[ph][2])
                    .total;
        }
    }
    EXPECT_DOUBLE_EQ(p.compute_s, (double)cycles / (f.arr.kinds[0].clock_mhz * 1e6));
    plan_free(&p);
}

TEST(Plan, BatchSmallerThanTheSplitIsAnError) {
    static Fixture f("8xtpu-v2", "mlp");
    plan_options o{STRATEGY_DP, 4, 0, 0, 0};
    plan p;
    EXPECT_NE(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0);
    EXPECT_NE(std::string(f.err).find("field 'batch'"), std::string::npos) << f.err;
}

// Levels beyond --levels are data parallel; the levels it covers are searched (on this case
// the unlimited search uses types other than I at every level).
TEST(Plan, SearchLevelsLimitsTheSearch) {
    static Fixture f("8xtpu-v3", "mlp");
    for (int limit : {0, 1, 2}) {
        plan_options o{STRATEGY_ACCPAR, 64, limit, 0, 0};
        plan p;
        ASSERT_EQ(plan_make(&f.g, &f.arr, &o, &p, f.err, sizeof f.err), 0) << f.err;
        ASSERT_EQ(p.n_levels, 3);
        for (int h = 0; h < p.n_levels; h++) {
            int other_than_i = 0;
            for (int v = 1; v < f.g.n; v++)
                other_than_i += p.levels[h].state[v] != TYPE_I;
            if (limit == 0 || h < limit)
                EXPECT_GT(other_than_i, 0) << "limit " << limit << " level " << h;
            else
                EXPECT_EQ(other_than_i, 0) << "limit " << limit << " level " << h;
        }
        plan_free(&p);
    }
}
