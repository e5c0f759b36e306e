/* The reductions of a layer's partial results up the hierarchy. Internal to the runtime. */
#ifndef ACCPAR_RUN_REDUCE_H
#define ACCPAR_RUN_REDUCE_H

#include "run_ctx.h"

/* Reduces phase ph's per-device results val[device] up the hierarchy: at a split whose state
 * reduces the tensor both groups' leaders exchange their partials and each adds what it
 * received (an all-reduce; the two sums must be bit-identical), at a split that cuts it the two
 * halves are put side by side. The whole result lands in val[0]; the others are freed. */
int run_reduce(run_ctx *c, int v, gemm_phase ph, float **val);

#endif
