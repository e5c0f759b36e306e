#include "run_tensor.h"

#include "bf16.h"
#include "parallel.h"

#include <string.h>

typedef struct gen_job {
    uint64_t base;
    int64_t y_full, parts;
    const run_block *k;
    float *out;
} gen_job;

/* Part i of the block's x indices. */
static void gen_part(void *ctx, int i, int worker) {
    (void)worker;
    const gen_job *j = ctx;
    const run_block *k = j->k;
    int64_t nx = run_len(k->x), x0 = k->x.lo + nx * i / j->parts;
    int64_t x1 = k->x.lo + nx * (i + 1) / j->parts;
    int64_t n = (x0 - k->x.lo) * k->mx * run_len(k->y) * k->my;
    for (int64_t x = x0; x < x1; x++)
        for (int64_t xm = 0; xm < k->mx; xm++)
            for (int64_t y = k->y.lo; y < k->y.hi; y++)
                for (int64_t ym = 0; ym < k->my; ym++) {
                    uint64_t index = (uint64_t)(((x * k->mx + xm) * j->y_full + y) * k->my + ym);
                    uint64_t state = j->base ^ (index * 0xD1B54A32D192ED03ull);
                    j->out[n++] = bf16_random(&state);
                }
}

enum { GEN_PARTS_MAX = 64 };

void run_gen_block(uint64_t seed, int node, int kind, int64_t y_full, const run_block *k,
                   float *out, int jobs) {
    uint64_t base = seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)node << 40) ^ ((uint64_t)kind << 56);
    int64_t nx = run_len(k->x);
    gen_job j = {base, y_full, nx < GEN_PARTS_MAX ? nx : GEN_PARTS_MAX, k, out};
    parallel_for((int)j.parts, jobs, gen_part, &j);
}

/* Walks rows lo .. hi-1 of the im2col matrix of an input block of nci channels, the columns of
 * channels c_lo .. c_hi-1: every (row, column) with `at`, its index in rows lo.., and `src`, the
 * index of its input value in the image of the sample holding row lo, or -1 in the padding. Rows
 * run in order, so col2im's sums meet each pixel in the same order however the rows are split. */
#define RUN_IM2COL_WALK(nd, nci, c_lo, c_hi, lo, hi, BODY)                                         \
    do {                                                                                           \
        const int64_t k_ = (nd)->k, hw_ = (nd)->hin * (nd)->win, rps_ = (nd)->hout * (nd)->wout;   \
        const int64_t cols_ = (nci)*k_ * k_, b0_ = (lo) / rps_;                                    \
        for (int64_t row_ = (lo); row_ < (hi); row_++) {                                           \
            const int64_t b_ = row_ / rps_ - b0_, oh_ = row_ % rps_ / (nd)->wout;                  \
            const int64_t ow_ = row_ % (nd)->wout;                                                 \
            const int64_t ih0_ = oh_ * (nd)->stride - (nd)->pad;                                   \
            const int64_t iw0_ = ow_ * (nd)->stride - (nd)->pad;                                   \
            int64_t at_ = (row_ - (lo)) * cols_ + (c_lo)*k_ * k_;                                  \
            for (int64_t c_ = (c_lo); c_ < (c_hi); c_++)                                           \
                for (int64_t kh_ = 0; kh_ < k_; kh_++) {                                           \
                    const int64_t ih_ = ih0_ + kh_;                                                \
                    const int in_h_ = ih_ >= 0 && ih_ < (nd)->hin;                                 \
                    const int64_t base_ = (b_ * (nci) + c_) * hw_ + ih_ * (nd)->win;               \
                    for (int64_t kw_ = 0; kw_ < k_; kw_++, at_++) {                                \
                        const int64_t iw_ = iw0_ + kw_;                                            \
                        const int64_t src_ =                                                       \
                            in_h_ && iw_ >= 0 && iw_ < (nd)->win ? base_ + iw_ : -1;               \
                        BODY;                                                                      \
                    }                                                                              \
                }                                                                                  \
        }                                                                                          \
    } while (0)

void run_im2col(const net_node *nd, int64_t nci, const float *in, int64_t lo, int64_t hi,
                float *out) {
    RUN_IM2COL_WALK(nd, nci, 0, nci, lo, hi, out[at_] = src_ < 0 ? 0.0f : in[src_]);
}

void run_col2im_add(const net_node *nd, int64_t nci, run_range ch, const double *in, int64_t lo,
                    int64_t hi, double *out) {
    RUN_IM2COL_WALK(nd, nci, ch.lo, ch.hi, lo, hi, if (src_ >= 0) out[src_] += in[at_]);
}

void run_col2im_add_floats(const net_node *nd, int64_t nci, run_range ch, const float *in,
                           int64_t lo, int64_t hi, double *out) {
    RUN_IM2COL_WALK(nd, nci, ch.lo, ch.hi, lo, hi, if (src_ >= 0) out[src_] += (double)in[at_]);
}
