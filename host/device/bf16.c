#include "bf16.h"

#include "rng.h"

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

float accel_operand(float f) {
    return fpclassify(f) == FP_SUBNORMAL ? copysignf(0.0f, f) : f;
}

uint32_t accel_result(float f) {
    return isnan(f) ? FP32_CANONICAL_NAN : float_bits(f);
}

/* The host's IEEE float operations give the accelerator's results once subnormal inputs are
 * zeroed and tiny results flushed: a bf16 product has at most 16 significant bits, so the
 * float product is exact unless it overflows (to Inf, as required) or falls below FLT_MIN
 * (flushed; rounding cannot lift it to FLT_MIN); a sum of two normals below FLT_MIN is exact,
 * and every other sum is rounded to nearest even. NaNs are made canonical at the end. */
uint32_t accel_mul(uint16_t a, uint16_t b) {
    return accel_result(
        accel_flush(accel_operand(bf16_to_float(a)) * accel_operand(bf16_to_float(b))));
}

uint32_t accel_add(uint32_t x, uint32_t y) {
    return accel_result(accel_flush(accel_operand(bits_float(x)) + accel_operand(bits_float(y))));
}

float bf16_random(uint64_t *rng_state) {
    return bf16_round((float)(2.0 * rng_unit(rng_state) - 1.0));
}
