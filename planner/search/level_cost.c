#include "level_cost.h"

#include "dag_order.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int level_ctx_init(level_ctx *c, const net *g, const accel_array *a, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->g = g;
    c->a = a;
    int n = g->n, edges = 0;
    int *dp_index = malloc(sizeof(int) * (size_t)n);
    c->node_of = malloc(sizeof(int) * (size_t)n);
    c->pred_start = malloc(sizeof(int) * (size_t)(n + 1));
    c->pred = malloc(sizeof(int) * (size_t)n * NET_MAX_IN + 1);
    c->needs_backward = malloc(sizeof(int) * (size_t)n);
    c->unary = malloc(sizeof(double) * (size_t)n * NODE_STATES);
    c->pair = malloc(sizeof(double) * ((size_t)n * NET_MAX_IN * 9 + 1));
    c->allowed = malloc((size_t)n * NODE_STATES);
    if (!dp_index || !c->node_of || !c->pred_start || !c->pred || !c->needs_backward || !c->unary ||
        !c->pair || !c->allowed) {
        free(dp_index);
        level_ctx_free(c);
        snprintf(err, errlen, "%s: out of memory", g->name);
        return -1;
    }
    for (int v = 0; v < n; v++) {
        const net_node *nd = &g->nodes[v];
        dp_index[v] = -1;
        c->needs_backward[v] = nd->n_in > 0 && g->nodes[nd->in[0]].kind != NODE_INPUT;
    }
    int widest, m = dag_order(g, c->node_of);
    int width = m < 0 ? -1 : dag_order_width(g, c->node_of, m, &widest);
    if (width < 0 || width > DAG_MAX_FRONTIER) {
        free(dp_index);
        level_ctx_free(c);
        if (width < 0)
            snprintf(err, errlen, "%s: out of memory", g->name);
        else
            snprintf(err, errlen,
                     "%s:%d: field 'in': node %s: the graph is too wide for the exact search "
                     "(%d tensors live at once; at most %d)",
                     net_source(g), g->nodes[widest].line, g->nodes[widest].name, width,
                     DAG_MAX_FRONTIER);
        return -1;
    }
    for (c->m = 0; c->m < m; c->m++) {
        int v = c->node_of[c->m];
        const net_node *nd = &g->nodes[v];
        dp_index[v] = c->m;
        c->pred_start[c->m] = edges;
        for (int e = 0; e < nd->n_in; e++)
            if (dp_index[nd->in[e]] >= 0)
                c->pred[edges++] = dp_index[nd->in[e]];
    }
    c->pred_start[c->m] = edges;
    free(dp_index);
    return 0;
}

void level_ctx_free(level_ctx *c) {
    free(c->node_of);
    free(c->pred_start);
    free(c->pred);
    free(c->needs_backward);
    free(c->unary);
    free(c->pair);
    free(c->allowed);
    memset(c, 0, sizeof *c);
}

dag_problem level_problem(const level_ctx *c) {
    return (dag_problem){c->m, c->pred_start, c->pred, c->unary, c->pair};
}

split_pair level_pair(const accel_array *a, device_group i, device_group j, const node_dims *dims) {
    double bi, bj, li, lj;
    accel_group_model_link(a, i, &bi, &li);
    accel_group_model_link(a, j, &bj, &lj);
    double cut = bi < bj ? bi : bj;
    if (a->topology == ARRAY_TORUS) {
        double slowest = INFINITY; /* one link of the slowest kind among the split's devices */
        for (int d = i.first; d < j.first + j.count; d++) {
            int k = a->kind_of[d];
            slowest = fmin(slowest, a->models[k].link_bytes_per_s);
        }
        cut = fmin(cut, 2 * sqrt((double)(i.count + j.count)) * slowest);
    }
    return (split_pair){i, j, dims, cut, li > lj ? li : lj};
}

int level_split_dims(const net_node *nd, int state, double alpha, node_dims parent, node_dims *di,
                     node_dims *dj) {
    *di = *dj = parent;
    if (state == TYPE_I || (nd->kind == NODE_ADD && state == LAYOUT_B))
        return cost_split(parent.b, alpha, &di->b, &dj->b);
    if (nd->kind == NODE_ADD) {
        if (state == LAYOUT_REP)
            return 0;
        int rc = cost_split(parent.ci, alpha, &di->ci, &dj->ci);
        di->co = di->ci;
        dj->co = dj->ci;
        return rc;
    }
    if (state == TYPE_II)
        return cost_split(parent.ci, alpha, &di->ci, &dj->ci);
    return cost_split(parent.co, alpha, &di->co, &dj->co);
}

static double device_seconds(const level_ctx *c, int kind, int node, node_dims d) {
    gemm_dims g[3];
    double s;
    char err[256];
    cost_layer_gemms(&c->g->nodes[node], c->needs_backward[node], d.b, d.ci, d.co, g);
    /* plan_make checked the root shapes, so sub-shapes cannot fail */
    return cost_gemms_seconds(&c->a->kinds[kind], &c->a->models[kind], g, &s, err, sizeof err) == 0
               ? s
               : INFINITY;
}

double level_group_compute(const level_ctx *c, device_group grp, int node, node_dims d) {
    if (!net_is_weighted(&c->g->nodes[node]))
        return 0.0;
    if (grp.count == 1)
        return device_seconds(c, c->a->kind_of[grp.first], node, d);
    /* several devices: batch shared evenly, rates added (harmonic mean of device times) */
    node_dims share = d;
    share.b = (d.b + grp.count - 1) / grp.count;
    double rate = 0;
    for (int x = grp.first; x < grp.first + grp.count;) {
        int kind = c->a->kind_of[x], run = 0;
        while (x < grp.first + grp.count && c->a->kind_of[x] == kind)
            x++, run++;
        rate += run / device_seconds(c, kind, node, share);
    }
    return grp.count / rate;
}

/* The smallest memory of the group's devices, in bytes. */
static double group_capacity(const accel_array *a, device_group grp) {
    double least = INFINITY;
    for (int d = grp.first; d < grp.first + grp.count; d++)
        least = fmin(least, (double)a->kinds[a->kind_of[d]].mem_mib * 1048576.0);
    return least;
}

/* Bytes a weighted node's sub-problem keeps and works on (plan_memory.h's terms, unrounded). */
static double node_bytes(const net_node *nd, node_dims d) {
    double m = (double)d.b * (double)(nd->hout * nd->wout),
           k = (double)d.ci * (double)(nd->k * nd->k);
    double n = (double)d.co, kept = (double)d.b * (double)d.ci * (double)(nd->hin * nd->win);
    double gemm = (m * k + k * n) * 2 + fmax(m * n, k * n) * 4; /* bf16 in, fp32 out */
    return k * n * 2 * 4 + kept * 2 + gemm;
}

double level_node_footprint(const level_ctx *c, const split_pair *p, int node, int state,
                            double alpha) {
    const net_node *nd = &c->g->nodes[node];
    node_dims di, dj;
    if (!net_is_weighted(nd) || level_split_dims(nd, state, alpha, p->dims[node], &di, &dj) != 0)
        return 0.0;
    double fi = node_bytes(nd, di) / (p->i.count * group_capacity(c->a, p->i));
    double fj = node_bytes(nd, dj) / (p->j.count * group_capacity(c->a, p->j));
    return fmax(fi, fj);
}

double level_node_cost(const level_ctx *c, const split_pair *p, int node, int state, double alpha,
                       double *intra_s, uint64_t *intra_bytes) {
    const net_node *nd = &c->g->nodes[node];
    node_dims di, dj, d = p->dims[node];
    *intra_s = 0;
    *intra_bytes = 0;
    if (level_split_dims(nd, state, alpha, d, &di, &dj) != 0)
        return INFINITY;
    if (!net_is_weighted(nd))
        return 0.0;
    double ti = level_group_compute(c, p->i, node, di);
    double tj = level_group_compute(c, p->j, node, dj);
    /* Type III reduces E(l), which a layer reading a network input never computes */
    int64_t elems = state == TYPE_III && !c->needs_backward[node]
                        ? 0
                        : cost_intra_elems(nd, (layer_type)state, d.b, d.ci, d.co);
    *intra_bytes = (uint64_t)elems * COST_PSUM_BYTES;
    *intra_s = cost_transfer_s(*intra_bytes, p->bytes_per_s, p->latency_s);
    return (ti > tj ? ti : tj) + *intra_s;
}

double level_edge_cost(const level_ctx *c, const split_pair *p, int u, int v, int su, int sv,
                       double alpha, uint64_t bytes[2]) {
    const net_node *nv = &c->g->nodes[v];
    node_dims d = p->dims[v];
    int64_t hw = nv->kind == NODE_ADD ? nv->hout * nv->wout : nv->hin * nv->win;
    int64_t b_own[2], c_own[2];
    cost_split(d.b, alpha, &b_own[0], &b_own[1]);
    cost_split(d.ci, alpha, &c_own[0], &c_own[1]);
    node_layouts lu = cost_layouts(c->g->nodes[u].kind, su);
    node_layouts lv = cost_layouts(nv->kind, sv);
    double worst = 0;
    for (int g = 0; g < 2; g++) {
        int64_t f =
            cost_convert_elems(lu.produce_f, lv.require_f, d.b, d.ci, hw, b_own[g], c_own[g]);
        int64_t e =
            cost_convert_elems(lv.produce_e, lu.require_e, d.b, d.ci, hw, b_own[g], c_own[g]);
        uint64_t bf = (uint64_t)f * COST_ACT_BYTES, be = (uint64_t)e * COST_ACT_BYTES;
        double t = cost_transfer_s(bf, p->bytes_per_s, p->latency_s) +
                   cost_transfer_s(be, p->bytes_per_s, p->latency_s);
        bytes[g] = bf + be;
        worst = t > worst ? t : worst;
    }
    return worst;
}

void level_fill(level_ctx *c, const split_pair *pairs, int n_pairs, double alpha) {
    for (int x = 0; x < c->m; x++) {
        int v = c->node_of[x];
        for (int s = 0; s < NODE_STATES; s++) {
            double worst = c->allowed[x * NODE_STATES + s] ? 0.0 : INFINITY, intra;
            uint64_t bytes;
            double fill = 0;
            for (int q = 0; q < n_pairs && worst < INFINITY; q++) {
                double t = level_node_cost(c, &pairs[q], v, s, alpha, &intra, &bytes);
                worst = t > worst ? t : worst;
                if (c->mem_weight > 0)
                    fill = fmax(fill, level_node_footprint(c, &pairs[q], v, s, alpha));
            }
            c->unary[x * NODE_STATES + s] = worst + c->mem_weight * fill;
        }
        for (int e = c->pred_start[x]; e < c->pred_start[x + 1]; e++) {
            int u = c->node_of[c->pred[e]];
            for (int k = 0; k < 9; k++) {
                double worst = 0;
                uint64_t bytes[2];
                for (int q = 0; q < n_pairs; q++) {
                    double t = level_edge_cost(c, &pairs[q], u, v, k / 3, k % 3, alpha, bytes);
                    worst = t > worst ? t : worst;
                }
                c->pair[e * 9 + k] = worst;
            }
        }
    }
}
