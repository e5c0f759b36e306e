/* The step's schedule: set up the devices and platform for the plan; the forward sweep in
 * topological order, the backward sweep in reverse; then the byte accounting against the
 * planner. docs/runtime.md. */
#include "run_comm.h"
#include "run_convert.h"
#include "run_layer.h"
#include "run_memory.h"
#include "run_remote.h"
#include "run_tensor.h"
#include "run_trace.h"

#include "bf16.h"
#include "digest.h"
#include "host_memory.h"
#include "output_set.h"
#include "page_pool.h"
#include "plan_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_net(const net *g, char *err, size_t errlen) {
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        if (nd->kind == NODE_CONV && nd->stride < 1) {
            snprintf(err, errlen,
                     "%s: layer %s: stride and padding unknown (reference format): run needs a "
                     ".net network",
                     g->path[0] ? g->path : g->name, nd->name);
            return -1;
        }
    }
    return 0;
}

/* The plan must have been made for this network and array. */
static int check_plan(const net *g, const accel_array *a, const plan *p, char *err, size_t errlen) {
    if (p->n_nodes != g->n || p->n_devices != a->n) {
        snprintf(err, errlen,
                 "the plan is for %d nodes on %d devices; network %s has %d nodes, the array %d "
                 "devices",
                 p->n_nodes, p->n_devices, net_source(g), g->n, a->n);
        return -1;
    }
    return 0;
}

static int alloc_result(run_result *r) {
    int n = r->n_nodes, L = r->n_levels > 0 ? r->n_levels : 1, D = r->n_devices;
    r->layers = calloc((size_t)n, sizeof *r->layers);
    r->device_cycles = calloc((size_t)D, sizeof(uint64_t));
    r->device_contract_cycles = calloc((size_t)D, sizeof(uint64_t));
    r->device_model_cycles = calloc((size_t)D, sizeof(double));
    r->device_compute_s = calloc((size_t)D, sizeof(double));
    r->device_mem_resident = calloc((size_t)D * 2, sizeof(uint64_t));
    r->rank_of = calloc((size_t)D, sizeof(int));
    if (!r->layers || !r->device_cycles || !r->device_contract_cycles || !r->device_model_cycles ||
        !r->device_compute_s || !r->device_mem_resident || !r->rank_of)
        return -1;
    for (int v = 0; v < n; v++) {
        run_layer *l = &r->layers[v];
        l->bytes = calloc((size_t)L * 2, sizeof(uint64_t));
        l->cycles = calloc((size_t)D * 2, sizeof(uint64_t));
        if (!l->bytes || !l->cycles)
            return -1;
        l->predicted_bytes = l->bytes + L;
        l->contract_cycles = l->cycles + D;
    }
    r->device_mem_peak = r->device_mem_resident + D;
    return 0;
}

/* The waveforms' size, estimated from each device's GEMMs in closed form before anything runs,
 * against the caller's limit. */
static int check_trace_size(run_ctx *c) {
    const plan *p = c->p;
    uint64_t total = 0;
    for (int d = 0; d < p->n_devices; d++) {
        const accel_preset *preset = &c->a->kinds[c->a->kind_of[d]];
        uint64_t cycles = 0;
        for (int v = 0; v < p->n_nodes; v++)
            for (int ph = 0; ph < PHASES; ph++) {
                const gemm_dims *g = plan_gemm(p, d, v, (gemm_phase)ph);
                gemm_schedule s;
                cycle_breakdown cb;
                char why[256];
                if (g->m < 1 || g->k < 1 || g->n < 1 ||
                    (ph == PHASE_BACKWARD && !c->needs_backward[v]) ||
                    gemm_schedule_make(preset, g->m, g->k, g->n, 0, &s, why, sizeof why) != 0)
                    continue; /* no GEMM, or one the run itself reports */
                gemm_cycles_closed_form(&s, &cb);
                cycles += cb.total;
            }
        uint64_t bytes = accel_trace_bytes_estimate(preset, cycles);
        total = total > UINT64_MAX - bytes ? UINT64_MAX : total + bytes;
    }
    c->r->trace_estimate_bytes = total;
    if (c->o->trace_limit_bytes == 0 || total <= c->o->trace_limit_bytes)
        return 0;
    snprintf(c->err, c->errlen,
             "--trace: the waveforms would take about %.0f MiB (estimated from the GEMMs' cycles), "
             "above the limit of %.0f MiB (--trace-limit-mib)",
             (double)total / (1 << 20), (double)c->o->trace_limit_bytes / (1 << 20));
    return -1;
}

/* Opens the devices; with trace_dir, declares the outputs (the timeline, each device's
 * waveform under rtl: output_set.h), which the caller commits. */
static int open_devices(run_ctx *c) {
    const accel_array *a = c->a;
    accel_backend be = c->o->fidelity;
    char path[1024];
    if (c->o->trace_dir && be == ACCEL_BACKEND_RTL && c->r->ranks > 1) {
        snprintf(c->err, c->errlen,
                 "--trace: the waveforms are written by one-process runs only (this run has %d "
                 "ranks); --trace-events gives the timeline",
                 c->r->ranks);
        return -1;
    }
    if (run_trace_declare(c) != 0 ||
        (c->o->trace_dir && be == ACCEL_BACKEND_RTL && check_trace_size(c) != 0))
        return -1;
    double *mhz = malloc(sizeof(double) * (size_t)a->n);
    if (!mhz)
        return -1;
    for (int d = 0; d < a->n; d++) {
        mhz[d] = a->kinds[a->kind_of[d]].clock_mhz;
        char why[256];
        if (!run_local(c, d))
            continue; /* its rank opens it */
        if (accel_open(&a->kinds[a->kind_of[d]], be, &c->dev[d], why, sizeof why) != ACCEL_OK) {
            snprintf(c->err, c->errlen, "device %d (%s): %s", d, a->kinds[a->kind_of[d]].name, why);
            free(mhz);
            return -1;
        }
        if (c->o->trace_dir && be == ACCEL_BACKEND_RTL) {
            if ((size_t)snprintf(path, sizeof path, "%s/device%d-%s.vcd", c->o->trace_dir, d,
                                 a->kinds[a->kind_of[d]].name) >= sizeof path) {
                snprintf(c->err, c->errlen, "--trace: %s: path too long", c->o->trace_dir);
                free(mhz);
                return -1;
            }
            if (run_trace_output(c, "--trace", path) != 0) {
                free(mhz);
                return -1;
            }
            if (accel_trace(c->dev[d], output_temp(path)) != ACCEL_OK) {
                snprintf(c->err, c->errlen, "--trace: %s", accel_last_error(c->dev[d]));
                free(mhz);
                return -1;
            }
        }
    }
    int rc = platform_open(a->n, mhz, &c->pf, c->err, c->errlen);
    free(mhz);
    return rc;
}

/* Reserves what each device keeps for the whole step (docs/runtime.md, "Device memory"): per
 * weighted layer, its shares of W and dW (fp32) and of the layer's input (bf16), over the box the
 * plan gives it. The data itself stays in host buffers; the reservation makes the device's
 * memory as full as the chip's would be, so GEMMs and transfers allocate on top of it. */
static int reserve_resident(run_ctx *c) {
    const net *g = c->g;
    for (int d = 0; d < c->a->n; d++)
        for (int v = 0; v < g->n && run_local(c, d); v++) {
            const net_node *nd = &g->nodes[v];
            if (!net_is_weighted(nd))
                continue;
            const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
            run_block in = run_input_block(nd, b->b, b->ci);
            int64_t w = run_len(b->ci) * nd->k * nd->k * run_len(b->co);
            uint64_t bytes[3] = {(uint64_t)w * MEMORY_WEIGHT_BYTES,
                                 (uint64_t)w * MEMORY_WEIGHT_BYTES,
                                 (uint64_t)run_block_elems(&in) * MEMORY_KEPT_BYTES};
            for (int k = 0; k < 3; k++) {
                uint64_t at;
                if (bytes[k] == 0)
                    continue;
                if (accel_alloc(c->dev[d], bytes[k], &at) != ACCEL_OK) {
                    snprintf(c->err, c->errlen, "layer %s on device %d (%s): %s", nd->name, d,
                             c->a->kinds[c->a->kind_of[d]].name, accel_last_error(c->dev[d]));
                    return -1;
                }
            }
        }
    for (int d = 0; d < c->a->n; d++)
        if (run_local(c, d))
            c->r->device_mem_resident[d] = accel_mem_peak(c->dev[d]);
    return 0;
}

/* The devices' high-water marks against the planner's footprint (plan_memory.h): the resident
 * set exactly; the peak at least resident + the largest GEMM and at most the planned peak (whose
 * staging term is a bound). */
static void check_memory(run_ctx *c) {
    const plan_memory *m = c->p->memory;
    for (int d = 0; d < c->a->n; d++) {
        if (run_local(c, d))
            c->r->device_mem_peak[d] = accel_mem_peak(c->dev[d]);
        uint64_t res = c->r->device_mem_resident[d], peak = c->r->device_mem_peak[d];
        if (!m)
            continue;
        if (res != m[d].resident || peak > m[d].peak || peak < m[d].resident + m[d].gemm)
            run_fail(c,
                     "device %d: %llu bytes resident and %llu at peak; the planner predicts %llu "
                     "resident and a peak in [%llu, %llu]",
                     d, (unsigned long long)res, (unsigned long long)peak,
                     (unsigned long long)m[d].resident,
                     (unsigned long long)(m[d].resident + m[d].gemm),
                     (unsigned long long)m[d].peak);
    }
}

/* The topology is derived from the plan: one link per split of its hierarchy, joining the
 * split's two groups (docs/runtime.md). */
static int add_links(run_ctx *c) {
    const plan *p = c->p;
    for (int h = 0; h < p->n_levels; h++)
        for (int q = 0; q < p->levels[h].n_pairs; q++) {
            device_group i = p->levels[h].pairs[q].i, j = p->levels[h].pairs[q].j;
            double bi = accel_group_link_bytes_per_s(c->a, i);
            double bj = accel_group_link_bytes_per_s(c->a, j);
            double li = accel_group_latency_s(c->a, i), lj = accel_group_latency_s(c->a, j);
            int id =
                platform_add_link(c->pf, bi < bj ? bi : bj, li > lj ? li : lj, c->err, c->errlen);
            if (id < 0)
                return -1;
            c->link[h * p->n_devices + q] = id;
        }
    return 0;
}

uint64_t run_inputs_digest(const net *g, const accel_array *a, const plan *p,
                           const run_options *o) {
    uint64_t h = digest_int(net_digest(g), (int64_t)accel_array_digest(a));
    h = digest_str(digest_int(digest_int(h, o->fidelity), (int64_t)o->seed), p->model);
    h = digest_int(digest_int(digest_int(h, p->strat), p->batch), p->n_levels);
    for (int k = 0; k < p->n_levels; k++) {
        h = digest_real(h, p->levels[k].alpha);
        h = digest_bytes(h, p->levels[k].state, sizeof(int) * (size_t)p->n_nodes);
    }
    h = digest_bytes(h, p->class_of, sizeof(int) * (size_t)p->n_devices);
    if (o->placement)
        h = digest_bytes(h, o->placement, sizeof(int) * (size_t)p->n_devices);
    return digest_bytes(h, p->gemms,
                        sizeof(gemm_dims) * (size_t)p->n_classes * (size_t)p->n_nodes * PHASES);
}

void run_placement(int n, int ranks, int *rank_of) {
    for (int r = 0; r < ranks; r++)
        for (int d = (int)((int64_t)r * n / ranks); d < (int64_t)(r + 1) * n / ranks; d++)
            rank_of[d] = r;
}

/* Each device's rank: the caller's placement, else run_placement's. */
static int place_devices(run_ctx *c) {
    run_result *r = c->r;
    r->ranks = cluster_size(c->o->cluster);
    c->rank = cluster_rank(c->o->cluster);
    if (!c->o->placement) {
        run_placement(r->n_devices, r->ranks, r->rank_of);
        return 0;
    }
    for (int d = 0; d < r->n_devices; d++) {
        r->rank_of[d] = c->o->placement[d];
        if (r->rank_of[d] < 0 || r->rank_of[d] >= r->ranks) {
            snprintf(c->err, c->errlen, "placement: device %d on rank %d; the job has ranks 0..%d",
                     d, r->rank_of[d], r->ranks - 1);
            return -1;
        }
    }
    return 0;
}

static int setup(run_ctx *c) {
    run_result *r = c->r;
    const net *g = c->g;
    if (check_net(g, c->err, c->errlen) != 0 || check_plan(g, c->a, c->p, c->err, c->errlen) != 0)
        return -1;
    r->plan = c->p;
    r->n_nodes = g->n;
    r->n_devices = c->a->n;
    r->n_levels = c->p->n_levels;
    r->predicted_step_s = c->p->step_s;
    r->predicted_bytes = c->p->comm_bytes;
    size_t L = (size_t)(r->n_levels > 0 ? r->n_levels : 1), D = (size_t)r->n_devices;
    c->dev = calloc(D, sizeof *c->dev);
    c->link = calloc(L * D, sizeof *c->link);
    c->recv = calloc((size_t)g->n * L * D * 2, sizeof *c->recv);
    c->needs_backward = calloc((size_t)g->n, sizeof *c->needs_backward);
    c->input = calloc((size_t)g->n * D, sizeof *c->input);
    if (alloc_result(r) != 0 || !c->dev || !c->link || !c->recv || !c->needs_backward ||
        !c->input || run_geom_make(g, c->p, &c->G) != 0) {
        snprintf(c->err, c->errlen, "out of host memory");
        return -1;
    }
    if (place_devices(c) != 0)
        return -1;
    char what[256];
    snprintf(what, sizeof what, "the step of %s at batch %lld", g->name, (long long)c->p->batch);
    /* rank 0 holds the tensors; other ranks only their devices' working sets */
    r->host_memory_bytes = run_host_bytes(c);
    if (c->rank == 0 && host_memory_check(what, r->host_memory_bytes, c->err, c->errlen) != 0)
        return RUN_FAILED;
    page_pool_set_limit(run_page_pool_bytes(c)); /* if it cannot, pages are zeroed afresh */
    run_remote_start(c);
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        c->needs_backward[v] = nd->n_in > 0 && g->nodes[nd->in[0]].kind != NODE_INPUT;
        if (net_is_weighted(nd))
            c->gemms_total += (int64_t)r->n_devices * (2 + c->needs_backward[v]);
    }
    return open_devices(c) != 0 || reserve_resident(c) != 0 || add_links(c) != 0 ? -1 : 0;
}

/* A layer's input pieces, kept from its forward to its backward sweep. */
static void free_inputs(run_ctx *c, int v) {
    for (int d = 0; d < c->r->n_devices; d++) {
        run_piece *in = &c->input[(size_t)v * (size_t)c->r->n_devices + (size_t)d];
        free(in->data);
        in->data = NULL;
    }
}

static int forward(run_ctx *c, int v) {
    const net_node *nd = &c->g->nodes[v];
    int rc = 0;
    c->node = v;
    if (nd->kind == NODE_ADD) {
        run_block all = run_input_block(nd, (run_range){0, c->p->batch}, (run_range){0, nd->cout});
        float *f = run_floats(c, run_block_elems(&all));
        if (!f)
            return -1;
        for (int e = 0; e < nd->n_in && rc == 0; e++) {
            run_gen_block(c->o->seed, v, RUN_T_IN_ACT + e, nd->cout, &all, f, c->o->jobs);
            rc = run_convert(c, v, e, CONVERT_F, f, NULL);
        }
        free(f);
        return rc;
    }
    run_layer_data t = {0};
    rc = run_layer_tensors(c, v, &t);
    if (rc == 0)
        rc = run_convert(c, v, 0, CONVERT_F, t.x, &c->input[(size_t)v * (size_t)c->r->n_devices]);
    if (rc == 0)
        rc = run_layer_phases(c, v, &t, PHASE_BIT(PHASE_FORWARD), NULL);
    run_layer_tensors_free(&t);
    return rc;
}

static int backward(run_ctx *c, int v) {
    const net_node *nd = &c->g->nodes[v];
    int rc = 0;
    float *e_in = NULL;
    c->node = v;
    run_block all =
        run_input_block(nd, (run_range){0, c->p->batch}, run_geom_box(&c->G, v, 0, 0)->ci);
    if (nd->kind == NODE_ADD) {
        e_in = run_floats(c, run_block_elems(&all));
        if (!e_in)
            return -1;
        run_gen_block(c->o->seed, v, RUN_T_ADD_ERR, nd->cout, &all, e_in, c->o->jobs);
    } else {
        run_layer_data t = {0};
        rc = run_layer_tensors(c, v, &t);
        if (rc == 0)
            rc = run_layer_phases(c, v, &t,
                                  PHASE_BIT(PHASE_GRADIENT) |
                                      (c->needs_backward[v] ? PHASE_BIT(PHASE_BACKWARD) : 0),
                                  &e_in);
        run_layer_tensors_free(&t);
        free_inputs(c, v);
    }
    /* E leaves the layer as bf16, the format of the conversions and of the producer's GEMMs */
    for (int64_t k = 0; e_in && k < run_block_elems(&all); k++)
        e_in[k] = bf16_round(e_in[k]);
    for (int e = 0; e < nd->n_in && rc == 0 && e_in; e++)
        rc = run_convert(c, v, e, CONVERT_E, e_in, NULL);
    free(e_in);
    return rc;
}

/* Bytes each group's leader used of what it received, per node, level and split, against the
 * planner's prediction; and the links' own count against those delivered bytes. */
static void check_bytes(run_ctx *c) {
    const plan *p = c->p;
    for (int h = 0; h < p->n_levels; h++)
        for (int q = 0; q < p->levels[h].n_pairs; q++)
            c->r->link_bytes += platform_link_bytes(c->pf, c->link[h * p->n_devices + q]);
    if (c->r->link_bytes != c->r->bytes_moved)
        run_fail(c, "the links carried %llu bytes, the destinations used %llu",
                 (unsigned long long)c->r->link_bytes, (unsigned long long)c->r->bytes_moved);
    for (int v = 0; v < c->g->n; v++)
        for (int h = 0; h < p->n_levels; h++)
            for (int q = 0; q < p->levels[h].n_pairs; q++) {
                const plan_pair *pp = &p->levels[h].pairs[q];
                for (int g = 0; g < 2; g++) {
                    uint64_t want = pp->intra_bytes[v] + pp->inter_bytes[2 * v + g];
                    uint64_t got = c->recv[run_recv_slot(c, v, h, q, g)];
                    c->r->layers[v].predicted_bytes[h] += want;
                    if (got != want) {
                        char grp[64];
                        run_group_name(c, h, q, g, grp, sizeof grp);
                        run_fail(c,
                                 "layer %s, level %d: group %s received %llu bytes, planner "
                                 "predicts %llu",
                                 c->g->nodes[v].name, h, grp, (unsigned long long)got,
                                 (unsigned long long)want);
                    }
                }
            }
}

static void teardown(run_ctx *c) {
    for (int d = 0; c->dev && d < c->a->n; d++)
        accel_close(c->dev[d]);
    page_pool_set_limit(0);
    for (int v = 0; c->input && v < c->g->n; v++)
        free_inputs(c, v);
    platform_close(c->pf);
    run_geom_free(&c->G);
    free(c->dev);
    free(c->link);
    free(c->recv);
    free(c->needs_backward);
    free(c->input);
    free(c->events);
}

/* The rest of the step once set up: the sweeps, the byte check, the timeline. */
static int execute(run_ctx *c) {
    const net *g = c->g;
    int rc = 0;
    for (int v = 0; v < g->n && rc == 0; v++)
        if (g->nodes[v].kind != NODE_INPUT)
            rc = forward(c, v);
    for (int v = g->n - 1; v >= 0 && rc == 0; v--)
        if (g->nodes[v].kind != NODE_INPUT)
            rc = backward(c, v);
    if (rc != 0) {
        if (!c->err[0])
            snprintf(c->err, c->errlen, "layer %s: out of host memory", g->nodes[c->node].name);
        return RUN_FAILED;
    }
    if (run_remote_marks(c) != 0)
        return RUN_FAILED;
    check_bytes(c);
    check_memory(c);
    c->r->simulated_step_s = platform_now_s(c->pf);
    c->r->rank_bytes = cluster_bytes(c->o->cluster);
    c->r->rank_messages = cluster_messages(c->o->cluster);
    for (int d = 0; d < c->a->n; d++)
        c->r->device_compute_s[d] =
            model_seconds(&c->a->kinds[c->a->kind_of[d]], c->r->device_cycles[d]);
    return run_trace_write(c) == 0 ? 0 : c->events_lost ? RUN_FAILED : RUN_BAD_INPUT;
}

/* Every rank set up, or each learns the first rank that could not (its error, with the rank);
 * a rank whose own setup failed keeps its error. */
static int agree(run_ctx *c, int rc) {
    char why[1024];
    if (cluster_agree(c->o->cluster, rc != 0 ? c->err : NULL, why, sizeof why) == 0)
        return 0;
    if (rc == 0)
        snprintf(c->err, c->errlen, "%s", why);
    return -1;
}

/* run_step, with the fault of a test build (NULL: none). */
static int step(const net *g, const accel_array *a, const plan *p, const run_options *o,
                const void *fault, run_result *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->verified = 1;
    run_ctx c = {.g = g, .a = a, .p = p, .o = o, .r = out, .err = err, .errlen = errlen};
#ifdef ACCPAR_TEST_HOOKS
    c.fault = fault;
#else
    (void)fault;
#endif
    err[0] = '\0';
    gemm_check_threads(o->jobs); /* the checks take the run's cores too */
    int rc = setup(&c);
    if (rc != 0 && !err[0])
        snprintf(err, errlen, "out of host memory");
    rc = rc == RUN_FAILED ? RUN_FAILED : rc != 0 ? RUN_BAD_INPUT : 0;
    if (o->cluster && agree(&c, rc) != 0)
        rc = rc != 0 ? rc : RUN_FAILED;
    else if (rc == 0 && c.rank != 0)
        rc = run_serve(&c, &out->verified);
    else if (rc == 0) {
        rc = execute(&c);
        if (run_remote_release(&c, rc, out->verified) != 0 && rc == 0)
            rc = RUN_FAILED;
    }
    teardown(&c);
    if (rc != 0)
        run_result_free(out);
    return rc;
}

int run_step(const net *g, const accel_array *a, const plan *p, const run_options *o,
             run_result *out, char *err, size_t errlen) {
    return step(g, a, p, o, NULL, out, err, errlen);
}

#ifdef ACCPAR_TEST_HOOKS
int run_step_faulty(const net *g, const accel_array *a, const plan *p, const run_options *o,
                    const run_fault *fault, run_result *out, char *err, size_t errlen) {
    return step(g, a, p, o, fault, out, err, errlen);
}
#endif

void run_result_free(run_result *r) {
    for (int v = 0; r->layers && v < r->n_nodes; v++) {
        free(r->layers[v].bytes);
        free(r->layers[v].cycles);
    }
    free(r->layers);
    free(r->device_cycles);
    free(r->device_contract_cycles);
    free(r->device_mem_resident);
    free(r->device_model_cycles);
    free(r->device_compute_s);
    free(r->rank_of);
    memset(r, 0, sizeof *r);
}
