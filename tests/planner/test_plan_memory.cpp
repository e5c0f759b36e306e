// Device memory of plans (plan_memory.h, docs/runtime.md): the resident set against a closed
// form, the fit decided exactly at the predicted peak, and the one-line error of a plan that does
// not fit.
#include "net_find.h"
#include "net_scale.h"
#include "plan.h"
#include "plan_memory.h"
#include "plan_set.h"

#include <gtest/gtest.h>

#include <string>

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

// The fit is decided at the predicted peak: with every preset's memory at its devices' largest
// peak (whole MiB, rounded up) the plan is made; one MiB less on one preset and it is refused,
// naming a device of that preset, its need and the capacity.
TEST(Memory, FitsExactlyAtThePredictedPeak) {
    Case c("2xtpu-v2,2xtpu-v3", "vgg11", 0.25);
    plan p{};
    ASSERT_EQ(c.make(STRATEGY_ACCPAR, 16, &p), 0) << c.err;
    uint64_t peak[ARRAY_MAX_KINDS] = {};
    for (int d = 0; d < c.arr.n; d++)
        peak[c.arr.kind_of[d]] = std::max(peak[c.arr.kind_of[d]], p.memory[d].peak);
    plan_free(&p);
    for (int k = 0; k < c.arr.n_kinds; k++)
        c.arr.kinds[k].mem_mib = (int)((peak[k] + (1 << 20) - 1) >> 20);
    ASSERT_EQ(c.make(STRATEGY_ACCPAR, 16, &p), 0) << c.err;
    plan_free(&p);
    c.arr.kinds[1].mem_mib--;
    EXPECT_EQ(c.make(STRATEGY_ACCPAR, 16, &p), PLAN_NO_FIT);
    std::string err = c.err;
    EXPECT_NE(err.find("(tpu-v3) needs "), std::string::npos) << err;
    EXPECT_NE(err.find("has " + std::to_string(c.arr.kinds[1].mem_mib) + " MiB"), std::string::npos)
        << err;
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
