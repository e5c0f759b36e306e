/* Why float operations give the array's bits: bf16.c. Here they run in register blocks of
 * GOLDEN_ROWS_BLOCK rows x GOLDEN_COLS_BLOCK columns that the compiler vectorises, and on x86 the
 * flushes are the hardware's: MXCSR's flush-to-zero turns a tiny result into a zero of its sign
 * and denormals-are-zero reads a subnormal input as one, which is bf16.h's flush and operand
 * rule exactly here, because no result the array can produce is rounded across FLT_MIN (a bf16
 * product has at most 16 significant bits, a sum below FLT_MIN is exact). Vectorising changes
 * no element's order of operations: each column's sum still runs k = 0, 1, ... from +0. */
#include "golden_kernel.h"

#include "bf16.h"

#include <string.h>

enum { RB = GOLDEN_ROWS_BLOCK, CB = GOLDEN_COLS_BLOCK };
/* A block's columns as one vector (GCC/Clang vector extension; the compiler maps it onto the
 * machine's registers). */
typedef float columns __attribute__((vector_size(CB * sizeof(float))));

#if defined(__x86_64__)
#include <xmmintrin.h>
#define HARDWARE_FLUSH 1
#define FLUSH(x) (x)   /* MXCSR.FTZ */
#define OPERAND(x) (x) /* MXCSR.DAZ */
#define FLUSH_COLUMNS(v) (v)
enum { MXCSR_FTZ_DAZ = 0x8040 };
/* One body per instruction set; the loader picks the best the machine has. */
#define KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HARDWARE_FLUSH 0
#define FLUSH(x) accel_flush(x)
#define OPERAND(x) accel_operand(x)
#define FLUSH_COLUMNS(v) flush_columns(v)
#define KERNEL_CLONES
static columns flush_columns(columns v) {
    for (int n = 0; n < CB; n++)
        v[n] = accel_flush(v[n]);
    return v;
}
#endif

/* The tile's loops, with STEP(s, x, wk) the update of a block's column sums s by the products
 * of activation x and weight row wk. Instantiated twice below: the array's product-then-add, and
 * a fused multiply-add where that gives the same bits. */
#define TILE_LOOPS(STEP)                                                                           \
    for (int i0 = 0; i0 < rows; i0 += RB) {                                                        \
        const float *ab = a + (size_t)i0 * (size_t)depth;                                          \
        int ni = rows - i0 < RB ? rows - i0 : RB;                                                  \
        for (int n0 = 0; n0 < cols; n0 += CB) {                                                    \
            columns s[RB];                                                                         \
            for (int i = 0; i < RB; i++)                                                           \
                s[i] = (columns){0}; /* +0: the top PE's partial-sum input */                      \
            for (int k = 0; k < depth; k++) {                                                      \
                columns wk;                                                                        \
                memcpy(&wk, w + (size_t)k * w_stride + (size_t)n0, sizeof wk);                     \
                for (int i = 0; i < RB; i++)                                                       \
                    s[i] = STEP(s[i], ab[(size_t)i * (size_t)depth + (size_t)k], wk);              \
            }                                                                                      \
            int nn = cols - n0 < CB ? cols - n0 : CB;                                              \
            for (int i = 0; i < ni; i++) {                                                         \
                uint32_t *out = acc + (size_t)(i0 + i) * acc_stride + (size_t)n0;                  \
                for (int n = 0; n < nn; n++)                                                       \
                    out[n] = accel_result(                                                         \
                        accumulate ? FLUSH(OPERAND(bits_float(out[n])) + s[i][n]) : s[i][n]);      \
            }                                                                                      \
        }                                                                                          \
    }

#define PRODUCT_THEN_ADD(s, x, wk) FLUSH_COLUMNS((s) + FLUSH_COLUMNS((x) * (wk)))
#define FUSED(s, x, wk) ((s) + (x) * (wk)) /* contracted to one FMA in tile_fused */

/* noinline: on x86 the MXCSR mode is set around these calls, and no float operation may move
 * across them. */
static __attribute__((noinline)) KERNEL_CLONES void tile_body(const float *a, const float *w,
                                                              size_t w_stride, int rows, int depth,
                                                              int cols, int accumulate,
                                                              uint32_t *acc, size_t acc_stride) {
    TILE_LOOPS(PRODUCT_THEN_ADD)
}

/* The one function built with multiply-add contraction (the rest of the project has none). */
static __attribute__((noinline, optimize("fp-contract=fast"))) KERNEL_CLONES void
tile_fused(const float *a, const float *w, size_t w_stride, int rows, int depth, int cols,
           int accumulate, uint32_t *acc, size_t acc_stride) {
    TILE_LOOPS(FUSED)
}

/* 1 if every value is zero or has a magnitude in [2^-63, 2^63): then every product of two of
 * them lies in [2^-126, 2^126), a normal finite fp32 value, and is exact (two bf16 significands
 * make at most 16 bits). A fused multiply-add rounds the exact product plus the sum once; the
 * array rounds the product (no change: it is exact and normal, so no flush) and then the sum
 * once: the same bits, the result's flush to zero included (FTZ applies to both). */
static int fma_exact(const float *x, size_t n, size_t stride, size_t width) {
    int ok = 1;
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < width; c++) {
            uint32_t u;
            memcpy(&u, &x[r * stride + c], sizeof u);
            uint32_t e = (u >> 23) & 0xffu;
            ok &= e == 0 ? (u & 0x7fffffu) == 0 : e >= 64 && e < 190;
        }
    return ok;
}

void golden_tile(const float *a, const float *w, size_t w_stride, int rows, int depth, int cols,
                 int accumulate, uint32_t *acc, size_t acc_stride) {
#if defined(__x86_64__)
    unsigned mode = _mm_getcsr();
    _mm_setcsr(mode | MXCSR_FTZ_DAZ);
#endif
    /* the fused form relies on the hardware's flush of the result (FTZ) */
    if (HARDWARE_FLUSH && fma_exact(a, (size_t)rows, (size_t)depth, (size_t)depth) &&
        fma_exact(w, (size_t)depth, w_stride, (size_t)cols))
        tile_fused(a, w, w_stride, rows, depth, cols, accumulate, acc, acc_stride);
    else
        tile_body(a, w, w_stride, rows, depth, cols, accumulate, acc, acc_stride);
#if defined(__x86_64__)
    _mm_setcsr(mode);
#endif
}
