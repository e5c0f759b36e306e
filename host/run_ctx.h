/* The runtime's state during one step, shared by run_step.c (the schedule), run_compute.c (the
 * devices' GEMMs) and run_comm.c (transfers). Internal to the runtime. */
#ifndef ACCPAR_RUN_CTX_H
#define ACCPAR_RUN_CTX_H

#include "platform_api.h"
#include "run.h"
#include "run_geom.h"

#include <stddef.h>
#include <stdint.h>

typedef struct run_ctx {
    const net *g;
    const accel_array *a;
    const run_options *o;
    run_result *r;
    run_geom G;
    platform *pf;
    int *link;       /* [level * n_devices + pair]: the cut's link */
    uint64_t *recv;  /* [((node * levels + level) * n_devices + pair) * 2 + group] bytes */
    accel_dev **dev; /* [device] */
    int *needs_backward; /* [node] */
    int64_t gemms_done, gemms_total;
    int transfer_seq;
    char *timeline; /* CSV rows, or NULL without --trace */
    size_t timeline_len, timeline_cap;
    char *err;
    size_t errlen;
} run_ctx;

/* Records the first failed check (later ones are ignored). */
void run_fail(run_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends a timeline row: what, node, level, start and end seconds, bytes. */
void run_timeline(run_ctx *c, const char *what, int node, int level, double t0, double t1,
                  uint64_t bytes);

/* One GEMM on device d for node v, phase ph, at the run's fidelity; checks its cycles against
 * the closed form of the planner's shape for that device. Returns 0 or -1 (error). */
int run_device_gemm(run_ctx *c, int d, int v, int ph, const gemm_args *ga, uint64_t *cycles);

/* One transfer of `n` elements from the leader of one group of a split to the other's. */
typedef struct run_xfer {
    int node, level, pair, to_group; /* to_group 0: j -> i, 1: i -> j */
    const char *what;                /* "F conversion", "dW reduction", ... */
    const float *data;
    int64_t n;
    int elem_bytes;  /* COST_ACT_BYTES (bf16) or COST_PSUM_BYTES (fp32) */
    float *received; /* n elements, as they arrived in the destination's memory */
} run_xfer;

/* Runs the transfers as one communication phase: staged into the source device's memory,
 * carried over the link in simulated time, copied into the destination device's memory and
 * read back. A transfer whose arrival differs from what was sent fails the run, named. */
int run_comm_batch(run_ctx *c, run_xfer *x, int n);

#endif
