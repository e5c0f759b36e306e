/* Human and machine-readable reports of plans: the levels x layers table, the reference-style
 * grid and JSON. */
#ifndef ACCPAR_PLAN_REPORT_H
#define ACCPAR_PLAN_REPORT_H

#include "json.h"
#include "plan.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Speedup over data parallelism; NAN if either step time is unknown. */
double plan_speedup(const plan *p, const plan *dp);

/* Levels x layers table: a header row "level alpha NAME...", then per level its number, alpha
 * and cells[level * cols + c]. Columns wrap into further blocks of at most 100 characters a
 * line, each repeating the level and alpha columns. */
void plan_print_types(FILE *f, int levels, int cols, const char *const *names, const double *alpha,
                      const char *const *cells);

/* The plan's heading, its levels x nodes table (I/II/III for layers, B/C/R for add layouts) and
 * compute, communication and step time, then "compute model: LABEL" and the devices' peak memory
 * (runs of devices with equal figures on one line). dp may be NULL. -1 when out of memory. */
int plan_print_table(FILE *f, const net *g, const plan *p, const plan *dp);

/* The reference program's grid layout for the plan's weighted layers. -1 when out of memory. */
int plan_print_grid(FILE *f, const net *g, const plan *p);

/* One JSON object for the plan (an array element): strategy, model (the cost model's label),
 * levels [{alpha, types, comm_s, comm_bytes}], predicted_step_s, compute_s, comm_s, comm_bytes,
 * speedup_vs_dp (null if unknown), memory [{device, resident_bytes, gemm_bytes, gemm_layer,
 * gemm_phase, staging_bytes, peak_bytes, capacity_bytes}] (plan_memory.h). */
void plan_write_json(json_out *j, const net *g, const plan *p, const plan *dp);

#ifdef __cplusplus
}
#endif

#endif
