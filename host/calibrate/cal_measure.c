#include "cal_measure.h"

#include "bf16.h"
#include "gemm.h"
#include "parallel.h"
#include "platform.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The part's GEMMs (part, part + parts, ...: its i-th is GEMM part + i * parts) are shared out
 * among workers, each with a device of its own: worker w runs the part's GEMMs w, w + workers,
 * ... A GEMM's cycles do not depend on which device ran it, or on what ran before, so the results
 * are the same for any number of workers and parts. */
typedef struct measure_job {
    const accel_preset *p;
    accel_backend backend;
    calibration *c;
    int workers, part, parts, share; /* share: the GEMMs of this part */
    void (*progress)(int done, int total);
    pthread_mutex_t lock; /* progress calls */
    int done;
    int *failed_at; /* [worker]: the first GEMM that failed, n_gemm if none */
    char (*why)[1024];
} measure_job;

static void measure_share(void *ctx, int w, int worker) {
    (void)worker;
    measure_job *J = ctx;
    calibration *c = J->c;
    J->failed_at[w] = c->n_gemm;
    size_t cap = 0;
    for (int q = J->part + w * J->parts; q < c->n_gemm; q += J->workers * J->parts) {
        const cal_gemm *g = &c->gemm[q];
        size_t need = (size_t)(g->m * g->k > g->k * g->n ? g->m * g->k : g->k * g->n);
        need = need > (size_t)(g->m * g->n) ? need : (size_t)(g->m * g->n);
        cap = need > cap ? need : cap;
    }
    accel_dev *dev = NULL;
    float *a = malloc(sizeof *a * cap), *b = malloc(sizeof *b * cap),
          *cm = malloc(sizeof *cm * cap);
    char why[512];
    int q = J->part + w * J->parts;
    if (!a || !b || !cm) {
        snprintf(J->why[w], sizeof J->why[w], "out of host memory for the calibration GEMMs");
    } else if (accel_open(J->p, J->backend, &dev, why, sizeof why) != ACCEL_OK) {
        snprintf(J->why[w], sizeof J->why[w], "%s (%s backend): %s", J->p->name,
                 accel_backend_name(J->backend), why);
    } else {
        uint64_t seed = 1;
        for (size_t i = 0; i < cap; i++) {
            a[i] = bf16_random(&seed);
            b[i] = bf16_random(&seed);
            cm[i] = bf16_random(&seed);
        }
        for (; q < c->n_gemm; q += J->workers * J->parts) {
            cal_gemm *g = &c->gemm[q];
            gemm_args ga = {.m = g->m,
                            .k = g->k,
                            .n = g->n,
                            .accumulate = g->accumulate,
                            .a = a,
                            .b = b,
                            .c = cm};
            gemm_run_stats st;
            if (gemm_run(dev, &ga, &st, why, sizeof why) != 0) {
                snprintf(J->why[w], sizeof J->why[w], "%s GEMM %lldx%lldx%lld: %s", J->p->name,
                         (long long)g->m, (long long)g->k, (long long)g->n, why);
                break;
            }
            g->measured = st.cycles.total;
            pthread_mutex_lock(&J->lock);
            J->done++;
            if (J->progress)
                J->progress(J->done, J->share);
            pthread_mutex_unlock(&J->lock);
        }
    }
    if (J->why[w][0])
        J->failed_at[w] = q;
    free(a), free(b), free(cm);
    accel_close(dev);
}

int cal_measure_gemms(const accel_preset *p, accel_backend backend, int jobs, int part, int parts,
                      calibration *c, void (*progress)(int done, int total), char *err,
                      size_t errlen) {
    int share = c->n_gemm > part ? (c->n_gemm - part + parts - 1) / parts : 0;
    int workers = jobs < share ? (jobs > 1 ? jobs : 1) : (share > 0 ? share : 1);
    measure_job J = {
        p, backend, c,   workers, part, parts, share, progress, PTHREAD_MUTEX_INITIALIZER,
        0, NULL,    NULL};
    J.failed_at = calloc((size_t)workers, sizeof *J.failed_at);
    J.why = calloc((size_t)workers, sizeof *J.why);
    if (!J.failed_at || !J.why) {
        free(J.failed_at), free(J.why);
        snprintf(err, errlen, "out of host memory for the calibration GEMMs");
        return -1;
    }
    parallel_for(workers, workers, measure_share, &J);
    int first = -1; /* the worker whose failure comes first in GEMM order */
    for (int w = 0; w < workers; w++)
        if (J.why[w][0] && (first < 0 || J.failed_at[w] < J.failed_at[first]))
            first = w;
    if (first >= 0)
        snprintf(err, errlen, "%s", J.why[first]);
    snprintf(c->backend, sizeof c->backend, "%s", accel_backend_name(backend));
    free(J.failed_at), free(J.why);
    return first >= 0 ? -1 : 0;
}

int cal_measure_transfers(const accel_preset *p, calibration *c, char *err, size_t errlen) {
    const double mhz[2] = {p->clock_mhz, p->clock_mhz};
    platform *pf;
    if (platform_open(2, mhz, &pf, err, errlen) != 0)
        return -1;
    int link = platform_add_link(pf, p->links * p->link_gbytes_per_s * 1e9,
                                 p->link_latency_ns * 1e-9, err, errlen);
    int rc = link < 0 ? -1 : 0;
    for (int q = 0; q < c->n_xfer && rc == 0; q++) {
        platform_xfer x = {link, q % 2, c->xfer[q].bytes};
        double t0 = platform_now_s(pf);
        rc = platform_transfer(pf, &x, 1, err, errlen);
        c->xfer[q].measured_s = platform_now_s(pf) - t0;
    }
    platform_close(pf);
    return rc;
}
