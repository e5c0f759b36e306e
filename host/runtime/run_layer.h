/* One weighted layer's share of the step: its generated tensors, its GEMMs on every device, the
 * reductions of their results and the OpenBLAS checks. Internal to the runtime. */
#ifndef ACCPAR_RUN_LAYER_H
#define ACCPAR_RUN_LAYER_H

#include "run_compute.h"

/* A weighted layer's whole generated operands: input F(l) [B][Cin][H*W], W [Di][Do] and the
 * output error E(l+1) [B*Hout*Wout][Do]. */
typedef struct run_layer_data {
    run_block x_blk, w_blk, g_blk;
    float *x, *w, *gerr;
} run_layer_data;

int run_layer_tensors(run_ctx *c, int v, run_layer_data *t);
void run_layer_tensors_free(run_layer_data *t);

/* Device d's share of layer v: its operands, one buffer holding its F(l) block (its piece from
 * the F conversions, else the generated tensor's), its W block and its E(l+1) block, with the
 * element counts run_device_operand_elems gives (the forward GEMM reads the first two only); NULL
 * when out of host memory. */
void run_device_operand_elems(const run_ctx *c, int v, int d, int64_t n[3]);
float *run_device_operands(run_ctx *c, int v, int d, const run_layer_data *t);

/* Device d's GEMMs of the phases in the set from its operands (the im2col of its F(l) block
 * packed into the device straight from the block, where the device is): out[ph] receive each
 * phase's result, F(l+1) rows x Do, E(l) as [B][Cin][H*W] (col2im of the backward GEMM, taken
 * from the device's result chunk by chunk), dW Di x Do, run_device_result_elems long; the
 * caller frees them, also on failure. Safe to call for different devices at once. */
int run_device_layer(run_ctx *c, int v, int d, const float *ops, phase_set phases,
                     float *out[PHASES], run_device_tally *tally);
/* The samples whose E(l) images device d holds open at once while its backward GEMM's result
 * comes back (run_device_layer): those one chunk of the device's rows can span. */
int64_t run_device_error_window(const run_ctx *c, int v, int d);
int64_t run_device_result_elems(const run_ctx *c, int v, int d, gemm_phase ph);

/* Runs the phases in the set on every device, reduces and verifies their results. Each device's
 * F(l) is its piece in c->input (what the layer's F conversions assembled on it), else the
 * generated tensor. With the backward phase, *whole receives the layer's assembled input error
 * E(l) [B][Cin][H*W] (the caller frees it). */
int run_layer_phases(run_ctx *c, int v, const run_layer_data *t, phase_set phases, float **whole);

#endif
