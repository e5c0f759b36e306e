#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "fma_peak.h"

#include "parallel.h"

#include <math.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Independent accumulator chains: enough to cover the FMA latency times the units (4 x 2). */
enum { CHAINS = 12, ITERS = 1 << 16 };

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#if defined(__x86_64__)
/* ITERS rounds of CHAINS vector FMAs; returns a lane so the work is not optimised away. */
__attribute__((target("avx512f"))) static float rounds_avx512(float seed) {
    __m512 acc[CHAINS], m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm512_set1_ps(seed + (float)c);
    for (int i = 0; i < ITERS; i++)
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm512_fmadd_ps(acc[c], m, a);
    for (int c = 1; c < CHAINS; c++)
        acc[0] = _mm512_add_ps(acc[0], acc[c]);
    return _mm512_reduce_add_ps(acc[0]);
}

__attribute__((target("avx2,fma"))) static float rounds_avx2(float seed) {
    __m256 acc[CHAINS], m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm256_set1_ps(seed + (float)c);
    for (int i = 0; i < ITERS; i++)
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm256_fmadd_ps(acc[c], m, a);
    float out[8];
    for (int c = 1; c < CHAINS; c++)
        acc[0] = _mm256_add_ps(acc[0], acc[c]);
    _mm256_storeu_ps(out, acc[0]);
    return out[0];
}
#endif

static float rounds_scalar(float seed) {
    float acc[CHAINS];
    for (int c = 0; c < CHAINS; c++)
        acc[c] = seed + (float)c;
    for (int i = 0; i < ITERS; i++)
        for (int c = 0; c < CHAINS; c++)
            acc[c] = fmaf(acc[c], 0.999999f, 1e-7f);
    return acc[0] + acc[CHAINS - 1];
}

typedef struct peak_job {
    double seconds;
    int lanes;
    float (*rounds)(float);
    double flops[PARALLEL_MAX_JOBS];
    volatile float sink[PARALLEL_MAX_JOBS];
} peak_job;

static void run_thread(void *ctx, int t, int worker) {
    (void)worker;
    peak_job *j = ctx;
    double t0 = now_s(), t1 = t0;
    long rounds = 0;
    while (t1 - t0 < j->seconds) {
        j->sink[t] += j->rounds((float)rounds);
        rounds++;
        t1 = now_s();
    }
    j->flops[t] = (double)rounds * ITERS * CHAINS * j->lanes * 2 / (t1 - t0);
}

double fma_peak_flops(int threads, double seconds, const char **isa) {
    static peak_job j;
    j = (peak_job){.seconds = seconds, .lanes = 1, .rounds = rounds_scalar};
    *isa = "scalar";
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        j.lanes = 16, j.rounds = rounds_avx512, *isa = "avx512";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        j.lanes = 8, j.rounds = rounds_avx2, *isa = "avx2";
    }
#endif
    if (threads > PARALLEL_MAX_JOBS)
        threads = PARALLEL_MAX_JOBS;
    parallel_for(threads, threads, run_thread, &j);
    double total = 0;
    for (int t = 0; t < threads; t++)
        total += j.flops[t];
    return total;
}
