// The closed-form features against counts taken command by command from the schedule walk with
// the per-command contract of docs/accelerator.md written out here, on many shapes and presets.
#include <gtest/gtest.h>

extern "C" {
#include "systolic_model.h"
}

#include <string>

namespace {

accel_preset preset(const char *name) {
    accel_preset p{};
    char err[512];
    EXPECT_EQ(preset_find(name, &p, err, sizeof err), 0) << err;
    return p;
}

struct counter {
    const accel_preset *p;
    uint64_t f[GEMM_FEATURES];
};

uint64_t words(const accel_preset *p, uint64_t bytes) {
    return (bytes + (uint64_t)p->mem_bytes_per_cycle - 1) / (uint64_t)p->mem_bytes_per_cycle;
}

// docs/accelerator.md: LOAD = 1 + W + 1, STORE = 1 + W, MATMUL = 1 + max(rows + R + C, 1 + W_pf).
int count(const gemm_step *st, void *ctx) {
    counter *c = (counter *)ctx;
    const uint64_t R = (uint64_t)c->p->array_rows, C = (uint64_t)c->p->array_cols;
    const uint64_t rows = (uint64_t)st->rows;
    c->f[FEAT_COMMANDS]++;
    switch (st->kind) {
    case STEP_LOAD_W:
        c->f[FEAT_LOADS]++;
        c->f[FEAT_WORDS] += words(c->p, (uint64_t)st->tiles * 2 * R * C);
        break;
    case STEP_LOAD_A:
        c->f[FEAT_LOADS]++;
        c->f[FEAT_WORDS] += words(c->p, rows * 2 * R);
        break;
    case STEP_LOAD_ACC:
        c->f[FEAT_LOADS]++;
        c->f[FEAT_WORDS] += words(c->p, rows * 4 * C);
        break;
    case STEP_STORE:
        c->f[FEAT_WORDS] += words(c->p, rows * 4 * C);
        break;
    case STEP_MATMUL: {
        c->f[FEAT_ROWS] += rows;
        c->f[FEAT_FILL] += R + C;
        uint64_t pf = st->pf_tiles ? 1 + words(c->p, (uint64_t)st->pf_tiles * 2 * R * C) : 0;
        c->f[FEAT_PREFETCH] += pf > rows + R + C ? pf - (rows + R + C) : 0;
        break;
    }
    }
    return 0;
}

TEST(Features, ClosedFormEqualsCommandByCommandCountsAndSumsToTheCycles) {
    uint64_t seed = 12345;
    auto next = [&seed](int64_t lo, int64_t hi) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return lo + (int64_t)((seed >> 33) % (uint64_t)(hi - lo + 1));
    };
    int shapes = 0, memory_bound = 0;
    for (const char *name : {"tiny", "tpu-v2", "tpu-v3", "tpu-v3-full"}) {
        accel_preset p = preset(name);
        for (int i = 0; i < 80; i++) {
            // small and large, ragged: rows from 1 to beyond two chunks, N beyond two blocks
            int64_t m = i % 4 == 0 ? next(1, 8) : next(1, 3 * p.act_buffer_rows);
            int64_t k = next(1, 10 * p.array_rows);
            int64_t n = next(1, 12 * p.array_cols * p.mxus);
            int acc = i % 3 == 0;
            gemm_schedule s;
            char err[256];
            ASSERT_EQ(gemm_schedule_make(&p, m, k, n, acc, &s, err, sizeof err), 0) << err;
            counter c{&p, {}};
            gemm_schedule_walk(&s, count, &c);
            gemm_features f;
            gemm_features_closed_form(&s, &f);
            uint64_t sum = 0;
            for (int j = 0; j < GEMM_FEATURES; j++) {
                EXPECT_EQ(f.f[j], c.f[j])
                    << name << " " << m << "x" << k << "x" << n << " " << gemm_feature_names[j];
                sum += c.f[j];
            }
            cycle_breakdown cb;
            gemm_cycles_closed_form(&s, &cb);
            EXPECT_EQ(cb.total, sum);
            const double ones[GEMM_FEATURES] = {1, 1, 1, 1, 1, 1};
            EXPECT_EQ(gemm_features_weighted(&f, ones), (double)cb.total);
            memory_bound += f.f[FEAT_PREFETCH] > 0;
            shapes++;
        }
    }
    EXPECT_EQ(shapes, 320);
    EXPECT_GT(memory_bound, 10); // the memory-bound regime is exercised
}

} // namespace
