/* The ranks' message layer over MPI (cluster.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include "cluster.h"

#include "digest.h"

#include <mpi.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    TAG_HEAD = 1,
    TAG_PAYLOAD = 2,
    WHY_BYTES = 1024,
};
#define CLUSTER_MAGIC 0x52504341u /* "ACPR" */
/* MPI counts are ints: payloads go in chunks. */
#define CHUNK_BYTES ((uint64_t)1 << 30)

/* A message's frame: sent first, the payload after it. */
typedef struct frame {
    uint32_t magic, kind;
    uint64_t seq; /* 1, 2, ... per sender and receiver */
    int32_t device, pad;
    int64_t arg[4];
    uint64_t bytes, sum; /* sum: digest of the frame's other fields and the payload */
} frame;

typedef enum { FAULT_NONE, FAULT_DROP, FAULT_CORRUPT, FAULT_FLIP, FAULT_KILL } fault_kind;

struct cluster {
    int rank, size, local_size;
    uint64_t *sent_seq, *recv_seq; /* [rank] */
    uint64_t bytes, messages;      /* payload bytes and messages, sent and received */
    uint64_t sent;                 /* messages sent: the test faults' numbering */
    int broken; /* a message was lost or damaged: the ranks are not waited for at the end */
    const char *const *kind_names; /* [kind], for messages about messages */
    uint32_t n_kinds;
    fault_kind fault; /* test builds only */
    int fault_rank;
    uint64_t fault_at;  /* the rank's message number (from 1), or */
    int64_t fault_kind; /* >= 0: its first message of this kind */
};

static uint64_t frame_sum(const frame *f, const void *payload) {
    frame g = *f;
    g.sum = 0;
    uint64_t h = digest_bytes(DIGEST_INIT, &g, sizeof g);
    return payload ? digest_bytes(h, payload, (size_t)f->bytes) : h;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Waits for a request to complete, sleeping between polls (a blocking MPI wait spins a core,
 * which the emulation on the same machine needs). Returns 0, or -1 on timeout: the request is
 * cancelled, unless it completed meanwhile (then 0). */
static int wait_for(MPI_Request *req, double timeout_s) {
    double deadline = timeout_s > 0 ? now_s() + timeout_s : 0;
    long nap_ns = 10000;
    for (;;) {
        int done = 0;
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return 0;
        if (deadline > 0 && now_s() > deadline) {
            MPI_Status st;
            int cancelled = 0;
            MPI_Cancel(req);
            MPI_Wait(req, &st); /* the buffer is the caller's until the request is over */
            MPI_Test_cancelled(&st, &cancelled);
            return cancelled ? -1 : 0;
        }
        struct timespec t = {0, nap_ns};
        nanosleep(&t, NULL);
        nap_ns = nap_ns < 1000000 ? nap_ns * 2 : nap_ns;
    }
}

static const char *getenv_any(const char *a, const char *b) {
    const char *s = getenv(a);
    return s ? s : getenv(b);
}

#ifdef ACCPAR_TEST_HOOKS
static void read_fault(cluster *c) {
    const char *s = getenv("ACCPAR_TEST_CLUSTER_FAULT");
    char kind[16];
    unsigned long long at = 0;
    unsigned of_kind;
    c->fault_kind = -1;
    if (s && sscanf(s, "%15[a-z]:%d:k%u", kind, &c->fault_rank, &of_kind) == 3)
        c->fault_kind = of_kind;
    else if (!s || sscanf(s, "%15[a-z]:%d:%llu", kind, &c->fault_rank, &at) != 3)
        return;
    c->fault_at = at;
    c->fault = strcmp(kind, "drop") == 0      ? FAULT_DROP
               : strcmp(kind, "corrupt") == 0 ? FAULT_CORRUPT
               : strcmp(kind, "flip") == 0    ? FAULT_FLIP
               : strcmp(kind, "kill") == 0    ? FAULT_KILL
                                              : FAULT_NONE;
}
#else
static void read_fault(cluster *c) {
    (void)c;
}
#endif

int cluster_start(int *argc, char ***argv, cluster **out, char *err, size_t errlen) {
    *out = NULL;
    if (!getenv_any("OMPI_COMM_WORLD_SIZE", "PMIX_RANK"))
        return 0;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI could not be initialised");
        return -1;
    }
    cluster *c = calloc(1, sizeof *c);
    if (c) {
        MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &c->size);
        c->sent_seq = calloc((size_t)c->size * 2, sizeof *c->sent_seq);
    }
    if (!c || !c->sent_seq) {
        snprintf(err, errlen, "out of host memory joining the MPI job");
        free(c);
        MPI_Finalize();
        return -1;
    }
    c->recv_seq = c->sent_seq + c->size;
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    c->local_size = local && atoi(local) > 0 ? atoi(local) : 1;
    read_fault(c);
    *out = c;
    return 0;
}

void cluster_end(cluster *c) {
    if (!c)
        return;
    if (c->broken) /* MPI_Finalize would wait for ranks that may be stuck or silent */
        cluster_abort(c, 1);
    free(c->sent_seq);
    free(c);
    MPI_Finalize();
}

void cluster_abort(cluster *c, int status) {
    (void)c;
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
    exit(status); /* not reached */
}

void cluster_name_kinds(cluster *c, const char *const *names, uint32_t n) {
    c->kind_names = names;
    c->n_kinds = n;
}

void cluster_fail(cluster *c) {
    c->broken = 1;
}

int cluster_rank(const cluster *c) {
    return c ? c->rank : 0;
}

int cluster_size(const cluster *c) {
    return c ? c->size : 1;
}

int cluster_local_size(const cluster *c) {
    return c ? c->local_size : 1;
}

uint64_t cluster_bytes(const cluster *c) {
    return c ? c->bytes : 0;
}

uint64_t cluster_messages(const cluster *c) {
    return c ? c->messages : 0;
}

int cluster_agree(cluster *c, const char *why, char *err, size_t errlen) {
    char mine[WHY_BYTES] = "";
    if (why)
        snprintf(mine, sizeof mine, "%s", why[0] ? why : "failed");
    for (char *s = mine; *s; s++) /* one line */
        *s = *s == '\n' ? ' ' : *s;
    char *all = malloc((size_t)c->size * WHY_BYTES);
    if (!all) {
        snprintf(err, errlen, "rank %d: out of host memory", c->rank);
        cluster_abort(c, 2);
    }
    MPI_Request req;
    MPI_Iallgather(mine, WHY_BYTES, MPI_CHAR, all, WHY_BYTES, MPI_CHAR, MPI_COMM_WORLD, &req);
    wait_for(&req, 0);
    int rc = 0;
    for (int r = 0; r < c->size && rc == 0; r++)
        if (all[(size_t)r * WHY_BYTES]) {
            all[(size_t)r * WHY_BYTES + WHY_BYTES - 1] = '\0';
            snprintf(err, errlen, "rank %d: %s", r, &all[(size_t)r * WHY_BYTES]);
            rc = -1;
        }
    free(all);
    return rc;
}

int cluster_same(cluster *c, const char *what, uint64_t digest, char *err, size_t errlen) {
    uint64_t *all = malloc((size_t)c->size * sizeof *all);
    if (!all) {
        snprintf(err, errlen, "rank %d: out of host memory", c->rank);
        cluster_abort(c, 2);
    }
    MPI_Request req;
    MPI_Iallgather(&digest, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD, &req);
    wait_for(&req, 0);
    int rc = 0;
    for (int r = 1; r < c->size && rc == 0; r++)
        if (all[r] != all[0]) {
            char h0[DIGEST_HEX], hr[DIGEST_HEX];
            digest_hex(all[0], h0);
            digest_hex(all[r], hr);
            snprintf(err, errlen, "rank %d: not the same %s as rank 0 (digest %s, rank 0 %s)", r,
                     what, hr, h0);
            rc = -1;
        }
    free(all);
    return rc;
}

/* Whether this rank's message number n (from 1) is the test fault's. */
static int faulty(cluster *c, fault_kind k, const cluster_msg *m) {
    if (c->fault != k || c->fault_rank != c->rank)
        return 0;
    if (c->fault_kind < 0)
        return c->sent == c->fault_at;
    if (m->kind != (uint32_t)c->fault_kind)
        return 0;
    c->fault = FAULT_NONE; /* the first of its kind only */
    return 1;
}

int cluster_send(cluster *c, int to, const cluster_msg *m, char *err, size_t errlen) {
    frame f = {CLUSTER_MAGIC, m->kind, ++c->sent_seq[to], m->device, 0, {0}, m->bytes, 0};
    memcpy(f.arg, m->arg, sizeof f.arg);
    c->sent++;
    c->messages++;
    if (faulty(c, FAULT_KILL, m))
        raise(SIGKILL);
    if (faulty(c, FAULT_DROP, m))
        return 0;
    const uint8_t *p = m->payload;
    uint8_t *damaged = NULL;
    int flip = faulty(c, FAULT_FLIP, m), corrupt = !flip && faulty(c, FAULT_CORRUPT, m);
    if ((flip || corrupt) && m->bytes > 0 && (damaged = malloc(m->bytes))) {
        memcpy(damaged, p, m->bytes);
        damaged[flip ? m->bytes - 1 : m->bytes / 2] ^= 0x10; /* flip: a sign or exponent bit */
    }
    f.sum = frame_sum(&f, flip && damaged ? damaged : p); /* flip: damaged before it is sent */
    if (corrupt && m->bytes == 0)
        f.arg[3] ^= 1; /* no payload: a field of the frame */
    p = damaged ? damaged : p;
    int rc = MPI_Send(&f, (int)sizeof f, MPI_BYTE, to, TAG_HEAD, MPI_COMM_WORLD);
    for (uint64_t at = 0; rc == MPI_SUCCESS && at < m->bytes; at += CHUNK_BYTES) {
        uint64_t n = m->bytes - at < CHUNK_BYTES ? m->bytes - at : CHUNK_BYTES;
        rc = MPI_Send(p + at, (int)n, MPI_BYTE, to, TAG_PAYLOAD, MPI_COMM_WORLD);
    }
    free(damaged);
    if (rc != MPI_SUCCESS) {
        c->broken = 1;
        snprintf(err, errlen, "rank %d: sending message %llu to rank %d failed", c->rank,
                 (unsigned long long)f.seq, to);
        return -1;
    }
    c->bytes += m->bytes;
    return 0;
}

int cluster_recv(cluster *c, int from, cluster_msg *m, double timeout_s, const char *awaiting,
                 char *err, size_t errlen) {
    frame f;
    MPI_Request req;
    memset(m, 0, sizeof *m);
    MPI_Irecv(&f, (int)sizeof f, MPI_BYTE, from, TAG_HEAD, MPI_COMM_WORLD, &req);
    if (wait_for(&req, timeout_s) != 0) {
        c->broken = 1;
        char lost[96] = "a message";
        if (c->sent_seq[from] > 0)
            snprintf(lost, sizeof lost, "message %llu or its answer",
                     (unsigned long long)c->sent_seq[from]);
        snprintf(err, errlen,
                 "rank %d: no message from rank %d for %g s while waiting for %s (%s was lost, "
                 "or rank %d stopped)",
                 c->rank, from, timeout_s, awaiting, lost, from);
        return -1;
    }
    uint64_t want = c->recv_seq[from] + 1;
    char what[160], kind[32];
    snprintf(kind, sizeof kind, "kind %u", f.kind);
    snprintf(what, sizeof what, "message %llu from rank %d (%s, %llu bytes)",
             (unsigned long long)f.seq, from,
             f.kind < c->n_kinds && c->kind_names[f.kind] ? c->kind_names[f.kind] : kind,
             (unsigned long long)f.bytes);
    uint8_t *p = f.magic == CLUSTER_MAGIC && f.bytes ? malloc(f.bytes) : NULL;
    if (f.magic != CLUSTER_MAGIC || (f.bytes && !p)) { /* its payload stays on the wire */
        c->broken = 1;
        if (f.magic != CLUSTER_MAGIC)
            snprintf(err, errlen, "rank %d: message %llu from rank %d is not an accpar message",
                     c->rank, (unsigned long long)want, from);
        else
            snprintf(err, errlen, "rank %d: out of host memory for %s", c->rank, what);
        return -1;
    }
    for (uint64_t at = 0; at < f.bytes; at += CHUNK_BYTES) {
        uint64_t n = f.bytes - at < CHUNK_BYTES ? f.bytes - at : CHUNK_BYTES;
        MPI_Irecv(p + at, (int)n, MPI_BYTE, from, TAG_PAYLOAD, MPI_COMM_WORLD, &req);
        wait_for(&req, 0);
    }
    c->recv_seq[from] = f.seq; /* after a gap, the sender's numbering is taken up again */
    c->messages++;
    if (frame_sum(&f, p) != f.sum) {
        c->broken = 1;
        snprintf(err, errlen, "rank %d: %s arrived corrupted: its checksum does not match", c->rank,
                 what);
        free(p);
        return -1;
    }
    c->bytes += f.bytes;
    *m = (cluster_msg){f.kind, f.device, {f.arg[0], f.arg[1], f.arg[2], f.arg[3]}, p, f.bytes};
    if (f.seq == want)
        return 0;
    c->broken = 1;
    snprintf(err, errlen, "rank %d: message %llu from rank %d never arrived (%s came next)",
             c->rank, (unsigned long long)want, from, what);
    return CLUSTER_GAP;
}

uint64_t cluster_build_digest(void) {
    FILE *f = fopen("/proc/self/exe", "rb");
    if (!f)
        return 0;
    uint64_t h = DIGEST_INIT;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = digest_bytes(h, buf, n);
    fclose(f);
    return h;
}
