/* One layer of the step: its GEMMs on every device, the reductions of their partial results up
 * the hierarchy, the conversions of its inputs' layouts, and the OpenBLAS check of the
 * assembled results. */
#include "run_layer.h"

#include "run_tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const PHASE[RUN_PHASES] = {"forward", "backward", "gradient"};
static const char *const REDUCTION[RUN_PHASES] = {"F reduction", "E reduction", "dW reduction"};
/* The state that reduces each phase's result: II (F(l+1)), III (E(l)), I (dW). */
static const int REDUCING_STATE[RUN_PHASES] = {1, 2, 0};

static int64_t hw_in(const net_node *nd) {
    return nd->kind == NODE_ADD ? nd->hout * nd->wout : nd->hin * nd->win;
}

/* The block of a phase's result over a box: F(l+1) [b][hw][co], E(l) [b][ci][hw], dW
 * [ci][k*k][co]. */
static run_block result_block(const net_node *nd, int ph, const run_box *b) {
    if (ph == 0)
        return (run_block){b->b, b->co, nd->hout * nd->wout, 1};
    if (ph == 1)
        return (run_block){b->b, b->ci, 1, hw_in(nd)};
    return (run_block){b->ci, b->co, nd->k * nd->k, 1};
}

static run_block act_block(const net_node *nd, run_range b, run_range ci) {
    return (run_block){b, ci, 1, hw_in(nd)};
}

static void *alloc_floats(run_ctx *c, int64_t n) {
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!p)
        snprintf(c->err, c->errlen, "out of host memory (%lld floats)", (long long)n);
    return p;
}

int run_layer_tensors(run_ctx *c, int v, run_layer_data *t) {
    const net_node *nd = &c->g->nodes[v];
    int64_t batch = c->r->plan.batch, kk = nd->k * nd->k;
    memset(t, 0, sizeof *t);
    t->x_blk = act_block(nd, (run_range){0, batch}, (run_range){0, nd->cin});
    t->w_blk = (run_block){{0, nd->cin}, {0, nd->cout}, kk, 1};
    t->g_blk = (run_block){{0, batch}, {0, nd->cout}, nd->hout * nd->wout, 1};
    t->x = alloc_floats(c, run_block_elems(&t->x_blk));
    t->w = alloc_floats(c, run_block_elems(&t->w_blk));
    t->gerr = alloc_floats(c, run_block_elems(&t->g_blk));
    if (!t->x || !t->w || !t->gerr)
        return -1;
    run_gen_block(c->o->seed, v, RUN_T_IN_ACT, nd->cin, &t->x_blk, t->x);
    run_gen_block(c->o->seed, v, RUN_T_WEIGHT, nd->cout, &t->w_blk, t->w);
    run_gen_block(c->o->seed, v, RUN_T_OUT_ERR, nd->cout, &t->g_blk, t->gerr);
    return 0;
}

void run_layer_tensors_free(run_layer_data *t) {
    free(t->x);
    free(t->w);
    free(t->gerr);
    memset(t, 0, sizeof *t);
}

/* A device's operands: im2col of its input block, its weight block, its error block. */
static int device_operands(run_ctx *c, int v, int d, const run_layer_data *t, float **a, float **w,
                           float **e) {
    const net_node *nd = &c->g->nodes[v];
    const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
    run_block xb = act_block(nd, b->b, b->ci);
    run_block wb = {b->ci, b->co, nd->k * nd->k, 1};
    run_block gb = {b->b, b->co, nd->hout * nd->wout, 1};
    int64_t rows = run_len(b->b) * nd->hout * nd->wout, di = run_len(b->ci) * nd->k * nd->k;
    float *x = alloc_floats(c, run_block_elems(&xb));
    *a = alloc_floats(c, rows * di);
    *w = alloc_floats(c, run_block_elems(&wb));
    *e = alloc_floats(c, run_block_elems(&gb));
    if (!x || !*a || !*w || !*e) {
        free(x);
        return -1;
    }
    run_block_copy(&xb, x, &t->x_blk, t->x);
    run_im2col(nd, run_len(b->b), run_len(b->ci), x, *a);
    free(x);
    run_block_copy(&wb, *w, &t->w_blk, t->w);
    run_block_copy(&gb, *e, &t->g_blk, t->gerr);
    return 0;
}

/* The GEMMs of `phases` (bit mask) on every device; out[ph][d] receive the results. */
static int compute(run_ctx *c, int v, const run_layer_data *t, unsigned phases,
                   float **out[RUN_PHASES]) {
    const net_node *nd = &c->g->nodes[v];
    int n = c->r->n_devices, rc = 0;
    uint64_t *cycles = calloc((size_t)n, sizeof *cycles);
    if (!cycles)
        return -1;
    for (int d = 0; d < n && rc == 0; d++) {
        const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
        int64_t rows = run_len(b->b) * nd->hout * nd->wout, di = run_len(b->ci) * nd->k * nd->k;
        int64_t co = run_len(b->co);
        float *a = NULL, *w = NULL, *e = NULL;
        rc = device_operands(c, v, d, t, &a, &w, &e);
        if (rc == 0 && (phases & 1)) {
            gemm_args ga = {rows, di, co, 0, 0, 0, a, w, out[0][d] = alloc_floats(c, rows * co)};
            rc = ga.c ? run_device_gemm(c, d, v, 0, &ga, &cycles[d]) : -1;
        }
        if (rc == 0 && (phases & 2)) {
            float *eg = alloc_floats(c, rows * di);
            gemm_args ga = {rows, co, di, 0, 1, 0, e, w, eg};
            out[1][d] = alloc_floats(c, run_len(b->b) * run_len(b->ci) * hw_in(nd));
            rc = eg && out[1][d] ? run_device_gemm(c, d, v, 1, &ga, &cycles[d]) : -1;
            if (rc == 0)
                run_col2im_f(nd, run_len(b->b), run_len(b->ci), eg, out[1][d]);
            free(eg);
        }
        if (rc == 0 && (phases & 4)) {
            gemm_args ga = {di, rows, co, 1, 0, 0, a, e, out[2][d] = alloc_floats(c, di * co)};
            rc = ga.c ? run_device_gemm(c, d, v, 2, &ga, &cycles[d]) : -1;
        }
        free(a);
        free(w);
        free(e);
    }
    double t0 = platform_now_s(c->pf);
    if (rc == 0)
        rc = platform_compute(c->pf, cycles, c->err, c->errlen);
    if (rc == 0) {
        c->r->simulated_compute_s += platform_now_s(c->pf) - t0;
        run_timeline(c, phases & 1 ? "forward" : "backward+gradient", v, -1, t0,
                     platform_now_s(c->pf), 0);
    }
    free(cycles);
    return rc;
}

/* Reduces a phase's per-device results up the hierarchy; the whole result lands in val[0]. */
static int reduce(run_ctx *c, int v, int ph, float **val) {
    const net_node *nd = &c->g->nodes[v];
    const plan *p = &c->r->plan;
    int rc = 0;
    run_xfer *x = calloc((size_t)p->n_devices * 2 + 1, sizeof *x);
    if (!x)
        return -1;
    for (int h = p->n_levels - 1; h >= 0 && rc == 0; h--) {
        const plan_level *lv = &p->levels[h];
        int nx = 0, reducing = lv->state[v] == REDUCING_STATE[ph];
        for (int q = 0; q < lv->n_pairs && rc == 0; q++) {
            int i = lv->pairs[q].i.first, j = lv->pairs[q].j.first;
            run_block parent = result_block(nd, ph, run_geom_box(&c->G, v, i, h));
            int64_t n = run_block_elems(&parent);
            if (reducing) {
                for (int g = 0; g < 2; g++)
                    x[nx++] = (run_xfer){v,
                                         h,
                                         q,
                                         g,
                                         REDUCTION[ph],
                                         val[g == 0 ? j : i],
                                         n,
                                         COST_PSUM_BYTES,
                                         alloc_floats(c, n)};
                rc = x[nx - 1].received && x[nx - 2].received ? 0 : -1;
                continue;
            }
            /* the split cut this tensor: the parent's block is the two groups' blocks side by
             * side, assembled in host memory */
            float *whole = alloc_floats(c, n);
            if (!whole)
                return free(x), -1;
            for (int g = 0; g < 2; g++) {
                int leader = g == 0 ? i : j;
                run_block part = result_block(nd, ph, run_geom_box(&c->G, v, leader, h + 1));
                run_block_copy(&parent, whole, &part, val[leader]);
            }
            free(val[i]);
            free(val[j]);
            val[j] = NULL;
            val[i] = whole;
        }
        if (rc == 0 && nx > 0)
            rc = run_comm_batch(c, x, nx);
        for (int k = 0; k < nx; k += 2) {
            /* x[k] went j -> i: group i's partial plus group j's */
            int i = lv->pairs[x[k].pair].i.first, j = lv->pairs[x[k].pair].j.first;
            for (int64_t e = 0; rc == 0 && e < x[k].n; e++)
                val[i][e] += x[k].received[e];
            free(x[k].received);
            free(x[k + 1].received);
            free(val[j]);
            val[j] = NULL;
        }
    }
    free(x);
    return rc;
}

/* Names the devices whose own block holds element `index` of a phase's whole result. */
static void holders(run_ctx *c, int v, int ph, int64_t index, char *out, size_t len) {
    const net_node *nd = &c->g->nodes[v];
    run_block whole = result_block(nd, ph, run_geom_box(&c->G, v, 0, 0));
    int64_t ny = run_len(whole.y) * whole.my;
    int64_t x = index / ny / whole.mx, y = index % ny / whole.my;
    size_t used = (size_t)snprintf(out, len, "held by device");
    for (int d = 0; d < c->r->n_devices && used < len; d++) {
        run_block own = result_block(nd, ph, run_geom_box(&c->G, v, d, c->G.depths - 1));
        if (x >= own.x.lo && x < own.x.hi && y >= own.y.lo && y < own.y.hi)
            used += (size_t)snprintf(out + used, len - used, " %d", d);
    }
}

/* The whole result of phase ph against an unpartitioned OpenBLAS computation. */
static int verify(run_ctx *c, int v, int ph, const run_layer_data *t, const float *result) {
    const net_node *nd = &c->g->nodes[v];
    int64_t batch = c->r->plan.batch, rows = batch * nd->hout * nd->wout;
    int64_t di = nd->cin * nd->k * nd->k, co = nd->cout;
    float *cols = alloc_floats(c, rows * di);
    int rc = cols ? 0 : -1;
    gemm_check *chk = &c->r->layers[v].check[ph];
    if (rc == 0)
        run_im2col(nd, batch, nd->cin, t->x, cols);
    if (rc == 0 && ph == 0) {
        gemm_args ga = {rows, di, co, 0, 0, 0, cols, t->w, (float *)result};
        rc = gemm_check_blas(&ga, NULL, result, chk);
    } else if (rc == 0 && ph == 2) {
        gemm_args ga = {di, rows, co, 1, 0, 0, cols, t->gerr, (float *)result};
        rc = gemm_check_blas(&ga, NULL, result, chk);
    } else if (rc == 0) {
        /* E(l) = col2im(E(l+1) W^T): reference and magnitudes through the same col2im */
        int64_t n_img = batch * nd->cin * nd->hin * nd->win;
        gemm_args ga = {rows, co, di, 0, 1, 0, t->gerr, t->w, NULL};
        float *ref = alloc_floats(c, rows * di), *ref_img = alloc_floats(c, n_img);
        double *mag = malloc(sizeof(double) * (size_t)(rows * di));
        double *ref_d = malloc(sizeof(double) * (size_t)(rows * di));
        double *mag_img = malloc(sizeof(double) * (size_t)n_img);
        double *ref_img_d = malloc(sizeof(double) * (size_t)n_img);
        rc = ref && ref_img && mag && ref_d && mag_img && ref_img_d
                 ? gemm_blas_reference(&ga, NULL, ref, mag, chk)
                 : -1;
        if (rc == 0) {
            for (int64_t k = 0; k < rows * di; k++)
                ref_d[k] = ref[k];
            run_col2im(nd, batch, nd->cin, ref_d, ref_img_d);
            run_col2im(nd, batch, nd->cin, mag, mag_img);
            for (int64_t k = 0; k < n_img; k++)
                ref_img[k] = (float)ref_img_d[k];
            gemm_check_values(result, ref_img, mag_img, batch, nd->cin * nd->hin * nd->win,
                              co * nd->k * nd->k, chk);
        }
        free(ref), free(ref_img), free(mag), free(ref_d), free(mag_img), free(ref_img_d);
    }
    free(cols);
    if (rc != 0) {
        snprintf(c->err, c->errlen, "layer %s: out of host memory for the OpenBLAS check",
                 nd->name);
        return -1;
    }
    c->r->layers[v].checked[ph] = 1;
    if (!chk->passed) {
        char who[128];
        holders(c, v, ph, chk->worst_index, who, sizeof who);
        run_fail(c, "layer %s %s result vs OpenBLAS: %s (%s)", nd->name, PHASE[ph], chk->message,
                 who);
    }
    return 0;
}

int run_layer_phases(run_ctx *c, int v, const run_layer_data *t, unsigned phases, float **whole) {
    int n = c->r->n_devices, rc = 0;
    float **out[RUN_PHASES];
    for (int ph = 0; ph < RUN_PHASES; ph++)
        out[ph] = calloc((size_t)n, sizeof(float *));
    if (!out[0] || !out[1] || !out[2])
        rc = -1;
    if (rc == 0)
        rc = compute(c, v, t, phases, out);
    for (int ph = 0; ph < RUN_PHASES && rc == 0; ph++) {
        if (!(phases & (1u << ph)))
            continue;
        rc = reduce(c, v, ph, out[ph]);
        if (rc == 0)
            rc = verify(c, v, ph, t, out[ph][0]);
        if (rc == 0 && ph == 1) {
            *whole = out[ph][0];
            out[ph][0] = NULL;
        }
    }
    for (int ph = 0; ph < RUN_PHASES; ph++) {
        for (int d = 0; out[ph] && d < n; d++)
            free(out[ph][d]);
        free(out[ph]);
    }
    return rc;
}

/* The piece of a [b][c][hw] block a group holds in a layout. */
static run_block piece(layout l, int g, double alpha, run_block whole) {
    if (l == LAYOUT_B)
        whole.x = run_range_part(whole.x, alpha, g);
    else if (l == LAYOUT_C)
        whole.y = run_range_part(whole.y, alpha, g);
    return whole;
}

int run_convert(run_ctx *c, int v, int e, int error, const float *tensor) {
    const net_node *nd = &c->g->nodes[v];
    int u = nd->in[e];
    const node_kind ku = c->g->nodes[u].kind;
    const plan *p = &c->r->plan;
    if (ku == NODE_INPUT)
        return 0;
    run_block all = act_block(nd, (run_range){0, p->batch}, run_geom_box(&c->G, v, 0, 0)->ci);
    int rc = 0;
    run_xfer *x = calloc((size_t)p->n_devices * 2 + 1, sizeof *x);
    if (!x)
        return -1;
    for (int h = 0; h < p->n_levels && rc == 0; h++) {
        const plan_level *lv = &p->levels[h];
        node_layouts lu = cost_layouts(ku, lv->state[u]), lw = cost_layouts(nd->kind, lv->state[v]);
        layout from = error ? lw.produce_e : lu.produce_f, to = error ? lu.require_e : lw.require_f;
        int nx = 0;
        for (int q = 0; q < lv->n_pairs && rc == 0; q++) {
            const run_box *pb = run_geom_box(&c->G, v, lv->pairs[q].i.first, h);
            run_block parent = act_block(nd, pb->b, pb->ci);
            for (int g = 0; g < 2 && rc == 0; g++) {
                run_block want = piece(to, g, lv->alpha, parent);
                run_block have = piece(from, g, lv->alpha, parent);
                float *data = alloc_floats(c, run_block_elems(&want));
                if (!data) {
                    rc = -1;
                    break;
                }
                run_block_copy(&want, data, &all, tensor);
                int64_t n = run_block_missing(&want, &have, data, NULL);
                float *missing = n > 0 ? alloc_floats(c, 2 * n) : NULL;
                if (missing) {
                    run_block_missing(&want, &have, data, missing);
                    x[nx++] = (run_xfer){v,
                                         h,
                                         q,
                                         g,
                                         error ? "E conversion" : "F conversion",
                                         missing,
                                         n,
                                         COST_ACT_BYTES,
                                         missing + n};
                } else if (n > 0) {
                    rc = -1;
                }
                free(data);
            }
        }
        if (rc == 0 && nx > 0)
            rc = run_comm_batch(c, x, nx);
        for (int k = 0; k < nx; k++)
            free((float *)x[k].data);
    }
    free(x);
    return rc;
}
