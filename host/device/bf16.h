/* bf16 storage and the accelerator's arithmetic in C (the golden model's numerics).
 * Contract (same as rtl/accel_fp.sv): bf16 x bf16 products exact in fp32, fp32 additions
 * rounded to nearest even, subnormal inputs read as signed zero, subnormal results flushed to
 * signed zero, every NaN result the canonical quiet NaN 0x7FC00000. */
#ifndef ACCPAR_BF16_H
#define ACCPAR_BF16_H

#include "rng.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { FP32_CANONICAL_NAN = 0x7FC00000u, BF16_CANONICAL_NAN = 0x7FC0u };

/* The conversions are inline: the packing and golden loops call them per element. */
static inline uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* float -> bf16 with round-to-nearest-even; NaN -> canonical NaN. */
static inline uint16_t bf16_from_float(float f) {
    if (isnan(f))
        return (uint16_t)BF16_CANONICAL_NAN;
    uint32_t u = float_bits(f);
    u += 0x7FFFu + ((u >> 16) & 1u); /* round to nearest, ties to even */
    return (uint16_t)(u >> 16);
}

/* n floats from src, `stride` apart, to bf16: how operands are packed for the device. */
static inline void bf16_from_floats(uint16_t *dst, const float *src, int64_t n, int64_t stride) {
    for (int64_t t = 0; t < n; t++)
        dst[t] = bf16_from_float(src[t * stride]);
}

static inline float bf16_to_float(uint16_t b) {
    return bits_float((uint32_t)b << 16);
}

/* f rounded to bf16 precision, as a float. */
static inline float bf16_round(float f) {
    return bf16_to_float(bf16_from_float(f));
}

/* An operand as the array reads it: a subnormal becomes a zero of its sign. */
static inline float accel_operand(float f) {
    return fpclassify(f) == FP_SUBNORMAL ? copysignf(0.0f, f) : f;
}
/* A result below the smallest normal becomes a zero of its sign (inline: the golden model's
 * inner loop). */
static inline float accel_flush(float f) {
    return fabsf(f) < FLT_MIN ? copysignf(0.0f, f) : f;
}
/* The bits the array stores for a result: NaNs are the canonical quiet NaN. */
static inline uint32_t accel_result(float f) {
    return isnan(f) ? (uint32_t)FP32_CANONICAL_NAN : float_bits(f);
}

/* A random value uniform in [-1, 1), rounded to bf16 (rng.h's generator). */
static inline float bf16_random(uint64_t *rng_state) {
    return bf16_round((float)(2.0 * rng_unit(rng_state) - 1.0));
}

/* The accelerator's product and sum, on bit patterns. */
uint32_t accel_mul(uint16_t a, uint16_t b);
uint32_t accel_add(uint32_t x, uint32_t y);

#ifdef __cplusplus
}
#endif

#endif
