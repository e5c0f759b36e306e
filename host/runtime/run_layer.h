/* One layer's share of the step: its GEMMs and checks (run_layer.c), the reductions of its
 * results (run_reduce.c) and the conversions of its inputs' layouts (run_convert.c). Internal to
 * the runtime. */
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

/* A node's input block [b][ci][H*W] over sample and channel ranges (FC inputs flattened, H*W =
 * 1; an add's own channels and map). */
run_block run_input_block(const net_node *nd, run_range b, run_range ci);

/* The block of a phase's result over a box: F(l+1) [b][hw][co], E(l) [b][ci][hw], dW
 * [ci][k*k][co]. */
run_block run_result_block(const net_node *nd, int ph, const run_box *b);

/* Runs the phases in the mask (bit 0 forward, 1 backward, 2 gradient) on every device, reduces
 * and verifies their results. Each device's F(l) is its piece in c->input (what the layer's F
 * conversions assembled on it), else the generated tensor. With the backward phase, *whole
 * receives the layer's assembled input error E(l) [B][Cin][H*W] (the caller frees it). */
int run_layer_phases(run_ctx *c, int v, const run_layer_data *t, unsigned phases, float **whole);

/* Reduces phase ph's per-device results val[device] up the hierarchy: at a split whose state
 * reduces the tensor both groups' leaders exchange their partials and each adds what it
 * received (an all-reduce; the two sums must be bit-identical), at a split that cuts it the two
 * halves are put side by side. The whole result lands in val[0]; the others are freed. */
int run_reduce(run_ctx *c, int v, int ph, float **val);

/* Converts the layout of node v's in-edge e, level by level: its input F (error = 0) or the
 * error E flowing back along it (error = 1); tensor is the whole [B][C][H*W] tensor (bf16
 * values). Each group's leader assembles the piece its consumer layout needs from what it held
 * and what it received, which is checked element by element against tensor. held: NULL, or
 * [device] pieces that carry the assembled pieces from level to level and keep each device's
 * last one (the caller frees the data). */
int run_convert(run_ctx *c, int v, int e, int error, const float *tensor, run_piece *held);

#endif
