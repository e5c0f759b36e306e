// The arithmetic contract (docs/accelerator.md, "Numerics"): bf16 x bf16 products and fp32
// sums, round-to-nearest-even, subnormals flushed, canonical NaN. Every case runs on both the
// RTL functions (through the verilated fp_probe) and the C golden model.
#include "Vfp_probe.h"
#include "bf16.h"
#include "rng.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>

namespace {

uint32_t rtl_mul(Vfp_probe &p, uint16_t a, uint16_t b) {
    p.a = a;
    p.b = b;
    p.eval();
    return p.product;
}

uint32_t rtl_add(Vfp_probe &p, uint32_t x, uint32_t y) {
    p.x = x;
    p.y = y;
    p.eval();
    return p.sum;
}

uint32_t bits(float f) {
    return float_bits(f);
}

uint16_t bf(float f) {
    uint16_t b = bf16_from_float(f);
    EXPECT_EQ(bf16_to_float(b), f) << "test operand " << f << " is not a bf16 value";
    return b;
}

struct MulCase {
    const char *what;
    uint16_t a, b;
    uint32_t expect;
};

struct AddCase {
    const char *what;
    uint32_t x, y, expect;
};

class Arithmetic : public ::testing::Test {
  protected:
    VerilatedContext ctx;
    Vfp_probe probe{&ctx};
};

TEST_F(Arithmetic, ProductEdgeCases) {
    const uint32_t pos_inf = 0x7F800000u, neg_inf = 0xFF800000u, nan = 0x7FC00000u;
    const MulCase cases[] = {
        {"+0 * x = +0", bf(0.0f), bf(3.0f), 0x00000000u},
        {"-0 * x = -0", bf(-0.0f), bf(3.0f), 0x80000000u},
        {"-0 * -x = +0", bf(-0.0f), bf(-3.0f), 0x00000000u},
        {"exact: 1.5 * 1.5", bf(1.5f), bf(1.5f), bits(2.25f)},
        {"exact 16-bit significand", bf(1.9921875f), bf(1.9921875f), bits(1.9921875f * 1.9921875f)},
        {"overflow to +Inf", bf(0x1p127f), bf(2.0f), pos_inf},
        {"overflow to -Inf", bf(-0x1p127f), bf(2.0f), neg_inf},
        {"smallest normal is kept", bf(0x1p-63f), bf(0x1p-63f), 0x00800000u},
        {"below smallest normal flushes to +0", bf(0x1p-100f), bf(0x1p-30f), 0x00000000u},
        {"below smallest normal flushes to -0", bf(-0x1p-100f), bf(0x1p-30f), 0x80000000u},
        {"subnormal input reads as zero", 0x0001, bf(1.0f), 0x00000000u},
        {"negative subnormal input reads as -0", 0x8001, bf(1.0f), 0x80000000u},
        {"Inf * 2 = Inf", 0x7F80, bf(2.0f), pos_inf},
        {"Inf * -2 = -Inf", 0x7F80, bf(-2.0f), neg_inf},
        {"Inf * 0 = NaN", 0x7F80, bf(0.0f), nan},
        {"Inf * subnormal = NaN (flushed to zero)", 0x7F80, 0x0001, nan},
        {"NaN propagates as canonical NaN", 0xFFC1, bf(1.0f), nan},
        {"signalling-pattern NaN", 0x7F81, bf(0.0f), nan},
    };
    for (const MulCase &c : cases) {
        EXPECT_EQ(accel_mul(c.a, c.b), c.expect) << "golden: " << c.what;
        EXPECT_EQ(rtl_mul(probe, c.a, c.b), c.expect) << "rtl: " << c.what;
    }
}

TEST_F(Arithmetic, SumEdgeCases) {
    const uint32_t one = bits(1.0f), nan = 0x7FC00000u;
    const AddCase cases[] = {
        {"+0 + -0 = +0", 0x00000000u, 0x80000000u, 0x00000000u},
        {"-0 + -0 = -0", 0x80000000u, 0x80000000u, 0x80000000u},
        {"x + -x = +0", bits(3.5f), bits(-3.5f), 0x00000000u},
        {"tie rounds to even (down)", one, bits(0x1p-24f), one},
        {"tie rounds to even (up)", one + 1, bits(0x1p-24f), one + 2},
        {"above the tie rounds up", one, bits(0x1.8p-24f), one + 1},
        {"below the tie rounds down", one, bits(0x1.fffffep-25f), one},
        {"far smaller operand only sets sticky", bits(0x1p30f), bits(1.0f), bits(0x1p30f)},
        {"cancellation renormalises exactly", bits(1.0f + 0x1p-20f), bits(-1.0f), bits(0x1p-20f)},
        {"overflow to +Inf", bits(FLT_MAX), bits(FLT_MAX), 0x7F800000u},
        {"overflow to -Inf", bits(-FLT_MAX), bits(-FLT_MAX), 0xFF800000u},
        {"result below smallest normal flushes to +0", bits(0x1.8p-126f), bits(-0x1p-126f),
         0x00000000u},
        {"result below smallest normal flushes to -0", bits(-0x1.8p-126f), bits(0x1p-126f),
         0x80000000u},
        {"subnormal inputs read as +0", 0x00000001u, 0x00000001u, 0x00000000u},
        {"negative subnormal inputs read as -0", 0x80000001u, 0x80000001u, 0x80000000u},
        {"subnormal + x = x", 0x00000005u, bits(2.0f), bits(2.0f)},
        {"Inf + x = Inf", 0x7F800000u, bits(-5.0f), 0x7F800000u},
        {"-Inf + -Inf = -Inf", 0xFF800000u, 0xFF800000u, 0xFF800000u},
        {"Inf + -Inf = NaN", 0x7F800000u, 0xFF800000u, nan},
        {"NaN payload is not kept", 0xFFC12345u, one, nan},
    };
    for (const AddCase &c : cases) {
        EXPECT_EQ(accel_add(c.x, c.y), c.expect) << "golden: " << c.what;
        EXPECT_EQ(rtl_add(probe, c.x, c.y), c.expect) << "rtl: " << c.what;
        EXPECT_EQ(rtl_add(probe, c.y, c.x), c.expect) << "rtl, commuted: " << c.what;
    }
}

// Random operands: RTL and golden bit for bit; where inputs and result are normal numbers,
// both also equal the host's IEEE arithmetic (an independent reference).
uint32_t random_fp32(uint64_t &state, uint32_t base_exp) {
    uint64_t r = rng_next(&state);
    switch (r % 8) {
    case 0: // anything at all: NaN, Inf, subnormal patterns included
        return (uint32_t)(r >> 32);
    case 1: // values of nearby magnitude, so cancellation and carries are common
    case 2:
    case 3:
        return (uint32_t)((r >> 32) & 0x807FFFFFu) | ((base_exp + (uint32_t)(r >> 20) % 5u) << 23);
    default: // normal values over the whole range
        return (uint32_t)((r >> 32) & 0x807FFFFFu) | ((1u + (uint32_t)(r >> 12) % 254u) << 23);
    }
}

TEST_F(Arithmetic, RandomSumsMatchGoldenAndIeee) {
    uint64_t state = 12345;
    long ieee_checked = 0;
    for (long i = 0; i < 1000000; i++) {
        uint32_t base = 1u + (uint32_t)(rng_next(&state) % 250u);
        uint32_t x = random_fp32(state, base), y = random_fp32(state, base);
        uint32_t g = accel_add(x, y);
        ASSERT_EQ(rtl_add(probe, x, y), g) << std::hex << "x=0x" << x << " y=0x" << y;
        float fx = bits_float(x), fy = bits_float(y);
        volatile float ieee = fx + fy;
        if (std::fpclassify(fx) == FP_NORMAL && std::fpclassify(fy) == FP_NORMAL &&
            std::fpclassify(ieee) == FP_NORMAL) {
            ASSERT_EQ(g, bits(ieee)) << std::hex << "x=0x" << x << " y=0x" << y;
            ieee_checked++;
        }
    }
    EXPECT_GT(ieee_checked, 700000); // most cases were checked against IEEE too
}

TEST_F(Arithmetic, AllProductsOfSampledOperandsMatchGoldenAndIeee) {
    uint64_t state = 777;
    for (long i = 0; i < 1000000; i++) {
        uint64_t r = rng_next(&state);
        uint16_t a = (uint16_t)r, b = (uint16_t)(r >> 16);
        uint32_t g = accel_mul(a, b);
        ASSERT_EQ(rtl_mul(probe, a, b), g) << std::hex << "a=0x" << a << " b=0x" << b;
        double exact = (double)bf16_to_float(a) * (double)bf16_to_float(b);
        if (std::isnormal(bf16_to_float(a)) && std::isnormal(bf16_to_float(b)) &&
            std::fabs(exact) >= FLT_MIN && std::fabs(exact) <= FLT_MAX) {
            ASSERT_EQ(g, bits((float)exact)) << "products of bf16 values are exact in fp32";
        }
    }
}

} // namespace
