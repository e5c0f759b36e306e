/* The other ranks' devices (run_remote.h): rank 0's requests and the other ranks' service. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "run_remote.h"

#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The protocol's message kinds. Requests go from rank 0 to a device's rank, answers back. */
enum {
    REQ_ALLOC = 1, /* arg0 bytes -> ANS_STATUS, arg1 the address */
    REQ_FREE,      /* arg0 address, no answer */
    REQ_COPY_IN,   /* arg0 address, payload -> ANS_STATUS */
    REQ_COPY_OUT,  /* arg0 address, arg1 bytes -> ANS_DATA */
    REQ_GEMMS,     /* arg0 node, arg1 phases, arg2 the batch's size; payload the operands */
    REQ_MARKS,     /* -> ANS_MARKS: (resident, peak) of each of the rank's devices */
    REQ_END,       /* arg0 rank 0's outcome, arg1 verified */
    ANS_STATUS,    /* arg0 0 or -1, payload the device's error */
    ANS_DATA,      /* arg0 0 or -1, payload the bytes or the device's error */
    ANS_RESULT,    /* a device's remote_counts then its results, phase by phase */
    ANS_MARKS,
    ANS_BUSY,  /* a heartbeat while the GEMMs run: the rank is alive */
    ANS_ERROR, /* payload: a message that arrived damaged or out of sequence, named */
    KINDS
};

static const char *const KIND_NAME[KINDS] = {
    [REQ_ALLOC] = "allocation request",
    [REQ_FREE] = "free request",
    [REQ_COPY_IN] = "copy into device memory",
    [REQ_COPY_OUT] = "copy-out request",
    [REQ_GEMMS] = "a device's GEMM operands",
    [REQ_MARKS] = "memory marks request",
    [REQ_END] = "end of the step",
    [ANS_STATUS] = "status answer",
    [ANS_DATA] = "device memory read back",
    [ANS_RESULT] = "a device's GEMM results",
    [ANS_MARKS] = "memory marks",
    [ANS_BUSY] = "heartbeat",
    [ANS_ERROR] = "error report",
};

/* The seconds between heartbeats of a rank running GEMMs. */
#define HEARTBEAT_S 1.0

/* What a device's GEMMs of a layer leave besides the results: its tally and its counters. */
typedef struct remote_counts {
    run_device_tally tally;
    uint64_t layer_cycles, layer_contract, cycles, contract;
    double model;
    int32_t rc;
    char err[512];
} remote_counts;

static cluster *cl(const run_ctx *c) {
    return c->o->cluster;
}

static int owner(const run_ctx *c, int d) {
    return c->r->rank_of[d];
}

void run_remote_start(run_ctx *c) {
    if (cl(c))
        cluster_name_kinds(cl(c), KIND_NAME, KINDS);
}

/* The next answer from rank `from` (heartbeats skipped), which must be of kind `want`; an
 * ANS_ERROR's text, or a lost or damaged message, is the error. */
static int answer(run_ctx *c, int from, uint32_t want, cluster_msg *m, const char *awaiting,
                  char *why, size_t len) {
    for (;;) {
        int rc = cluster_recv(cl(c), from, m, c->o->rank_timeout_s, awaiting, why, len);
        if (rc == CLUSTER_GAP)
            free(m->payload);
        if (rc != 0)
            return -1;
        if (m->kind != ANS_BUSY)
            break;
        free(m->payload);
    }
    int rc = 0;
    if (m->kind == ANS_ERROR) { /* the other rank found the stream broken */
        snprintf(why, len, "%.*s", (int)m->bytes, (const char *)m->payload);
        cluster_fail(cl(c));
        rc = -1;
    } else if (m->kind != want) {
        snprintf(why, len, "rank 0: rank %d answered %s with a message of kind %u", from, awaiting,
                 m->kind);
        cluster_fail(cl(c));
        rc = -1;
    }
    if (rc != 0) {
        free(m->payload);
        m->payload = NULL;
    }
    return rc;
}

static int send_req(run_ctx *c, int to, const cluster_msg *m, char *why, size_t len) {
    return cluster_send(cl(c), to, m, why, len);
}

/* A local device operation's outcome: 0, or -1 with the device's error. */
static int local(run_ctx *c, int d, accel_status s, char *why, size_t len) {
    if (s == ACCEL_OK)
        return 0;
    snprintf(why, len, "%s", accel_last_error(c->dev[d]));
    return -1;
}

/* Request m about device d to its rank, and the answer of kind `want` into *a: arg0 is the
 * operation's status, and on failure the payload the device's error (then -1 with it). */
static int ask(run_ctx *c, int d, const cluster_msg *m, uint32_t want, const char *awaiting,
               cluster_msg *a, char *why, size_t len) {
    if (send_req(c, owner(c, d), m, why, len) != 0 ||
        answer(c, owner(c, d), want, a, awaiting, why, len) != 0)
        return -1;
    if (a->arg[0] == 0)
        return 0;
    snprintf(why, len, "%.*s", (int)a->bytes, (const char *)a->payload);
    free(a->payload);
    return -1;
}

int run_dev_alloc(run_ctx *c, int d, uint64_t bytes, uint64_t *addr, char *why, size_t len) {
    if (run_local(c, d))
        return local(c, d, accel_alloc(c->dev[d], bytes, addr), why, len);
    cluster_msg m = {REQ_ALLOC, d, {(int64_t)bytes}, NULL, 0}, a;
    if (ask(c, d, &m, ANS_STATUS, "a device allocation", &a, why, len) != 0)
        return -1;
    *addr = (uint64_t)a.arg[1];
    free(a.payload);
    return 0;
}

void run_dev_free(run_ctx *c, int d, uint64_t addr) {
    char why[256];
    cluster_msg m = {REQ_FREE, d, {(int64_t)addr}, NULL, 0};
    if (run_local(c, d))
        accel_free(c->dev[d], addr);
    else if (send_req(c, owner(c, d), &m, why, sizeof why) != 0)
        snprintf(c->err, c->errlen, "%s", why); /* the next request to that rank fails too */
}

int run_dev_copy_in(run_ctx *c, int d, uint64_t addr, const void *src, uint64_t bytes, char *why,
                    size_t len) {
    if (run_local(c, d))
        return local(c, d, accel_copy_in(c->dev[d], addr, src, bytes), why, len);
    cluster_msg m = {REQ_COPY_IN, d, {(int64_t)addr}, (void *)src, bytes}, a;
    if (ask(c, d, &m, ANS_STATUS, "a copy into device memory", &a, why, len) != 0)
        return -1;
    free(a.payload);
    return 0;
}

int run_dev_copy_out(run_ctx *c, int d, uint64_t addr, void *dst, uint64_t bytes, char *why,
                     size_t len) {
    if (run_local(c, d))
        return local(c, d, accel_copy_out(c->dev[d], addr, dst, bytes), why, len);
    cluster_msg m = {REQ_COPY_OUT, d, {(int64_t)addr, (int64_t)bytes}, NULL, 0}, a;
    if (ask(c, d, &m, ANS_DATA, "a copy out of device memory", &a, why, len) != 0)
        return -1;
    int rc = 0;
    if (a.bytes != bytes) {
        snprintf(why, len, "rank %d sent %llu bytes of device %d's memory, %llu were asked for",
                 owner(c, d), (unsigned long long)a.bytes, d, (unsigned long long)bytes);
        rc = -1;
    } else {
        memcpy(dst, a.payload, bytes);
    }
    free(a.payload);
    return rc;
}

/* The devices of rank r. */
static int devices_of(const run_ctx *c, int r) {
    int n = 0;
    for (int d = 0; d < c->r->n_devices; d++)
        n += owner(c, d) == r;
    return n;
}

int run_remote_gemms_send(run_ctx *c, int v, const run_layer_data *t, phase_set phases) {
    for (int d = 0; d < c->r->n_devices; d++) {
        if (run_local(c, d))
            continue;
        int64_t n[3];
        run_device_operand_elems(c, v, d, n);
        float *ops = run_device_operands(c, v, d, t);
        if (!ops)
            return -1;
        cluster_msg m = {REQ_GEMMS,
                         d,
                         {v, (int64_t)phases, devices_of(c, owner(c, d))},
                         ops,
                         sizeof(float) * (uint64_t)(n[0] + n[1] + n[2])};
        int rc = send_req(c, owner(c, d), &m, c->err, c->errlen);
        free(ops);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Device d's answer: its counters into c->r, its results into out[ph][d]. */
static int take_result(run_ctx *c, int v, int d, phase_set phases, const cluster_msg *a,
                       float **out[PHASES], run_device_tally *tally) {
    uint64_t need = sizeof(remote_counts);
    for (int ph = 0; ph < PHASES; ph++)
        if (phases & PHASE_BIT(ph))
            need += sizeof(float) * (uint64_t)run_device_result_elems(c, v, d, (gemm_phase)ph);
    if (a->device != d || a->bytes != need) {
        snprintf(c->err, c->errlen,
                 "rank 0: rank %d answered for device %d with %llu bytes; device %d's results are "
                 "%llu",
                 owner(c, d), a->device, (unsigned long long)a->bytes, d, (unsigned long long)need);
        return -1;
    }
    remote_counts k;
    memcpy(&k, a->payload, sizeof k);
    if (k.rc != 0) {
        snprintf(c->err, c->errlen, "%.*s", (int)sizeof k.err, k.err);
        return -1;
    }
    *tally = k.tally;
    run_layer *L = &c->r->layers[v];
    L->cycles[d] = k.layer_cycles;
    L->contract_cycles[d] = k.layer_contract;
    c->r->device_cycles[d] = k.cycles;
    c->r->device_contract_cycles[d] = k.contract;
    c->r->device_model_cycles[d] = k.model;
    const uint8_t *at = (const uint8_t *)a->payload + sizeof k;
    for (int ph = 0; ph < PHASES; ph++) {
        if (!(phases & PHASE_BIT(ph)))
            continue;
        int64_t n = run_device_result_elems(c, v, d, (gemm_phase)ph);
        if (!(out[ph][d] = run_floats(c, n)))
            return -1;
        memcpy(out[ph][d], at, sizeof(float) * (size_t)n);
        at += sizeof(float) * (size_t)n;
    }
    return 0;
}

int run_remote_gemms_recv(run_ctx *c, int v, phase_set phases, float **out[PHASES],
                          run_device_tally *tally) {
    for (int d = 0; d < c->r->n_devices; d++) {
        if (run_local(c, d))
            continue;
        cluster_msg a;
        char what[160];
        snprintf(what, sizeof what, "device %d's results of layer %s", d, c->g->nodes[v].name);
        if (answer(c, owner(c, d), ANS_RESULT, &a, what, c->err, c->errlen) != 0)
            return -1;
        int rc = take_result(c, v, d, phases, &a, out, &tally[d]);
        free(a.payload);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int run_remote_marks(run_ctx *c) {
    for (int r = 1; r < c->r->ranks; r++) {
        int n = devices_of(c, r);
        cluster_msg m = {REQ_MARKS, -1, {0}, NULL, 0}, a;
        if (n == 0)
            continue;
        if (send_req(c, r, &m, c->err, c->errlen) != 0 ||
            answer(c, r, ANS_MARKS, &a, "the devices' memory marks", c->err, c->errlen) != 0)
            return -1;
        if (a.bytes != sizeof(uint64_t) * 2 * (uint64_t)n) {
            snprintf(c->err, c->errlen, "rank 0: rank %d sent %llu bytes of memory marks", r,
                     (unsigned long long)a.bytes);
            free(a.payload);
            return -1;
        }
        const uint64_t *mark = a.payload;
        for (int d = 0, k = 0; d < c->r->n_devices; d++)
            if (owner(c, d) == r) {
                c->r->device_mem_resident[d] = mark[k++];
                c->r->device_mem_peak[d] = mark[k++];
            }
        free(a.payload);
    }
    return 0;
}

void run_remote_release(run_ctx *c, int rc, int verified) {
    char why[256];
    for (int r = 1; r < c->r->ranks; r++) {
        cluster_msg m = {REQ_END, -1, {rc, verified}, NULL, 0};
        cluster_send(cl(c), r, &m, why, sizeof why);
    }
}

/* ---- the service on the other ranks ---- */

static int reply(run_ctx *c, uint32_t kind, int d, int64_t a0, int64_t a1, const void *payload,
                 uint64_t bytes) {
    cluster_msg m = {kind, d, {a0, a1}, (void *)payload, bytes};
    char why[256];
    return cluster_send(cl(c), 0, &m, why, sizeof why);
}

/* A device operation's answer: its status, and on failure the device's error. */
static void reply_status(run_ctx *c, uint32_t kind, int d, accel_status s, int64_t a1) {
    const char *e = s == ACCEL_OK ? "" : accel_last_error(c->dev[d]);
    reply(c, kind, d, s == ACCEL_OK ? 0 : -1, a1, e, strlen(e));
}

/* A batch of GEMM requests: every device of this rank for one layer. */
typedef struct batch {
    run_ctx *c;
    int v, n, want;
    phase_set phases;
    int dev[PARALLEL_MAX_JOBS];
    float *ops[PARALLEL_MAX_JOBS];
    float *out[PARALLEL_MAX_JOBS][PHASES];
    remote_counts counts[PARALLEL_MAX_JOBS];
    atomic_int done;
} batch;

static void batch_job(void *ctx, int i, int worker) {
    (void)worker;
    batch *B = ctx;
    run_ctx c = *B->c;
    remote_counts *k = &B->counts[i];
    int d = B->dev[i];
    c.err = k->err;
    c.errlen = sizeof k->err;
    k->rc = run_device_layer(&c, B->v, d, B->ops[i], B->phases, B->out[i], &k->tally);
    run_layer *L = &c.r->layers[B->v];
    k->layer_cycles = L->cycles[d];
    k->layer_contract = L->contract_cycles[d];
    k->cycles = c.r->device_cycles[d];
    k->contract = c.r->device_contract_cycles[d];
    k->model = c.r->device_model_cycles[d];
}

static void *batch_thread(void *ctx) {
    batch *B = ctx;
    parallel_for(B->n, B->c->o->jobs, batch_job, B);
    atomic_store(&B->done, 1);
    return NULL;
}

static void nap(double s) {
    struct timespec t = {0, (long)(s * 1e9)};
    nanosleep(&t, NULL);
}

/* Runs a full batch on the rank's cores while the main thread, the one that may call MPI, sends
 * heartbeats; then the results in device order. */
static void run_batch(batch *B) {
    run_ctx *c = B->c;
    pthread_t t;
    atomic_init(&B->done, 0);
    if (pthread_create(&t, NULL, batch_thread, B) != 0) {
        batch_thread(B);
    } else {
        for (double quiet = 0; !atomic_load(&B->done);) {
            nap(0.01);
            if ((quiet += 0.01) >= HEARTBEAT_S) {
                reply(c, ANS_BUSY, -1, 0, 0, NULL, 0);
                quiet = 0;
            }
        }
        pthread_join(t, NULL);
    }
    for (int i = 0; i < B->n; i++) {
        int d = B->dev[i];
        uint64_t bytes = sizeof(remote_counts);
        for (int ph = 0; ph < PHASES && B->counts[i].rc == 0; ph++)
            if (B->phases & PHASE_BIT(ph))
                bytes +=
                    sizeof(float) * (uint64_t)run_device_result_elems(c, B->v, d, (gemm_phase)ph);
        uint8_t *p = malloc(bytes);
        if (!p) {
            B->counts[i].rc = -1;
            snprintf(B->counts[i].err, sizeof B->counts[i].err,
                     "rank %d: out of host memory for device %d's results", c->rank, d);
            bytes = sizeof(remote_counts);
            p = (uint8_t *)&B->counts[i];
        } else {
            memcpy(p, &B->counts[i], sizeof(remote_counts));
            uint8_t *at = p + sizeof(remote_counts);
            for (int ph = 0; ph < PHASES && bytes > sizeof(remote_counts); ph++)
                if (B->phases & PHASE_BIT(ph)) {
                    size_t n =
                        sizeof(float) * (size_t)run_device_result_elems(c, B->v, d, (gemm_phase)ph);
                    memcpy(at, B->out[i][ph], n);
                    at += n;
                }
        }
        reply(c, ANS_RESULT, d, 0, 0, p, bytes);
        if (p != (uint8_t *)&B->counts[i])
            free(p);
    }
}

static void batch_clear(batch *B) {
    for (int i = 0; i < B->n; i++) {
        free(B->ops[i]);
        for (int ph = 0; ph < PHASES; ph++)
            free(B->out[i][ph]);
    }
    memset(B->ops, 0, sizeof B->ops);
    memset(B->out, 0, sizeof B->out);
    memset(B->counts, 0, sizeof B->counts);
    B->n = 0;
}

/* A request for device d must name one of this rank's devices. */
static int mine(const run_ctx *c, int d) {
    return d >= 0 && d < c->r->n_devices && run_local(c, d);
}

static void serve_one(run_ctx *c, cluster_msg *m, batch *B) {
    int d = m->device;
    uint64_t addr = (uint64_t)m->arg[0];
    if (m->kind != REQ_MARKS && !mine(c, d)) {
        char e[128];
        int n = snprintf(e, sizeof e, "rank %d: a request for device %d, not one of its devices",
                         c->rank, d);
        reply(c, ANS_ERROR, d, 0, 0, e, (uint64_t)n);
        return;
    }
    switch (m->kind) {
    case REQ_ALLOC: {
        uint64_t at = 0;
        accel_status s = accel_alloc(c->dev[d], addr, &at);
        reply_status(c, ANS_STATUS, d, s, (int64_t)at);
        break;
    }
    case REQ_FREE:
        accel_free(c->dev[d], addr);
        break;
    case REQ_COPY_IN:
        reply_status(c, ANS_STATUS, d, accel_copy_in(c->dev[d], addr, m->payload, m->bytes), 0);
        break;
    case REQ_COPY_OUT: {
        uint64_t n = (uint64_t)m->arg[1];
        uint8_t *p = malloc(n ? n : 1);
        accel_status s = p ? accel_copy_out(c->dev[d], addr, p, n) : ACCEL_ENOMEM;
        if (!p)
            reply(c, ANS_DATA, d, -1, 0, "out of host memory", strlen("out of host memory"));
        else if (s == ACCEL_OK)
            reply(c, ANS_DATA, d, 0, 0, p, n);
        else
            reply_status(c, ANS_DATA, d, s, 0);
        free(p);
        break;
    }
    case REQ_GEMMS:
        if (B->n == PARALLEL_MAX_JOBS) {
            char e[128];
            int n = snprintf(e, sizeof e, "rank %d: more than %d devices on one rank", c->rank,
                             PARALLEL_MAX_JOBS);
            reply(c, ANS_ERROR, d, 0, 0, e, (uint64_t)n);
            break;
        }
        if (B->n == 0) {
            B->v = (int)m->arg[0];
            B->phases = (phase_set)m->arg[1];
            B->want = (int)m->arg[2];
        }
        B->dev[B->n] = d;
        B->ops[B->n++] = m->payload; /* the batch owns it now */
        m->payload = NULL;
        if (B->n == B->want) {
            run_batch(B);
            batch_clear(B);
        }
        break;
    }
}

static void reply_marks(run_ctx *c) {
    int n = devices_of(c, c->rank);
    uint64_t *mark = calloc((size_t)n * 2 + 1, sizeof *mark);
    for (int d = 0, k = 0; mark && d < c->r->n_devices; d++)
        if (run_local(c, d)) {
            mark[k++] = c->r->device_mem_resident[d];
            mark[k++] = accel_mem_peak(c->dev[d]);
        }
    reply(c, ANS_MARKS, -1, 0, 0, mark, mark ? sizeof *mark * 2 * (uint64_t)n : 0);
    free(mark);
}

int run_serve(run_ctx *c, int *verified) {
    batch *B = calloc(1, sizeof *B);
    if (!B) {
        snprintf(c->err, c->errlen, "rank %d: out of host memory", c->rank);
        return RUN_FAILED;
    }
    B->c = c;
    for (;;) {
        cluster_msg m;
        char why[512];
        int rc = cluster_recv(cl(c), 0, &m, 0, "rank 0's next request", why, sizeof why);
        if (rc != 0) /* rank 0 learns it at its next answer, and ends the step */
            reply(c, ANS_ERROR, -1, 0, 0, why, strlen(why));
        if (rc != -1 && m.kind == REQ_END) {
            *verified = (int)m.arg[1];
            batch_clear(B);
            free(B);
            return (int)m.arg[0];
        }
        if (rc != 0)
            ; /* the stream is broken: rank 0 ends the step on the error */
        else if (m.kind == REQ_MARKS)
            reply_marks(c);
        else
            serve_one(c, &m, B);
        free(m.payload);
    }
}
