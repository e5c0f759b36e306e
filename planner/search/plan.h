/* The hierarchical partition search: bisect the array level by level, choose each level's ratio
 * alpha and every node's state by exact dynamic programming, and predict the step time.
 * docs/cost-model.md gives the formulas; this header is the API the runtime executes. */
#ifndef ACCPAR_PLAN_H
#define ACCPAR_PLAN_H

#include "accel_array.h"
#include "cost.h"
#include "net.h"
#include "strategy.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { PLAN_MAX_LEVELS = 32 };

typedef struct plan_options {
    strategy strat;
    int64_t batch;     /* samples per training step */
    int search_levels; /* levels the strategy searches; deeper levels are all Type-I. 0: all */
} plan_options;

/* One split at a level: parent group -> groups i (share alpha) and j (share 1 - alpha). */
typedef struct plan_pair {
    device_group i, j;
    uint64_t *intra_bytes; /* [node]: bytes EACH group receives for the node's reduction */
    uint64_t *inter_bytes; /* [node * 2 + g]: bytes group g (0 = i, 1 = j) receives converting
                              the node's inputs (F forward plus E backward, all in-edges) */
} plan_pair;

typedef struct plan_level {
    double alpha;
    int *state; /* [node]: layer type 0/1/2 = I/II/III, add layout 0/1/2 = B/C/replicated,
                   -1 for inputs */
    int n_pairs;
    plan_pair *pairs;
    double comm_s;       /* the level's communication time */
    uint64_t comm_bytes; /* bytes received by all groups at this level */
} plan_level;

typedef struct plan {
    strategy strat;
    int64_t batch;
    int n_nodes, n_devices, n_levels;
    plan_level *levels;
    gemm_dims *gemms; /* [(device * n_nodes + node) * 3 + phase], phase 0 forward, 1 backward,
                         2 gradient; zeros for non-weighted nodes and skipped GEMMs */
    double compute_s, comm_s, step_s;
    uint64_t comm_bytes;
    char model[1024]; /* the cost model the prediction used (array_model_label) */
} plan;

/* Plans net on the array. Errors (bad batch, shapes beyond the cost model's limits, infeasible
 * split, too wide network, bytes beyond 2^64 - 1): -1 and a one-line "file:line: field" message. */
int plan_make(const net *g, const accel_array *a, const plan_options *o, plan *out, char *err,
              size_t errlen);

void plan_free(plan *p);

/* The objective the search minimises at the root split (level 0) for the given node states at
 * ratio alpha (INFINITY if a state is infeasible or not allowed). For tests and tools. Errors
 * (one device, out of memory, a graph too wide): -1 and a one-line message. */
int plan_root_objective(const net *g, const accel_array *a, const plan_options *o, double alpha,
                        const int *state, double *objective, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
