// The closed-form features against counts taken command by command from the schedule walk with
// the per-command contract of docs/accelerator.md written out in command_features.h, on many
// shapes and presets.
#include <gtest/gtest.h>

#include "command_features.h"

#include <string>

namespace {

struct counter {
    const accel_preset *p;
    uint64_t f[GEMM_FEATURES];
};

int count(const gemm_step *st, void *ctx) {
    counter *c = (counter *)ctx;
    uint64_t one[GEMM_FEATURES];
    command_features(c->p, st, one);
    for (int i = 0; i < GEMM_FEATURES; i++)
        c->f[i] += one[i];
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
                sum += c.f[j] * gemm_contract_cycles[j];
            }
            cycle_breakdown cb;
            gemm_cycles_closed_form(&s, &cb);
            EXPECT_EQ(cb.total, sum);
            double contract[GEMM_FEATURES];
            for (int j = 0; j < GEMM_FEATURES; j++)
                contract[j] = (double)gemm_contract_cycles[j];
            EXPECT_EQ(gemm_features_weighted(&f, contract), (double)cb.total);
            memory_bound += f.f[FEAT_PREFETCH] > 0;
            shapes++;
        }
    }
    EXPECT_EQ(shapes, 320);
    EXPECT_GT(memory_bound, 10); // the memory-bound regime is exercised
}

} // namespace
