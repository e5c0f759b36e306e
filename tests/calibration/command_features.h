// The features of docs/accelerator.md's per-command costs, counted here independently of
// planner/hw/systolic_model.c: a LOAD is an issue, W words and a read latency, a STORE an issue
// and W words, a MATMUL an issue, rows + R + C and the prefetch's excess over that. Walking a
// schedule with it counts the features command by command, without the closed form; the cycles
// are the counts times the contract's weights (gemm_contract_cycles).
#ifndef ACCPAR_TESTS_COMMAND_FEATURES_H
#define ACCPAR_TESTS_COMMAND_FEATURES_H

extern "C" {
#include "systolic_model.h"
}

#include <gtest/gtest.h>

#include <cstdint>

// A preset by name; fails the calling test if it does not load.
inline accel_preset preset(const char *name) {
    accel_preset p{};
    char err[512];
    EXPECT_EQ(preset_find(name, &p, err, sizeof err), 0) << err;
    return p;
}

inline uint64_t device_words(const accel_preset *p, uint64_t bytes) {
    return (bytes + (uint64_t)p->mem_bytes_per_cycle - 1) / (uint64_t)p->mem_bytes_per_cycle;
}

// What one command of the schedule adds to each feature.
inline void command_features(const accel_preset *p, const gemm_step *st,
                             uint64_t f[GEMM_FEATURES]) {
    const uint64_t R = (uint64_t)p->array_rows, C = (uint64_t)p->array_cols;
    const uint64_t rows = (uint64_t)st->rows;
    for (int i = 0; i < GEMM_FEATURES; i++)
        f[i] = 0;
    f[FEAT_COMMANDS] = 1;
    switch (st->kind) {
    case STEP_LOAD_W:
        f[FEAT_LOADS] = 1;
        f[FEAT_WORDS] = device_words(p, (uint64_t)st->tiles * 2 * R * C);
        break;
    case STEP_LOAD_A:
        f[FEAT_LOADS] = 1;
        f[FEAT_WORDS] = device_words(p, rows * 2 * R);
        break;
    case STEP_LOAD_ACC:
        f[FEAT_LOADS] = 1;
        f[FEAT_WORDS] = device_words(p, rows * 4 * C);
        break;
    case STEP_STORE:
        f[FEAT_WORDS] = device_words(p, rows * 4 * C);
        break;
    case STEP_MATMUL: {
        f[FEAT_ROWS] = rows;
        f[FEAT_FILL] = R + C;
        uint64_t pf = st->pf_tiles ? 1 + device_words(p, (uint64_t)st->pf_tiles * 2 * R * C) : 0;
        f[FEAT_PREFETCH] = pf > rows + R + C ? pf - (rows + R + C) : 0;
        break;
    }
    }
}

#endif
