// Shared helpers of the host tests.
#ifndef ACCPAR_TEST_UTIL_H
#define ACCPAR_TEST_UTIL_H

#include "accel_api.h"
#include "bf16.h"
#include "rng.h"
#include "gemm.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

inline accel_preset load_preset(const std::string &name) {
    accel_preset p{};
    char err[1024];
    EXPECT_EQ(preset_find(name.c_str(), &p, err, sizeof err), 0) << err;
    return p;
}

inline std::vector<float> random_bf16(size_t n, uint64_t seed) {
    std::vector<float> v(n);
    for (auto &x : v)
        x = bf16_random(&seed);
    return v;
}

struct GemmOutcome {
    std::vector<float> c;
    gemm_run_stats stats{};
};

// Runs one GEMM on a fresh device; fails the test on any error.
inline GemmOutcome run_gemm(const accel_preset &p, accel_backend backend, const gemm_args &g,
                            const std::vector<float> *c_in) {
    GemmOutcome out;
    out.c.assign((size_t)(g.m * g.n), 0.0f);
    if (c_in)
        out.c = *c_in;
    accel_dev *dev = nullptr;
    char err[1024];
    EXPECT_EQ(accel_open(&p, backend, &dev, err, sizeof err), ACCEL_OK) << err;
    if (!dev)
        return out;
    gemm_args args = g;
    args.c = out.c.data();
    EXPECT_EQ(gemm_run(dev, &args, &out.stats, err, sizeof err), 0) << err;
    accel_close(dev);
    return out;
}

#endif
