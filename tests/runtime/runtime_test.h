// Shared helpers of the runtime tests: load a network and an array, run one step.
#ifndef ACCPAR_RUNTIME_TEST_H
#define ACCPAR_RUNTIME_TEST_H

#include <gtest/gtest.h>

extern "C" {
#include "net_find.h"
#include "run.h"
#include "run_scale.h"
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
                     run_fault fault = run_fault{}) {
    char err[1024];
    net raw{};
    ASSERT_EQ(accel_array_parse(k.accels.c_str(), a, err, sizeof err), 0) << err;
    ASSERT_EQ(net_find(k.net.c_str(), &raw, err, sizeof err), 0) << err;
    ASSERT_EQ(run_scale_net(&raw, k.scale, k.scale, g, err, sizeof err), 0) << err;
    net_free(&raw);
    run_options o{};
    o.strat = k.strat;
    o.batch = k.batch;
    o.fidelity = k.fidelity;
    o.seed = 7;
    o.fault = fault;
    ASSERT_EQ(run_step(g, a, &o, r, err, sizeof err), 0) << err;
}

#endif
