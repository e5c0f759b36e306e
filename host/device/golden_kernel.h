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

/* One MATMUL's activation rows as operands, and what the kernel may assume of them: scanned once
 * by golden_rows_scan for every MXU's tile. */
typedef struct golden_rows {
    const float *a; /* rows rounded up to GOLDEN_ROWS_BLOCK, each of depth operands (subnormals
                       already zeroed) */
    int rows, depth;
    int fusable;   /* every value is zero or has a magnitude in [2^-63, 2^63) */
    int zero_from; /* every row's operands from this column on are +0 */
} golden_rows;

void golden_rows_scan(golden_rows *r, const float *a, int rows, int depth);

/* The instruction sets the kernel has a body for (on x86-64; elsewhere the base one only). */
enum { GOLDEN_ISA_BASE, GOLDEN_ISA_AVX2, GOLDEN_ISA_AVX512 };

/* The one golden_tile runs: the best this machine has, at most the cap. */
int golden_kernel_isa(void);
/* Caps the instruction set golden_tile uses (process-wide; for tests, which run every body this
 * machine has: all give the same bits). */
void golden_kernel_cap_isa(int level);

/* For each row i < r->rows and column n < cols: s = +0, then for k = 0 .. depth-1
 * s = flush(s + flush(a[i][k] * w[k][n])) (bf16.h's flush); the result is s, or with accumulate
 * flush(operand(acc) + s), stored as accel_result's bits in acc[i * acc_stride + n].
 * w: depth rows of w_stride floats, w_stride a multiple of GOLDEN_COLS_BLOCK >= cols, zero past
 * cols. */
void golden_tile(const golden_rows *r, const float *w, size_t w_stride, int cols, int accumulate,
                 uint32_t *acc, size_t acc_stride);

#ifdef __cplusplus
}
#endif

#endif
