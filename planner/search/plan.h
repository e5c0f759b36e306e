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
    int64_t batch;        /* samples per training step */
    int search_levels;    /* levels the strategy searches; deeper levels are all Type-I. 0: all */
    int memory_unchecked; /* 1: a baseline that is compared with, never run, may exceed the
                             devices' memory (plan->memory still says by how much) */
    double fixed_alpha;   /* in (0, 1): every level splits at this ratio, unsearched (a
                             heterogeneity-unaware baseline); 0: chosen per strategy */
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
    int *state; /* [node]: a layer's layer_type, an add's layout, STATE_NONE for inputs
                   (partition.h) */
    int n_pairs;
    plan_pair *pairs;
    int n_owned;         /* the pairs' byte arrays: splits of equal sub-problems share theirs */
    uint64_t **owned;    /* [n_owned], each intra_bytes then inter_bytes */
    double comm_s;       /* the level's communication time */
    uint64_t comm_bytes; /* bytes received by all groups at this level */
} plan_level;

typedef struct plan {
    strategy strat;
    int64_t batch;
    int search_levels; /* plan_options' */
    int n_nodes, n_devices, n_levels;
    plan_level *levels;
    int n_classes;    /* devices alike in their GEMMs form a class (plan_gemm) */
    int *class_of;    /* [device] */
    gemm_dims *gemms; /* [(class * n_nodes + node) * PHASES + phase] (plan_gemm); zeros for
                         non-weighted nodes and skipped GEMMs */
    double compute_s, comm_s, step_s;
    uint64_t comm_bytes;
    struct plan_memory *memory; /* [device]: peak device memory (plan_memory.h) */
    double fastest_step_s;      /* 0, or the fastest plan's predicted step when it did not fit
                                   the devices' memory and this slower one does (plan_make) */
    char model[1024];           /* the cost model the prediction used (array_model_label) */
} plan;

/* A plan's choices, as a saved plan file holds them: per level its alpha and every node's state
 * (partition.h; STATE_NONE for inputs). */
typedef struct plan_choice {
    int n_levels;
    double alpha[PLAN_MAX_LEVELS];
    int *state[PLAN_MAX_LEVELS]; /* [node] */
} plan_choice;

/* plan_make's errors: bad input, or a plan that does not fit its devices' memory. */
enum { PLAN_BAD_INPUT = -1, PLAN_NO_FIT = -2 };

/* Plans net on the array: the strategy's fastest plan under the cost model. If that plan does
 * not fit the devices' memory (plan_memory.h; unless o->memory_unchecked), the search weighs
 * each layer's share of device memory against time, more at each try, and takes the first plan
 * that fits (out->fastest_step_s then says what fitting cost). Errors, with a one-line message:
 * PLAN_BAD_INPUT (bad batch, shapes beyond the cost model's limits, infeasible split, too wide
 * network, bytes beyond 2^64 - 1, naming the field) or PLAN_NO_FIT (no plan found that fits:
 * the fastest plan's shortfall, named by plan_memory_check). */
int plan_make(const net *g, const accel_array *a, const plan_options *o, plan *out, char *err,
              size_t errlen);

/* The plan that makes the given choices instead of searching: the levels, bytes, GEMM shapes
 * and times plan_make computes for them. Errors (PLAN_BAD_INPUT or PLAN_NO_FIT, one line): a level
 * count other than the array's bisection has, an alpha outside (0, 1), a state the strategy does
 * not allow at that level ("level 1: node conv2: state III: not allowed by strategy hypar"), a
 * split that leaves a group without work, and plan_make's own. */
int plan_make_chosen(const net *g, const accel_array *a, const plan_options *o,
                     const plan_choice *choice, plan *out, char *err, size_t errlen);

void plan_free(plan *p);

/* The GEMM of phase ph that `device` runs for `node`. */
static inline const gemm_dims *plan_gemm(const plan *p, int device, int node, gemm_phase ph) {
    size_t cls = (size_t)p->class_of[device];
    return &p->gemms[(cls * (size_t)p->n_nodes + (size_t)node) * PHASES + (size_t)ph];
}

/* The objective the search minimises at the root split (level 0) for the given node states at
 * ratio alpha (INFINITY if a state is infeasible or not allowed). For tests and tools. Errors
 * (one device, out of memory, a graph too wide): -1 and a one-line message. */
int plan_root_objective(const net *g, const accel_array *a, const plan_options *o, double alpha,
                        const int *state, double *objective, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
