/* Transfers between the leaders of a split's two groups over the platform's links, and the
 * accounting of what the destinations used. Internal to the runtime. */
#ifndef ACCPAR_RUN_COMM_H
#define ACCPAR_RUN_COMM_H

#include "run_ctx.h"

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

/* Counts `elems` elements of x's arrival that its destination used (assembled into its piece or
 * added into its sum): the delivered bytes that the byte check compares with the planner. */
void run_delivered(run_ctx *c, const run_xfer *x, int64_t elems);

#endif
