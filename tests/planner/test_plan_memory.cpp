// Device memory of plans (plan_memory.h, docs/runtime.md): the resident set against a closed
// form, the fit decided exactly at the predicted peak, and the one-line error of a plan that does
// not fit.
#include "net_find.h"
#include "net_scale.h"
#include "plan.h"
#include "plan_memory.h"
#include "plan_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <string>
#include <vector>

namespace {

struct Case {
    accel_array arr;
    net g{};
    char err[1024] = "";
    Case(const char *accels, const char *network, double scale = 1) {
        net raw{};
        EXPECT_EQ(accel_array_parse(accels, &arr, err, sizeof err), 0) << err;
        EXPECT_EQ(net_find(network, &raw, err, sizeof err), 0) << err;
        EXPECT_EQ(net_scale(&raw, scale, scale, &g, err, sizeof err), 0) << err;
        net_free(&raw);
    }
    ~Case() {
        net_free(&g);
    }
    int make(strategy s, int64_t batch, plan *p) {
        plan_options o{s, batch, 0, 0, 0};
        return plan_make(&g, &arr, &o, p, err, sizeof err);
    }
};

uint64_t up(uint64_t bytes, uint64_t bw) {
    return (bytes + bw - 1) / bw * bw;
}

} // namespace

// Data parallelism on two equal devices: each keeps all weights and gradients (fp32) and the
// inputs of its half of the batch (bf16), every buffer rounded to port words.
TEST(Memory, DataParallelResidentIsTheClosedForm) {
    for (const char *name : {"mlp", "tiny-cnn", "tiny-resnet", "vgg11"}) {
        Case c("2xtpu-v2", name, 0.25);
        plan p{};
        ASSERT_EQ(c.make(STRATEGY_DP, 8, &p), 0) << c.err;
        const uint64_t bw = (uint64_t)c.arr.kinds[0].mem_bytes_per_cycle;
        uint64_t want = 0;
        for (int v = 0; v < c.g.n; v++) {
            const net_node &nd = c.g.nodes[v];
            if (nd.kind != NODE_CONV && nd.kind != NODE_FC)
                continue;
            uint64_t w = (uint64_t)(nd.cin * nd.k * nd.k * nd.cout) * 4;
            want += 2 * up(w, bw) + up((uint64_t)(4 * nd.cin * nd.hin * nd.win) * 2, bw);
        }
        for (int d = 0; d < 2; d++) {
            EXPECT_EQ(p.memory[d].resident, want) << name << " device " << d;
            EXPECT_EQ(p.memory[d].peak, want + std::max(p.memory[d].gemm, p.memory[d].staging));
        }
        plan_free(&p);
    }
}

// A plan's choices, to make it again with plan_make_chosen.
struct Choice {
    plan_choice ch{};
    std::vector<std::vector<int>> states;
    explicit Choice(const plan &p) : states(p.n_levels) {
        ch.n_levels = p.n_levels;
        for (int h = 0; h < p.n_levels; h++) {
            ch.alpha[h] = p.levels[h].alpha;
            states[h].assign(p.levels[h].state, p.levels[h].state + p.n_nodes);
            ch.state[h] = states[h].data();
        }
    }
};

// The fit is decided at the predicted peak: with every preset's memory at its devices' largest
// peak (whole MiB, rounded up) the fastest plan is made, as it is; one MiB less on one preset
// and that plan (made again from its choices, which are not searched) is refused, naming a
// device of that preset, its need and the capacity.
TEST(Memory, FitsExactlyAtThePredictedPeak) {
    Case c("2xtpu-v2,2xtpu-v3", "vgg11", 0.25);
    plan fastest{}, p{};
    ASSERT_EQ(c.make(STRATEGY_ACCPAR, 16, &fastest), 0) << c.err;
    EXPECT_EQ(fastest.fastest_step_s, 0.0);
    uint64_t peak[ARRAY_MAX_KINDS] = {};
    for (int d = 0; d < c.arr.n; d++)
        peak[c.arr.kind_of[d]] = std::max(peak[c.arr.kind_of[d]], fastest.memory[d].peak);
    for (int k = 0; k < c.arr.n_kinds; k++)
        c.arr.kinds[k].mem_mib = (int)((peak[k] + (1 << 20) - 1) >> 20);
    ASSERT_EQ(c.make(STRATEGY_ACCPAR, 16, &p), 0) << c.err;
    EXPECT_EQ(p.step_s, fastest.step_s);
    EXPECT_EQ(p.fastest_step_s, 0.0);
    plan_free(&p);
    c.arr.kinds[1].mem_mib--;
    Choice choice(fastest);
    plan_options o{STRATEGY_ACCPAR, 16, 0, 0, 0};
    EXPECT_EQ(plan_make_chosen(&c.g, &c.arr, &o, &choice.ch, &p, c.err, sizeof c.err), PLAN_NO_FIT);
    plan_free(&fastest);
    std::string err = c.err;
    EXPECT_NE(err.find("(tpu-v3) needs "), std::string::npos) << err;
    EXPECT_NE(err.find("has " + std::to_string(c.arr.kinds[1].mem_mib) + " MiB"), std::string::npos)
        << err;
}

// Whether every device's peak fits its capacity.
bool fits(const plan &p) {
    for (int d = 0; d < p.n_devices; d++)
        if (p.memory[d].peak > p.memory[d].capacity)
            return false;
    return true;
}

// When the fastest plan does not fit, plan_make takes a slower one that does, found by weighing
// memory against time. Brute force over one level's every layer type and a grid of alpha
// (plan_make_chosen, memory unchecked) gives the fastest plan that fits on the grid and the
// smallest memory any plan needs; at capacities between that smallest need and the fastest
// plan's, plan_make must find a plan that fits, slower than the fastest, and say what it cost.
TEST(Memory, SeeksASlowerPlanThatFits) {
    for (const char *network : {"tiny-cnn", "mlp"}) {
        Case c("1xtpu-v2,1xtpu-v3", network);
        plan fastest{};
        plan_options unchecked{STRATEGY_ACCPAR, 64, 0, 1, 0};
        ASSERT_EQ(plan_make(&c.g, &c.arr, &unchecked, &fastest, c.err, sizeof c.err), 0) << c.err;
        std::vector<int> weighted;
        for (int v = 0; v < c.g.n; v++)
            if (net_is_weighted(&c.g.nodes[v]))
                weighted.push_back(v);
        Choice choice(fastest);
        ASSERT_EQ(choice.ch.n_levels, 1);
        int combos = 1;
        for (size_t k = 0; k < weighted.size(); k++)
            combos *= 3;
        // each plan's need (the larger of its devices' peak / capacity) and step time
        std::vector<std::pair<double, double>> grid;
        for (int combo = 0; combo < combos; combo++) {
            for (int k = 0, x = combo; k < (int)weighted.size(); k++, x /= 3)
                choice.states[0][weighted[k]] = x % 3;
            for (int a = 1; a < 20; a++) {
                choice.ch.alpha[0] = a / 20.0;
                plan q{};
                if (plan_make_chosen(&c.g, &c.arr, &unchecked, &choice.ch, &q, c.err,
                                     sizeof c.err) != 0)
                    continue;
                double need = 0;
                for (int d = 0; d < q.n_devices; d++)
                    need = std::max(need, (double)q.memory[d].peak / (double)q.memory[d].capacity);
                grid.push_back({need, q.step_s});
                plan_free(&q);
            }
        }
        ASSERT_FALSE(grid.empty());
        double fastest_need = 0, least = 1e300;
        for (int d = 0; d < fastest.n_devices; d++)
            fastest_need = std::max(fastest_need, (double)fastest.memory[d].peak /
                                                      (double)fastest.memory[d].capacity);
        for (auto &[need, step] : grid)
            least = std::min(least, need);
        ASSERT_LT(least, fastest_need) << network;
        const int mib[2] = {c.arr.kinds[0].mem_mib, c.arr.kinds[1].mem_mib};
        for (double at : {0.25, 0.5, 0.75, 1.0}) {
            // every capacity scaled so that the plans needing up to this much fit
            double scale = least + at * (fastest_need - least) * 0.999;
            for (int k = 0; k < 2; k++)
                c.arr.kinds[k].mem_mib = (int)std::ceil(mib[k] * scale);
            double best = 1e300; /* the fastest plan on the grid that fits */
            for (auto &[need, step] : grid)
                if (need <= scale)
                    best = std::min(best, step);
            plan p{};
            ASSERT_EQ(c.make(STRATEGY_ACCPAR, 64, &p), 0)
                << network << " at " << at << ": " << c.err;
            bool fastest_fits = true;
            for (int d = 0; d < fastest.n_devices; d++)
                fastest_fits &=
                    fastest.memory[d].peak <= (uint64_t)c.arr.kinds[c.arr.kind_of[d]].mem_mib << 20;
            EXPECT_TRUE(fits(p)) << network << " at " << at;
            if (fastest_fits) { // capacities rounded up to whole MiB can take the fastest plan
                EXPECT_EQ(p.step_s, fastest.step_s) << network << " at " << at;
                EXPECT_EQ(p.fastest_step_s, 0.0) << network << " at " << at;
            } else {
                EXPECT_EQ(p.fastest_step_s, fastest.step_s) << network << " at " << at;
                EXPECT_GT(p.step_s, fastest.step_s) << network << " at " << at;
            }
            // as good as brute force on the grid, give or take what the grid misses of alpha
            EXPECT_LE(p.step_s, best * 1.10) << network << " at " << at;
            plan_free(&p);
        }
        for (int k = 0; k < 2; k++)
            c.arr.kinds[k].mem_mib = mib[k];
        plan_free(&fastest);
    }
}

// VGG-16 at 224 x 224, batch 32, on the scaled presets: refused at once, one line naming the
// device, the need, the layer and the capacity.
TEST(Memory, NoFitIsOneLineNamingDeviceLayerNeedAndCapacity) {
    Case c("4xtpu-v2,4xtpu-v3", "vgg16");
    plan p{};
    ASSERT_EQ(c.make(STRATEGY_ACCPAR, 32, &p), PLAN_NO_FIT);
    std::string err = c.err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    for (const char *part : {"device ", " needs ", "MiB of device memory", "at layer conv",
                             "preset 'tpu-v", "' has 256 MiB"})
        EXPECT_NE(err.find(part), std::string::npos) << part << " in " << err;
}

// The data-parallel baseline a plan is compared with is never run: it may exceed the memory
// (its plan says by how much) without stopping the plans that fit.
TEST(Memory, BaselineNeedNotFit) {
    Case c("8xtpu-v3", "alexnet");
    plan plans[2];
    strategy list[1] = {STRATEGY_ACCPAR};
    plan_options o{STRATEGY_ACCPAR, 64, 0, 0, 0};
    ASSERT_EQ(plan_make_set(&c.g, &c.arr, list, 1, &o, plans, c.err, sizeof c.err), 0) << c.err;
    uint64_t cap = plans[1].memory[0].capacity, dp_peak = 0;
    for (int d = 0; d < 8; d++) {
        EXPECT_LE(plans[0].memory[d].peak, cap);
        dp_peak = std::max(dp_peak, plans[1].memory[d].peak);
    }
    EXPECT_GT(dp_peak, cap);
    plan_free_set(plans, 1);
}
