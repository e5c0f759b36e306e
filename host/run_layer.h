/* One layer's share of the step (run_layer.c). Internal to the runtime. */
#ifndef ACCPAR_RUN_LAYER_H
#define ACCPAR_RUN_LAYER_H

#include "run_ctx.h"

/* A weighted layer's whole generated operands: input F(l) [B][Cin][H*W], W [Di][Do] and the
 * output error E(l+1) [B*Hout*Wout][Do]. */
typedef struct run_layer_data {
    run_block x_blk, w_blk, g_blk;
    float *x, *w, *gerr;
} run_layer_data;

int run_layer_tensors(run_ctx *c, int v, run_layer_data *t);
void run_layer_tensors_free(run_layer_data *t);

/* Runs the phases in the mask (bit 0 forward, 1 backward, 2 gradient) on every device, reduces
 * and verifies their results. With the backward phase, *whole receives the layer's assembled
 * input error E(l) [B][Cin][H*W] (the caller frees it). */
int run_layer_phases(run_ctx *c, int v, const run_layer_data *t, unsigned phases, float **whole);

/* Converts the layout of node v's in-edge e, level by level: its input F (error = 0) or the
 * error E flowing back along it (error = 1); tensor is the whole [B][C][H*W] tensor. */
int run_convert(run_ctx *c, int v, int e, int error, const float *tensor);

#endif
