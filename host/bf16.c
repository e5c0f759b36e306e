#include "bf16.h"

#include <math.h>
#include <float.h>
#include <string.h>

uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t bf16_from_float(float f) {
    if (isnan(f))
        return BF16_CANONICAL_NAN;
    uint32_t u = float_bits(f);
    u += 0x7FFFu + ((u >> 16) & 1u); /* round to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

float bf16_to_float(uint16_t b) {
    return bits_float((uint32_t)b << 16);
}

float bf16_round(float f) {
    return bf16_to_float(bf16_from_float(f));
}

/* Subnormals read as zero of the same sign. */
static float flush_input(float f) {
    return fpclassify(f) == FP_SUBNORMAL ? copysignf(0.0f, f) : f;
}

/* An exactly representable-in-double result to fp32: NaN -> canonical, |r| >= 2^128 -> Inf,
 * below the smallest normal -> signed zero. Callers pass values fp32 holds exactly otherwise. */
static uint32_t finish(double r) {
    if (isnan(r))
        return FP32_CANONICAL_NAN;
    if (fabs(r) >= 0x1p128)
        return float_bits(copysignf(INFINITY, (float)copysign(1.0, r)));
    if (r != 0.0 && fabs(r) < (double)FLT_MIN)
        return float_bits(copysignf(0.0f, (float)copysign(1.0, r)));
    return float_bits((float)r);
}

uint32_t accel_mul(uint16_t a, uint16_t b) {
    /* Exact in double: two 8-bit significands, exponents far inside double's range. */
    return finish((double)flush_input(bf16_to_float(a)) * (double)flush_input(bf16_to_float(b)));
}

uint32_t accel_add(uint32_t x, uint32_t y) {
    /* The float sum is the IEEE RNE result; a sum of two normals below FLT_MIN is exact. */
    float r = flush_input(bits_float(x)) + flush_input(bits_float(y));
    return finish((double)r);
}
