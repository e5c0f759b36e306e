/* The points of a calibration, designed or read, before anything is measured
 * (docs/calibration.md). */
#ifndef ACCPAR_CAL_DESIGN_H
#define ACCPAR_CAL_DESIGN_H

#include "calibration.h"

#include <stddef.h>

/* The sweep's GEMM shapes for a preset (points with role set, nothing measured): small and
 * large M, K, N relative to the array and buffers, ragged edges, memory-bound tiny-row cases and
 * accumulation; every third point is held out. Returns 0, or -1 when out of memory. */
int cal_design_sweep(const accel_preset *p, calibration *c);

/* GEMM shapes from a file, one "M K N [accumulate]" a line ('#' comments); every third point is
 * held out. Errors: -1 with "file:line: field 'x': why". */
int cal_read_shapes(const char *path, calibration *c, char *err, size_t errlen);

/* Transfers of designed sizes, 1 byte to 16 MiB, geometric with ragged steps; every third one is
 * held out. Returns 0, or -1 when out of memory. */
int cal_design_transfers(calibration *c);

#endif
