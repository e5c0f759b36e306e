/* The least-squares fit of a calibration and its held-out errors. */
#include "calibration.h"

#include "lsq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int features_of(const accel_preset *p, const cal_gemm *g, gemm_features *f, char *err,
                       size_t errlen) {
    gemm_schedule s;
    if (gemm_schedule_make(p, g->m, g->k, g->n, g->accumulate, &s, err, errlen) != 0)
        return -1;
    gemm_features_closed_form(&s, f);
    return 0;
}

double calibration_ape(double measured, double predicted) {
    if (measured == 0)
        return predicted == 0 ? 0 : INFINITY;
    return 100.0 * fabs(predicted - measured) / fabs(measured);
}

/* Counts one point in e; a held-out point's APE goes into the sum (mean_ape) and the max. */
static void add_point(cal_error *e, cal_role role, double measured, double predicted) {
    if (role == CAL_FIT) {
        e->fit_points++;
        return;
    }
    double ape = calibration_ape(measured, predicted);
    e->heldout_points++;
    e->mean_ape += ape;
    e->max_ape = fmax(e->max_ape, ape);
}

/* The sum becomes the mean; both are NAN without held-out points. */
static cal_error finish(cal_error e) {
    if (e.heldout_points)
        e.mean_ape /= e.heldout_points;
    else
        e.mean_ape = e.max_ape = NAN;
    return e;
}

cal_error calibration_score_gemms(const calibration *c, const double *predicted) {
    cal_error e = {0};
    for (int q = 0; q < c->n_gemm; q++)
        add_point(&e, c->gemm[q].role, (double)c->gemm[q].measured,
                  predicted ? predicted[q] : c->gemm[q].predicted);
    return finish(e);
}

void calibration_score(calibration *c) {
    cal_error comm = {0};
    for (int q = 0; q < c->n_xfer; q++)
        add_point(&comm, c->xfer[q].role, c->xfer[q].measured_s, c->xfer[q].predicted_s);
    c->compute = calibration_score_gemms(c, NULL);
    c->comm = finish(comm);
}

/* theta: features zero in every fit point keep the contract's 1; the others by least squares with
 * non-negative weights on the measured cycles minus those fixed terms (a feature the hardware
 * made free fits at 0). */
static int fit_compute(calibration *c, const accel_preset *p, char *err, size_t errlen) {
    int nf = 0, cols = 0, col_of[GEMM_FEATURES];
    gemm_features *f = malloc(sizeof *f * (size_t)(c->n_gemm ? c->n_gemm : 1));
    if (!f) {
        snprintf(err, errlen, "calibration: out of memory");
        return -1;
    }
    int rc = 0;
    for (int q = 0; q < c->n_gemm && rc == 0; q++)
        rc = features_of(p, &c->gemm[q], &f[q], err, errlen);
    for (int i = 0; i < GEMM_FEATURES; i++) {
        c->nominal[i] = 1;
        for (int q = 0; q < c->n_gemm; q++)
            if (c->gemm[q].role == CAL_FIT && f[q].f[i] != 0)
                c->nominal[i] = 0;
        c->theta[i] = (double)gemm_contract_cycles[i]; /* kept where nominal */
        col_of[i] = c->nominal[i] ? -1 : cols++;
    }
    for (int q = 0; q < c->n_gemm; q++)
        nf += c->gemm[q].role == CAL_FIT;
    double *a = malloc(sizeof *a * (size_t)(nf ? nf : 1) * GEMM_FEATURES);
    double *b = malloc(sizeof *b * (size_t)(nf ? nf : 1));
    const char *names[GEMM_FEATURES];
    double x[GEMM_FEATURES];
    for (int i = 0; i < GEMM_FEATURES; i++)
        if (col_of[i] >= 0)
            names[col_of[i]] = gemm_feature_names[i];
    if (rc == 0 && (!a || !b)) {
        snprintf(err, errlen, "calibration: out of memory");
        rc = -1;
    }
    for (int q = 0, r = 0; q < c->n_gemm && rc == 0; q++) {
        if (c->gemm[q].role != CAL_FIT)
            continue;
        b[r] = (double)c->gemm[q].measured;
        for (int i = 0; i < GEMM_FEATURES; i++) {
            if (col_of[i] >= 0)
                a[r * cols + col_of[i]] = (double)f[q].f[i];
            else
                b[r] -= (double)f[q].f[i];
        }
        r++;
    }
    /* the unconstrained fit first: it names a rank deficiency (data that cannot tell the
     * features apart), which the non-negative one would hide behind a sparse answer */
    if (rc == 0 && (lsq_solve(a, b, nf, cols, names, x, err, errlen) != 0 ||
                    lsq_solve_nonneg(a, b, nf, cols, names, x, err, errlen) != 0)) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "compute fit for %s: %s", p->name, why);
        rc = -1;
    }
    for (int i = 0; i < GEMM_FEATURES && rc == 0; i++)
        if (col_of[i] >= 0) {
            c->theta[i] = x[col_of[i]];
            if (!(c->theta[i] <= CAL_THETA_MAX)) {
                snprintf(err, errlen,
                         "compute fit for %s: feature '%s' fitted at %g cycles per unit, above "
                         "%g: the measurements do not follow the model's features",
                         p->name, gemm_feature_names[i], c->theta[i], CAL_THETA_MAX);
                rc = -1;
            }
        }
    for (int q = 0; q < c->n_gemm && rc == 0; q++)
        c->gemm[q].predicted = gemm_features_weighted(&f[q], c->theta);
    free(a), free(b), free(f);
    return rc;
}

/* 1 (with the message) if the fitted link figures are outside a preset's range. */
static int link_out_of_range(const calibration *c, const accel_preset *p, char *err,
                             size_t errlen) {
    if (!(c->link_latency_ns >= 0 && c->link_latency_ns <= PRESET_LINK_LATENCY_NS_MAX)) {
        snprintf(err, errlen,
                 "communication fit for %s: link latency fitted at %g ns, outside [0, %g]: the "
                 "transfer times do not follow latency + bytes / bandwidth",
                 p->name, c->link_latency_ns, PRESET_LINK_LATENCY_NS_MAX);
        return 1;
    }
    if (!(c->link_gbytes_per_s >= PRESET_LINK_GBYTES_MIN &&
          c->link_gbytes_per_s <= PRESET_LINK_GBYTES_MAX)) {
        snprintf(err, errlen,
                 "communication fit for %s: link bandwidth fitted at %g GB/s, outside [%g, %g]",
                 p->name, c->link_gbytes_per_s, PRESET_LINK_GBYTES_MIN, PRESET_LINK_GBYTES_MAX);
        return 1;
    }
    return 0;
}

/* seconds = latency + bytes / cut bandwidth, the cut being the preset's links. */
static int fit_comm(calibration *c, const accel_preset *p, char *err, size_t errlen) {
    int nf = 0;
    for (int q = 0; q < c->n_xfer; q++)
        nf += c->xfer[q].role == CAL_FIT;
    double *a = malloc(sizeof *a * (size_t)(nf ? nf : 1) * 2);
    double *b = malloc(sizeof *b * (size_t)(nf ? nf : 1));
    static const char *const names[2] = {"latency", "seconds per byte"};
    double x[2];
    int rc = 0;
    if (!a || !b) {
        snprintf(err, errlen, "calibration: out of memory");
        rc = -1;
    }
    for (int q = 0, r = 0; q < c->n_xfer && rc == 0; q++)
        if (c->xfer[q].role == CAL_FIT) {
            a[r * 2] = 1.0;
            a[r * 2 + 1] = (double)c->xfer[q].bytes;
            b[r++] = c->xfer[q].measured_s;
        }
    if (rc == 0 && lsq_solve_nonneg(a, b, nf, 2, names, x, err, errlen) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "communication fit for %s: %s", p->name, why);
        rc = -1;
    }
    if (rc == 0 && !(x[1] > 0)) {
        snprintf(err, errlen, "communication fit for %s: transfer time does not grow with size",
                 p->name);
        rc = -1;
    }
    if (rc == 0) {
        c->link_latency_ns = x[0] * 1e9;
        c->link_gbytes_per_s = 1.0 / (x[1] * p->links) / 1e9;
    }
    if (rc == 0 && link_out_of_range(c, p, err, errlen))
        rc = -1;
    for (int q = 0; q < c->n_xfer && rc == 0; q++)
        c->xfer[q].predicted_s = x[0] + (double)c->xfer[q].bytes * x[1];
    free(a), free(b);
    return rc;
}

int calibration_fit(calibration *c, const accel_preset *p, char *err, size_t errlen) {
    snprintf(c->preset, sizeof c->preset, "%s", p->name);
    if (fit_compute(c, p, err, errlen) != 0 || fit_comm(c, p, err, errlen) != 0)
        return -1;
    calibration_score(c);
    return 0;
}
