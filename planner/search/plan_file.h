/* Saved plans (docs/plan-file.md): `accpar plan --out` writes one, `accpar run --plan` executes
 * it. The file names the network, the array and the compute model it was made for, with digests
 * of the network's shapes and the presets, and holds each level's alpha and every node's state
 * by name; loading it rebuilds the plan from those choices (plan_make_chosen), so an edited plan
 * is checked like a searched one. */
#ifndef ACCPAR_PLAN_FILE_H
#define ACCPAR_PLAN_FILE_H

#include "json.h"
#include "json_read.h"
#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { PLAN_FILE_VERSION = 1 };

/* How the network and array were given when the plan was made. */
typedef struct plan_file_meta {
    char net[512]; /* --net as given (a name or a path) */
    double scale, image_scale;
    char accels[1024];      /* --accels */
    char compute_model[16]; /* exact, calibrated or peak */
    char calibration[2048]; /* --calibration, "" for none */
} plan_file_meta;

/* Writes the plan file of p, made for g on a as meta says, as one JSON object. */
void plan_file_write(json_out *j, const plan_file_meta *meta, const net *g, const accel_array *a,
                     const plan *p);

/* A plan file as read, before the network and array are at hand. */
typedef struct plan_file {
    char path[1024];
    plan_file_meta meta;
    strategy strat;
    int64_t batch;
    int search_levels;
    json_value doc;
} plan_file;

/* Reads the file and its header fields. Errors: -1 with "path:line: field 'x': why". */
int plan_file_read(const char *path, plan_file *out, char *err, size_t errlen);

/* The plan of the file for g on a (loaded as its meta says): the digests must match (else
 * "path: field 'network_digest': ... has changed since the plan was saved"), every non-input
 * node needs a state at every level, and the rebuilt plan's prediction must be the saved one
 * unless the file has no "predicted" (the way to run a hand-edited plan). Errors: PLAN_BAD_INPUT
 * with a one-line "path:line: field 'x': why", or PLAN_NO_FIT (plan_make). */
int plan_file_plan(const plan_file *f, const net *g, const accel_array *a, plan *out, char *err,
                   size_t errlen);

void plan_file_free(plan_file *f);

#ifdef __cplusplus
}
#endif

#endif
