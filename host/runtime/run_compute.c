/* The devices' GEMMs at the run's fidelity, the per-GEMM cycle check against the closed-form
 * contract, and the planner's selected model's prediction of the same GEMM. */
#include "run_compute.h"

#include "run_fault.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Records the device's first failed check. */
static void fail(run_device_tally *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(run_device_tally *t, const char *fmt, ...) {
    if (t->failure[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->failure, sizeof t->failure, fmt, ap);
    va_end(ap);
}

int run_device_gemm(run_ctx *c, int d, int v, gemm_phase ph, const gemm_args *ga,
                    run_device_tally *t) {
    const plan *p = c->p;
    const gemm_dims *want = plan_gemm(p, d, v, ph);
    const net_node *nd = &c->g->nodes[v];
    const accel_preset *preset = &c->a->kinds[c->a->kind_of[d]];
    if (want->m != ga->m || want->k != ga->k || want->n != ga->n) {
        fail(t, "layer %s %s on device %d: shape %lldx%lldx%lld, planner %lldx%lldx%lld", nd->name,
             phase_name(ph), d, (long long)ga->m, (long long)ga->k, (long long)ga->n,
             (long long)want->m, (long long)want->k, (long long)want->n);
    }
    gemm_run_stats st;
    char why[512];
    if (gemm_run(c->dev[d], ga, &st, why, sizeof why) != 0) {
        snprintf(c->err, c->errlen, "layer %s %s on device %d (%s): %s", nd->name, phase_name(ph),
                 d, preset->name, why);
        return -1;
    }
    t->host_bytes += st.bytes_to_device + st.bytes_from_device;
    if (ga->c) /* else the caller's (run_layer.c: the E image) */
        run_fault_result(c, d, v, ph, ga->c, ga->m, ga->n);
    /* the contract: the closed form of the planner's shape on this device's preset; and what
     * the planner's selected model (exact, calibrated or peak) predicts for it */
    gemm_schedule s;
    cycle_breakdown contract;
    double modelled;
    if (gemm_schedule_make(preset, want->m, want->k, want->n, 0, &s, why, sizeof why) != 0 ||
        device_model_cycles(preset, &c->a->models[c->a->kind_of[d]], want->m, want->k, want->n,
                            &modelled, why, sizeof why) != 0) {
        snprintf(c->err, c->errlen, "layer %s %s on device %d: %s", nd->name, phase_name(ph), d,
                 why);
        return -1;
    }
    gemm_cycles_closed_form(&s, &contract);
    if (st.cycles.total != contract.total)
        fail(t, "layer %s %s on device %d: %llu cycles, the contract (closed form) %llu", nd->name,
             phase_name(ph), d, (unsigned long long)st.cycles.total,
             (unsigned long long)contract.total);
    run_layer *L = &c->r->layers[v];
    L->cycles[d] += st.cycles.total;
    L->contract_cycles[d] += contract.total;
    c->r->device_cycles[d] += st.cycles.total;
    c->r->device_contract_cycles[d] += contract.total;
    c->r->device_model_cycles[d] += modelled;
    t->cycles += st.cycles.total;
    t->gemms++;
    t->macs += (uint64_t)ga->m * (uint64_t)ga->k * (uint64_t)ga->n;
    return 0;
}
