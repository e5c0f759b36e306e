#include "run_tensor.h"

#include "bf16.h"

#include <string.h>

void run_gen_block(uint64_t seed, int node, int kind, int64_t y_full, const run_block *k,
                   float *out) {
    uint64_t base = seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)node << 40) ^ ((uint64_t)kind << 56);
    int64_t n = 0;
    for (int64_t x = k->x.lo; x < k->x.hi; x++)
        for (int64_t xm = 0; xm < k->mx; xm++)
            for (int64_t y = k->y.lo; y < k->y.hi; y++)
                for (int64_t ym = 0; ym < k->my; ym++) {
                    uint64_t index = (uint64_t)(((x * k->mx + xm) * y_full + y) * k->my + ym);
                    uint64_t state = base ^ (index * 0xD1B54A32D192ED03ull);
                    out[n++] = bf16_random(&state);
                }
}

/* Input pixel of output (oh, ow) under kernel offset (kh, kw), or -1 in the padding. */
static int64_t source_pixel(const net_node *nd, int64_t oh, int64_t ow, int64_t kh, int64_t kw) {
    int64_t ih = oh * nd->stride - nd->pad + kh, iw = ow * nd->stride - nd->pad + kw;
    if (ih < 0 || ih >= nd->hin || iw < 0 || iw >= nd->win)
        return -1;
    return ih * nd->win + iw;
}

/* Walks every (row, column) of the im2col matrix with its source index in the input block. */
#define RUN_IM2COL_WALK(nd, nb, nci, BODY)                                                         \
    do {                                                                                           \
        const int64_t k_ = (nd)->k, hw_ = (nd)->hin * (nd)->win;                                   \
        const int64_t cols_ = (nci)*k_ * k_;                                                       \
        int64_t row_ = 0;                                                                          \
        for (int64_t b_ = 0; b_ < (nb); b_++)                                                      \
            for (int64_t oh_ = 0; oh_ < (nd)->hout; oh_++)                                         \
                for (int64_t ow_ = 0; ow_ < (nd)->wout; ow_++, row_++)                             \
                    for (int64_t c_ = 0; c_ < (nci); c_++)                                         \
                        for (int64_t kh_ = 0; kh_ < k_; kh_++)                                     \
                            for (int64_t kw_ = 0; kw_ < k_; kw_++) {                               \
                                int64_t px_ = source_pixel(nd, oh_, ow_, kh_, kw_);                \
                                int64_t col_ = (c_ * k_ + kh_) * k_ + kw_;                         \
                                int64_t at_ = row_ * cols_ + col_;                                 \
                                int64_t src_ = px_ < 0 ? -1 : (b_ * (nci) + c_) * hw_ + px_;       \
                                BODY;                                                              \
                            }                                                                      \
    } while (0)

void run_im2col(const net_node *nd, int64_t nb, int64_t nci, const float *in, float *out) {
    RUN_IM2COL_WALK(nd, nb, nci, out[at_] = src_ < 0 ? 0.0f : in[src_]);
}

void run_col2im(const net_node *nd, int64_t nb, int64_t nci, const double *in, double *out) {
    memset(out, 0, sizeof *out * (size_t)(nb * nci * nd->hin * nd->win));
    RUN_IM2COL_WALK(nd, nb, nci, if (src_ >= 0) out[src_] += in[at_]);
}
