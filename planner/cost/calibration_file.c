/* The calibration file: read and written (docs/calibration.md has the format). */
#include "calibration.h"

#include "output_set.h"
#include "text_file.h"
#include "vec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void calibration_free(calibration *c) {
    free(c->gemm);
    free(c->xfer);
    c->gemm = NULL;
    c->xfer = NULL;
    c->n_gemm = c->n_xfer = 0;
    c->gemm_cap = c->xfer_cap = 0;
}

int calibration_add_gemm(calibration *c, const cal_gemm *g) {
    cal_gemm *grown = c->n_gemm < CAL_MAX_POINTS
                          ? vec_grow(c->gemm, &c->gemm_cap, (size_t)c->n_gemm + 1, sizeof *grown)
                          : NULL;
    if (!grown)
        return -1;
    c->gemm = grown;
    c->gemm[c->n_gemm++] = *g;
    return 0;
}

int calibration_add_xfer(calibration *c, const cal_xfer *x) {
    cal_xfer *grown = c->n_xfer < CAL_MAX_POINTS
                          ? vec_grow(c->xfer, &c->xfer_cap, (size_t)c->n_xfer + 1, sizeof *grown)
                          : NULL;
    if (!grown)
        return -1;
    c->xfer = grown;
    c->xfer[c->n_xfer++] = *x;
    return 0;
}

typedef struct reader {
    text_file tf;
    char *err;
    size_t errlen;
    int seen_format, seen_preset, seen_backend, seen_latency, seen_bandwidth, seen_points;
    int64_t gemm_points, xfer_points; /* as the points line says */
    int seen_theta[GEMM_FEATURES];
} reader;

static int fail(reader *r, const char *field, const char *fmt, const char *arg) {
    char why[256];
    snprintf(why, sizeof why, fmt, arg);
    snprintf(r->err, r->errlen, "%s:%d: field '%s': %s", r->tf.path, r->tf.line_no, field, why);
    return -1;
}

/* A finite decimal number, all of the token, in [min, max]. */
static int real(reader *r, const char *field, const char *s, double min, double max, double *out) {
    char why[160];
    if (text_parse_real(s, min, max, out, why, sizeof why) != 0)
        return fail(r, field, "%s", why);
    return 0;
}

static int integer(reader *r, const char *field, const char *s, int64_t min, int64_t max,
                   int64_t *out) {
    char why[160];
    if (text_parse_int(s, min, max, out, why, sizeof why) != 0)
        return fail(r, field, "%s", why);
    return 0;
}

static int once(reader *r, int *seen, const char *field) {
    if (*seen)
        return fail(r, field, "%s", "repeated");
    *seen = 1;
    return 0;
}

static int role(reader *r, const char *s, cal_role *out) {
    if (strcmp(s, "fit") && strcmp(s, "heldout"))
        return fail(r, "role", "'%s' is not fit or heldout", s);
    *out = strcmp(s, "fit") == 0 ? CAL_FIT : CAL_HELDOUT;
    return 0;
}

/* The residual column must be measured - predicted (to rounding in the file's digits). */
static int residual(reader *r, const char *s, double measured, double predicted) {
    double res;
    if (real(r, "residual", s, -INFINITY, INFINITY, &res) != 0)
        return -1;
    if (fabs(res - (measured - predicted)) > 1e-6 * fmax(fabs(measured), 1e-9))
        return fail(r, "residual", "'%s' is not measured - predicted", s);
    return 0;
}

static int gemm_line(reader *r, calibration *c, char **t, int n) {
    if (n != 9)
        return fail(r, "gemm", "%s",
                    "expected: gemm fit|heldout M K N ACCUMULATE MEASURED PREDICTED RESIDUAL");
    cal_gemm point = {0}, *g = &point;
    int64_t acc, meas;
    const int64_t lim = 2147483647;
    if (role(r, t[1], &g->role) || integer(r, "m", t[2], 1, lim, &g->m) ||
        integer(r, "k", t[3], 1, lim, &g->k) || integer(r, "n", t[4], 1, lim, &g->n) ||
        integer(r, "accumulate", t[5], 0, 1, &acc) ||
        integer(r, "measured", t[6], 1, INT64_MAX, &meas) ||
        real(r, "predicted", t[7], -INFINITY, INFINITY, &g->predicted) ||
        residual(r, t[8], (double)meas, g->predicted))
        return -1;
    g->accumulate = (int)acc;
    g->measured = (uint64_t)meas;
    if (calibration_add_gemm(c, g) != 0)
        return fail(r, "points", "more than %s points or out of memory", "100000");
    return 0;
}

static int xfer_line(reader *r, calibration *c, char **t, int n) {
    if (n != 6)
        return fail(r, "xfer", "%s",
                    "expected: xfer fit|heldout BYTES MEASURED_S PREDICTED_S RESIDUAL_S");
    cal_xfer point = {0}, *x = &point;
    int64_t bytes;
    if (role(r, t[1], &x->role) || integer(r, "bytes", t[2], 1, INT64_MAX, &bytes) ||
        real(r, "measured", t[3], 0, INFINITY, &x->measured_s) ||
        real(r, "predicted", t[4], -INFINITY, INFINITY, &x->predicted_s) ||
        residual(r, t[5], x->measured_s, x->predicted_s))
        return -1;
    x->bytes = (uint64_t)bytes;
    if (calibration_add_xfer(c, x) != 0)
        return fail(r, "points", "more than %s points or out of memory", "100000");
    return 0;
}

static int theta_line(reader *r, calibration *c, char **t, int n) {
    if (n != 4)
        return fail(r, "theta", "%s", "expected: theta FEATURE VALUE fitted|nominal");
    int i = 0;
    while (i < GEMM_FEATURES && strcmp(t[1], gemm_feature_names[i]) != 0)
        i++;
    if (i == GEMM_FEATURES)
        return fail(r, "theta",
                    "unknown feature '%s' (commands, loads, words, rows, fill, "
                    "prefetch)",
                    t[1]);
    if (once(r, &r->seen_theta[i], gemm_feature_names[i]) ||
        real(r, gemm_feature_names[i], t[2], 0, CAL_THETA_MAX, &c->theta[i]))
        return -1;
    if (strcmp(t[3], "fitted") && strcmp(t[3], "nominal"))
        return fail(r, gemm_feature_names[i], "'%s' is not fitted or nominal", t[3]);
    c->nominal[i] = strcmp(t[3], "nominal") == 0;
    if (c->nominal[i] && c->theta[i] != 1.0)
        return fail(r, gemm_feature_names[i], "a nominal weight is 1, not '%s'", t[2]);
    return 0;
}

static const char *const PAIR_KEYS[] = {
    "format", "preset", "backend", "link_latency_ns", "link_gbytes_per_s", "points"};

/* A "key value" line. */
static int pair_line(reader *r, calibration *c, char **t, int n) {
    const char *k = t[0];
    int64_t fmt;
    size_t key = 0;
    while (key < sizeof PAIR_KEYS / sizeof *PAIR_KEYS && strcmp(k, PAIR_KEYS[key]))
        key++;
    if (key == sizeof PAIR_KEYS / sizeof *PAIR_KEYS)
        return fail(r, k, "%s", "unknown field");
    if (!strcmp(k, "points")) {
        if (n != 3)
            return fail(r, k, "%s", "expected: points GEMM_LINES XFER_LINES");
        return once(r, &r->seen_points, k) ||
                       integer(r, k, t[1], 0, CAL_MAX_POINTS, &r->gemm_points) ||
                       integer(r, k, t[2], 0, CAL_MAX_POINTS, &r->xfer_points)
                   ? -1
                   : 0;
    }
    if (n != 2)
        return fail(r, k, "%s", "expected one value");
    if (!strcmp(k, "format")) {
        if (once(r, &r->seen_format, k) || integer(r, k, t[1], 0, 1000, &fmt))
            return -1;
        if (fmt != CAL_FORMAT)
            return fail(r, k, "version '%s' (this program reads format " CAL_FORMAT_TEXT ")", t[1]);
        return 0;
    }
    if (!strcmp(k, "preset") || !strcmp(k, "backend")) {
        int is_preset = k[0] == 'p';
        char *dst = is_preset ? c->preset : c->backend;
        size_t cap = is_preset ? sizeof c->preset : sizeof c->backend;
        if (once(r, is_preset ? &r->seen_preset : &r->seen_backend, k))
            return -1;
        if (strlen(t[1]) >= cap)
            return fail(r, k, "'%s' is too long", t[1]);
        if (!is_preset && strcmp(t[1], "rtl") && strcmp(t[1], "replay") && strcmp(t[1], "golden"))
            return fail(r, k, "'%s' is not rtl, replay or golden", t[1]);
        strcpy(dst, t[1]);
        return 0;
    }
    if (!strcmp(k, "link_latency_ns"))
        return once(r, &r->seen_latency, k) ||
                       real(r, k, t[1], 0, PRESET_LINK_LATENCY_NS_MAX, &c->link_latency_ns)
                   ? -1
                   : 0;
    return once(r, &r->seen_bandwidth, k) || real(r, k, t[1], PRESET_LINK_GBYTES_MIN,
                                                  PRESET_LINK_GBYTES_MAX, &c->link_gbytes_per_s)
               ? -1
               : 0;
}

static int check_complete(reader *r, const calibration *c) {
    const char *missing = !r->seen_format      ? "format"
                          : !r->seen_preset    ? "preset"
                          : !r->seen_backend   ? "backend"
                          : !r->seen_latency   ? "link_latency_ns"
                          : !r->seen_bandwidth ? "link_gbytes_per_s"
                          : !r->seen_points    ? "points"
                                               : NULL;
    for (int i = 0; i < GEMM_FEATURES && !missing; i++)
        if (!r->seen_theta[i])
            missing = gemm_feature_names[i];
    if (!missing && (c->n_gemm != r->gemm_points || c->n_xfer != r->xfer_points)) {
        snprintf(r->err, r->errlen,
                 "%s:%d: field 'points': %d gemm and %d xfer lines, not the %lld and %lld the file "
                 "declares: it is truncated or edited",
                 r->tf.path, text_file_end_line(&r->tf), c->n_gemm, c->n_xfer,
                 (long long)r->gemm_points, (long long)r->xfer_points);
        return -1;
    }
    if (!missing)
        return 0;
    snprintf(r->err, r->errlen, "%s:%d: field '%s': missing (%s without it)", r->tf.path,
             text_file_end_line(&r->tf), missing, text_file_end_what(&r->tf));
    return -1;
}

int calibration_load(const char *path, calibration *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    reader r = {.err = err, .errlen = errlen};
    if (text_file_open(&r.tf, path, err, errlen) != 0)
        return -1;
    char *t[TEXT_FILE_MAX_TOKENS];
    int n, rc = 0;
    while (rc == 0 && (n = text_file_next_tokens(&r.tf, t, TEXT_FILE_MAX_TOKENS, err, errlen)) > 0)
        rc = r.tf.unterminated        ? fail(&r, t[0], "%s", "no newline: the file is truncated")
             : !strcmp(t[0], "gemm")  ? gemm_line(&r, out, t, n)
             : !strcmp(t[0], "xfer")  ? xfer_line(&r, out, t, n)
             : !strcmp(t[0], "theta") ? theta_line(&r, out, t, n)
                                      : pair_line(&r, out, t, n);
    if (rc == 0 && n < 0)
        rc = -1;
    if (rc == 0)
        rc = check_complete(&r, out);
    if (rc == 0)
        calibration_score(out);
    text_file_close(&r.tf);
    if (rc != 0)
        calibration_free(out);
    return rc;
}

typedef struct writer {
    const calibration *c;
    const char *header;
} writer;

static void put_error(FILE *f, const char *what, const cal_error *e) {
    fprintf(f, "# %s: %d fit points, %d held out; held-out APE mean %.6g %%, max %.6g %%\n", what,
            e->fit_points, e->heldout_points, e->mean_ape, e->max_ape);
}

static int write_body(FILE *f, void *ctx) {
    const writer *w = ctx;
    const calibration *c = w->c;
    static const char *const ROLE[2] = {"fit", "heldout"};
    if (w->header)
        fputs(w->header, f);
    put_error(f, "compute", &c->compute);
    put_error(f, "communication", &c->comm);
    fprintf(f, "format %d\npreset %s\nbackend %s\n", CAL_FORMAT, c->preset, c->backend);
    for (int i = 0; i < GEMM_FEATURES; i++)
        fprintf(f, "theta %-8s %.12g %s\n", gemm_feature_names[i], c->theta[i],
                c->nominal[i] ? "nominal" : "fitted");
    fprintf(f, "link_latency_ns %.12g\nlink_gbytes_per_s %.12g\npoints %d %d\n", c->link_latency_ns,
            c->link_gbytes_per_s, c->n_gemm, c->n_xfer);
    fprintf(f, "# gemm ROLE M K N ACCUMULATE MEASURED_CYCLES PREDICTED_CYCLES RESIDUAL\n");
    for (int q = 0; q < c->n_gemm; q++) {
        const cal_gemm *g = &c->gemm[q];
        fprintf(f, "gemm %-7s %lld %lld %lld %d %llu %.12g %.6g\n", ROLE[g->role], (long long)g->m,
                (long long)g->k, (long long)g->n, g->accumulate, (unsigned long long)g->measured,
                g->predicted, (double)g->measured - g->predicted);
    }
    fprintf(f, "# xfer ROLE BYTES MEASURED_S PREDICTED_S RESIDUAL_S\n");
    for (int q = 0; q < c->n_xfer; q++) {
        const cal_xfer *x = &c->xfer[q];
        fprintf(f, "xfer %-7s %llu %.12g %.12g %.6g\n", ROLE[x->role], (unsigned long long)x->bytes,
                x->measured_s, x->predicted_s, x->measured_s - x->predicted_s);
    }
    return 0;
}

int calibration_write(const char *path, const calibration *c, const char *header, char *err,
                      size_t errlen) {
    writer w = {c, header};
    return output_write(path, write_body, &w, err, errlen);
}
