/* The runtime's tensors: seeded generated values (bf16) and the im2col lowering of a CONV with
 * its adjoint col2im. Internal to the runtime. */
#ifndef ACCPAR_RUN_TENSOR_H
#define ACCPAR_RUN_TENSOR_H

#include "net.h"
#include "run_geom.h"

#include <stdint.h>

/* Generated tensors of a node, by kind. */
enum {
    RUN_T_WEIGHT = 1,  /* W [Di][Do] */
    RUN_T_OUT_ERR = 2, /* E(l+1) [B*Hout*Wout][Do], the error a layer receives */
    RUN_T_IN_ACT = 10, /* + edge: F on in-edge e [B][C][H*W] (a layer's input F(l)) */
    RUN_T_ADD_ERR = 20 /* an add's output error [B][C][H*W] */
};

/* The block k of generated tensor (node, kind) whose y axis has `y_full` indices, on up to `jobs`
 * threads (each value depends on its index only). */
void run_gen_block(uint64_t seed, int node, int kind, int64_t y_full, const run_block *k,
                   float *out, int jobs);

/* Rows lo .. hi-1 of the im2col of an input block [nb][nci][hin*win] of CONV/FC node nd, whose
 * whole im2col is [nb*hout*wout][nci*k*k] (columns channel-major, then kernel row, then kernel
 * column), into out [hi-lo][nci*k*k]; `in` starts at the image of the sample holding row lo. */
void run_im2col(const net_node *nd, int64_t nci, const float *in, int64_t lo, int64_t hi,
                float *out);

/* The same im2col as a device GEMM's operand, packed straight from the input (gemm_a_blocks):
 * the values as bf16, padding +0, written to dst[r * ld + t]. run_im2col_block writes the
 * im2col's rows i0 + r, columns k0 + t (the forward GEMM's op(A)); run_im2col_t_block its
 * transpose's (the gradient GEMM's op(A): rows are the im2col's columns). The ctx is a
 * run_im2col_src. */
typedef struct run_im2col_src {
    const net_node *nd;
    int64_t nci;
    const float *in; /* [nb][nci][hin*win], from the block's first sample */
} run_im2col_src;
void run_im2col_block(const void *src, int64_t i0, int64_t ni, int64_t k0, int64_t nk,
                      uint16_t *dst, int64_t ld);
void run_im2col_t_block(const void *src, int64_t i0, int64_t ni, int64_t k0, int64_t nk,
                        uint16_t *dst, int64_t ld);

/* The adjoint, col2im, in double (the devices' E and the OpenBLAS reference and bound all pass
 * through it): adds rows lo .. hi-1 of an im2col matrix ([hi-lo][nci*k*k]) into out, the images
 * from the sample holding row lo on; only the columns and images of channels ch (the channels'
 * pixels take sums from their own columns only, so parts of one col2im over disjoint channels
 * can run at once). The rows' sums meet each pixel in row order, so a col2im done in row
 * ranges, in order, has the bits of one done at once. The matrix is held in column tiles of tc
 * columns, ts apart: element (lo + r, col) at in[col / tc * ts + r * tc + col % tc] (row-major:
 * tc = nci*k*k; transposed: tc = 1, ts = hi - lo, the fastest walk; a device's C tiles:
 * gemm_c_blocks). */
void run_col2im_add(const net_node *nd, int64_t nci, run_range ch, const double *in, int64_t tc,
                    int64_t ts, int64_t lo, int64_t hi, double *out);
/* The same from floats. */
void run_col2im_add_floats(const net_node *nd, int64_t nci, run_range ch, const float *in,
                           int64_t tc, int64_t ts, int64_t lo, int64_t hi, double *out);

#endif
