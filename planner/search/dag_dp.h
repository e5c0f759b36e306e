/* Exact minimisation of a sum of per-node and per-edge costs over a DAG, each node taking one of
 * NODE_STATES states: dynamic programming over the frontier (processed nodes still read by later
 * ones). Exact for any DAG; the work grows as 3^(frontier width), which is 1 on a chain and 2-3
 * on residual networks. */
#ifndef ACCPAR_DAG_DP_H
#define ACCPAR_DAG_DP_H

#include "partition.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { DAG_STATES = NODE_STATES, DAG_MAX_FRONTIER = 9 };

typedef struct dag_problem {
    int n;                 /* nodes 0 .. n-1, every predecessor before its node (the order
                              decides the frontier width: dag_order.h for networks) */
    const int *pred_start; /* predecessors of v: pred[pred_start[v] .. pred_start[v+1]) */
    const int *pred;       /* the position in pred is the edge's index */
    const double *unary;   /* unary[v * 3 + s]; INFINITY forbids the state */
    const double *pair;    /* pair[e * 9 + s_pred * 3 + s_node] */
} dag_problem;

/* Cost of one assignment. */
double dag_cost(const dag_problem *p, const int *state);

/* Writes a minimum-cost assignment and its cost (INFINITY if every assignment is forbidden).
 * Ties go to the assignment found first. Returns -1 with a message if the frontier is wider than
 * DAG_MAX_FRONTIER nodes or memory runs out. */
int dag_dp_solve(const dag_problem *p, int *state, double *cost, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
