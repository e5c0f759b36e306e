/* Where a plan puts every node's work: the index ranges (samples, input and output channels)
 * each device group owns at each depth of the hierarchy, and tensor blocks over those ranges.
 * Internal to the runtime. */
#ifndef ACCPAR_RUN_GEOM_H
#define ACCPAR_RUN_GEOM_H

#include "plan.h"

#include <stdint.h>

typedef struct run_range {
    int64_t lo, hi;
} run_range;

/* A node's sub-problem: samples b, input channels ci, output channels co (an add: ci = co,
 * its channels). */
typedef struct run_box {
    run_range b, ci, co;
} run_box;

typedef struct run_geom {
    const plan *p;
    int depths;   /* n_levels + 1 */
    run_box *box; /* [(node * n_devices + device) * depths + depth] */
} run_geom;

int run_geom_make(const net *g, const plan *p, run_geom *out);
void run_geom_free(run_geom *G);

/* The box of `node` in the group holding `dev` at `depth` (0: the whole array). */
const run_box *run_geom_box(const run_geom *G, int node, int dev, int depth);

/* Splits r by alpha (cost_split's rounding): part 0 for group i, part 1 for group j. */
run_range run_range_part(run_range r, double alpha, int part);

static inline int64_t run_len(run_range r) {
    return r.hi - r.lo;
}

/* Part i of r cut into `parts` near-equal parts in order: a parallel loop's share i. */
static inline run_range run_range_share(run_range r, int64_t i, int64_t parts) {
    int64_t n = run_len(r);
    return (run_range){r.lo + n * i / parts, r.lo + n * (i + 1) / parts};
}

/* A block of a tensor stored [x][mx][y][my] over ranges x, y of two of its box axes, each
 * index carrying an inner block of mx (my) elements: F(l+1) is x = b (mx = Hout*Wout),
 * y = co; E and activations x = b, y = channels (my = H*W); dW x = ci (mx = k*k), y = co. */
typedef struct run_block {
    run_range x, y;
    int64_t mx, my;
} run_block;

static inline int64_t run_block_elems(const run_block *k) {
    return run_len(k->x) * k->mx * run_len(k->y) * k->my;
}

/* The index of the first of n floats whose bits differ between a and b, or -1 if none do. */
int64_t run_first_difference(const float *a, const float *b, int64_t n);

/* Copies the elements of src that lie in dst (the blocks share mx, my). */
void run_block_copy(const run_block *dst, float *d, const run_block *src, const float *s);
/* The same on up to `jobs` threads, in parts of dst's x indices (a split that does not change
 * what is copied); with poison, every element of dst not in src is a NaN afterwards. */
void run_block_copy_jobs(const run_block *dst, float *d, const run_block *src, const float *s,
                         int poison, int jobs);

/* The elements of `want` outside `have` (blocks of one tensor, sharing mx, my), in want's order,
 * moved between a packed buffer and `data`, a block `at` of the same tensor holding them all:
 * pack (unpack = 0) copies data -> packed, unpack (1) packed -> data. packed NULL: count only.
 * Returns the count. */
int64_t run_block_missing(const run_block *want, const run_block *have, const run_block *at,
                          float *data, float *packed, int unpack);

/* Pixels per sample of a node's input map (an add: its own map). */
int64_t run_hw_in(const net_node *nd);

/* A node's input block [b][ci][H*W] over sample and channel ranges (FC inputs flattened, H*W =
 * 1; an add's own channels and map). */
run_block run_input_block(const net_node *nd, run_range b, run_range ci);

/* The block of a phase's result over a box: F(l+1) [b][hw][co], E(l) [b][ci][hw], dW
 * [ci][k*k][co]. */
run_block run_result_block(const net_node *nd, gemm_phase ph, const run_box *b);

#endif
