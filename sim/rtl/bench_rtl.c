#define _POSIX_C_SOURCE 199309L /* clock_gettime */
/* Emulation speed of the verilated array: streams back-to-back MATMULs (weights prefetched,
 * accumulating) through one device and reports simulated PE-cycles per wall-clock second.
 * Driven by scripts/bench-rtl; not a test. */
#include "accel_api.h"
#include "bf16.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what, const char *why) {
    fprintf(stderr, "bench-rtl: %s: %s\n", what, why);
    return 2;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: accpar_bench_rtl PRESET MATMULS\n");
        return 2;
    }
    accel_preset p;
    char err[1024];
    if (preset_find(argv[1], &p, err, sizeof err))
        return fail(argv[1], err);
    long matmuls = strtol(argv[2], NULL, 10);
    accel_dev *dev;
    if (accel_open(&p, ACCEL_BACKEND_RTL, &dev, err, sizeof err) != ACCEL_OK)
        return fail(argv[1], err);
    uint64_t R = (uint64_t)p.array_rows, C = (uint64_t)p.array_cols, X = (uint64_t)p.mxus;
    uint64_t rows =
        (uint64_t)(p.act_buffer_rows < p.acc_buffer_rows ? p.act_buffer_rows : p.acc_buffer_rows);
    uint64_t wbytes = X * R * C * 2, abytes = rows * R * 2;
    uint64_t waddr, aaddr;
    uint16_t *host = malloc(wbytes > abytes ? wbytes : abytes);
    uint64_t seed = 7;
    for (uint64_t i = 0; i < (wbytes > abytes ? wbytes : abytes) / 2; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        host[i] = bf16_from_float((float)((double)(seed >> 40) / (double)(1 << 24) - 0.5));
    }
    if (accel_alloc(dev, wbytes, &waddr) || accel_alloc(dev, abytes, &aaddr) ||
        accel_copy_in(dev, waddr, host, wbytes) || accel_copy_in(dev, aaddr, host, abytes))
        return fail(argv[1], accel_last_error(dev));
    accel_cmd lw = {.op = ACCEL_LOAD_W, .mxus = (uint32_t)X, .addr = waddr};
    accel_cmd la = {.op = ACCEL_LOAD_A, .rows = (uint32_t)rows, .addr = aaddr};
    accel_cmd mm = {.op = ACCEL_MATMUL,
                    .mxus = (uint32_t)X,
                    .rows = (uint32_t)rows,
                    .accumulate = 1,
                    .pf_addr = waddr,
                    .pf_mxus = (uint32_t)X};
    if (accel_issue(dev, &lw) || accel_issue(dev, &la))
        return fail(argv[1], accel_last_error(dev));
    for (long i = 0; i < matmuls; i++)
        if (accel_issue(dev, &mm))
            return fail(argv[1], accel_last_error(dev));
    double t0 = now();
    if (accel_wait(dev))
        return fail(argv[1], accel_last_error(dev));
    double dt = now() - t0;
    cycle_breakdown cb;
    accel_read_counters(dev, &cb);
    printf("%d %d %d %.4g %llu %.3f\n", p.array_rows, p.array_cols, 1,
           (double)cb.total * (double)(R * C * X) / dt, (unsigned long long)cb.total, dt);
    free(host);
    accel_close(dev);
    return 0;
}
