/* A heterogeneous accelerator array ("4xtpu-v2,4xtpu-v3") and its hierarchical bisection. */
#ifndef ACCPAR_ACCEL_ARRAY_H
#define ACCPAR_ACCEL_ARRAY_H

#include "device_model.h"
#include "preset.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { ARRAY_MAX_KINDS = 16, ARRAY_MAX_DEVICES = 4096 };

typedef struct accel_array {
    int n_kinds;
    accel_preset kinds[ARRAY_MAX_KINDS];
    int n;                                /* devices, numbered kind by kind in the order given */
    int kind_of[ARRAY_MAX_DEVICES];       /* preset index of each device */
    device_model models[ARRAY_MAX_KINDS]; /* how the planner costs each kind (array_model.h);
                                             accel_array_parse sets the exact contract */
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
