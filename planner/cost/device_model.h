/* The compute and link model the planner uses for one accelerator preset: the exact contract
 * (the closed form, nominal links), a calibration (fitted feature weights and link figures), or
 * the peak rate (MACs / (R C X) cycles: no fill, no memory). docs/calibration.md. */
#ifndef ACCPAR_DEVICE_MODEL_H
#define ACCPAR_DEVICE_MODEL_H

#include "calibration.h"
#include "preset.h"
#include "systolic_model.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MODEL_EXACT, MODEL_CALIBRATED, MODEL_PEAK } model_kind;

typedef struct device_model {
    model_kind kind;
    double theta[GEMM_FEATURES]; /* CALIBRATED: cycles per unit of each feature */
    double link_bytes_per_s;     /* one link */
    double link_latency_s;
    char file[512]; /* CALIBRATED: the calibration file */
    int no_file;    /* EXACT: chosen for "calibrated" because the preset has no calibration file */
} device_model;

/* The nominal contract for the preset: closed-form cycles, the preset's link figures. */
void device_model_exact(const accel_preset *p, device_model *m);
/* Peak-rate compute, the preset's link figures. */
void device_model_peak(const accel_preset *p, device_model *m);
/* A calibration's weights and link figures. -1 with "path: field 'preset': ..." if it was made
 * for another preset. */
int device_model_calibrated(const accel_preset *p, const calibration *c, const char *path,
                            device_model *m, char *err, size_t errlen);

/* models/calibration/NAME.cal under the models folder (models_dir). */
void device_model_default_path(const accel_preset *p, char *path, size_t len);

/* Cycles of one GEMM C[m,n] = A[m,k] B[k,n] on the device, as the model predicts. -1 with a
 * message for shapes outside the systolic model's range. */
int device_model_cycles(const accel_preset *p, const device_model *m, int64_t rows, int64_t k,
                        int64_t n, double *cycles, char *err, size_t errlen);

/* "exact", "exact (no calibration file)", "peak" or "calibrated (FILE)". */
void device_model_label(const device_model *m, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
