#define _GNU_SOURCE /* sched_getaffinity */
#include "parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct queue {
    atomic_int next;
    int n;
    void (*fn)(void *ctx, int i, int worker);
    void *ctx;
} queue;

typedef struct worker {
    queue *q;
    int id;
} worker;

static void *drain(void *arg) {
    const worker *w = arg;
    for (int i; (i = atomic_fetch_add(&w->q->next, 1)) < w->q->n;)
        w->q->fn(w->q->ctx, i, w->id);
    return NULL;
}

void parallel_for(int n, int jobs, void (*fn)(void *ctx, int i, int worker), void *ctx) {
    queue q = {.n = n, .fn = fn, .ctx = ctx};
    atomic_init(&q.next, 0);
    int helpers = (jobs < n ? jobs : n) - 1, started = 0;
    if (helpers < 0)
        helpers = 0;
    if (helpers > PARALLEL_MAX_JOBS - 1)
        helpers = PARALLEL_MAX_JOBS - 1;
    pthread_t t[PARALLEL_MAX_JOBS];
    worker w[PARALLEL_MAX_JOBS];
    for (int s = 0; s <= helpers; s++)
        w[s] = (worker){&q, s};
    while (started < helpers && pthread_create(&t[started], NULL, drain, &w[started + 1]) == 0)
        started++;
    drain(&w[0]);
    for (int s = 0; s < started; s++)
        pthread_join(t[s], NULL);
}

int parallel_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
