/* Why float operations give the array's bits: bf16.c. Here they run in register blocks of rows x
 * GOLDEN_COLS_BLOCK columns, one body per instruction set (TILE_BODIES), and on x86 the
 * flushes are the hardware's: MXCSR's flush-to-zero turns a tiny result into a zero of its sign
 * and denormals-are-zero reads a subnormal input as one, which is bf16.h's flush and operand
 * rule exactly here, because no result the array can produce is rounded across FLT_MIN (a bf16
 * product has at most 16 significant bits, a sum below FLT_MIN is exact). Vectorising changes
 * no element's order of operations: each column's sum still runs k = 0, 1, ... from +0. */
#include "golden_kernel.h"

#include "bf16.h"
#include "clones.h"

#include <string.h>

enum { RB = GOLDEN_ROWS_BLOCK, CB = GOLDEN_COLS_BLOCK };
/* A block's columns as NV vectors of the machine's width (GCC/Clang vector extension): one
 * AVX-512 register, two AVX2 or four SSE2 ones. */
typedef float vec16 __attribute__((vector_size(16 * sizeof(float))));
typedef float vec8 __attribute__((vector_size(8 * sizeof(float))));
typedef float vec4 __attribute__((vector_size(4 * sizeof(float))));

#if defined(__x86_64__)
#include <xmmintrin.h>
#define HARDWARE_FLUSH 1
#define FLUSH(x) (x)   /* MXCSR.FTZ */
#define OPERAND(x) (x) /* MXCSR.DAZ */
#define FLUSH_COLUMNS(v) (v)
enum { MXCSR_FTZ_DAZ = 0x8040 };
#else
#define HARDWARE_FLUSH 0
#define FLUSH(x) accel_flush(x)
#define OPERAND(x) accel_operand(x)
#define FLUSH_COLUMNS(v)                                                                           \
    ({                                                                                             \
        __typeof__(v) v_ = (v);                                                                    \
        for (int n_ = 0; n_ < (int)(sizeof v_ / sizeof(float)); n_++)                              \
            v_[n_] = accel_flush(v_[n_]);                                                          \
        v_;                                                                                        \
    })
#endif

/* A tile as the loops below run it: depth products per sum (then, with zero_tail, the +0
 * products of the operands' zero tail), the columns below run_cols in blocks; the rest have zero
 * weights only, so every one of their sums is +0. */
typedef struct tile {
    const float *a;
    size_t a_stride;
    int rows, depth, zero_tail;
    const float *w;
    size_t w_stride;
    int cols, run_cols, accumulate;
    uint32_t *acc;
    size_t acc_stride;
} tile;

/* A result written as the array writes it: s, or with accumulate the sum with what acc holds. */
#define STORE(out, s)                                                                              \
    ((out) = accel_result(accumulate ? FLUSH(OPERAND(bits_float(out)) + (s)) : (s)))

/* One block of columns n0 .. n0 + NV * lanes - 1 of rows i0 .. i0 + ni - 1, with STEP(s, x, wk)
 * the update of the block's column sums s by the products of activation x and weight row wk,
 * the columns as NV vectors of type VEC, RBX rows' sums held in registers at once. */
#define COLUMN_BLOCK(STEP, VEC, NV, RBX)                                                           \
    do {                                                                                           \
        enum { L_ = sizeof(VEC) / sizeof(float) };                                                 \
        VEC s[RBX][NV];                                                                            \
        for (int i = 0; i < RBX; i++)                                                              \
            for (int v = 0; v < NV; v++)                                                           \
                s[i][v] = (VEC){0}; /* +0: the top PE's partial-sum input */                       \
        for (int k = 0; k < depth; k++) {                                                          \
            VEC wk[NV];                                                                            \
            for (int v = 0; v < NV; v++) /* a vector load each */                                  \
                memcpy(&wk[v], w + (size_t)k * w_stride + (size_t)(n0 + v * L_), sizeof wk[v]);    \
            for (int i = 0; i < RBX; i++)                                                          \
                for (int v = 0; v < NV; v++)                                                       \
                    s[i][v] = STEP(s[i][v], ab[(size_t)i * a_stride + (size_t)k], wk[v]);          \
        }                                                                                          \
        for (int i = 0; zero_tail && i < RBX; i++)                                                 \
            for (int v = 0; v < NV; v++)                                                           \
                s[i][v] = s[i][v] + (VEC){0}; /* -0 to +0, as the tail's products do */            \
        float sums[RBX][NV * L_];             /* stored from memory: s stays in registers */       \
        memcpy(sums, s, sizeof sums);                                                              \
        int nn = cols - n0 < NV * L_ ? cols - n0 : NV * L_;                                        \
        for (int i = 0; i < ni; i++) {                                                             \
            uint32_t *out = acc + (size_t)(i0 + i) * acc_stride + (size_t)n0;                      \
            for (int n = 0; n < nn; n++)                                                           \
                STORE(out[n], sums[i][n]);                                                         \
        }                                                                                          \
    } while (0)

/* The tile's loops: blocks of NV vectors of columns (NV * lanes a multiple of CB), then a block
 * of CB columns where fewer are left. Instantiated for each instruction set below, each twice:
 * the array's product-then-add, and a fused multiply-add where that gives the same bits. */
#define TILE_LOOPS(STEP, VEC, NV, RBX)                                                             \
    const float *a = t->a, *w = t->w;                                                              \
    const size_t a_stride = t->a_stride, w_stride = t->w_stride, acc_stride = t->acc_stride;       \
    const int rows = t->rows, depth = t->depth, cols = t->cols, run_cols = t->run_cols;            \
    const int accumulate = t->accumulate, zero_tail = t->zero_tail;                                \
    const int wide = NV * (int)(sizeof(VEC) / sizeof(float)),                                      \
              padded = (run_cols + CB - 1) / CB * CB;                                              \
    uint32_t *acc = t->acc;                                                                        \
    for (int i0 = 0; i0 < rows; i0 += RBX) {                                                       \
        const float *ab = a + (size_t)i0 * a_stride;                                               \
        int ni = rows - i0 < RBX ? rows - i0 : RBX, n0 = 0;                                        \
        for (; n0 + wide <= padded; n0 += wide)                                                    \
            COLUMN_BLOCK(STEP, VEC, NV, RBX);                                                      \
        for (; n0 < run_cols; n0 += CB)                                                            \
            COLUMN_BLOCK(STEP, VEC, CB / (int)(sizeof(VEC) / sizeof(float)), RBX);                 \
        for (int i = 0; i < ni; i++)                                                               \
            for (int n = n0; n < cols; n++)                                                        \
                STORE(acc[(size_t)(i0 + i) * acc_stride + (size_t)n], 0.0f);                       \
    }

#define PRODUCT_THEN_ADD(s, x, wk) FLUSH_COLUMNS((s) + FLUSH_COLUMNS((x) * (wk)))
#define FUSED(s, x, wk) ((s) + (x) * (wk)) /* contracted to one FMA in the fused bodies */

/* A tile's two bodies for one instruction set (TARGET: its target attribute, or nothing).
 * noinline: on x86 the MXCSR mode is set around these calls, and no float operation may move
 * across them. The fused body is the one function built with multiply-add contraction (the
 * rest of the project has none). */
#define TILE_BODIES(NAME, TARGET, VEC, NV, RBX)                                                    \
    static __attribute__((noinline)) TARGET void tile_body_##NAME(const tile *t) {                 \
        TILE_LOOPS(PRODUCT_THEN_ADD, VEC, NV, RBX)                                                 \
    }                                                                                              \
    static __attribute__((noinline, optimize("fp-contract=fast")))                                 \
    TARGET void tile_fused_##NAME(const tile *t) {                                                 \
        TILE_LOOPS(FUSED, VEC, NV, RBX)                                                            \
    }

/* Each body keeps RBX x NV vector registers of sums: at least eight, enough multiply-adds in
 * flight to cover their latency, and few enough to leave registers for a weight row and an
 * activation (a GCC vector wider than the machine's registers goes through memory). AVX-512's
 * 32 registers hold sixteen: 8 rows x 32 columns, with a 16-column block where fewer are left.
 * The baseline x86-64 has SSE2 only. */
TILE_BODIES(base, , vec4, 4, 2)
#if defined(__x86_64__)
TILE_BODIES(avx2, __attribute__((target("arch=x86-64-v3"))), vec8, 2, 4)
TILE_BODIES(avx512, __attribute__((target("arch=x86-64-v4"))), vec16, 2, 8)
#endif

typedef struct tile_kernels {
    void (*body)(const tile *), (*fused)(const tile *);
} tile_kernels;

static int level_cap = GOLDEN_ISA_AVX512;

int golden_kernel_isa(void) {
    int best = GOLDEN_ISA_BASE;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4"))
        best = GOLDEN_ISA_AVX512;
    else if (__builtin_cpu_supports("x86-64-v3"))
        best = GOLDEN_ISA_AVX2;
#endif
    return best < level_cap ? best : level_cap;
}

void golden_kernel_cap_isa(int level) {
    level_cap = level;
}

static tile_kernels kernels(void) {
#if defined(__x86_64__)
    int level = golden_kernel_isa();
    if (level == GOLDEN_ISA_AVX512)
        return (tile_kernels){tile_body_avx512, tile_fused_avx512};
    if (level == GOLDEN_ISA_AVX2)
        return (tile_kernels){tile_body_avx2, tile_fused_avx2};
#endif
    return (tile_kernels){tile_body_base, tile_fused_base};
}

/* 1 if the value is zero or has a magnitude in [2^-63, 2^63): then every product of two such
 * values lies in [2^-126, 2^126), a normal finite fp32 value, and is exact (two bf16
 * significands make at most 16 bits). A fused multiply-add rounds the exact product plus the sum
 * once; the array rounds the product (no change: it is exact and normal, so no flush) and then
 * the sum once: the same bits, the result's flush to zero included (FTZ applies to both). */
static int fusable(uint32_t u) {
    uint32_t e = (u >> 23) & 0xffu;
    return e == 0 ? (u & 0x7fffffu) == 0 : e >= 64 && e < 190;
}

enum { POSITIVE_ZERO = 0u, MAGNITUDE = 0x7fffffffu };

CPU_CLONES void golden_rows_scan(golden_rows *r, const float *a, int rows, int depth) {
    int ok = 1, zero_from = 0;
    for (int i = 0; i < rows; i++) {
        const float *row = a + (size_t)i * (size_t)depth;
        for (int k = 0; k < depth; k++)
            ok &= fusable(float_bits(row[(size_t)k]));
        int last = depth; /* only a tail longer than every row's so far can matter */
        while (last > zero_from && float_bits(row[(size_t)last - 1]) == POSITIVE_ZERO)
            last--;
        zero_from = last;
    }
    *r = (golden_rows){a, rows, depth, ok, zero_from};
}

/* What the kernel may assume of one MXU's weights: as golden_rows, and the columns from
 * zero_cols on all zero (of either sign). */
typedef struct weights_scan {
    int fusable, zero_from, zero_cols;
} weights_scan;

static weights_scan scan_weights(const float *w, size_t stride, int depth, int cols) {
    weights_scan s = {1, depth, cols};
    for (int k = 0; k < depth; k++)
        for (int n = 0; n < cols; n++)
            s.fusable &= fusable(float_bits(w[(size_t)k * stride + (size_t)n]));
    for (int all_zero = 1; s.zero_from > 0 && all_zero; s.zero_from -= all_zero)
        for (int n = 0; n < cols; n++)
            all_zero &=
                float_bits(w[(size_t)(s.zero_from - 1) * stride + (size_t)n]) == POSITIVE_ZERO;
    for (int all_zero = 1; s.zero_cols > 0 && all_zero; s.zero_cols -= all_zero)
        for (int k = 0; k < depth; k++)
            all_zero &=
                (float_bits(w[(size_t)k * stride + (size_t)s.zero_cols - 1]) & MAGNITUDE) == 0;
    return s;
}

void golden_tile(const golden_rows *r, const float *w, size_t w_stride, int cols, int accumulate,
                 uint32_t *acc, size_t acc_stride) {
    tile t = {.a = r->a,
              .a_stride = (size_t)r->depth,
              .rows = r->rows,
              .depth = r->depth,
              .w = w,
              .w_stride = w_stride,
              .cols = cols,
              .run_cols = cols,
              .accumulate = accumulate,
              .acc = acc,
              .acc_stride = acc_stride};
#if defined(__x86_64__)
    unsigned mode = _mm_getcsr();
    _mm_setcsr(mode | MXCSR_FTZ_DAZ);
#endif
    weights_scan ws = scan_weights(w, w_stride, r->depth, cols);
    /* the fused form relies on the hardware's flush of the result (FTZ). It also skips what
     * has a known sum: the depth rows where activations and weights are both +0 (their +0
     * products leave a sum as it is, but for -0, which becomes +0), and the columns of zero
     * weights (finite activations times zero: every sum stays +0). */
    if (HARDWARE_FLUSH && r->fusable && ws.fusable) {
        int run = r->zero_from > ws.zero_from ? r->zero_from : ws.zero_from;
        t.zero_tail = run < r->depth;
        t.depth = run;
        t.run_cols = ws.zero_cols;
        kernels().fused(&t);
    } else {
        kernels().body(&t);
    }
#if defined(__x86_64__)
    _mm_setcsr(mode);
#endif
}
