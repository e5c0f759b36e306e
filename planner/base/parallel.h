/* A parallel loop: the one way the host runs work on several cores. */
#ifndef ACCPAR_PARALLEL_H
#define ACCPAR_PARALLEL_H

#ifdef __cplusplus
extern "C" {
#endif

/* The most threads parallel_for runs at once. */
enum { PARALLEL_MAX_JOBS = 256 };

/* Calls fn(ctx, i, worker) once for every i in 0 .. n-1 on up to `jobs` (at least 1) threads, the
 * caller's among them, and returns when all calls have returned. worker (0 .. min(jobs, n,
 * PARALLEL_MAX_JOBS) - 1) names the calling thread: calls with the same worker never overlap, so
 * it can index per-thread scratch. Indices are handed out in order, each to the next free thread;
 * fn must give the same results whichever thread runs it and in whatever order the calls finish
 * (write to slot i, merge afterwards). If a thread cannot be started, the threads that did start
 * do its share. */
void parallel_for(int n, int jobs, void (*fn)(void *ctx, int i, int worker), void *ctx);

/* The processors this process may run on: the default number of jobs. */
int parallel_cores(void);

#ifdef __cplusplus
}
#endif

#endif
