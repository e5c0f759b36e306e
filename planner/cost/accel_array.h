/* A heterogeneous accelerator array ("4xtpu-v2,4xtpu-v3") and its hierarchical bisection. */
#ifndef ACCPAR_ACCEL_ARRAY_H
#define ACCPAR_ACCEL_ARRAY_H

#include "device_model.h"
#include "preset.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { ARRAY_MAX_KINDS = 16, ARRAY_MAX_DEVICES = 4096 };

/* The interconnect the planner assumes between the two groups of a split.
 * ARRAY_CUT: every device's links reach the other side: the cut carries the smaller group's
 *   summed link bandwidth (the default; the emulated platform's).
 * ARRAY_TORUS: the split's devices form a 2-D torus, whose bisection crosses 2 sqrt(n) links of
 *   the slowest kind's bandwidth (at most the cut's). */
typedef enum array_topology { ARRAY_CUT, ARRAY_TORUS } array_topology;

/* "cut", "torus", then NULL. */
extern const char *const array_topology_names[];

typedef struct accel_array {
    int n_kinds;
    accel_preset kinds[ARRAY_MAX_KINDS];
    int n;                                /* devices, numbered kind by kind in the order given */
    int kind_of[ARRAY_MAX_DEVICES];       /* preset index of each device */
    device_model models[ARRAY_MAX_KINDS]; /* how the planner costs each kind (array_model.h);
                                             accel_array_parse sets the exact contract */
    array_topology topology;              /* what a split's cut carries (level_pair) */
} accel_array;

/* A contiguous range of devices. */
typedef struct device_group {
    int first, count;
} device_group;

/* Parses "COUNTxNAME[,COUNTxNAME...]" (NAME as for preset_find). Errors: -1 with
 * "--accels: field 'ITEM': why", "--accels: unknown preset 'NAME' (PATH: cannot open: why)" for a
 * name without a file, or the preset file's own file:line message. */
int accel_array_parse(const char *spec, accel_array *out, char *err, size_t errlen);

/* Bisection rule: a group of several kinds splits into its first kind (i) and the rest (j);
 * a group of one kind splits into ceil(count/2) (i) and floor(count/2) (j) devices.
 * Returns 0 (and leaves i, j alone) for a single device. */
int accel_array_split(const accel_array *a, device_group g, device_group *i, device_group *j);

/* Peak multiply-accumulates per second of a group. */
double accel_group_macs_per_s(const accel_array *a, device_group g);

/* Bandwidth of a group's links, bytes/s: the sum of links * link_gbytes_per_s of its devices. */
double accel_group_link_bytes_per_s(const accel_array *a, device_group g);

/* Largest link latency in the group, seconds. */
double accel_group_latency_s(const accel_array *a, device_group g);

/* The same two figures as the planner's models see them (a calibration's fitted links). */
void accel_group_model_link(const accel_array *a, device_group g, double *bytes_per_s,
                            double *latency_s);

/* A digest of the array: its devices' kinds in order and every field of their presets. */
uint64_t accel_array_digest(const accel_array *a);

/* 1 if the groups hold the same device kinds in the same order. */
int accel_groups_alike(const accel_array *a, device_group x, device_group y);

#ifdef __cplusplus
}
#endif

#endif
