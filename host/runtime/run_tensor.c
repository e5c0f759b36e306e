#include "run_tensor.h"

#include "bf16.h"
#include "clones.h"
#include "parallel.h"

#include <string.h>

typedef struct gen_job {
    uint64_t base;
    int64_t y_full, parts;
    const run_block *k;
    float *out;
} gen_job;

/* The n values of indices index0 .. index0+n-1 (a loop the compiler vectorises). */
static CPU_CLONES void gen_run(uint64_t base, uint64_t index0, int64_t n, float *out) {
    for (int64_t t = 0; t < n; t++) {
        uint64_t state = base ^ ((index0 + (uint64_t)t) * 0xD1B54A32D192ED03ull);
        out[t] = bf16_random(&state);
    }
}

/* Part i of the block's x indices. For one x index the block's values are one run of indices:
 * (x * y_full + y) * my + ym over y, ym. */
static void gen_part(void *ctx, int i, int worker) {
    (void)worker;
    const gen_job *j = ctx;
    const run_block *k = j->k;
    run_range xs = run_range_share(k->x, i, j->parts);
    int64_t run = run_len(k->y) * k->my;
    float *out = j->out + (xs.lo - k->x.lo) * k->mx * run;
    for (int64_t x = xs.lo * k->mx; x < xs.hi * k->mx; x++, out += run)
        gen_run(j->base, (uint64_t)((x * j->y_full + k->y.lo) * k->my), run, out);
}

enum { GEN_PARTS_MAX = 64 };

void run_gen_block(uint64_t seed, int node, int kind, int64_t y_full, const run_block *k,
                   float *out, int jobs) {
    uint64_t base = seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)node << 40) ^ ((uint64_t)kind << 56);
    int64_t nx = run_len(k->x);
    gen_job j = {base, y_full, nx < GEN_PARTS_MAX ? nx : GEN_PARTS_MAX, k, out};
    parallel_for((int)j.parts, jobs, gen_part, &j);
}

/* The im2col is walked a column at a time: down a column (kernel position c, kh, kw), the rows
 * of one output row read input pixels ow * stride - pad + kw of one input row, a strided run. */
typedef struct im2col_run {
    int64_t t, len; /* rows t .. t+len-1 of the walk */
    int64_t at, st; /* the input index of row t's value, and the step to the next row's */
    int64_t lo, hi; /* the run's rows inside the image: t+lo .. t+hi-1 (the rest are padding) */
} im2col_run;

typedef struct im2col_runs {
    const net_node *nd;
    int64_t nci, c, kh, off, ow_lo, ow_hi; /* the column; input column ow * stride + off */
    int64_t b, oh, ow, t, n;               /* the next run's first row, and the rows left */
} im2col_runs;

/* The runs of column col of the im2col of an input block of nci channels, rows row ..
 * row+n-1; input indices count from the image of sample b0. */
static im2col_runs runs_start(const net_node *nd, int64_t nci, int64_t col, int64_t row, int64_t n,
                              int64_t b0) {
    const int64_t k = nd->k, st = nd->stride, off = col % k - nd->pad, rps = nd->hout * nd->wout;
    im2col_runs w = {nd, nci, col / (k * k),  col / k % k,          off,
                     0,  0,   row / rps - b0, row % rps / nd->wout, row % nd->wout,
                     0,  n};
    w.ow_lo = off >= 0 ? 0 : (-off + st - 1) / st;
    w.ow_hi = nd->win - off <= 0 ? 0 : (nd->win - off - 1) / st + 1;
    return w;
}

static int64_t clamp(int64_t x, int64_t lo, int64_t hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

/* Inline: called once per run, in the walks' inner loops. */
static inline __attribute__((always_inline)) int runs_next(im2col_runs *w, im2col_run *r) {
    const net_node *nd = w->nd;
    if (w->t >= w->n)
        return 0;
    int64_t ih = w->oh * nd->stride - nd->pad + w->kh, in = ih >= 0 && ih < nd->hin;
    r->t = w->t;
    r->len = nd->wout - w->ow < w->n - w->t ? nd->wout - w->ow : w->n - w->t;
    r->st = nd->stride;
    r->at = ((w->b * w->nci + w->c) * nd->hin + ih) * nd->win + w->ow * nd->stride + w->off;
    r->lo = in ? clamp(w->ow_lo - w->ow, 0, r->len) : 0;
    r->hi = in ? clamp(w->ow_hi - w->ow, r->lo, r->len) : 0;
    w->t += r->len;
    w->ow = 0;
    if (++w->oh == nd->hout) {
        w->oh = 0;
        w->b++;
    }
    return 1;
}

/* A run's values into dst[u * ds], u = 0 .. len-1: VALUE(input index) inside the image, else
 * ZERO. */
#define RUN_FILL(r, dst, ds, ZERO, VALUE)                                                          \
    do {                                                                                           \
        for (int64_t u_ = 0; u_ < (r).lo; u_++)                                                    \
            (dst)[u_ * (ds)] = ZERO;                                                               \
        for (int64_t u_ = (r).lo; u_ < (r).hi; u_++)                                               \
            (dst)[u_ * (ds)] = VALUE((r).at + u_ * (r).st);                                        \
        for (int64_t u_ = (r).hi; u_ < (r).len; u_++)                                              \
            (dst)[u_ * (ds)] = ZERO;                                                               \
    } while (0)

/* Rows per block of a walk over every column: a block's rows of a row-major im2col (elem bytes
 * per value, cols values per row) stay in cache while its columns are walked down them. */
static int64_t row_block(int64_t cols, int64_t elem) {
    return clamp(((int64_t)256 << 10) / (cols * elem), 16, 4096);
}

void run_im2col(const net_node *nd, int64_t nci, const float *in, int64_t lo, int64_t hi,
                float *out) {
    const int64_t cols = nci * nd->k * nd->k, rb = row_block(cols, sizeof *out);
    const int64_t b0 = lo / (nd->hout * nd->wout);
#define IN_VALUE(i) in[i]
    for (int64_t r0 = lo; r0 < hi; r0 += rb)
        for (int64_t col = 0; col < cols; col++) {
            im2col_runs w = runs_start(nd, nci, col, r0, hi - r0 < rb ? hi - r0 : rb, b0);
            for (im2col_run r; runs_next(&w, &r);)
                RUN_FILL(r, out + (r0 - lo + r.t) * cols + col, cols, 0.0f, IN_VALUE);
        }
#undef IN_VALUE
}

/* Column col of the im2col, rows row .. row+n-1, as bf16 into dst[t * ds]. */
static void operand_column(const run_im2col_src *s, int64_t col, int64_t row, int64_t n,
                           uint16_t *dst, int64_t ds) {
    im2col_runs w = runs_start(s->nd, s->nci, col, row, n, 0);
#define IN_BF16(i) bf16_from_float(s->in[i])
    for (im2col_run r; runs_next(&w, &r);)
        RUN_FILL(r, dst + r.t * ds, ds, 0, IN_BF16);
#undef IN_BF16
}

/* Rows in blocks whose dst lines stay in cache while each column is written down them. */
enum { OPERAND_ROW_BLOCK = 256 };

void run_im2col_block(const void *src, int64_t i0, int64_t ni, int64_t k0, int64_t nk,
                      uint16_t *dst, int64_t ld) {
    for (int64_t r0 = 0; r0 < ni; r0 += OPERAND_ROW_BLOCK) {
        int64_t nr = ni - r0 < OPERAND_ROW_BLOCK ? ni - r0 : OPERAND_ROW_BLOCK;
        for (int64_t t = 0; t < nk; t++)
            operand_column(src, k0 + t, i0 + r0, nr, dst + r0 * ld + t, ld);
    }
}

void run_im2col_t_block(const void *src, int64_t i0, int64_t ni, int64_t k0, int64_t nk,
                        uint16_t *dst, int64_t ld) {
    for (int64_t r = 0; r < ni; r++)
        operand_column(src, i0 + r, k0, nk, dst + r * ld, 1);
}

/* col2im, block by block of rows; in a block, each channel's columns with kh, then kw,
 * descending: a pixel's values come from one column per row, and at a higher kernel row (or
 * the same row and a higher column) from an earlier row, so every pixel takes its values in
 * row order, as a row-by-row walk would: the same bits. `in` holds the rows in column tiles of
 * tc columns, ts apart (row-major: tc the column count). */
#define RUN_COL2IM(nd, nci, ch, in, tc, ts, lo, hi, out)                                           \
    do {                                                                                           \
        const int64_t k_ = (nd)->k, rb_ = row_block((tc), sizeof *(in));                           \
        const int64_t b0_ = (lo) / ((nd)->hout * (nd)->wout);                                      \
        for (int64_t r0_ = (lo); r0_ < (hi); r0_ += rb_)                                           \
            for (int64_t c_ = (ch).lo; c_ < (ch).hi; c_++)                                         \
                for (int64_t col_ = (c_ + 1) * k_ * k_ - 1; col_ >= c_ * k_ * k_; col_--) {        \
                    im2col_runs w_ =                                                               \
                        runs_start(nd, nci, col_, r0_, (hi)-r0_ < rb_ ? (hi)-r0_ : rb_, b0_);      \
                    const int64_t base_ = col_ / (tc) * (ts) + (r0_ - (lo)) * (tc) + col_ % (tc);  \
                    for (im2col_run r_; runs_next(&w_, &r_);) {                                    \
                        double *o_ = (out) + r_.at;                                                \
                        const __typeof__(*(in)) *i_ = (in) + base_ + r_.t * (tc);                  \
                        if (r_.st == 1 && (tc) == 1) /* both contiguous: vector code */            \
                            for (int64_t u_ = r_.lo; u_ < r_.hi; u_++)                             \
                                o_[u_] += (double)i_[u_];                                          \
                        else                                                                       \
                            for (int64_t u_ = r_.lo; u_ < r_.hi; u_++)                             \
                                o_[u_ * r_.st] += (double)i_[u_ * (tc)];                           \
                    }                                                                              \
                }                                                                                  \
    } while (0)

void run_col2im_add(const net_node *nd, int64_t nci, run_range ch, const double *in, int64_t tc,
                    int64_t ts, int64_t lo, int64_t hi, double *out) {
    RUN_COL2IM(nd, nci, ch, in, tc, ts, lo, hi, out);
}

void run_col2im_add_floats(const net_node *nd, int64_t nci, run_range ch, const float *in,
                           int64_t tc, int64_t ts, int64_t lo, int64_t hi, double *out) {
    RUN_COL2IM(nd, nci, ch, in, tc, ts, lo, hi, out);
}
