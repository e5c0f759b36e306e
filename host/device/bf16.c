#include "bf16.h"

#include <math.h>
#include <float.h>
#include <string.h>

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
