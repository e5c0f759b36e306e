/* One weighted layer's share of the step: its generated tensors, its GEMMs on every device, the
 * reductions of their results and the OpenBLAS checks. Internal to the runtime. */
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

/* Runs the phases in the set on every device, reduces and verifies their results. Each device's
 * F(l) is its piece in c->input (what the layer's F conversions assembled on it), else the
 * generated tensor. With the backward phase, *whole receives the layer's assembled input error
 * E(l) [B][Cin][H*W] (the caller frees it). */
int run_layer_phases(run_ctx *c, int v, const run_layer_data *t, phase_set phases, float **whole);

#endif
