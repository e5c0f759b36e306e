/* The runtime's state during one step, shared by run_step.c (the schedule), run_layer.c (a
 * layer's GEMMs and checks), run_reduce.c, run_convert.c, run_compute.c (the devices' GEMMs) and
 * run_comm.c (transfers). Internal to the runtime. */
#ifndef ACCPAR_RUN_CTX_H
#define ACCPAR_RUN_CTX_H

#include "platform.h"
#include "run.h"
#include "run_geom.h"

#include <stddef.h>
#include <stdint.h>

/* A block of a tensor held in one place, with its data (NULL: nothing held). */
typedef struct run_piece {
    run_block blk;
    float *data;
} run_piece;

typedef struct run_ctx {
    const net *g;
    const accel_array *a;
    const run_options *o;
    run_result *r;
    run_geom G;
    platform *pf;
    int *link;           /* [level * n_devices + pair]: the cut's link */
    uint64_t *recv;      /* [run_recv_slot]: bytes each group's leader used of what it received */
    accel_dev **dev;     /* [device] */
    int *needs_backward; /* [node] */
    run_piece *input;    /* [node * n_devices + device]: a weighted layer's input F(l) as its F
                            conversions left it on the device, kept from the forward to the
                            backward sweep (data NULL: the layer reads the network input) */
    int node;            /* the node being run, for messages */
    int64_t gemms_done, gemms_total;
    int transfer_seq;
    char *timeline; /* CSV rows, or NULL without --trace */
    size_t timeline_len, timeline_cap;
    int timeline_lost; /* a row could not be stored (out of memory): the step fails */
    char *err;
    size_t errlen;
} run_ctx;

extern const char *const RUN_PHASE_NAME[RUN_PHASES]; /* "forward", "backward", "gradient" */

/* Records the first failed check (later ones are ignored). */
void run_fail(run_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* n floats, or NULL with "layer NAME: out of host memory (n floats)" in c->err. */
float *run_floats(run_ctx *c, int64_t n);

/* Appends a timeline row: what, node, level, start and end seconds, bytes. */
void run_timeline(run_ctx *c, const char *what, int node, int level, double t0, double t1,
                  uint64_t bytes);

/* "i (devices 0..1)": group g (0 = i, 1 = j) of split `pair` at `level`. */
void run_group_name(const run_ctx *c, int level, int pair, int g, char *out, size_t len);

/* The index into c->recv of what group g of a split received for a node at a level. */
size_t run_recv_slot(const run_ctx *c, int node, int level, int pair, int g);

/* One GEMM on device d for node v, phase ph, at the run's fidelity; checks its cycles against
 * the closed form of the planner's shape for that device and adds up the planner's selected
 * model's prediction. Returns 0 or -1 (error). */
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

/* Counts `elems` elements of x's arrival that its destination used (assembled into its piece or
 * added into its sum): the delivered bytes that the byte check compares with the planner. */
void run_delivered(run_ctx *c, const run_xfer *x, int64_t elems);

#endif
