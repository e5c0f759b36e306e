#include "cal_measure.h"

#include "bf16.h"
#include "gemm.h"
#include "parallel.h"
#include "platform.h"
#include "text_file.h"
#include "vec.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every third point is held out. */
static int add_gemm(calibration *c, int64_t m, int64_t k, int64_t n, int acc) {
    cal_gemm g = {.m = m,
                  .k = k,
                  .n = n,
                  .accumulate = acc,
                  .role = c->n_gemm % 3 == 2 ? CAL_HELDOUT : CAL_FIT};
    return calibration_add_gemm(c, &g);
}

/* Orders GEMM points by shape (M, K, N, accumulate); 0 for the same shape. */
static int compare_shape(const cal_gemm *x, const cal_gemm *y) {
    const int64_t a[4] = {x->m, x->k, x->n, x->accumulate},
                  b[4] = {y->m, y->k, y->n, y->accumulate};
    for (int i = 0; i < 4; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static int64_t at_least1(int64_t x) {
    return x < 1 ? 1 : x;
}

int cal_design_sweep(const accel_preset *p, calibration *c) {
    const int64_t R = p->array_rows, C = p->array_cols, X = p->mxus;
    const int64_t mc =
        p->act_buffer_rows < p->acc_buffer_rows ? p->act_buffer_rows : p->acc_buffer_rows;
    const int64_t groups = p->acc_buffer_rows / mc + 1; /* groups for two blocks at full chunks */
    /* Levels of each dimension: tiny, ragged around one tile, several tiles, the buffer depth and
     * beyond it (several chunks), and for N enough MXU groups for two and three accumulator blocks
     * at full chunks (more at partial ones). On small arrays levels can coincide (R - 1 = 1). */
    const int64_t M[] = {1,          2,  at_least1(R - 1), R + 3,     3 * R + 1,
                         mc / 2 + 1, mc, mc + 7,           2 * mc + 3};
    const int64_t K[] = {1, at_least1(R - 1), R, R + 1, 4 * R + 3, 9 * R};
    const int64_t N[] = {1,
                         at_least1(C - 1),
                         C + 1,
                         X * C,
                         X * C + C / 2 + 1,
                         groups * X * C + 3,
                         2 * groups * X * C + C + 5};
    enum { NM = sizeof M / sizeof M[0], NK = sizeof K / sizeof K[0], NN = sizeof N / sizeof N[0] };
    const int64_t total = NM * NK * NN * 2, want = 90, budget = 1 << 22; /* MACs per shape */
    /* Walk the grid in a scrambled order (a stride coprime to its size) and keep the shapes
     * within the MAC budget, each once. */
    int64_t stride = 97;
    while (total % stride == 0 || stride % 2 == 0 || stride % 3 == 0)
        stride += 2;
    for (int64_t i = 0, kept = 0; i < total && kept < want; i++) {
        int64_t x = i * stride % total;
        int acc = (int)(x % 2);
        x /= 2;
        int64_t m = M[x % NM], k = K[x / NM % NK], n = N[x / NM / NK];
        cal_gemm g = {.m = m, .k = k, .n = n, .accumulate = acc};
        int seen = 0;
        for (int q = 0; q < c->n_gemm && !seen; q++)
            seen = compare_shape(&c->gemm[q], &g) == 0;
        if (m * k * n > budget || seen)
            continue;
        if (add_gemm(c, m, k, n, acc) != 0)
            return -1;
        kept++;
    }
    return 0;
}

/* A point of a shapes file and its line. */
typedef struct numbered {
    cal_gemm g;
    int line;
} numbered;

static int by_shape_then_line(const void *x, const void *y) {
    const numbered *a = x, *b = y;
    int c = compare_shape(&a->g, &b->g);
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* The earliest line that repeats a shape of an earlier line is an error naming both. */
static int check_repeats(const char *path, const calibration *c, const int *line_of, char *err,
                         size_t errlen) {
    numbered *s = malloc(sizeof *s * (size_t)c->n_gemm);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int q = 0; q < c->n_gemm; q++)
        s[q] = (numbered){c->gemm[q], line_of[q]};
    qsort(s, (size_t)c->n_gemm, sizeof *s, by_shape_then_line);
    int later = -1; /* index in s of the repeat with the smallest line */
    for (int i = 1; i < c->n_gemm; i++)
        if (compare_shape(&s[i].g, &s[i - 1].g) == 0 &&
            (i == 1 || compare_shape(&s[i - 1].g, &s[i - 2].g) != 0) &&
            (later < 0 || s[i].line < s[later].line))
            later = i;
    if (later >= 0) {
        const cal_gemm *g = &s[later].g;
        snprintf(
            err, errlen,
            "%s:%d: field 'shape': '%lld %lld %lld%s' repeats line %d (each shape once, so the "
            "held-out points stay apart from the fitted ones)",
            path, s[later].line, (long long)g->m, (long long)g->k, (long long)g->n,
            g->accumulate ? " accumulate" : "", s[later - 1].line);
    }
    free(s);
    return later >= 0 ? -1 : 0;
}

int cal_read_shapes(const char *path, calibration *c, char *err, size_t errlen) {
    text_file tf;
    if (text_file_open(&tf, path, err, errlen) != 0)
        return -1;
    static const char *const field[3] = {"M", "K", "N"};
    char *t[TEXT_FILE_MAX_TOKENS];
    int n, rc = 0, *line_of = NULL;
    size_t lines_cap = 0;
    while (rc == 0 && (n = text_file_next_tokens(&tf, t, TEXT_FILE_MAX_TOKENS, err, errlen)) > 0) {
        int64_t d[3];
        char why[160];
        if (n < 3 || n > 4) {
            snprintf(err, errlen, "%s:%d: field 'shape': expected M K N [accumulate]", path,
                     tf.line_no);
            rc = -1;
        }
        for (int i = 0; i < 3 && rc == 0; i++)
            if (text_parse_int(t[i], 1, 2147483647, &d[i], why, sizeof why) != 0) {
                snprintf(err, errlen, "%s:%d: field '%s': %s", path, tf.line_no, field[i], why);
                rc = -1;
            }
        if (rc == 0 && n == 4 && strcmp(t[3], "accumulate") != 0) {
            snprintf(err, errlen, "%s:%d: field 'accumulate': '%s' is not the word accumulate",
                     path, tf.line_no, t[3]);
            rc = -1;
        }
        int *lines =
            rc == 0 ? vec_grow(line_of, &lines_cap, (size_t)c->n_gemm + 1, sizeof *lines) : NULL;
        if (lines)
            line_of = lines;
        if (rc == 0 && (!lines || add_gemm(c, d[0], d[1], d[2], n == 4) != 0)) {
            snprintf(err, errlen, "%s:%d: field 'shape': more than %d shapes or out of memory",
                     path, tf.line_no, CAL_MAX_POINTS);
            rc = -1;
        }
        if (rc == 0)
            line_of[c->n_gemm - 1] = tf.line_no;
    }
    if (rc == 0 && n < 0)
        rc = -1;
    if (rc == 0 && c->n_gemm == 0) {
        snprintf(err, errlen, "%s:%d: field 'shape': no shapes (%s)", path, text_file_end_line(&tf),
                 text_file_end_what(&tf));
        rc = -1;
    }
    if (rc == 0)
        rc = check_repeats(path, c, line_of, err, errlen);
    free(line_of);
    text_file_close(&tf);
    return rc;
}

int cal_design_transfers(calibration *c) {
    enum { SIZES = 30 };
    double bytes = 1;
    for (int i = 0; i < SIZES; i++, bytes *= 1.78) { /* 1 B .. ~16 MiB */
        cal_xfer x = {.bytes = (uint64_t)bytes + (uint64_t)(i % 4) * 3,
                      .role = i % 3 == 2 ? CAL_HELDOUT : CAL_FIT};
        if (calibration_add_xfer(c, &x) != 0)
            return -1;
    }
    return 0;
}

/* The GEMMs are shared out among workers, each with a device of its own: worker w runs GEMMs
 * w, w + workers, ... A GEMM's cycles do not depend on which device ran it, or on what ran
 * before, so the results are the same for any number of workers. */
typedef struct measure_job {
    const accel_preset *p;
    accel_backend backend;
    calibration *c;
    int workers;
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
    for (int q = w; q < c->n_gemm; q += J->workers) {
        const cal_gemm *g = &c->gemm[q];
        size_t need = (size_t)(g->m * g->k > g->k * g->n ? g->m * g->k : g->k * g->n);
        need = need > (size_t)(g->m * g->n) ? need : (size_t)(g->m * g->n);
        cap = need > cap ? need : cap;
    }
    accel_dev *dev = NULL;
    float *a = malloc(sizeof *a * cap), *b = malloc(sizeof *b * cap),
          *cm = malloc(sizeof *cm * cap);
    char why[512];
    int q = w;
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
        for (; q < c->n_gemm; q += J->workers) {
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
                J->progress(J->done, c->n_gemm);
            pthread_mutex_unlock(&J->lock);
        }
    }
    if (J->why[w][0])
        J->failed_at[w] = q;
    free(a), free(b), free(cm);
    accel_close(dev);
}

int cal_measure_gemms(const accel_preset *p, accel_backend backend, int jobs, calibration *c,
                      void (*progress)(int done, int total), char *err, size_t errlen) {
    int workers = jobs < c->n_gemm ? (jobs > 1 ? jobs : 1) : (c->n_gemm > 0 ? c->n_gemm : 1);
    measure_job J = {p, backend, c, workers, progress, PTHREAD_MUTEX_INITIALIZER, 0, NULL, NULL};
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
