/* One layer of the step: its GEMMs on every device, the reductions of their partial results and
 * the OpenBLAS check of the assembled results. */
#include "run_layer.h"

#include "run_reduce.h"
#include "run_remote.h"
#include "run_tensor.h"
#include "run_verify.h"

#include "parallel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    run_gen_block(c->o->seed, v, RUN_T_IN_ACT, nd->cin, &t->x_blk, t->x, c->o->jobs);
    run_gen_block(c->o->seed, v, RUN_T_WEIGHT, nd->cout, &t->w_blk, t->w, c->o->jobs);
    run_gen_block(c->o->seed, v, RUN_T_OUT_ERR, nd->cout, &t->g_blk, t->gerr, c->o->jobs);
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

/* The device's E(l): col2im of its backward GEMM's output, one sample at a time. */
static int device_error(run_ctx *c, const net_node *nd, const run_box *b, const float *eg,
                        float *out) {
    int64_t rps = nd->hout * nd->wout, nci = run_len(b->ci), n = nci * run_hw_in(nd);
    int64_t di = nci * nd->k * nd->k;
    double *img = run_doubles(c, n);
    for (int64_t s = 0; img && s < run_len(b->b); s++) {
        memset(img, 0, sizeof *img * (size_t)n);
        run_col2im_add_floats(nd, nci, (run_range){0, nci}, eg + s * rps * di, s * rps,
                              (s + 1) * rps, img);
        for (int64_t k = 0; k < n; k++)
            out[s * n + k] = (float)img[k];
    }
    free(img);
    return img ? 0 : -1;
}

int run_device_layer(run_ctx *c, int v, int d, const float *ops, phase_set phases,
                     float *out[PHASES], run_device_tally *tally) {
    const net_node *nd = &c->g->nodes[v];
    const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
    int64_t rows = run_len(b->b) * nd->hout * nd->wout, di = run_len(b->ci) * nd->k * nd->k;
    int64_t co = run_len(b->co), n[3];
    run_device_operand_elems(c, v, d, n);
    const float *w = ops + n[0], *e = ops + n[0] + n[1];
    /* op(A) of the forward and gradient GEMMs: the im2col of the input block, packed straight
     * from it (run_tensor.h) */
    run_im2col_src x = {nd, run_len(b->ci), ops};
    int rc = 0;
    for (int ph = 0; ph < PHASES && rc == 0; ph++)
        if ((phases & PHASE_BIT(ph)) &&
            !(out[ph] = run_floats(c, run_device_result_elems(c, v, d, (gemm_phase)ph))))
            rc = -1;
    if (rc == 0 && (phases & PHASE_BIT(PHASE_FORWARD))) {
        gemm_args ga = {.m = rows,
                        .k = di,
                        .n = co,
                        .b = w,
                        .c = out[PHASE_FORWARD],
                        .a_blocks = {run_im2col_block, &x}};
        rc = run_device_gemm(c, d, v, PHASE_FORWARD, &ga, tally);
    }
    if (rc == 0 && (phases & PHASE_BIT(PHASE_BACKWARD))) {
        float *eg = run_floats(c, rows * di);
        gemm_args ga = {.m = rows, .k = co, .n = di, .trans_b = 1, .a = e, .b = w, .c = eg};
        rc = eg ? run_device_gemm(c, d, v, PHASE_BACKWARD, &ga, tally) : -1;
        if (rc == 0)
            rc = device_error(c, nd, b, eg, out[PHASE_BACKWARD]);
        free(eg);
    }
    if (rc == 0 && (phases & PHASE_BIT(PHASE_GRADIENT))) {
        gemm_args ga = {.m = di,
                        .k = rows,
                        .n = co,
                        .b = e,
                        .c = out[PHASE_GRADIENT],
                        .a_blocks = {run_im2col_t_block, &x}};
        rc = run_device_gemm(c, d, v, PHASE_GRADIENT, &ga, tally);
    }
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
            rc = run_verify(c, v, ph, t, out[ph][0]);
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
