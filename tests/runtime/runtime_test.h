// Shared helpers of the runtime tests: load a network and an array, run one step, and the
// closed-form cycles of a plan's GEMMs (the independent cycle reference).
#ifndef ACCPAR_RUNTIME_TEST_H
#define ACCPAR_RUNTIME_TEST_H

#include <gtest/gtest.h>

extern "C" {
#include "net_find.h"
#include "run.h"
#include "net_scale.h"
#include "systolic_model.h"
}

#include <string>

struct step_case {
    std::string net, accels;
    strategy strat;
    int64_t batch;
    run_fidelity fidelity;
    double scale;
};

// Runs the step; fails the test on an error. The caller frees r.
inline void run_case(const step_case &k, run_result *r, net *g, accel_array *a,
                     run_fault fault = run_fault{}, uint64_t seed = 7) {
    char err[1024];
    net raw{};
    ASSERT_EQ(accel_array_parse(k.accels.c_str(), a, err, sizeof err), 0) << err;
    ASSERT_EQ(net_find(k.net.c_str(), &raw, err, sizeof err), 0) << err;
    ASSERT_EQ(net_scale(&raw, k.scale, k.scale, g, err, sizeof err), 0) << err;
    net_free(&raw);
    run_options o{};
    o.strat = k.strat;
    o.batch = k.batch;
    o.fidelity = k.fidelity;
    o.seed = seed;
    o.fault = fault;
    ASSERT_EQ(run_step(g, a, &o, r, err, sizeof err), 0) << err;
}

// Closed-form cycles of device d's planned GEMMs for node v (every node: v = -1).
inline uint64_t planned_cycles(const plan &p, const accel_array &a, int d, int v) {
    uint64_t total = 0;
    for (int u = v < 0 ? 0 : v; u < (v < 0 ? p.n_nodes : v + 1); u++)
        for (int ph = 0; ph < 3; ph++) {
            const gemm_dims &gd =
                p.gemms[((size_t)d * (size_t)p.n_nodes + (size_t)u) * 3 + (size_t)ph];
            if (gd.m == 0)
                continue;
            gemm_schedule s;
            cycle_breakdown cb;
            char err[256];
            EXPECT_EQ(gemm_schedule_make(&a.kinds[a.kind_of[d]], gd.m, gd.k, gd.n, 0, &s, err,
                                         sizeof err),
                      0)
                << err;
            gemm_cycles_closed_form(&s, &cb);
            total += cb.total;
        }
    return total;
}

#endif
