/* A device's GEMM at the run's fidelity and its cycle check. Internal to the runtime. */
#ifndef ACCPAR_RUN_COMPUTE_H
#define ACCPAR_RUN_COMPUTE_H

#include "run_ctx.h"

/* One GEMM on device d for node v, phase ph, at the run's fidelity; checks its cycles against
 * the closed form of the planner's shape for that device and adds up the planner's selected
 * model's prediction; adds the counted cycles to *cycles. Returns 0 or -1 (error). */
int run_device_gemm(run_ctx *c, int d, int v, gemm_phase ph, const gemm_args *ga,
                    uint64_t *cycles);

#endif
