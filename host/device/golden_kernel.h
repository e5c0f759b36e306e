/* The golden model's MATMUL arithmetic, fast and with the array's bits: rows of activations times
 * one MXU's weight tile, every column summed in the array's order. */
#ifndef ACCPAR_GOLDEN_KERNEL_H
#define ACCPAR_GOLDEN_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel's blocking: activation rows and weight columns come in whole blocks (zero-padded
 * by the caller), so the inner loops have fixed bounds the compiler vectorises. */
enum { GOLDEN_ROWS_BLOCK = 8, GOLDEN_COLS_BLOCK = 16 };

/* For each row i < rows and column n < cols: s = +0, then for k = 0 .. depth-1
 * s = flush(s + flush(a[i][k] * w[k][n])) (bf16.h's flush); the result is s, or with accumulate
 * flush(operand(acc) + s), stored as accel_result's bits in acc[i * acc_stride + n].
 * a: rows rounded up to GOLDEN_ROWS_BLOCK, each of depth operands (subnormals already zeroed);
 * w: depth rows of w_stride floats, w_stride a multiple of GOLDEN_COLS_BLOCK >= cols, zero past
 * cols. */
void golden_tile(const float *a, const float *w, size_t w_stride, int rows, int depth, int cols,
                 int accumulate, uint32_t *acc, size_t acc_stride);

#ifdef __cplusplus
}
#endif

#endif
