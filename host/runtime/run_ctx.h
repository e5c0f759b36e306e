/* The runtime's state during one step and the services every part of the runtime uses:
 * recording a failed check, host buffers, the timeline, naming groups (run_ctx.c). Internal to
 * the runtime; the parts above it: run_comm (transfers), run_compute (a device's GEMM),
 * run_reduce and run_convert (collectives), run_layer (a layer's GEMMs and checks), run_step
 * (the schedule). docs/runtime.md. */
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

/* One span of the step's timeline, in simulated seconds: a device computing a layer's GEMMs of a
 * phase (device >= 0), or a transfer on a link (link >= 0). */
typedef struct run_event {
    const char *what; /* "forward", "backward+gradient", or the transfer's ("F conversion", ...) */
    int node, level;  /* level: the split the transfer crosses; -1 for compute */
    int device;       /* compute: the device, else -1 */
    int link;         /* transfer: level * n_devices + pair, else -1 */
    int to_group;     /* transfer: 0 from group j to i, 1 from i to j */
    double t0, t1;
    uint64_t bytes, cycles;
} run_event;

typedef struct run_ctx {
    const net *g;
    const accel_array *a;
    const plan *p;
    const run_options *o;
#ifdef ACCPAR_TEST_HOOKS
    const run_fault *fault;
#endif
    run_result *r;
    int rank; /* this process's rank (0 without a cluster); devices elsewhere have dev[d] NULL */
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
    run_event *events; /* the step's timeline, with --trace or --trace-events (run_trace.c) */
    size_t n_events, events_cap;
    int events_lost; /* an event could not be stored (out of memory): the step fails */
    char *err;
    size_t errlen;
} run_ctx;

/* Whether device d is emulated by this process (run_remote.h drives the others). */
static inline int run_local(const run_ctx *c, int d) {
    return c->r->rank_of[d] == c->rank;
}

/* Records the first failed check (later ones are ignored). */
void run_fail(run_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* n floats, or NULL with "layer NAME: out of host memory (n floats)" in c->err. */
float *run_floats(run_ctx *c, int64_t n);
double *run_doubles(run_ctx *c, int64_t n); /* the same for doubles */

/* Appends an event to the step's timeline when one is asked for (trace_dir or trace_events). */
void run_event_add(run_ctx *c, const run_event *e);

/* "i (devices 0..1)": group g (0 = i, 1 = j) of split `pair` at `level`. */
void run_group_name(const run_ctx *c, int level, int pair, int g, char *out, size_t len);

/* The index into c->recv of what group g of a split received for a node at a level. */
size_t run_recv_slot(const run_ctx *c, int node, int level, int pair, int g);

#endif
