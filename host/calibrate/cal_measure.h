/* The measurements behind a calibration: a designed set of GEMM shapes run on an emulated device
 * and transfers of designed sizes on the emulated platform's link (docs/calibration.md). */
#ifndef ACCPAR_CAL_MEASURE_H
#define ACCPAR_CAL_MEASURE_H

#include "accel_api.h"
#include "cal_design.h"

#include <stddef.h>

/* Runs GEMMs part, part + parts, ... of c (all of them: part 0 of 1) on devices of the preset
 * (backend rtl or replay), `jobs` of them at once, and stores each GEMM's counted cycles (the
 * same for any jobs and parts). progress (may be NULL) is called after each, one call at a time.
 * -1 with a one-line error (the first failing GEMM's). */
int cal_measure_gemms(const accel_preset *p, accel_backend backend, int jobs, int part, int parts,
                      calibration *c, void (*progress)(int done, int total), char *err,
                      size_t errlen);

/* Runs every transfer of c on the platform between two devices of the preset, over the link
 * their cut has (links x link bandwidth, the link latency), and stores the simulated seconds. */
int cal_measure_transfers(const accel_preset *p, calibration *c, char *err, size_t errlen);

#endif
