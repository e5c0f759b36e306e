#include "replay_timings.h"

#include "input_file.h"
#include "model_cache.h"
#include "output_set.h"
#include "vec.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ACCPAR_REPLAY_METHOD
#define ACCPAR_REPLAY_METHOD "unknown"
#endif
/* The method (a digest of the measuring code's sources) is part of the header: timings measured
 * by other code are not read. */
#define HEADER                                                                                     \
    "accpar replay timings 1, method " ACCPAR_REPLAY_METHOD                                        \
    ": op rows mxus pf_mxus total busy stall commands macs\n"

typedef struct entry {
    replay_shape key;
    cycle_breakdown cycles;
} entry;

struct replay_timings {
    char path[1300];
    entry *e;
    size_t n, cap;
    int dirty;
    pthread_mutex_t lock;
};

static struct {
    pthread_mutex_t lock;
    replay_timings **sets;
    size_t n, cap;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int same(const replay_shape *a, const replay_shape *b) {
    return a->op == b->op && a->rows == b->rows && a->mxus == b->mxus && a->pf_mxus == b->pf_mxus;
}

static entry *find(replay_timings *t, const replay_shape *k) {
    for (size_t i = 0; i < t->n; i++)
        if (same(&t->e[i].key, k))
            return &t->e[i];
    return NULL;
}

static int add(replay_timings *t, const replay_shape *k, const cycle_breakdown *c) {
    if (find(t, k))
        return 0;
    entry *grown = vec_grow(t->e, &t->cap, t->n + 1, sizeof *grown);
    if (!grown)
        return -1;
    t->e = grown;
    t->e[t->n++] = (entry){*k, *c};
    return 0;
}

/* Adds the file's shapes that t lacks; a file that does not parse adds nothing. */
static void merge_file(replay_timings *t) {
    char *text, why[256];
    size_t len;
    if (input_file_read(t->path, (size_t)1 << 26, &text, &len, why, sizeof why) != 0)
        return;
    entry *got = NULL;
    size_t n = 0, cap = 0;
    int ok = strncmp(text, HEADER, strlen(HEADER)) == 0;
    for (char *line = text + (ok ? strlen(HEADER) : 0); ok && *line;) {
        char *end = strchr(line, '\n');
        entry e;
        unsigned long long v[8];
        int used = 0;
        ok = end &&
             sscanf(line, "%d %llu %llu %llu %llu %llu %llu %llu %llu%n", &e.key.op, &v[0], &v[1],
                    &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &used) == 9 &&
             line + used == end && v[0] <= UINT32_MAX && v[1] <= UINT32_MAX && v[2] <= UINT32_MAX &&
             v[3] == v[4] + v[5] + v[6];
        entry *grown = ok ? vec_grow(got, &cap, n + 1, sizeof *grown) : NULL;
        ok = grown != NULL;
        if (ok) {
            got = grown;
            e.key.rows = (uint32_t)v[0];
            e.key.mxus = (uint32_t)v[1];
            e.key.pf_mxus = (uint32_t)v[2];
            e.cycles = (cycle_breakdown){v[3], v[4], v[5], v[6], v[7]};
            got[n++] = e;
            line = end + 1;
        }
    }
    for (size_t i = 0; ok && i < n; i++)
        add(t, &got[i].key, &got[i].cycles);
    t->dirty |= !ok; /* a damaged file is rewritten */
    free(got);
    free(text);
}

replay_timings *replay_timings_of(const accel_preset *p, char *err, size_t errlen) {
    char dir[1200];
    if (model_cache_entry_dir(p, 0, dir, sizeof dir, err, errlen) != 0)
        return NULL;
    pthread_mutex_lock(&g.lock);
    replay_timings *t = NULL;
    for (size_t i = 0; i < g.n && !t; i++)
        if (strncmp(g.sets[i]->path, dir, strlen(dir)) == 0 && g.sets[i]->path[strlen(dir)] == '/')
            t = g.sets[i];
    replay_timings **grown = t ? NULL : vec_grow(g.sets, &g.cap, g.n + 1, sizeof *grown);
    if (!t && grown && (t = calloc(1, sizeof *t))) {
        g.sets = grown;
        snprintf(t->path, sizeof t->path, "%s/replay-timings", dir);
        pthread_mutex_init(&t->lock, NULL);
        merge_file(t);
        g.sets[g.n++] = t;
    }
    pthread_mutex_unlock(&g.lock);
    if (!t)
        snprintf(err, errlen, "replay: out of host memory");
    return t;
}

int replay_timings_find(replay_timings *t, const replay_shape *k, cycle_breakdown *out) {
    pthread_mutex_lock(&t->lock);
    const entry *e = find(t, k);
    if (e)
        *out = e->cycles;
    pthread_mutex_unlock(&t->lock);
    return e != NULL;
}

static int write_all(FILE *f, void *ctx) {
    const replay_timings *t = ctx;
    fputs(HEADER, f);
    for (size_t i = 0; i < t->n; i++) {
        const entry *e = &t->e[i];
        fprintf(f, "%d %u %u %u %llu %llu %llu %llu %llu\n", e->key.op, e->key.rows, e->key.mxus,
                e->key.pf_mxus, (unsigned long long)e->cycles.total,
                (unsigned long long)e->cycles.busy, (unsigned long long)e->cycles.stall,
                (unsigned long long)e->cycles.commands, (unsigned long long)e->cycles.macs);
    }
    return ferror(f) ? -1 : 0;
}

/* Writes the set to its file if it changed, merged with what other processes wrote there
 * meanwhile; under t->lock. */
static void save(replay_timings *t) {
    if (t->dirty) {
        merge_file(t);
        char why[1500];
        if (file_replace(t->path, write_all, t, why, sizeof why) == 0) /* a cache: may fail */
            t->dirty = 0;
    }
}

int replay_timings_add(replay_timings *t, const replay_shape *k, const cycle_breakdown *c) {
    pthread_mutex_lock(&t->lock);
    size_t before = t->n;
    int rc = add(t, k, c);
    t->dirty |= t->n > before;
    save(t);
    pthread_mutex_unlock(&t->lock);
    return rc;
}
