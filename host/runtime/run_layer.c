/* One layer of the step: its GEMMs on every device, the reductions of their partial results and
 * the OpenBLAS check of the assembled results. */
#include "run_layer.h"

#include "run_fault.h"
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

/* The device's E(l), col2im of its backward GEMM's result, taken from the device a chunk of
 * rows at a time (gemm_c_blocks): each chunk's rows are added into the double images of their
 * samples, and a sample's image is rounded to float into out once the chunks have passed its
 * rows. Chunks come in row order, so a sample a chunk starts past is never touched again, and
 * a window of images covers every sample still open. */
typedef struct error_sink {
    const net_node *nd;
    int64_t nci, window, done; /* samples done .. are open, in slots s % window */
    double *img;               /* window images of nci * hw_in */
    float *out;                /* [samples][nci * hw_in] */
} error_sink;

/* Samples before `upto` rounded into out, their slots cleared for the next. */
static void finish_samples(error_sink *e, int64_t upto) {
    int64_t n = e->nci * run_hw_in(e->nd);
    for (; e->done < upto; e->done++) {
        double *img = e->img + e->done % e->window * n;
        for (int64_t k = 0; k < n; k++)
            e->out[e->done * n + k] = (float)img[k];
        memset(img, 0, sizeof *img * (size_t)n);
    }
}

static void error_chunk(void *ctx, int64_t i0, int64_t ni, const float *tiles, int64_t tile_stride,
                        int64_t cols) {
    error_sink *e = ctx;
    int64_t rps = e->nd->hout * e->nd->wout, n = e->nci * run_hw_in(e->nd);
    finish_samples(e, i0 / rps);
    for (int64_t r = i0, hi; r < i0 + ni; r = hi) { /* sample by sample */
        hi = (r / rps + 1) * rps < i0 + ni ? (r / rps + 1) * rps : i0 + ni;
        run_col2im_add_floats(e->nd, e->nci, (run_range){0, e->nci}, tiles + (r - i0) * cols, cols,
                              tile_stride, r, hi, e->img + r / rps % e->window * n);
    }
}

int64_t run_device_error_window(const run_ctx *c, int v, int d) {
    const net_node *nd = &c->g->nodes[v];
    const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
    int64_t rps = nd->hout * nd->wout, nb = run_len(b->b), m_chunk = nb * rps;
    gemm_schedule s;
    char why[256];
    if (gemm_schedule_make(&c->a->kinds[c->a->kind_of[d]], nb * rps, run_len(b->co),
                           run_len(b->ci) * nd->k * nd->k, 0, &s, why, sizeof why) == 0)
        m_chunk = s.m_chunk;
    /* a chunk of m_chunk rows from any row spans at most this many samples */
    int64_t span = (m_chunk + rps - 2) / rps + 1;
    return span < nb ? span : nb;
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
        int64_t window = run_device_error_window(c, v, d), n = run_len(b->ci) * run_hw_in(nd);
        error_sink sink = {
            nd, run_len(b->ci), window, 0, run_doubles(c, window * n), out[PHASE_BACKWARD]};
        gemm_args ga = {.m = rows,
                        .k = co,
                        .n = di,
                        .trans_b = 1,
                        .a = e,
                        .b = w,
                        .c_blocks = {error_chunk, &sink}};
        if (sink.img)
            memset(sink.img, 0, sizeof *sink.img * (size_t)(window * n));
        rc = sink.img ? run_device_gemm(c, d, v, PHASE_BACKWARD, &ga, tally) : -1;
        if (rc == 0) {
            finish_samples(&sink, run_len(b->b));
            run_fault_result(c, d, v, PHASE_BACKWARD, out[PHASE_BACKWARD], run_len(b->b) * sink.nci,
                             run_hw_in(nd));
        }
        free(sink.img);
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
    const int *order; /* the devices, the most multiply-adds first */
    int v;
    const run_layer_data *t;
    phase_set phases;
    float ***out; /* [phase][device] */
} layer_jobs;

static void run_job(void *ctx, int i, int worker) {
    (void)worker;
    layer_jobs *L = ctx;
    int d = L->order[i];
    device_job *j = &L->jobs[d];
    if (run_local(&j->c, d))
        j->o.rc = device_gemms(&j->c, L->v, d, L->t, L->phases, L->out, &j->o.tally);
}

/* Device d's multiply-adds in layer v: M*K*N of each of its GEMMs (the same in every phase). */
static int64_t device_macs(const run_ctx *c, int v, int d) {
    const net_node *nd = &c->g->nodes[v];
    const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
    return run_len(b->b) * nd->hout * nd->wout * run_len(b->ci) * nd->k * nd->k * run_len(b->co);
}

/* Devices by their multiply-adds, the most first (ties in device order): the threads take the
 * longest jobs first, so the last ones to finish are short and the threads finish together. */
static void order_by_work(const run_ctx *c, int v, int n, int *order) {
    for (int d = 0; d < n; d++) { /* insertion sort: a handful of devices */
        int64_t w = device_macs(c, v, d);
        int at = d;
        for (; at > 0 && device_macs(c, v, order[at - 1]) < w; at--)
            order[at] = order[at - 1];
        order[at] = d;
    }
}

/* The GEMMs of the phases on every device, the devices in parallel (o->jobs), the most work
 * first; out[ph][d] receive the results. Errors, failed checks and counts are taken in device
 * order. */
static int compute(run_ctx *c, int v, const run_layer_data *t, phase_set phases,
                   float **out[PHASES]) {
    int n = c->r->n_devices, rc = 0;
    uint64_t *cycles = calloc((size_t)n, sizeof *cycles);
    int *order = calloc((size_t)n, sizeof *order);
    device_job *jobs = calloc((size_t)n, sizeof *jobs);
    run_device_outcome *remote = calloc((size_t)n, sizeof *remote); /* other ranks' devices */
    if (!cycles || !order || !jobs || !remote) {
        free(cycles);
        free(order);
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
    order_by_work(c, v, n, order);
    layer_jobs L = {jobs, order, v, t, phases, out};
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
    free(order);
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
