/* A calibration of one accelerator preset: the fitted weights of the compute model's features
 * (systolic_model.h), the fitted link latency and bandwidth, and the measured points they were
 * fitted on and checked against. File format and method: docs/calibration.md. */
#ifndef ACCPAR_CALIBRATION_H
#define ACCPAR_CALIBRATION_H

#include "preset.h"
#include "systolic_model.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Format 2 added the points line (a file cut at a line boundary is detected). */
enum { CAL_FORMAT = 2, CAL_MAX_POINTS = 100000 };
#define CAL_FORMAT_TEXT "2"

/* A feature weight is finite and in [0, CAL_THETA_MAX] cycles per unit; the link figures keep to a
 * preset's range (PRESET_LINK_*). The loader rejects values outside, and the fit fails rather than
 * produce one. */
#define CAL_THETA_MAX 1e6

typedef enum { CAL_FIT, CAL_HELDOUT } cal_role;

/* One GEMM measured on a device. */
typedef struct cal_gemm {
    int64_t m, k, n;
    int accumulate;
    cal_role role;
    uint64_t measured; /* cycles the device counted */
    double predicted;  /* the fitted model's cycles */
} cal_gemm;

/* One transfer measured on a link between two devices of the preset. */
typedef struct cal_xfer {
    uint64_t bytes;
    cal_role role;
    double measured_s, predicted_s;
} cal_xfer;

/* Mean and maximum absolute percentage error over the held-out points. */
typedef struct cal_error {
    int fit_points, heldout_points;
    double mean_ape, max_ape;
} cal_error;

typedef struct calibration {
    char preset[64];
    char backend[16];            /* what was measured: rtl or replay */
    double theta[GEMM_FEATURES]; /* cycles per unit of each feature */
    int nominal[GEMM_FEATURES];  /* 1: the feature was zero in every point (this preset
                                    never exercises it), so theta keeps the contract's 1 */
    double link_latency_ns;      /* per transfer, as in the preset */
    double link_gbytes_per_s;    /* one link, as in the preset */
    int n_gemm, n_xfer;
    cal_gemm *gemm; /* capacity gemm_cap (calibration_add_gemm grows it) */
    cal_xfer *xfer; /* capacity xfer_cap */
    size_t gemm_cap, xfer_cap;
    cal_error compute, comm;
} calibration;

void calibration_free(calibration *c);

/* Appends a point. -1 when out of memory or at CAL_MAX_POINTS points. */
int calibration_add_gemm(calibration *c, const cal_gemm *g);
int calibration_add_xfer(calibration *c, const cal_xfer *x);

/* Fits theta to the GEMM points marked CAL_FIT (features from the preset's schedule) and the
 * link latency and bandwidth to the CAL_FIT transfers (one link of `links` of the preset
 * between two devices, so the cut carries links x the per-link bandwidth), by least squares;
 * fills every point's prediction and the held-out errors. Returns 0, or -1 with a one-line
 * reason (too few points, rank deficiency naming the feature, a fitted weight or link figure
 * outside the file's bounds). A fitted latency below zero by less than 1e-9 of the shortest fit
 * transfer is rounding and becomes 0; further below zero it is an error. */
int calibration_fit(calibration *c, const accel_preset *p, char *err, size_t errlen);

/* Absolute percentage error, 100 |predicted - measured| / |measured|. A zero measurement gives 0
 * if the prediction is 0 too, else infinity. */
double calibration_ape(double measured, double predicted);

/* The errors of the GEMM points under `predicted` (one per point; NULL: each point's own
 * prediction): fit and held-out counts, held-out mean and max APE (NAN without held-out
 * points). */
cal_error calibration_score_gemms(const calibration *c, const double *predicted);

/* The held-out errors (compute, comm) from the points' measured and predicted values. */
void calibration_score(calibration *c);

/* Reads a calibration file. Errors: -1 with "file:line: field 'x': why". */
int calibration_load(const char *path, calibration *out, char *err, size_t errlen);

/* Writes the file into the declared output path (output_set.h; header comment lines first). -1 with
 * "path: why". */
int calibration_write(const char *path, const calibration *c, const char *header, char *err,
                      size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
