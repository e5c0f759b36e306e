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

// Zeros the kernel may skip: none; the last `zeros` depth rows +0 in both operands (a GEMM's
// padding of K); the same with the weights' zeros of random sign (nothing to skip); the last
// `zeros` weight columns zero of random sign (the padding of N).
enum Padding { NO_PADDING, ZERO_DEPTH, SIGNED_ZERO_DEPTH, ZERO_COLUMNS };

struct Case {
    int rows, depth, cols, accumulate;
    Operands kind;
    Padding padding = NO_PADDING;
    int zeros = 0;
};

// The array's chain, one operation at a time: s = +0, s = add(s, mul(a_ik, w_kn)) for k = 0 ..,
// then the result or its sum with the accumulator, into want.
void array_chain(const Case &c, const std::vector<uint16_t> &a16, const std::vector<uint16_t> &w16,
                 std::vector<uint32_t> &want, size_t acc_stride) {
    for (int i = 0; i < c.rows; i++)
        for (int n = 0; n < c.cols; n++) {
            uint32_t s = 0; // +0
            for (int k = 0; k < c.depth; k++)
                s = accel_add(s,
                              accel_mul(a16[(size_t)i * c.depth + k], w16[(size_t)k * c.cols + n]));
            uint32_t &out = want[(size_t)i * acc_stride + n];
            out = c.accumulate ? accel_add(out, s) : accel_result(bits_float(s));
        }
}

// golden_tile on bf16 operands, as the golden device gives them to it.
void kernel(const Case &c, const std::vector<uint16_t> &a16, const std::vector<uint16_t> &w16,
            std::vector<uint32_t> &acc, size_t acc_stride) {
    const int rb = GOLDEN_ROWS_BLOCK, cb = GOLDEN_COLS_BLOCK;
    size_t rows_pad = (size_t)(c.rows + rb - 1) / rb * rb;
    size_t stride = (size_t)(c.cols + cb - 1) / cb * cb;
    std::vector<float> a(rows_pad * c.depth, 0.0f), w((size_t)c.depth * stride, 0.0f);
    for (size_t e = 0; e < a16.size(); e++)
        a[e] = accel_operand(bf16_to_float(a16[e]));
    for (int k = 0; k < c.depth; k++)
        for (int n = 0; n < c.cols; n++)
            w[(size_t)k * stride + n] = accel_operand(bf16_to_float(w16[(size_t)k * c.cols + n]));
    golden_rows rows;
    golden_rows_scan(&rows, a.data(), c.rows, c.depth);
    golden_tile(&rows, w.data(), stride, c.cols, c.accumulate, acc.data(), acc_stride);
}

// Runs check once per kernel body this machine has (golden_kernel_cap_isa), each named in the
// failures; all must give the array's bits. Leaves the best body in use.
template <typename F> void for_each_isa(F check) {
    golden_kernel_cap_isa(GOLDEN_ISA_AVX512);
    const int best = golden_kernel_isa();
    for (int isa = GOLDEN_ISA_BASE; isa <= best; isa++) {
        golden_kernel_cap_isa(isa);
        ASSERT_EQ(golden_kernel_isa(), isa);
        SCOPED_TRACE(::testing::Message() << "kernel body " << isa);
        check();
    }
    golden_kernel_cap_isa(GOLDEN_ISA_AVX512);
}

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
                          {16, 16, 16, 1, BELOW_FUSED_RANGE},
                          {9, 8, 17, 0, FUSED_RANGE, ZERO_DEPTH, 5},
                          {16, 24, 40, 1, FUSED_RANGE, ZERO_DEPTH, 20},
                          {9, 8, 17, 0, FUSED_RANGE, SIGNED_ZERO_DEPTH, 5},
                          {9, 8, 17, 1, MIXED, ZERO_DEPTH, 5},
                          {9, 6, 40, 0, FUSED_RANGE, ZERO_COLUMNS, 30},
                          {9, 6, 40, 1, FUSED_RANGE, ZERO_COLUMNS, 17},
                          {8, 6, 16, 1, FUSED_RANGE, ZERO_COLUMNS, 16},
                          {9, 6, 64, 1, FUSED_RANGE, ZERO_COLUMNS, 16},
                          {9, 6, 40, 1, MIXED, ZERO_COLUMNS, 30}};
    for_each_isa([&] {
        uint64_t rng = 7;
        long long checked = 0, specials = 0;
        for (const Case &c : cases) {
            SCOPED_TRACE(::testing::Message() << c.rows << "x" << c.depth << "x" << c.cols
                                              << (c.accumulate ? " accumulate" : ""));
            std::vector<uint16_t> a16((size_t)c.rows * c.depth), w16((size_t)c.depth * c.cols);
            for (auto &x : a16)
                x = draw(c.kind, &rng, c.depth);
            for (auto &x : w16)
                x = draw(c.kind, &rng, c.depth);
            for (int k = c.depth - c.zeros; c.padding != ZERO_COLUMNS && k < c.depth; k++) {
                for (int i = 0; i < c.rows; i++)
                    a16[(size_t)i * c.depth + k] = 0;
                for (int n = 0; n < c.cols; n++)
                    w16[(size_t)k * c.cols + n] =
                        c.padding == SIGNED_ZERO_DEPTH ? (uint16_t)(rng_next(&rng) & 0x8000u) : 0;
            }
            for (int n = c.cols - c.zeros; c.padding == ZERO_COLUMNS && n < c.cols; n++)
                for (int k = 0; k < c.depth; k++)
                    w16[(size_t)k * c.cols + n] = (uint16_t)(rng_next(&rng) & 0x8000u);
            const size_t acc_stride = (size_t)c.cols + 3; // a wider accumulator row: untouched tail
            std::vector<uint32_t> acc((size_t)c.rows * acc_stride);
            for (auto &x : acc)
                x = accumulator(&rng);
            std::vector<uint32_t> want = acc;
            array_chain(c, a16, w16, want, acc_stride);
            kernel(c, a16, w16, acc, acc_stride);
            for (size_t e = 0; e < acc.size(); e++) {
                ASSERT_EQ(acc[e], want[e]) << "element " << e / acc_stride << "," << e % acc_stride;
                float f = bits_float(want[e]);
                specials += std::isnan(f) || std::isinf(f) || f == 0.0f;
                checked++;
            }
        }
        EXPECT_GT(specials, checked / 20) << "the edge values reach the results";
        EXPECT_LT(specials, checked / 2) << "and ordinary values too";
    });
}

// A sum flushed to -0 before a zero tail of K: the tail's +0 products make it +0 on the array,
// -0 products leave it -0, so a kernel that skips a tail must know which it has.
TEST(GoldenKernel, SkippedZeroTailGivesTheArraysSignOfZero) {
    for_each_isa([] {
        const Case c = {1, 4, 1, 0, FUSED_RANGE, ZERO_DEPTH, 2};
        // 1.5 * 2^-126 - 1.5078125 * 2^-126 = -2^-133: below FLT_MIN, flushed to -0
        std::vector<uint16_t> a16 = {bf16_from_float(0x1.8p-63f), bf16_from_float(-0x1.82p-63f), 0,
                                     0};
        std::vector<uint16_t> w16 = {bf16_from_float(0x1p-63f), bf16_from_float(0x1p-63f), 0, 0};
        std::vector<uint32_t> want(1, 0xdeadbeefu), acc = want;
        array_chain(c, a16, w16, want, 1);
        ASSERT_EQ(want[0], 0u) << "the array's result is +0";
        kernel(c, a16, w16, acc, 1);
        EXPECT_EQ(acc[0], want[0]);
        // a tail where only one operand is +0: the other's values decide the products' signs, so
        // the tail leaves the -0 (negative values, or -0) or turns it into +0 (positive values)
        const float tails[][2] = {{-1.0f, -2.0f}, {1.0f, 2.0f}, {-0.0f, -0.0f}};
        const uint32_t results[] = {0x80000000u, 0u, 0x80000000u};
        for (int zero_weights = 0; zero_weights < 2; zero_weights++)
            for (int t = 0; t < 3; t++) {
                std::vector<uint16_t> a_t = a16, w_t = w16;
                for (int k = 2; k < 4; k++)
                    (zero_weights ? a_t : w_t)[(size_t)k] = bf16_from_float(tails[t][k - 2]);
                std::vector<uint32_t> want_t(1, 0u), acc_t = want_t;
                array_chain(c, a_t, w_t, want_t, 1);
                ASSERT_EQ(want_t[0], results[t]) << "the array's result, tail " << t;
                kernel(c, a_t, w_t, acc_t, 1);
                EXPECT_EQ(acc_t[0], want_t[0])
                    << (zero_weights ? "weights" : "activations") << " +0, tail " << t;
            }
    });
}

// The kernel sets the flush modes for itself only: after it, the host's float arithmetic has
// gradual underflow again.
TEST(GoldenKernel, LeavesTheHostsFloatModeAsItFoundIt) {
    std::vector<float> a(GOLDEN_ROWS_BLOCK, 1.0f), w(GOLDEN_COLS_BLOCK, 1.0f);
    uint32_t acc = 0;
    golden_rows rows;
    golden_rows_scan(&rows, a.data(), 1, 1);
    golden_tile(&rows, w.data(), GOLDEN_COLS_BLOCK, 1, 0, &acc, 1);
    EXPECT_EQ(bits_float(acc), 1.0f);
    volatile float tiny = FLT_MIN;
    EXPECT_NE(tiny / 4.0f, 0.0f) << "subnormal results flushed after the kernel";
    volatile float sub = FLT_MIN / 4.0f;
    EXPECT_NE(sub * 2.0f, 0.0f) << "subnormal inputs read as zero after the kernel";
}

} // namespace
