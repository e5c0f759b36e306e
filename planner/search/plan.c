#include "plan.h"

#include "array_model.h"
#include "digest.h"
#include "level_cost.h"
#include "plan_memory.h"
#include "vec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct group {
    device_group dev;
    node_dims *dims; /* [net node]: the group's sub-problem, owned by the search's pool */
} group;

/* The distinct sub-problems: groups whose dims are equal share one array. Splits of alike groups
 * give alike children, so the pool stays a few arrays per level however many devices there are,
 * and plan time and memory grow with levels x layers, not devices x layers. */
typedef struct dims_pool {
    node_dims **arr;
    uint64_t *hash;
    size_t n, cap, hash_cap;
} dims_pool;

typedef struct search {
    level_ctx c;
    dims_pool pool;
    const plan_options *o;
    const plan_choice *choice; /* NULL: search; else the levels' given choices */
    int *states;               /* [m] DP scratch */
    char *err;
    size_t errlen;
} search;

/* States the strategy allows at a level: adds any layout; layers I under data parallelism and
 * at levels not searched, I for CONV and II for FC under OWT, {I, II} under HyPar, all under
 * AccPar. */
static void set_allowed(level_ctx *c, strategy s, int searched) {
    for (int x = 0; x < c->m; x++) {
        const net_node *nd = &c->g->nodes[c->node_of[x]];
        for (int t = 0; t < NODE_STATES; t++) {
            int ok;
            if (nd->kind == NODE_ADD)
                ok = 1;
            else if (!searched || s == STRATEGY_DP)
                ok = t == TYPE_I;
            else if (s == STRATEGY_OWT)
                ok = t == (nd->kind == NODE_FC ? TYPE_II : TYPE_I);
            else
                ok = s == STRATEGY_ACCPAR || t != TYPE_III;
            c->allowed[x * NODE_STATES + t] = (unsigned char)ok;
        }
    }
}

/* *acc += x; -1 if the sum would exceed 2^64 - 1. */
static int add_bytes(uint64_t *acc, uint64_t x) {
    if (x > UINT64_MAX - *acc)
        return -1;
    *acc += x;
    return 0;
}

/* Minimum level objective at alpha; the states land in sr->states. */
static int solve(search *sr, const split_pair *pairs, int n_pairs, double alpha, double *cost) {
    level_fill(&sr->c, pairs, n_pairs, alpha);
    dag_problem p = level_problem(&sr->c);
    return dag_dp_solve(&p, sr->states, cost, sr->err, sr->errlen);
}

/* Golden-section refinement of alpha in [lo, hi] around a grid minimum. */
static int refine(search *sr, const split_pair *pairs, int n, double lo, double hi, double *best,
                  double *best_cost) {
    const double r = 0.5 * (sqrt(5.0) - 1.0);
    double a = lo, b = hi, x1 = b - r * (b - a), x2 = a + r * (b - a), f1, f2;
    if (solve(sr, pairs, n, x1, &f1) != 0 || solve(sr, pairs, n, x2, &f2) != 0)
        return -1;
    for (int it = 0; it < 12; it++) {
        if (f1 <= f2) {
            b = x2, x2 = x1, f2 = f1, x1 = b - r * (b - a);
            if (solve(sr, pairs, n, x1, &f1) != 0)
                return -1;
        } else {
            a = x1, x1 = x2, f1 = f2, x2 = a + r * (b - a);
            if (solve(sr, pairs, n, x2, &f2) != 0)
                return -1;
        }
    }
    double x = f1 <= f2 ? x1 : x2, f = f1 <= f2 ? f1 : f2;
    if (f < *best_cost) {
        *best = x;
        *best_cost = f;
    }
    return 0;
}

/* The level objective when group i takes k of the batch's samples. */
static int split_cost(search *sr, const split_pair *pairs, int n, int64_t k, int64_t batch,
                      double *cost) {
    return solve(sr, pairs, n, (double)k / (double)batch, cost);
}

/* Data parallelism's alpha at a level between unlike groups: every layer splits the batch B by
 * the same alpha, so the split is a number of samples k, and the level's objective (the groups'
 * compute, under the model in use; the gradient reductions do not depend on k) is minimised
 * over k: a ternary search over the integers, then single steps until neither neighbour is
 * better, so the two groups' compute is balanced to one sample. Where the objective is flat
 * (a group of many devices computes whole samples per device), the split nearest the
 * peak-throughput estimate among the equally good ones: the levels below split it further. */
static int balance_dp(search *sr, const split_pair *pairs, int n, double estimate, double *alpha) {
    int64_t batch = 0; /* every layer's, split alike (an input's dims stay the root's) */
    for (int x = 0; x < sr->c.m && batch == 0; x++)
        if (net_is_weighted(&sr->c.g->nodes[sr->c.node_of[x]]))
            batch = pairs[0].dims[sr->c.node_of[x]].b;
    if (batch < 2) { /* no split: the level reports the batch too small */
        *alpha = 0.5;
        return 0;
    }
    double cost_lo, cost_hi;
    int64_t lo = 1, hi = batch - 1;
    while (hi - lo > 2) { /* ternary search on the (nearly) unimodal objective */
        int64_t a = lo + (hi - lo) / 3, b = hi - (hi - lo) / 3;
        if (split_cost(sr, pairs, n, a, batch, &cost_lo) != 0 ||
            split_cost(sr, pairs, n, b, batch, &cost_hi) != 0)
            return -1;
        if (cost_lo <= cost_hi)
            hi = b;
        else
            lo = a;
    }
    int64_t best = lo;
    double best_cost = INFINITY;
    for (int64_t k = lo; k <= hi; k++) {
        double c;
        if (split_cost(sr, pairs, n, k, batch, &c) != 0)
            return -1;
        if (c < best_cost)
            best = k, best_cost = c;
    }
    for (int moved = 1; moved;) { /* plateaus can mislead the search: walk to a local minimum */
        moved = 0;
        for (int step = -1; step <= 1; step += 2) {
            double c;
            int64_t k = best + step;
            if (k < 1 || k > batch - 1)
                continue;
            if (split_cost(sr, pairs, n, k, batch, &c) != 0)
                return -1;
            if (c < best_cost) {
                best = k, best_cost = c, moved = 1;
                break;
            }
        }
    }
    int64_t k0 = llround(estimate * (double)batch), in = best, out;
    k0 = k0 < 1 ? 1 : k0 > batch - 1 ? batch - 1 : k0;
    double c0;
    if (split_cost(sr, pairs, n, k0, batch, &c0) != 0)
        return -1;
    /* the edge of best's plateau towards k0, by bisection (in: as good as best; out: worse) */
    for (out = k0; c0 > best_cost && (out > in ? out - in : in - out) > 1;) {
        int64_t mid = in + (out - in) / 2;
        double c;
        if (split_cost(sr, pairs, n, mid, batch, &c) != 0)
            return -1;
        *(c <= best_cost ? &in : &out) = mid;
    }
    *alpha = (double)(c0 <= best_cost ? k0 : in) / (double)batch;
    return 0;
}

/* Alpha for a level: 1/2 when every split is between alike groups; for data parallelism the
 * balanced split (balance_dp); else a grid over (0, 1) plus the peak-throughput ratio, refined by
 * golden section. */
static int choose_alpha(search *sr, const split_pair *pairs, int n, double *alpha) {
    double wi = 0, wj = 0;
    int alike = 1;
    for (int q = 0; q < n; q++) {
        wi += accel_group_macs_per_s(sr->c.a, pairs[q].i);
        wj += accel_group_macs_per_s(sr->c.a, pairs[q].j);
        alike &= accel_groups_alike(sr->c.a, pairs[q].i, pairs[q].j);
    }
    double balanced = wi / (wi + wj);
    if (alike) {
        *alpha = 0.5;
        return 0;
    }
    if (sr->o->strat == STRATEGY_DP)
        return balance_dp(sr, pairs, n, balanced, alpha);
    enum { GRID = 16 };
    double best = balanced, best_cost;
    if (solve(sr, pairs, n, balanced, &best_cost) != 0)
        return -1;
    for (int k = 1; k < GRID; k++) {
        double f;
        if (solve(sr, pairs, n, (double)k / GRID, &f) != 0)
            return -1;
        if (f < best_cost) {
            best = (double)k / GRID;
            best_cost = f;
        }
    }
    double lo = fmax(best - 1.0 / GRID, 0.5 / GRID), hi = fmin(best + 1.0 / GRID, 1 - 0.5 / GRID);
    if (best_cost < INFINITY && refine(sr, pairs, n, lo, hi, &best, &best_cost) != 0)
        return -1;
    *alpha = best;
    return 0;
}

/* The pool's array equal to d (freed), or d, added. NULL when out of memory (d freed). */
static node_dims *pool_intern(dims_pool *pool, node_dims *d, int n_nodes) {
    size_t bytes = sizeof *d * (size_t)n_nodes;
    uint64_t h = digest_bytes(DIGEST_INIT, d, bytes);
    for (size_t k = 0; k < pool->n; k++)
        if (pool->hash[k] == h && memcmp(pool->arr[k], d, bytes) == 0) {
            free(d);
            return pool->arr[k];
        }
    node_dims **arr = vec_grow(pool->arr, &pool->cap, pool->n + 1, sizeof *arr);
    if (arr)
        pool->arr = arr;
    uint64_t *hash = arr ? vec_grow(pool->hash, &pool->hash_cap, pool->n + 1, sizeof *hash) : NULL;
    if (!hash) {
        free(d);
        return NULL;
    }
    pool->hash = hash;
    pool->arr[pool->n] = d;
    pool->hash[pool->n++] = h;
    return d;
}

static void pool_free(dims_pool *pool) {
    for (size_t k = 0; k < pool->n; k++)
        free(pool->arr[k]);
    free(pool->arr);
    free(pool->hash);
}

/* Splits whose groups and sub-problems equal an earlier one's cost the same: keep one (equal
 * sub-problems share their pooled array). */
static int unique_pairs(const accel_array *a, const split_pair *all, int n, split_pair *out) {
    int k = 0;
    for (int q = 0; q < n; q++) {
        int dup = 0;
        for (int r = 0; r < k && !dup; r++)
            dup = all[q].dims == out[r].dims && accel_groups_alike(a, all[q].i, out[r].i) &&
                  accel_groups_alike(a, all[q].j, out[r].j);
        if (!dup)
            out[k++] = all[q];
    }
    return k;
}

/* The bytes of a split of sub-problem q->dims (they depend on nothing else): pp's arrays, new
 * ones owned by lv; *total the bytes all its groups receive. -1 when out of memory. */
static int pair_bytes(const level_ctx *c, const split_pair *q, plan_level *lv, plan_pair *pp,
                      uint64_t *total, int *overflow) {
    int nn = c->g->n;
    uint64_t *intra = calloc((size_t)nn * 3, sizeof *intra), *inter = intra ? intra + nn : NULL;
    uint64_t **owned = intra ? realloc(lv->owned, sizeof *owned * (size_t)(lv->n_owned + 1)) : NULL;
    if (!owned) {
        free(intra);
        return -1;
    }
    lv->owned = owned;
    lv->owned[lv->n_owned++] = intra;
    *total = 0;
    /* one transfer is at most 2^58 bytes (NET_MAX_ELEMS), so only the sums can overflow */
    for (int x = 0; x < c->m; x++) {
        int v = c->node_of[x];
        double intra_s;
        level_node_cost(c, q, v, lv->state[v], lv->alpha, &intra_s, &intra[v]);
        *overflow |= add_bytes(total, 2 * intra[v]);
        for (int e = c->pred_start[x]; e < c->pred_start[x + 1]; e++) {
            int u = c->node_of[c->pred[e]];
            uint64_t b[2];
            level_edge_cost(c, q, u, v, lv->state[u], lv->state[v], lv->alpha, b);
            inter[2 * v] += b[0];
            inter[2 * v + 1] += b[1];
            *overflow |= add_bytes(total, b[0] + b[1]);
        }
    }
    pp->intra_bytes = intra;
    pp->inter_bytes = inter;
    return 0;
}

/* Bytes and times of the chosen states, per split. -1 when out of memory or when the level's
 * bytes exceed 2^64 - 1 (with a message). */
static int record_level(search *sr, const split_pair *all, int n_all, const split_pair *uniq,
                        int n_uniq, plan_level *lv) {
    const level_ctx *c = &sr->c;
    lv->pairs = calloc((size_t)n_all, sizeof *lv->pairs);
    uint64_t *totals = calloc((size_t)n_all, sizeof *totals);
    if (!lv->pairs || !totals) {
        free(totals);
        return -1;
    }
    lv->n_pairs = n_all;
    int overflow = 0;
    for (int q = 0; q < n_all; q++) {
        plan_pair *pp = &lv->pairs[q];
        pp->i = all[q].i;
        pp->j = all[q].j;
        int same = 0; /* an earlier split of the same sub-problem: its bytes */
        while (same < q && all[same].dims != all[q].dims)
            same++;
        if (same < q) {
            pp->intra_bytes = lv->pairs[same].intra_bytes;
            pp->inter_bytes = lv->pairs[same].inter_bytes;
            totals[q] = totals[same];
        } else if (pair_bytes(c, &all[q], lv, pp, &totals[q], &overflow) != 0) {
            free(totals);
            return -1;
        }
        overflow |= add_bytes(&lv->comm_bytes, totals[q]);
    }
    free(totals);
    if (overflow) {
        snprintf(sr->err, sr->errlen,
                 "%s: field 'batch': the bytes moved at one level exceed 2^64 - 1",
                 net_source(c->g));
        return -1;
    }
    for (int x = 0; x < c->m; x++) {
        int v = c->node_of[x];
        double worst = 0, intra;
        uint64_t bytes, b[2];
        for (int q = 0; q < n_uniq; q++) {
            level_node_cost(c, &uniq[q], v, lv->state[v], lv->alpha, &intra, &bytes);
            worst = fmax(worst, intra);
        }
        lv->comm_s += worst;
        for (int e = c->pred_start[x]; e < c->pred_start[x + 1]; e++) {
            int u = c->node_of[c->pred[e]];
            worst = 0;
            for (int q = 0; q < n_uniq; q++)
                worst = fmax(worst, level_edge_cost(c, &uniq[q], u, v, lv->state[u], lv->state[v],
                                                    lv->alpha, b));
            lv->comm_s += worst;
        }
    }
    return 0;
}

/* The sub-problems of groups i and j after splitting `parent` at level lv, pooled. */
static int split_dims(search *sr, const plan_level *lv, const node_dims *parent, node_dims **di,
                      node_dims **dj) {
    const net *g = sr->c.g;
    node_dims *i = malloc(sizeof *i * (size_t)g->n), *j = malloc(sizeof *j * (size_t)g->n);
    if (!i || !j) {
        free(i);
        free(j);
        return -1;
    }
    for (int v = 0; v < g->n; v++) {
        i[v] = j[v] = parent[v];
        if (lv->state[v] >= 0)
            level_split_dims(&g->nodes[v], lv->state[v], lv->alpha, parent[v], &i[v], &j[v]);
    }
    *di = pool_intern(&sr->pool, i, g->n);
    *dj = *di ? pool_intern(&sr->pool, j, g->n) : (free(j), NULL);
    return *dj ? 0 : -1;
}

/* The groups after a level: each split parent becomes i and j with divided sub-problems, made
 * once per distinct parent sub-problem. */
static int split_groups(search *sr, const plan_level *lv, group *groups, int *n_groups) {
    int n = *n_groups, out = n, n_parents = 0, rc = 0;
    node_dims **made = malloc(sizeof *made * (size_t)n * 3); /* parent, its i child, j child */
    for (int k = 0; made && rc == 0 && k < n; k++) {
        device_group i, j;
        if (!accel_array_split(sr->c.a, groups[k].dev, &i, &j))
            continue;
        int p = 0;
        while (p < n_parents && made[3 * p] != groups[k].dims)
            p++;
        if (p == n_parents) {
            made[3 * p] = groups[k].dims;
            rc = split_dims(sr, lv, groups[k].dims, &made[3 * p + 1], &made[3 * p + 2]);
            n_parents++;
        }
        groups[k] = (group){i, made[3 * p + 1]};
        groups[out++] = (group){j, made[3 * p + 2]};
    }
    rc = made ? rc : -1;
    free(made);
    *n_groups = out;
    return rc;
}

/* The given choice of level h into lv->alpha and sr->states, checked against the strategy and
 * for feasibility; *cost its objective. */
static int take_choice(search *sr, const split_pair *pairs, int n, int h, double *alpha,
                       double *cost) {
    const plan_choice *ch = sr->choice;
    const net *g = sr->c.g;
    if (h >= ch->n_levels) {
        snprintf(sr->err, sr->errlen,
                 "field 'levels': %d levels given; the array's bisection has "
                 "more",
                 ch->n_levels);
        return -1;
    }
    *alpha = ch->alpha[h];
    if (!(*alpha > 0.0 && *alpha < 1.0)) {
        snprintf(sr->err, sr->errlen, "level %d: field 'alpha': %g is outside (0, 1)", h, *alpha);
        return -1;
    }
    level_fill(&sr->c, pairs, n, *alpha);
    for (int x = 0; x < sr->c.m; x++) {
        int v = sr->c.node_of[x], s = ch->state[h][v];
        const net_node *nd = &g->nodes[v];
        const char *why = s < 0 || s >= NODE_STATES             ? "not a state"
                          : !sr->c.allowed[x * NODE_STATES + s] ? "not allowed by the strategy"
                          : sr->c.unary[x * NODE_STATES + s] == INFINITY
                              ? "a split would leave a group without work"
                              : NULL;
        if (why) {
            snprintf(sr->err, sr->errlen, "level %d: node %s: state %s: %s (%s)", h, nd->name,
                     node_state_name(nd->kind, s), why, strategy_name(sr->o->strat));
            return -1;
        }
        sr->states[x] = s;
    }
    dag_problem p = level_problem(&sr->c);
    *cost = dag_cost(&p, sr->states);
    return 0;
}

static int run_level(search *sr, group *groups, int *n_groups, plan *p) {
    const accel_array *a = sr->c.a;
    int n = *n_groups, n_all = 0;
    split_pair *all = malloc(sizeof *all * (size_t)n * 2);
    split_pair *uniq = all ? all + n : NULL;
    if (!all)
        return -1;
    for (int k = 0; k < n; k++) {
        device_group i, j;
        if (accel_array_split(a, groups[k].dev, &i, &j))
            all[n_all++] = level_pair(a, i, j, groups[k].dims);
    }
    int h = p->n_levels, rc = 0;
    plan_level *lv = &p->levels[h];
    int n_uniq = unique_pairs(a, all, n_all, uniq);
    set_allowed(&sr->c, sr->o->strat, sr->o->search_levels == 0 || h < sr->o->search_levels);
    double cost;
    if (sr->choice) {
        rc = take_choice(sr, uniq, n_uniq, h, &lv->alpha, &cost);
    } else {
        lv->alpha = sr->o->fixed_alpha;
        rc = sr->o->fixed_alpha > 0 ? 0 : choose_alpha(sr, uniq, n_uniq, &lv->alpha);
        if (rc == 0)
            rc = solve(sr, uniq, n_uniq, lv->alpha, &cost);
    }
    if (rc == 0 && cost == INFINITY) {
        snprintf(sr->err, sr->errlen,
                 "%s: field 'batch': %lld: level %d cannot split every layer with strategy %s "
                 "(a part would be empty: batch or channels smaller than the split)",
                 net_source(sr->c.g), (long long)p->batch, h, strategy_name(sr->o->strat));
        rc = -1;
    }
    lv->state = rc == 0 ? malloc(sizeof(int) * (size_t)sr->c.g->n) : NULL;
    if (rc == 0 && lv->state) {
        p->n_levels++;
        for (int v = 0; v < sr->c.g->n; v++)
            lv->state[v] = -1;
        for (int x = 0; x < sr->c.m; x++)
            lv->state[sr->c.node_of[x]] = sr->states[x];
        rc = record_level(sr, all, n_all, uniq, n_uniq, lv);
        if (rc == 0)
            rc = split_groups(sr, lv, groups, n_groups);
    } else if (rc == 0) {
        rc = -1;
    }
    free(all);
    return rc;
}

/* Exact leaf times and the GEMM shapes of each class of devices (the leaves' distinct
 * sub-problems); each is computed once for the leaves alike in sub-problem and devices. */
static int finish(search *sr, const group *groups, int n_groups, plan *p) {
    const net *g = sr->c.g;
    const accel_array *a = sr->c.a;
    int *reps = malloc(sizeof *reps * (size_t)n_groups * 2), n_reps = 0;
    int *first_of_class = reps ? reps + n_groups : NULL; /* a group of each class */
    p->class_of = malloc(sizeof *p->class_of * (size_t)p->n_devices);
    if (!reps || !p->class_of) {
        free(reps);
        return -1;
    }
    for (int k = 0; k < n_groups; k++) {
        int cls = 0;
        while (cls < p->n_classes && groups[first_of_class[cls]].dims != groups[k].dims)
            cls++;
        if (cls == p->n_classes)
            first_of_class[p->n_classes++] = k;
        for (int d = 0; d < groups[k].dev.count; d++)
            p->class_of[groups[k].dev.first + d] = cls;
        int r = 0; /* a group alike in sub-problem and devices times the same */
        while (r < n_reps && !(groups[reps[r]].dims == groups[k].dims &&
                               accel_groups_alike(a, groups[reps[r]].dev, groups[k].dev)))
            r++;
        if (r == n_reps)
            reps[n_reps++] = k;
    }
    p->gemms = calloc((size_t)p->n_classes * (size_t)g->n * PHASES, sizeof *p->gemms);
    if (!p->gemms) {
        free(reps);
        return -1;
    }
    for (int v = 0; v < g->n; v++) {
        if (!net_is_weighted(&g->nodes[v]))
            continue;
        double worst = 0;
        for (int r = 0; r < n_reps; r++) {
            const group *gr = &groups[reps[r]];
            node_dims d = gr->dims[v];
            int cls = p->class_of[gr->dev.first];
            cost_layer_gemms(&g->nodes[v], sr->c.needs_backward[v], d.b, d.ci, d.co,
                             &p->gemms[((size_t)cls * (size_t)g->n + (size_t)v) * PHASES]);
            worst = fmax(worst, level_group_compute(&sr->c, gr->dev, v, d));
        }
        p->compute_s += worst;
    }
    free(reps);
    for (int h = 0; h < p->n_levels; h++) {
        p->comm_s += p->levels[h].comm_s;
        if (add_bytes(&p->comm_bytes, p->levels[h].comm_bytes) != 0) {
            snprintf(sr->err, sr->errlen,
                     "%s: field 'batch': the bytes moved in a step exceed 2^64 - 1", net_source(g));
            return -1;
        }
    }
    p->step_s = p->compute_s + p->comm_s;
    return 0;
}

/* Shapes must fit the cost model's limits for one sample (the file formats check this when
 * they load; a network built in code may not), and batch-sized GEMMs one device's. */
static int check_root(const net *g, const accel_array *a, int64_t batch, const int *needs_bw,
                      char *err, size_t errlen) {
    if (batch < 1 || batch > (1 << 24)) {
        snprintf(err, errlen, "%s: field 'batch': %lld is outside [1, %d]", net_source(g),
                 (long long)batch, 1 << 24);
        return -1;
    }
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        const char *field;
        char why[256];
        if (net_node_fits(nd, &field, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%d: field '%s': node %s: %s", net_source(g), nd->line, field,
                     nd->name, why);
            return -1;
        }
        gemm_dims gd[3];
        double s;
        if (!net_is_weighted(nd))
            continue;
        cost_layer_gemms(nd, needs_bw[v], batch, nd->cin, nd->cout, gd);
        if (cost_gemms_seconds(&a->kinds[0], &a->models[0], gd, &s, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%d: field 'batch': %lld is too large for layer %s: %s",
                     net_source(g), nd->line, (long long)batch, nd->name, why);
            return -1;
        }
    }
    return 0;
}

static void init_dims(const net *g, int64_t batch, node_dims *d) {
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        d[v] = (node_dims){batch, nd->cin, nd->cout};
        if (nd->kind == NODE_ADD || nd->kind == NODE_INPUT)
            d[v].ci = d[v].co = nd->kind == NODE_ADD ? nd->cout : nd->oc;
    }
}

/* The plan of the strategy (or the choice) with its memory computed, not checked; mem_weight
 * > 0 makes the search trade time for device memory (level_cost.h). */
static int search_plan(const net *g, const accel_array *a, const plan_options *o,
                       const plan_choice *choice, double mem_weight, plan *out, char *err,
                       size_t errlen) {
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    search sr = {.o = o, .choice = choice, .err = err, .errlen = errlen};
    if (level_ctx_init(&sr.c, g, a, err, errlen) != 0)
        return -1;
    sr.c.mem_weight = mem_weight;
    int rc = check_root(g, a, o->batch, sr.c.needs_backward, err, errlen);
    *out = (plan){.strat = o->strat,
                  .batch = o->batch,
                  .search_levels = o->search_levels,
                  .n_nodes = g->n,
                  .n_devices = a->n};
    array_model_label(a, out->model, sizeof out->model);
    group *groups = calloc((size_t)a->n, sizeof *groups);
    sr.states = malloc(sizeof(int) * (size_t)g->n);
    out->levels = calloc(PLAN_MAX_LEVELS, sizeof *out->levels);
    int n_groups = 1;
    node_dims *root = malloc(sizeof *root * (size_t)g->n);
    if (root)
        init_dims(g, o->batch, root);
    if (rc == 0 && groups && sr.states && out->levels && root) {
        groups[0].dims = pool_intern(&sr.pool, root, g->n); /* frees root on failure */
        rc = groups[0].dims ? 0 : -1;
    } else {
        free(root);
        rc = -1;
    }
    if (rc == 0)
        groups[0].dev = (device_group){0, a->n};
    while (rc == 0 && n_groups < a->n && out->n_levels < PLAN_MAX_LEVELS)
        rc = run_level(&sr, groups, &n_groups, out);
    if (rc == 0 && choice && choice->n_levels != out->n_levels) {
        snprintf(err, errlen, "field 'levels': %d levels given; the array's bisection has %d",
                 choice->n_levels, out->n_levels);
        rc = -1;
    }
    if (rc == 0)
        rc = finish(&sr, groups, n_groups, out);
    if (rc == 0 && !(out->memory = calloc((size_t)a->n, sizeof *out->memory)))
        rc = -1;
    if (rc == 0)
        plan_memory_of(g, a, out, out->memory);
    pool_free(&sr.pool);
    free(groups);
    free(sr.states);
    level_ctx_free(&sr.c);
    if (rc != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "%s: out of memory", net_source(g));
        plan_free(out);
    }
    return rc;
}

/* The memory-seeking search's weights: the fastest plan's step time times 4^k, k from
 * MEMORY_TRIES_BELOW below 0 up: the first plan that fits is taken, so the one that gives up the
 * least time for memory among those tried. */
enum { MEMORY_TRIES = 12, MEMORY_TRIES_BELOW = 4 };

/* plan_make, or plan_make_chosen with a choice: the fastest plan; if it does not fit the devices'
 * memory (and the caller checks it), a slower one that fits, or PLAN_NO_FIT with the fastest
 * plan's shortfall named. */
static int make(const net *g, const accel_array *a, const plan_options *o,
                const plan_choice *choice, plan *out, char *err, size_t errlen) {
    int rc = search_plan(g, a, o, choice, 0.0, out, err, errlen);
    if (rc != 0 || o->memory_unchecked || plan_memory_check(g, a, out->memory, err, errlen) == 0)
        return rc;
    if (!choice) { /* a given choice is the user's: checked, not changed */
        char why[512];
        for (int k = 0; k < MEMORY_TRIES; k++) {
            plan q;
            double w = out->step_s * pow(4.0, k - MEMORY_TRIES_BELOW);
            if (search_plan(g, a, o, NULL, w, &q, why, sizeof why) != 0)
                continue; /* a weight that leaves a group without work: try the next */
            if (plan_memory_check(g, a, q.memory, why, sizeof why) == 0) {
                q.fastest_step_s = out->step_s;
                plan_free(out);
                *out = q;
                return 0;
            }
            plan_free(&q);
        }
        size_t used = strlen(err);
        snprintf(err + used, errlen - used,
                 "; no %s plan that fits was found (the search weighed device memory against "
                 "time %d ways)",
                 strategy_name(o->strat), MEMORY_TRIES);
    }
    plan_free(out);
    return PLAN_NO_FIT;
}

int plan_make(const net *g, const accel_array *a, const plan_options *o, plan *out, char *err,
              size_t errlen) {
    return make(g, a, o, NULL, out, err, errlen);
}

int plan_make_chosen(const net *g, const accel_array *a, const plan_options *o,
                     const plan_choice *choice, plan *out, char *err, size_t errlen) {
    return make(g, a, o, choice, out, err, errlen);
}

void plan_free(plan *p) {
    for (int h = 0; p->levels && h < PLAN_MAX_LEVELS; h++) {
        plan_level *lv = &p->levels[h];
        for (int k = 0; k < lv->n_owned; k++)
            free(lv->owned[k]);
        free(lv->owned);
        free(lv->pairs);
        free(lv->state);
    }
    free(p->levels);
    free(p->gemms);
    free(p->class_of);
    free(p->memory);
    memset(p, 0, sizeof *p);
}

int plan_root_objective(const net *g, const accel_array *a, const plan_options *o, double alpha,
                        const int *state, double *objective, char *err, size_t errlen) {
    level_ctx c;
    device_group i, j;
    if (level_ctx_init(&c, g, a, err, errlen) != 0)
        return -1;
    node_dims *dims = malloc(sizeof *dims * (size_t)g->n);
    int *dp_state = malloc(sizeof(int) * (size_t)g->n);
    int rc = 0;
    if (!dims || !dp_state) {
        snprintf(err, errlen, "%s: out of memory", net_source(g));
        rc = -1;
    } else if (!accel_array_split(a, (device_group){0, a->n}, &i, &j)) {
        snprintf(err, errlen, "--accels: field 'accels': one device: no split");
        rc = -1;
    } else {
        init_dims(g, o->batch, dims);
        split_pair pair = level_pair(a, i, j, dims);
        set_allowed(&c, o->strat, 1);
        level_fill(&c, &pair, 1, alpha);
        dag_problem p = level_problem(&c);
        for (int x = 0; x < c.m; x++)
            dp_state[x] = state[c.node_of[x]];
        *objective = dag_cost(&p, dp_state);
    }
    free(dp_state);
    free(dims);
    level_ctx_free(&c);
    return rc;
}
