/* A device's GEMM at the run's fidelity and its cycle check. Internal to the runtime. */
#ifndef ACCPAR_RUN_COMPUTE_H
#define ACCPAR_RUN_COMPUTE_H

#include "run_ctx.h"

/* What one device's GEMMs of a layer leave for the step. Devices run in parallel; their tallies
 * are merged in device order, so a report is the same for any number of jobs. */
typedef struct run_device_tally {
    uint64_t cycles;     /* counted cycles */
    uint64_t host_bytes; /* moved between host and device memory */
    int64_t gemms;
    uint64_t macs;     /* M*K*N of the GEMMs run */
    char failure[512]; /* the first failed check, "" if none */
} run_device_tally;

/* A device's GEMMs of a layer, done: its tally, and 0 or -1 with its error (a device error, host
 * memory), taken in device order wherever the device ran. */
typedef struct run_device_outcome {
    run_device_tally tally;
    int rc;
    char err[512];
} run_device_outcome;

/* One GEMM on device d for node v, phase ph, at the run's fidelity; checks its cycles against
 * the closed form of the planner's shape for that device and adds up the planner's selected
 * model's prediction (into the device's own slots of c->r); adds to *t. Returns 0 or -1 with
 * c->err set. Safe to call for different devices at once. */
int run_device_gemm(run_ctx *c, int d, int v, gemm_phase ph, const gemm_args *ga,
                    run_device_tally *t);

#endif
