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

/* The block k of generated tensor (node, kind) whose y axis has `y_full` indices. */
void run_gen_block(uint64_t seed, int node, int kind, int64_t y_full, const run_block *k,
                   float *out);

/* im2col of an input block [nb][nci][hin*win] of CONV/FC node nd into
 * [nb*hout*wout][nci*k*k] (columns channel-major, then kernel row, then kernel column). */
void run_im2col(const net_node *nd, int64_t nb, int64_t nci, const float *in, float *out);

/* The adjoint: sums [nb*hout*wout][nci*k*k] back into [nb][nci][hin*win] (zeroed first), in
 * double (the devices' E and the OpenBLAS reference and bound all pass through it). */
void run_col2im(const net_node *nd, int64_t nb, int64_t nci, const double *in, double *out);

#endif
