/* The other ranks' devices (run_remote.h): rank 0's requests and the other ranks' service. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
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
    run_device_outcome o;
    uint64_t layer_cycles, layer_contract, cycles, contract;
    double model;
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
        snprintf(why, len, "rank 0: rank %d answered %s with a message of kind %u (%s)", from,
                 awaiting, m->kind,
                 m->kind < KINDS && KIND_NAME[m->kind] ? KIND_NAME[m->kind] : "unknown");
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
        snprintf(why, len,
                 "rank 0: rank %d sent %llu bytes of device %d's memory, %llu were asked for",
                 owner(c, d), (unsigned long long)a.bytes, d, (unsigned long long)bytes);
        cluster_fail(cl(c));
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
        if (!ops) { /* other ranks may hold part of a batch: the job cannot go on */
            cluster_fail(cl(c));
            return -1;
        }
        /* the forward GEMM does not read E(l+1): its block stays here */
        int64_t elems = n[0] + n[1] + (phases == PHASE_BIT(PHASE_FORWARD) ? 0 : n[2]);
        cluster_msg m = {REQ_GEMMS,
                         d,
                         {v, (int64_t)phases, devices_of(c, owner(c, d))},
                         ops,
                         sizeof(float) * (uint64_t)elems};
        int rc = send_req(c, owner(c, d), &m, c->err, c->errlen);
        free(ops);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Device d's answer: its outcome; on success its counters into c->r and its results into
 * out[ph][d]. -1 (the ranks' messages cannot be trusted) if the answer is not device d's. */
static int take_result(run_ctx *c, int v, int d, phase_set phases, const cluster_msg *a,
                       float **out[PHASES], run_device_outcome *outcome) {
    uint64_t need = sizeof(remote_counts);
    for (int ph = 0; ph < PHASES; ph++)
        if (phases & PHASE_BIT(ph))
            need += sizeof(float) * (uint64_t)run_device_result_elems(c, v, d, (gemm_phase)ph);
    remote_counts k;
    if (a->device != d || a->bytes < sizeof k) {
        snprintf(c->err, c->errlen, "rank 0: rank %d answered for device %d, expected device %d",
                 owner(c, d), a->device, d);
        return -1;
    }
    memcpy(&k, a->payload, sizeof k);
    *outcome = k.o;
    outcome->err[sizeof outcome->err - 1] = '\0';
    if (k.o.rc != 0) /* the device failed: its error, taken in device order by the caller */
        return 0;
    if (a->bytes != need) {
        snprintf(c->err, c->errlen,
                 "rank 0: rank %d sent %llu bytes of device %d's results, %llu were expected",
                 owner(c, d), (unsigned long long)a->bytes, d, (unsigned long long)need);
        return -1;
    }
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
        if (!(out[ph][d] = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1)))) {
            *outcome = (run_device_outcome){.rc = -1};
            snprintf(outcome->err, sizeof outcome->err,
                     "layer %s: out of host memory for device %d's results", c->g->nodes[v].name,
                     d);
            return 0;
        }
        memcpy(out[ph][d], at, sizeof(float) * (size_t)n);
        at += sizeof(float) * (size_t)n;
    }
    return 0;
}

/* Every remote device's answer is taken, even after one failed: its rank is sending them. */
int run_remote_gemms_recv(run_ctx *c, int v, phase_set phases, float **out[PHASES],
                          run_device_outcome *outcome) {
    for (int d = 0; d < c->r->n_devices; d++) {
        if (run_local(c, d))
            continue;
        cluster_msg a;
        char what[160];
        snprintf(what, sizeof what, "device %d's results of layer %s", d, c->g->nodes[v].name);
        if (answer(c, owner(c, d), ANS_RESULT, &a, what, c->err, c->errlen) != 0)
            return -1;
        int rc = take_result(c, v, d, phases, &a, out, &outcome[d]);
        free(a.payload);
        if (rc != 0) {
            cluster_fail(cl(c));
            return -1;
        }
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

int run_remote_release(run_ctx *c, int rc, int verified) {
    char why[512];
    int failed = 0;
    for (int r = 1; r < c->r->ranks; r++) {
        cluster_msg m = {REQ_END, -1, {rc, verified}, NULL, 0}, a;
        if (cluster_send(cl(c), r, &m, why, sizeof why) != 0 ||
            answer(c, r, ANS_STATUS, &a, "its acknowledgement of the step's end", why,
                   sizeof why) != 0) {
            if (!failed++ && rc == 0) /* else the step's own error stands */
                snprintf(c->err, c->errlen, "%s", why);
            cluster_fail(cl(c)); /* a rank that did not hear the end must not be waited for */
            continue;
        }
        free(a.payload);
    }
    return failed ? -1 : 0;
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
    c.err = k->o.err;
    c.errlen = sizeof k->o.err;
    k->o.rc = run_device_layer(&c, B->v, d, B->ops[i], B->phases, B->out[i], &k->o.tally);
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

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A heartbeat when the last one is an interval old. */
static void heartbeat(run_ctx *c, double *last) {
    if (now_s() - *last < HEARTBEAT_S)
        return;
    reply(c, ANS_BUSY, -1, 0, 0, NULL, 0);
    *last = now_s();
}

/* Device i of the batch's answer: its counts, then (on success) its results. */
static void send_result(run_ctx *c, batch *B, int i) {
    int d = B->dev[i];
    remote_counts *k = &B->counts[i];
    uint64_t bytes = sizeof *k;
    for (int ph = 0; ph < PHASES && k->o.rc == 0; ph++)
        if (B->phases & PHASE_BIT(ph))
            bytes += sizeof(float) * (uint64_t)run_device_result_elems(c, B->v, d, (gemm_phase)ph);
    uint8_t *p = bytes > sizeof *k ? malloc(bytes) : NULL;
    if (bytes > sizeof *k && !p) {
        k->o.rc = -1;
        snprintf(k->o.err, sizeof k->o.err, "rank %d: out of host memory for device %d's results",
                 c->rank, d);
    }
    if (p) {
        memcpy(p, k, sizeof *k);
        uint8_t *at = p + sizeof *k;
        for (int ph = 0; ph < PHASES; ph++)
            if (B->phases & PHASE_BIT(ph)) {
                size_t n =
                    sizeof(float) * (size_t)run_device_result_elems(c, B->v, d, (gemm_phase)ph);
                memcpy(at, B->out[i][ph], n);
                at += n;
            }
    }
    reply(c, ANS_RESULT, d, 0, 0, p ? (void *)p : (void *)k, p ? bytes : sizeof *k);
    free(p);
}

/* Runs a full batch on the rank's cores while the main thread, the one that may call MPI, sends
 * heartbeats; then the results in device order. */
static void run_batch(batch *B) {
    run_ctx *c = B->c;
    pthread_t t;
    double last = now_s();
    atomic_init(&B->done, 0);
    if (pthread_create(&t, NULL, batch_thread, B) != 0) {
        batch_thread(B);
    } else {
        while (!atomic_load(&B->done)) {
            struct timespec nap = {0, 10 * 1000 * 1000};
            nanosleep(&nap, NULL);
            heartbeat(c, &last);
        }
        pthread_join(t, NULL);
    }
    for (int i = 0; i < B->n; i++) {
        heartbeat(c, &last);
        send_result(c, B, i);
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
    case REQ_GEMMS: {
        char e[160] = "";
        int v = (int)m->arg[0];
        int64_t n[3];
        if (v >= 0 && v < c->g->n && net_is_weighted(&c->g->nodes[v])) {
            run_device_operand_elems(c, v, d, n);
            if (m->arg[1] != PHASE_BIT(PHASE_FORWARD))
                n[1] += n[2];
            if (m->bytes != sizeof(float) * (uint64_t)(n[0] + n[1]))
                snprintf(e, sizeof e, "rank %d: %llu bytes of operands for device %d", c->rank,
                         (unsigned long long)m->bytes, d);
        } else {
            snprintf(e, sizeof e, "rank %d: GEMMs asked of node %d", c->rank, v);
        }
        if (!e[0] && B->n == PARALLEL_MAX_JOBS)
            snprintf(e, sizeof e, "rank %d: more than %d devices on one rank", c->rank,
                     PARALLEL_MAX_JOBS);
        if (e[0]) {
            reply(c, ANS_ERROR, d, 0, 0, e, strlen(e));
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
    if (!B) { /* rank 0 would wait for this rank's answers: end the job */
        fprintf(stderr, "accpar: rank %d: out of host memory\n", c->rank);
        cluster_fail(cl(c));
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
            if (rc == 0)
                reply(c, ANS_STATUS, -1, 0, 0, NULL, 0);
            *verified = (int)m.arg[1];
            batch_clear(B);
            free(B);
            return rc != 0 ? RUN_FAILED : (int)m.arg[0];
        }
        if (rc == 0 && m.kind == REQ_MARKS)
            reply_marks(c);
        else if (rc == 0)
            serve_one(c, &m, B);
        /* else the stream is broken: rank 0 ends the step on the error it was sent */
        free(m.payload);
    }
}
