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

typedef struct run_ctx {
    const net *g;
    const accel_array *a;
    const plan *p;
    const run_options *o;
#ifdef ACCPAR_TEST_HOOKS
    const run_fault *fault;
#endif
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

#endif
