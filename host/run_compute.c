/* The devices' GEMMs at the run's fidelity and the per-GEMM cycle check. */
#include "run_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const PHASE[RUN_PHASES] = {"forward", "backward", "gradient"};

int run_device_gemm(run_ctx *c, int d, int v, int ph, const gemm_args *ga, uint64_t *cycles) {
    const plan *p = &c->r->plan;
    const gemm_dims *want =
        &p->gemms[((size_t)d * (size_t)p->n_nodes + (size_t)v) * 3 + (size_t)ph];
    const net_node *nd = &c->g->nodes[v];
    int kind = c->a->kind_of[d];
    if (want->m != ga->m || want->k != ga->k || want->n != ga->n) {
        run_fail(c, "layer %s %s on device %d: shape %lldx%lldx%lld, planner %lldx%lldx%lld",
                 nd->name, PHASE[ph], d, (long long)ga->m, (long long)ga->k, (long long)ga->n,
                 (long long)want->m, (long long)want->k, (long long)want->n);
    }
    gemm_run_stats st;
    if (gemm_run(c->dev[d], ga, &st, c->err, c->errlen) != 0)
        return -1;
    c->r->host_bytes += st.bytes_to_device + st.bytes_from_device;
    const run_fault *f = &c->o->fault;
    if (f->kind == RUN_FAULT_CORRUPT_TILE && f->node == v && f->device == d && f->phase == ph)
        for (int64_t j = 0; j < ga->n; j++) /* one row of the result, wrong */
            ga->c[ga->m / 2 * ga->n + j] = ga->c[ga->m / 2 * ga->n + j] * 2.0f + 1.0f;
    /* the prediction: the closed form of the planner's shape on this device's preset */
    gemm_schedule s;
    cycle_breakdown pred;
    if (gemm_schedule_make(&c->a->kinds[kind], want->m, want->k, want->n, 0, &s, c->err,
                           c->errlen) != 0)
        return -1;
    gemm_cycles_closed_form(&s, &pred);
    if (st.cycles.total != pred.total)
        run_fail(c, "layer %s %s on device %d: %llu cycles, planner predicts %llu", nd->name,
                 PHASE[ph], d, (unsigned long long)st.cycles.total, (unsigned long long)pred.total);
    run_layer *L = &c->r->layers[v];
    L->cycles[d] += st.cycles.total;
    L->predicted_cycles[d] += pred.total;
    c->r->device_cycles[d] += st.cycles.total;
    c->r->device_predicted_cycles[d] += pred.total;
    *cycles += st.cycles.total;
    c->gemms_done++;
    if (c->o->progress)
        c->o->progress(c->o->progress_ctx, c->gemms_done, c->gemms_total);
    return 0;
}
