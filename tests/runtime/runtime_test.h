// Shared helpers of the runtime tests: load a network and an array, plan and run one step, and
// the cycles of a plan's GEMMs by the independent oracle (tests/common/cycle_oracle.h).
#ifndef ACCPAR_RUNTIME_TEST_H
#define ACCPAR_RUNTIME_TEST_H

#include "cycle_oracle.h"

#include <gtest/gtest.h>

extern "C" {
#include "net_find.h"
#include "net_scale.h"
#include "run.h"
#include "systolic_model.h"
}

#include <memory>
#include <string>

struct step_case {
    std::string net, accels;
    strategy strat;
    int64_t batch;
    run_fidelity fidelity;
    double scale;
};

// One step's network, array, plan and result, freed with it.
struct step_run {
    net g{};
    std::unique_ptr<accel_array> array = std::make_unique<accel_array>();
    accel_array &a = *array;
    plan p{};
    run_result r{};
    step_run() = default;
    step_run(const step_run &) = delete;
    step_run &operator=(const step_run &) = delete;
    ~step_run() {
        run_result_free(&r);
        plan_free(&p);
        net_free(&g);
    }
};

// Loads the case's network (scaled) and array and plans it.
inline testing::AssertionResult prepare_case(const step_case &k, step_run &s) {
    char err[1024];
    net raw{};
    if (accel_array_parse(k.accels.c_str(), &s.a, err, sizeof err) != 0 ||
        net_find(k.net.c_str(), &raw, err, sizeof err) != 0)
        return testing::AssertionFailure() << err;
    int rc = net_scale(&raw, k.scale, k.scale, &s.g, err, sizeof err);
    net_free(&raw);
    plan_options po{k.strat, k.batch, 0, 0, 0};
    if (rc != 0 || plan_make(&s.g, &s.a, &po, &s.p, err, sizeof err) != 0)
        return testing::AssertionFailure() << err;
    return testing::AssertionSuccess();
}

inline run_options case_options(const step_case &k, uint64_t seed) {
    run_options o{};
    o.fidelity = k.fidelity;
    o.seed = seed;
    return o;
}

// Prepares and runs the step: ASSERT_TRUE(run_case(k, s)).
inline testing::AssertionResult run_case(const step_case &k, step_run &s, uint64_t seed = 7) {
    testing::AssertionResult ready = prepare_case(k, s);
    if (!ready)
        return ready;
    char err[1024];
    run_options o = case_options(k, seed);
    if (run_step(&s.g, &s.a, &s.p, &o, &s.r, err, sizeof err) != 0)
        return testing::AssertionFailure() << err;
    return testing::AssertionSuccess();
}

// The oracle's cycles of device d's planned GEMMs for node v (every node: v = -1).
inline uint64_t planned_cycles(const plan &p, const accel_array &a, int d, int v) {
    uint64_t total = 0;
    for (int u = v < 0 ? 0 : v; u < (v < 0 ? p.n_nodes : v + 1); u++)
        for (int ph = 0; ph < PHASES; ph++) {
            const gemm_dims &gd = *plan_gemm(&p, d, u, (gemm_phase)ph);
            if (gd.m != 0)
                total += oracle_gemm_cycles(a.kinds[a.kind_of[d]], gd.m, gd.k, gd.n).total;
        }
    return total;
}

#endif
