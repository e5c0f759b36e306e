/* One layer of the step: its GEMMs on every device, the reductions of their partial results and
 * the OpenBLAS check of the assembled results. */
#include "run_layer.h"

#include "run_reduce.h"
#include "run_remote.h"
#include "run_tensor.h"

#include "digest.h"
#include "parallel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double *doubles(run_ctx *c, int64_t n) {
    double *p = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!p)
        snprintf(c->err, c->errlen, "layer %s: out of host memory (%lld doubles)",
                 c->g->nodes[c->node].name, (long long)n);
    return p;
}

int run_layer_tensors(run_ctx *c, int v, run_layer_data *t) {
    const net_node *nd = &c->g->nodes[v];
    int64_t batch = c->p->batch, kk = nd->k * nd->k;
    memset(t, 0, sizeof *t);
    t->x_blk = run_input_block(nd, (run_range){0, batch}, (run_range){0, nd->cin});
    t->w_blk = (run_block){{0, nd->cin}, {0, nd->cout}, kk, 1};
    t->g_blk = (run_block){{0, batch}, {0, nd->cout}, nd->hout * nd->wout, 1};
    t->x = run_floats(c, run_block_elems(&t->x_blk));
    t->w = run_floats(c, run_block_elems(&t->w_blk));
    t->gerr = run_floats(c, run_block_elems(&t->g_blk));
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

void run_device_operand_elems(const run_ctx *c, int v, int d, int64_t n[3]) {
    const net_node *nd = &c->g->nodes[v];
    const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
    run_block xb = run_input_block(nd, b->b, b->ci);
    n[0] = run_block_elems(&xb);
    n[1] = run_len(b->ci) * nd->k * nd->k * run_len(b->co);
    n[2] = run_len(b->b) * nd->hout * nd->wout * run_len(b->co);
}

float *run_device_operands(run_ctx *c, int v, int d, const run_layer_data *t) {
    const net_node *nd = &c->g->nodes[v];
    const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
    const run_piece *in = &c->input[(size_t)v * (size_t)c->r->n_devices + (size_t)d];
    run_block xb = run_input_block(nd, b->b, b->ci);
    run_block wb = {b->ci, b->co, nd->k * nd->k, 1};
    run_block gb = {b->b, b->co, nd->hout * nd->wout, 1};
    int64_t n[3];
    run_device_operand_elems(c, v, d, n);
    float *ops = run_floats(c, n[0] + n[1] + n[2]);
    if (!ops)
        return NULL;
    if (in->data)
        run_block_copy(&xb, ops, &in->blk, in->data);
    else
        run_block_copy(&xb, ops, &t->x_blk, t->x);
    run_block_copy(&wb, ops + n[0], &t->w_blk, t->w);
    run_block_copy(&gb, ops + n[0] + n[1], &t->g_blk, t->gerr);
    return ops;
}

int64_t run_device_result_elems(const run_ctx *c, int v, int d, gemm_phase ph) {
    const net_node *nd = &c->g->nodes[v];
    const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
    int64_t rows = run_len(b->b) * nd->hout * nd->wout, di = run_len(b->ci) * nd->k * nd->k;
    return ph == PHASE_FORWARD    ? rows * run_len(b->co)
           : ph == PHASE_BACKWARD ? run_len(b->b) * run_len(b->ci) * run_hw_in(nd)
                                  : di * run_len(b->co);
}

/* The device's E(l): col2im of its backward GEMM's output. */
static int device_error(run_ctx *c, const net_node *nd, const run_box *b, const float *eg,
                        float *out) {
    int64_t rows = run_len(b->b) * nd->hout * nd->wout, di = run_len(b->ci) * nd->k * nd->k;
    int64_t n = run_len(b->b) * run_len(b->ci) * run_hw_in(nd);
    double *cols = doubles(c, rows * di), *img = doubles(c, n);
    if (cols && img) {
        for (int64_t k = 0; k < rows * di; k++)
            cols[k] = eg[k];
        run_col2im(nd, run_len(b->b), run_len(b->ci), cols, img);
        for (int64_t k = 0; k < n; k++)
            out[k] = (float)img[k];
    }
    free(cols);
    free(img);
    return cols && img ? 0 : -1;
}

int run_device_layer(run_ctx *c, int v, int d, const float *ops, phase_set phases,
                     float *out[PHASES], run_device_tally *tally) {
    const net_node *nd = &c->g->nodes[v];
    const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
    int64_t rows = run_len(b->b) * nd->hout * nd->wout, di = run_len(b->ci) * nd->k * nd->k;
    int64_t co = run_len(b->co), n[3];
    run_device_operand_elems(c, v, d, n);
    const float *w = ops + n[0], *e = ops + n[0] + n[1];
    float *a = run_floats(c, rows * di);
    int rc = a ? 0 : -1;
    if (rc == 0)
        run_im2col(nd, run_len(b->b), run_len(b->ci), ops, a);
    for (int ph = 0; ph < PHASES && rc == 0; ph++)
        if ((phases & PHASE_BIT(ph)) &&
            !(out[ph] = run_floats(c, run_device_result_elems(c, v, d, (gemm_phase)ph))))
            rc = -1;
    if (rc == 0 && (phases & PHASE_BIT(PHASE_FORWARD))) {
        gemm_args ga = {rows, di, co, 0, 0, 0, a, w, out[PHASE_FORWARD]};
        rc = run_device_gemm(c, d, v, PHASE_FORWARD, &ga, tally);
    }
    if (rc == 0 && (phases & PHASE_BIT(PHASE_BACKWARD))) {
        float *eg = run_floats(c, rows * di);
        gemm_args ga = {rows, co, di, 0, 1, 0, e, w, eg};
        rc = eg ? run_device_gemm(c, d, v, PHASE_BACKWARD, &ga, tally) : -1;
        if (rc == 0)
            rc = device_error(c, nd, b, eg, out[PHASE_BACKWARD]);
        free(eg);
    }
    if (rc == 0 && (phases & PHASE_BIT(PHASE_GRADIENT))) {
        gemm_args ga = {di, rows, co, 1, 0, 0, a, e, out[PHASE_GRADIENT]};
        rc = run_device_gemm(c, d, v, PHASE_GRADIENT, &ga, tally);
    }
    free(a);
    return rc;
}

/* Device d's GEMMs of the phases, its operands taken from the layer's tensors; out[ph][d]
 * receive the results. */
static int device_gemms(run_ctx *c, int v, int d, const run_layer_data *t, phase_set phases,
                        float **out[PHASES], run_device_tally *tally) {
    float *ops = run_device_operands(c, v, d, t), *mine[PHASES] = {NULL};
    int rc = ops ? run_device_layer(c, v, d, ops, phases, mine, tally) : -1;
    for (int ph = 0; ph < PHASES; ph++)
        out[ph][d] = mine[ph];
    free(ops);
    return rc;
}

/* One device's share of a layer, run on a thread of its own: a copy of the step's context
 * whose error goes to the job. */
typedef struct device_job {
    run_ctx c;
    run_device_outcome o;
} device_job;

typedef struct layer_jobs {
    device_job *jobs;
    int v;
    const run_layer_data *t;
    phase_set phases;
    float ***out; /* [phase][device] */
} layer_jobs;

static void run_job(void *ctx, int d, int worker) {
    (void)worker;
    layer_jobs *L = ctx;
    device_job *j = &L->jobs[d];
    if (run_local(&j->c, d))
        j->o.rc = device_gemms(&j->c, L->v, d, L->t, L->phases, L->out, &j->o.tally);
}

/* The GEMMs of the phases on every device, the devices in parallel (o->jobs); out[ph][d]
 * receive the results. Errors, failed checks and counts are taken in device order. */
static int compute(run_ctx *c, int v, const run_layer_data *t, phase_set phases,
                   float **out[PHASES]) {
    int n = c->r->n_devices, rc = 0;
    uint64_t *cycles = calloc((size_t)n, sizeof *cycles);
    device_job *jobs = calloc((size_t)n, sizeof *jobs);
    run_device_outcome *remote = calloc((size_t)n, sizeof *remote); /* other ranks' devices */
    if (!cycles || !jobs || !remote) {
        free(cycles);
        free(jobs);
        free(remote);
        snprintf(c->err, c->errlen, "layer %s: out of host memory", c->g->nodes[v].name);
        return -1;
    }
    for (int d = 0; d < n; d++) {
        jobs[d].c = *c;
        jobs[d].c.err = jobs[d].o.err;
        jobs[d].c.errlen = sizeof jobs[d].o.err;
    }
    layer_jobs L = {jobs, v, t, phases, out};
    /* the other ranks' devices start first, then this rank's; their results come back after */
    rc = run_remote_gemms_send(c, v, t, phases);
    if (rc == 0)
        parallel_for(n, c->o->jobs, run_job, &L);
    if (rc == 0)
        rc = run_remote_gemms_recv(c, v, phases, out, remote);
    for (int d = 0; d < n; d++) {
        const run_device_outcome *o = run_local(c, d) ? &jobs[d].o : &remote[d];
        const run_device_tally *tally = &o->tally;
        if (o->rc != 0 && rc == 0) {
            rc = -1;
            snprintf(c->err, c->errlen, "%s", o->err);
        }
        cycles[d] = tally->cycles;
        c->r->host_bytes += tally->host_bytes;
        c->gemms_done += tally->gemms;
        c->r->macs += tally->macs;
        if (tally->failure[0])
            run_fail(c, "%s", tally->failure);
    }
    free(jobs);
    free(remote);
    if (rc == 0 && c->o->progress)
        c->o->progress(c->o->progress_ctx, c->gemms_done, c->gemms_total);
    double t0 = platform_now_s(c->pf);
    if (rc == 0)
        rc = platform_compute(c->pf, cycles, c->err, c->errlen);
    if (rc == 0) {
        c->r->simulated_compute_s += platform_now_s(c->pf) - t0;
        for (int d = 0; d < n; d++) {
            if (cycles[d] == 0)
                continue;
            const accel_preset *p = &c->a->kinds[c->a->kind_of[d]];
            run_event e = {phases & PHASE_BIT(PHASE_FORWARD) ? "forward" : "backward+gradient",
                           v,
                           -1,
                           d,
                           -1,
                           0,
                           t0,
                           t0 + model_seconds(p, cycles[d]),
                           0,
                           cycles[d]};
            run_event_add(c, &e);
        }
    }
    free(cycles);
    return rc;
}

/* Names the devices whose own block holds element `index` of a phase's whole result. */
static void holders(run_ctx *c, int v, gemm_phase ph, int64_t index, char *out, size_t len) {
    const net_node *nd = &c->g->nodes[v];
    run_block whole = run_result_block(nd, ph, run_geom_box(&c->G, v, 0, 0));
    int64_t ny = run_len(whole.y) * whole.my;
    int64_t x = index / ny / whole.mx, y = index % ny / whole.my;
    size_t used = (size_t)snprintf(out, len, "held by device");
    for (int d = 0; d < c->r->n_devices && used < len; d++) {
        run_block own = run_result_block(nd, ph, run_geom_box(&c->G, v, d, c->G.depths - 1));
        if (x >= own.x.lo && x < own.x.hi && y >= own.y.lo && y < own.y.hi)
            used += (size_t)snprintf(out + used, len - used, " %d", d);
    }
}

/* E(l) = col2im(E(l+1) W^T) against OpenBLAS: reference and magnitudes through the same col2im,
 * the bound's K the products summed per element (Do k^2). */
static int check_backward(run_ctx *c, const net_node *nd, const gemm_args *ga, const float *result,
                          gemm_check *chk) {
    int64_t batch = c->p->batch, n = ga->m * ga->n, n_img = batch * nd->cin * run_hw_in(nd);
    float *ref = run_floats(c, n);
    double *mag = doubles(c, n), *ref_d = doubles(c, n), *mag_img = doubles(c, n_img);
    double *ref_img = doubles(c, n_img);
    float *ref_img_f = run_floats(c, n_img);
    int rc = ref && mag && ref_d && mag_img && ref_img && ref_img_f
                 ? gemm_blas_reference(ga, NULL, ref, mag, chk)
                 : -1;
    if (rc == 0) {
        for (int64_t k = 0; k < n; k++)
            ref_d[k] = ref[k];
        run_col2im(nd, batch, nd->cin, ref_d, ref_img);
        run_col2im(nd, batch, nd->cin, mag, mag_img);
        for (int64_t k = 0; k < n_img; k++)
            ref_img_f[k] = (float)ref_img[k];
        gemm_check_values(result, ref_img_f, mag_img, batch, nd->cin * run_hw_in(nd),
                          nd->cout * nd->k * nd->k, chk);
    }
    free(ref), free(mag), free(ref_d), free(mag_img), free(ref_img), free(ref_img_f);
    return rc;
}

/* The whole result of phase ph against an unpartitioned OpenBLAS computation. */
static int verify(run_ctx *c, int v, gemm_phase ph, const run_layer_data *t, const float *result) {
    const net_node *nd = &c->g->nodes[v];
    int64_t batch = c->p->batch, rows = batch * nd->hout * nd->wout;
    int64_t di = nd->cin * nd->k * nd->k, co = nd->cout;
    run_layer *L = &c->r->layers[v];
    int backward = ph == PHASE_BACKWARD;
    float *cols = backward ? NULL : run_floats(c, rows * di);
    int rc = backward || cols ? 0 : -1;
    if (rc == 0 && cols)
        run_im2col(nd, batch, nd->cin, t->x, cols);
    gemm_args ga = ph == PHASE_FORWARD ? (gemm_args){rows, di, co, 0, 0, 0, cols, t->w, NULL}
                   : backward          ? (gemm_args){rows, co, di, 0, 1, 0, t->gerr, t->w, NULL}
                                       : (gemm_args){di, rows, co, 1, 0, 0, cols, t->gerr, NULL};
    if (rc == 0)
        rc = backward ? check_backward(c, nd, &ga, result, &L->check[ph])
                      : gemm_check_blas(&ga, NULL, result, &L->check[ph]);
    free(cols);
    if (rc != 0) {
        snprintf(c->err, c->errlen, "layer %s: out of host memory for the OpenBLAS check",
                 nd->name);
        return -1;
    }
    run_block whole = run_result_block(nd, ph, run_geom_box(&c->G, v, 0, 0));
    L->checked[ph] = 1;
    L->result_hash[ph] =
        digest_bytes(DIGEST_INIT, result, sizeof(float) * (size_t)run_block_elems(&whole));
    if (!L->check[ph].passed) {
        char who[128];
        holders(c, v, ph, L->check[ph].first_bad, who, sizeof who);
        run_fail(c, "layer %s %s result vs OpenBLAS: %s (%s)", nd->name, phase_name(ph),
                 L->check[ph].message, who);
    }
    return 0;
}

int run_layer_phases(run_ctx *c, int v, const run_layer_data *t, phase_set phases, float **whole) {
    int n = c->r->n_devices, rc = 0;
    float **out[PHASES];
    for (int ph = 0; ph < PHASES; ph++)
        if (!(out[ph] = calloc((size_t)n, sizeof(float *))))
            rc = -1;
    if (rc == 0)
        rc = compute(c, v, t, phases, out);
    for (int k = 0; k < PHASES && rc == 0; k++) {
        gemm_phase ph = (gemm_phase)k;
        if (!(phases & PHASE_BIT(ph)))
            continue;
        rc = run_reduce(c, v, ph, out[ph]);
        if (rc == 0)
            rc = verify(c, v, ph, t, out[ph][0]);
        if (rc == 0 && ph == PHASE_BACKWARD) {
            *whole = out[ph][0];
            out[ph][0] = NULL;
        }
    }
    for (int ph = 0; ph < PHASES; ph++) {
        for (int d = 0; out[ph] && d < n; d++)
            free(out[ph][d]);
        free(out[ph]);
    }
    return rc;
}
