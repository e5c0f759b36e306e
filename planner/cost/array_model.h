/* Chooses the model the planner uses for each preset of an array: the exact contract, the peak
 * rate, or a calibration (given files, else each preset's default models/calibration/NAME.cal
 * when it exists). docs/calibration.md. */
#ifndef ACCPAR_ARRAY_MODEL_H
#define ACCPAR_ARRAY_MODEL_H

#include "accel_array.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* kind: "exact", "peak" or "calibrated" (NULL: calibrated). files: NULL, or comma-separated
 * calibration files, each for one of the array's presets (only with calibrated; at most one file
 * a preset). Under calibrated a preset without a given file uses its default file if present
 * (and a preset with a given file never reads its default), else exact, labelled so.
 * Errors: -1 with a one-line message ("--compute-model: ...", or the file's file:line:field). */
int array_model_select(accel_array *a, const char *kind, const char *files, char *err,
                       size_t errlen);

/* The models in one line: the one label (device_model_label) when every preset's is the same,
 * else "PRESET: LABEL; PRESET: LABEL". */
void array_model_label(const accel_array *a, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
