// The golden model's fast MATMUL kernel (host/device/golden_kernel.c) against the array's
// arithmetic one operation at a time: accel_mul and accel_add (bf16.c, which test_fp.cpp holds
// to the RTL's functions bit for bit), chained in the array's order. Edge values (signed zeros,
// subnormals, products and sums around FLT_MIN, overflow, Inf, NaN), operands all inside the range
// where the kernel fuses multiply and add (and just below it), and shapes that are not whole
// blocks.
#include "bf16.h"
#include "golden_kernel.h"
#include "rng.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <vector>

namespace {

// A bf16 operand: an edge value or any bit pattern once in `rarity` draws (so that a long chain
// is not all NaN), else an ordinary value.
uint16_t operand(uint64_t *rng, uint64_t rarity) {
    static const float edges[] = {0.0f,        -0.0f,      INFINITY,    -INFINITY, NAN,
                                  0x1p-63f,    -0x1p-63f,  0x1.02p-63f, 0x1p-64f,  0x1.fep-64f,
                                  0x1p-126f,   -0x1p-126f, 0x1p-120f,   0x1p100f,  -0x1p100f,
                                  0x1.fep127f, 0x1p-130f /* a bf16 subnormal */};
    uint64_t pick = rng_next(rng) % (2 * rarity);
    if (pick == 0) {
        size_t n = sizeof edges / sizeof edges[0];
        return bf16_from_float(edges[rng_next(rng) % n]) ^ (uint16_t)(rng_next(rng) & 0x8000u);
    }
    if (pick == 1) // any bit pattern: subnormals, NaN payloads, everything
        return (uint16_t)rng_next(rng);
    return bf16_from_float(bf16_random(rng));
}

// A bf16 operand around 2^-63: products and sums near FLT_MIN, where every flush happens.
uint16_t tiny_operand(uint64_t *rng) {
    int exponent = 127 - 66 + (int)(rng_next(rng) % 7); // 2^-66 .. 2^-60
    return (uint16_t)((rng_next(rng) & 0x8000u) | (uint32_t)exponent << 7 |
                      (rng_next(rng) & 0x7Fu));
}

// A bf16 operand of magnitude 2^(low - 127) .. 2^(low - 123): with low = 64 inside the range where
// the kernel may fuse multiply and add (every product normal), with 63 partly below it.
uint16_t boundary_operand(uint64_t *rng, int low) {
    int exponent = low + (int)(rng_next(rng) % 4);
    return (uint16_t)((rng_next(rng) & 0x8000u) | (uint32_t)exponent << 7 |
                      (rng_next(rng) & 0x7Fu));
}

// An accumulator value before an accumulating MATMUL: any fp32 bits, often around FLT_MIN.
uint32_t accumulator(uint64_t *rng) {
    uint64_t pick = rng_next(rng) % 3;
    if (pick == 0)
        return (uint32_t)rng_next(rng);
    if (pick == 1) // near +-FLT_MIN, subnormal included
        return (uint32_t)(0x00800000u + (rng_next(rng) % 64) - 32) | (uint32_t)(rng_next(rng) & 1u)
                                                                         << 31;
    return float_bits(bf16_random(rng));
}

// Operands: mixed (edge values among ordinary ones), tiny (2^-66 .. 2^-60), or boundary: all in
// the fused range (2^-63 ..), products and sums around FLT_MIN; or from just below it (2^-64 ..).
enum Operands { MIXED, TINY, FUSED_RANGE, BELOW_FUSED_RANGE };

struct Case {
    int rows, depth, cols, accumulate;
    Operands kind;
};

uint16_t draw(Operands kind, uint64_t *rng, int depth) {
    switch (kind) {
    case TINY:
        return tiny_operand(rng);
    case FUSED_RANGE:
        return boundary_operand(rng, 64);
    case BELOW_FUSED_RANGE:
        return boundary_operand(rng, 63);
    default:
        return operand(rng, (uint64_t)depth);
    }
}

TEST(GoldenKernel, EqualsTheArraysOperationsInTheArraysOrder) {
    const Case cases[] = {{1, 1, 1, 0, MIXED},
                          {1, 1, 1, 1, MIXED},
                          {3, 5, 7, 0, MIXED},
                          {8, 16, 16, 1, MIXED},
                          {9, 17, 33, 0, MIXED},
                          {9, 17, 33, 1, MIXED},
                          {16, 128, 128, 0, MIXED},
                          {20, 40, 47, 1, MIXED},
                          {7, 128, 16, 1, MIXED},
                          {64, 12, 20, 0, MIXED},
                          {9, 3, 17, 0, TINY},
                          {9, 3, 17, 1, TINY},
                          {16, 16, 16, 0, TINY},
                          {9, 3, 17, 0, FUSED_RANGE},
                          {9, 3, 17, 1, FUSED_RANGE},
                          {16, 16, 16, 0, FUSED_RANGE},
                          {24, 8, 40, 1, FUSED_RANGE},
                          {9, 3, 17, 0, BELOW_FUSED_RANGE},
                          {16, 16, 16, 1, BELOW_FUSED_RANGE}};
    uint64_t rng = 7;
    long long checked = 0, specials = 0;
    for (const Case &c : cases) {
        SCOPED_TRACE(::testing::Message() << c.rows << "x" << c.depth << "x" << c.cols
                                          << (c.accumulate ? " accumulate" : ""));
        const int rb = GOLDEN_ROWS_BLOCK, cb = GOLDEN_COLS_BLOCK;
        size_t rows_pad = (size_t)(c.rows + rb - 1) / rb * rb;
        size_t stride = (size_t)(c.cols + cb - 1) / cb * cb;
        std::vector<uint16_t> a16((size_t)c.rows * c.depth), w16((size_t)c.depth * c.cols);
        for (auto &x : a16)
            x = draw(c.kind, &rng, c.depth);
        for (auto &x : w16)
            x = draw(c.kind, &rng, c.depth);
        std::vector<float> a(rows_pad * c.depth, 0.0f), w((size_t)c.depth * stride, 0.0f);
        for (size_t e = 0; e < a16.size(); e++)
            a[e] = accel_operand(bf16_to_float(a16[e]));
        for (int k = 0; k < c.depth; k++)
            for (int n = 0; n < c.cols; n++)
                w[(size_t)k * stride + n] =
                    accel_operand(bf16_to_float(w16[(size_t)k * c.cols + n]));
        const size_t acc_stride = (size_t)c.cols + 3; // a wider accumulator row: untouched tail
        std::vector<uint32_t> acc((size_t)c.rows * acc_stride);
        for (auto &x : acc)
            x = accumulator(&rng);
        std::vector<uint32_t> want = acc;
        for (int i = 0; i < c.rows; i++)
            for (int n = 0; n < c.cols; n++) {
                uint32_t s = 0; // +0
                for (int k = 0; k < c.depth; k++)
                    s = accel_add(
                        s, accel_mul(a16[(size_t)i * c.depth + k], w16[(size_t)k * c.cols + n]));
                uint32_t &out = want[(size_t)i * acc_stride + n];
                out = c.accumulate ? accel_add(out, s) : accel_result(bits_float(s));
            }
        golden_tile(a.data(), w.data(), stride, c.rows, c.depth, c.cols, c.accumulate, acc.data(),
                    acc_stride);
        for (size_t e = 0; e < acc.size(); e++) {
            ASSERT_EQ(acc[e], want[e]) << "element " << e / acc_stride << "," << e % acc_stride;
            float f = bits_float(want[e]);
            specials += std::isnan(f) || std::isinf(f) || f == 0.0f;
            checked++;
        }
    }
    EXPECT_GT(specials, checked / 20) << "the edge values reach the results";
    EXPECT_LT(specials, checked / 2) << "and ordinary values too";
}

// The kernel sets the flush modes for itself only: after it, the host's float arithmetic has
// gradual underflow again.
TEST(GoldenKernel, LeavesTheHostsFloatModeAsItFoundIt) {
    std::vector<float> a(GOLDEN_ROWS_BLOCK, 1.0f), w(GOLDEN_COLS_BLOCK, 1.0f);
    uint32_t acc = 0;
    golden_tile(a.data(), w.data(), GOLDEN_COLS_BLOCK, 1, 1, 1, 0, &acc, 1);
    EXPECT_EQ(bits_float(acc), 1.0f);
    volatile float tiny = FLT_MIN;
    EXPECT_NE(tiny / 4.0f, 0.0f) << "subnormal results flushed after the kernel";
    volatile float sub = FLT_MIN / 4.0f;
    EXPECT_NE(sub * 2.0f, 0.0f) << "subnormal inputs read as zero after the kernel";
}

} // namespace
