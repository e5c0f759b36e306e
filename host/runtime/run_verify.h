/* A weighted layer's whole results against OpenBLAS: each phase's assembled result checked
 * against an unpartitioned computation of the same GEMM, in chunks of rows so no whole-layer
 * im2col is held. Internal to the runtime. */
#ifndef ACCPAR_RUN_VERIFY_H
#define ACCPAR_RUN_VERIFY_H

#include "run_layer.h"

/* Checks phase ph's whole result of layer v (F(l+1) rows x Do, E(l) [B][Cin][H*W], dW Di x Do)
 * with the bound of docs/design.md, records the check and the result's digest in the layer's
 * report, and a failed check (run_fail) naming the devices holding the first bad element.
 * Returns 0, or -1 when out of host memory (c->err). */
int run_verify(run_ctx *c, int v, gemm_phase ph, const run_layer_data *t, const float *result);

/* The most host memory run_verify allocates at once for a phase of layer v, in bytes. */
uint64_t run_verify_host_bytes(const run_ctx *c, int v);

#endif
