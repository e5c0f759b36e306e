#include "plan.h"

#include "array_model.h"
#include "level_cost.h"
#include "plan_memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct group {
    device_group dev;
    node_dims *dims; /* [net node] */
} group;

typedef struct search {
    level_ctx c;
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

/* Alpha for a level: throughput-balanced for data parallelism, 1/2 when every split is between
 * alike groups, else a grid over (0, 1) plus the balanced ratio, refined by golden section. */
static int choose_alpha(search *sr, const split_pair *pairs, int n, double *alpha) {
    double wi = 0, wj = 0;
    int alike = 1;
    for (int q = 0; q < n; q++) {
        wi += accel_group_macs_per_s(sr->c.a, pairs[q].i);
        wj += accel_group_macs_per_s(sr->c.a, pairs[q].j);
        alike &= accel_groups_alike(sr->c.a, pairs[q].i, pairs[q].j);
    }
    double balanced = wi / (wi + wj);
    if (sr->o->strat == STRATEGY_DP || alike) {
        *alpha = alike ? 0.5 : balanced;
        return 0;
    }
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

/* Splits whose groups and sub-problems equal an earlier one's cost the same: keep one. */
static int unique_pairs(const accel_array *a, const split_pair *all, int n, int n_nodes,
                        split_pair *out) {
    int k = 0;
    for (int q = 0; q < n; q++) {
        int dup = 0;
        for (int r = 0; r < k && !dup; r++)
            dup = accel_groups_alike(a, all[q].i, out[r].i) &&
                  accel_groups_alike(a, all[q].j, out[r].j) &&
                  memcmp(all[q].dims, out[r].dims, sizeof(node_dims) * (size_t)n_nodes) == 0;
        if (!dup)
            out[k++] = all[q];
    }
    return k;
}

/* Bytes and times of the chosen states, per split. -1 when out of memory or when the level's
 * bytes exceed 2^64 - 1 (with a message). */
static int record_level(search *sr, const split_pair *all, int n_all, const split_pair *uniq,
                        int n_uniq, plan_level *lv) {
    const level_ctx *c = &sr->c;
    int nn = c->g->n;
    lv->pairs = calloc((size_t)n_all, sizeof *lv->pairs);
    if (!lv->pairs)
        return -1;
    lv->n_pairs = n_all;
    int overflow = 0;
    for (int q = 0; q < n_all; q++) {
        plan_pair *pp = &lv->pairs[q];
        pp->i = all[q].i;
        pp->j = all[q].j;
        pp->intra_bytes = calloc((size_t)nn, sizeof *pp->intra_bytes);
        pp->inter_bytes = calloc((size_t)nn * 2, sizeof *pp->inter_bytes);
        if (!pp->intra_bytes || !pp->inter_bytes)
            return -1;
        /* one transfer is at most 2^58 bytes (NET_MAX_ELEMS), so only the sums can overflow */
        for (int x = 0; x < c->m; x++) {
            int v = c->node_of[x];
            double intra;
            level_node_cost(c, &all[q], v, lv->state[v], lv->alpha, &intra, &pp->intra_bytes[v]);
            overflow |= add_bytes(&lv->comm_bytes, 2 * pp->intra_bytes[v]);
            for (int e = c->pred_start[x]; e < c->pred_start[x + 1]; e++) {
                int u = c->node_of[c->pred[e]];
                uint64_t b[2];
                level_edge_cost(c, &all[q], u, v, lv->state[u], lv->state[v], lv->alpha, b);
                pp->inter_bytes[2 * v] += b[0];
                pp->inter_bytes[2 * v + 1] += b[1];
                overflow |= add_bytes(&lv->comm_bytes, b[0] + b[1]);
            }
        }
    }
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

/* The groups after a level: each split parent becomes i and j with divided sub-problems. */
static int split_groups(search *sr, const plan_level *lv, group *groups, int *n_groups) {
    const net *g = sr->c.g;
    int n = *n_groups, out = n;
    for (int k = 0; k < n; k++) {
        device_group i, j;
        if (!accel_array_split(sr->c.a, groups[k].dev, &i, &j))
            continue;
        node_dims *dj = malloc(sizeof *dj * (size_t)g->n);
        if (!dj)
            return -1;
        node_dims *di = groups[k].dims;
        for (int v = 0; v < g->n; v++) {
            node_dims parent = di[v];
            if (lv->state[v] >= 0)
                level_split_dims(&g->nodes[v], lv->state[v], lv->alpha, parent, &di[v], &dj[v]);
            else
                dj[v] = parent;
        }
        groups[k].dev = i;
        groups[out++] = (group){j, dj};
    }
    *n_groups = out;
    return 0;
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
    int n_uniq = unique_pairs(a, all, n_all, sr->c.g->n, uniq);
    set_allowed(&sr->c, sr->o->strat, sr->o->search_levels == 0 || h < sr->o->search_levels);
    double cost;
    if (sr->choice) {
        rc = take_choice(sr, uniq, n_uniq, h, &lv->alpha, &cost);
    } else {
        rc = choose_alpha(sr, uniq, n_uniq, &lv->alpha);
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

/* Exact leaf times and the per-device GEMM shapes. */
static int finish(search *sr, const group *groups, int n_groups, plan *p) {
    const net *g = sr->c.g;
    p->gemms = calloc((size_t)p->n_devices * (size_t)g->n * 3, sizeof *p->gemms);
    if (!p->gemms)
        return -1;
    for (int v = 0; v < g->n; v++) {
        if (!net_is_weighted(&g->nodes[v]))
            continue;
        double worst = 0;
        for (int k = 0; k < n_groups; k++) {
            node_dims d = groups[k].dims[v];
            int dev = groups[k].dev.first;
            cost_layer_gemms(&g->nodes[v], sr->c.needs_backward[v], d.b, d.ci, d.co,
                             &p->gemms[((size_t)dev * (size_t)g->n + (size_t)v) * PHASES]);
            worst = fmax(worst, level_group_compute(&sr->c, groups[k].dev, v, d));
        }
        p->compute_s += worst;
    }
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

/* plan_make, or plan_make_chosen with a choice. */
static int make(const net *g, const accel_array *a, const plan_options *o,
                const plan_choice *choice, plan *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    search sr = {.o = o, .choice = choice, .err = err, .errlen = errlen};
    if (level_ctx_init(&sr.c, g, a, err, errlen) != 0)
        return -1;
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
    if (rc == 0 && (!groups || !sr.states || !out->levels ||
                    !(groups[0].dims = malloc(sizeof(node_dims) * (size_t)g->n))))
        rc = -1;
    if (rc == 0) {
        groups[0].dev = (device_group){0, a->n};
        init_dims(g, o->batch, groups[0].dims);
    }
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
    if (rc == 0) {
        plan_memory_of(g, a, out, out->memory);
        if (!o->memory_unchecked)
            rc = plan_memory_check(g, a, out->memory, err, errlen) == 0 ? 0 : PLAN_NO_FIT;
    }
    for (int k = 0; groups && k < n_groups; k++)
        free(groups[k].dims);
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
        for (int q = 0; q < lv->n_pairs; q++) {
            free(lv->pairs[q].intra_bytes);
            free(lv->pairs[q].inter_bytes);
        }
        free(lv->pairs);
        free(lv->state);
    }
    free(p->levels);
    free(p->gemms);
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
