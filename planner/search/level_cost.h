/* Costs of one hierarchy level: for every node state and every edge's pair of states, the
 * estimated time at ratio alpha, maximised over the level's splits. The DP problem the search
 * solves per level and candidate alpha. Internal to the planner (plan.c). */
#ifndef ACCPAR_LEVEL_COST_H
#define ACCPAR_LEVEL_COST_H

#include "accel_array.h"
#include "cost.h"
#include "dag_dp.h"
#include "net.h"

#include <stdint.h>

/* A node's sub-problem in one group: samples, input and output channels (an add: ci = co). */
typedef struct node_dims {
    int64_t b, ci, co;
} node_dims;

/* One parent group being split at the level, with its nodes' sub-problems. */
typedef struct split_pair {
    device_group i, j;
    const node_dims *dims; /* [net node] */
    double bytes_per_s;    /* the cut between i and j: min of the two groups' link bandwidth */
    double latency_s;      /* worst link latency in the two groups */
} split_pair;

typedef struct level_ctx {
    const net *g;
    const accel_array *a;
    int m;                  /* DP nodes: every non-input node */
    int *node_of;           /* [m] net node of DP node, in dag_order's order */
    int *pred_start;        /* [m + 1] */
    int *pred;              /* [edges] DP node of each in-edge's source */
    int *needs_backward;    /* [net node] */
    double *unary;          /* [m * 3] */
    double *pair;           /* [edges * 9] */
    unsigned char *allowed; /* [m * 3]: states the strategy permits at this level */
    double mem_weight;      /* seconds added per device memory a node's state fills (0: the
                               fastest plan; > 0: the memory-seeking search, plan.c) */
} level_ctx;

/* Builds the DP graph of g in dag_order's order. Errors: -1 with a message when out of memory
 * or when the graph is too wide for the exact search ("file:line: field 'in': node X: ..."). */
int level_ctx_init(level_ctx *c, const net *g, const accel_array *a, char *err, size_t errlen);
void level_ctx_free(level_ctx *c);

dag_problem level_problem(const level_ctx *c);

split_pair level_pair(const accel_array *a, device_group i, device_group j, const node_dims *dims);

/* Splits a node's sub-problem by `state`; returns -1 if infeasible (a part below 1). */
int level_split_dims(const net_node *nd, int state, double alpha, node_dims parent, node_dims *di,
                     node_dims *dj);

/* Estimated compute seconds of a group on a node's sub-problem (exact for one device). */
double level_group_compute(const level_ctx *c, device_group grp, int node, node_dims d);

/* The largest fraction of a device's memory that a node's sub-problem in `state` takes in
 * either group of the split, were the group's devices to share it evenly: its W and dW (fp32),
 * its kept input (bf16) and its largest GEMM's operands. 0 if infeasible or unweighted. */
double level_node_footprint(const level_ctx *c, const split_pair *p, int node, int state,
                            double alpha);

/* A node in `state` at this split: compute (max of the groups) plus the reduction time.
 * *intra_s and *intra_bytes (per group) describe the reduction. INFINITY if infeasible. */
double level_node_cost(const level_ctx *c, const split_pair *p, int node, int state, double alpha,
                       double *intra_s, uint64_t *intra_bytes);

/* Conversion on edge u -> v: time (max over the two groups) and bytes each group receives. */
double level_edge_cost(const level_ctx *c, const split_pair *p, int u, int v, int su, int sv,
                       double alpha, uint64_t bytes[2]);

/* Fills unary and pair with the maximum over the splits; forbidden states get INFINITY. */
void level_fill(level_ctx *c, const split_pair *pairs, int n_pairs, double alpha);

#endif
