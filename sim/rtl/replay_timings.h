/* The replay backend's measured command timings, shared by every replay device of a model in the
 * process and kept in the model's cache folder (file `replay-timings`), so later commands replay
 * without measuring. Keyed by the model's folder, whose name covers the RTL sources, parameters
 * and tools, and by the measuring code (a digest of its sources in the file's header): a change
 * of either starts a new, empty set. The file is a cache: one that cannot be read
 * or parsed is ignored (and rewritten), one that cannot be written is skipped. */
#ifndef ACCPAR_REPLAY_TIMINGS_H
#define ACCPAR_REPLAY_TIMINGS_H

#include "preset.h"
#include "systolic_model.h"

#include <stddef.h>
#include <stdint.h>

/* A command's shape: what its cycles depend on (opcode, rows, MXUs, prefetched MXUs). */
typedef struct replay_shape {
    int op;
    uint32_t rows, mxus, pf_mxus;
} replay_shape;

typedef struct replay_timings replay_timings;

/* The set of the preset's model, loaded from its file on first use. Thread-safe; lives until the
 * process ends. NULL with a one-line error if the model's folder cannot be named. */
replay_timings *replay_timings_of(const accel_preset *p, char *err, size_t errlen);

/* 1 with *out if the shape has been measured, else 0. */
int replay_timings_find(replay_timings *t, const replay_shape *k, cycle_breakdown *out);

/* Records a measurement (a shape measured twice keeps the first: they are equal) and writes the
 * set to its file at once, merged with what other processes wrote there meanwhile (atomically:
 * a unique temporary renamed over the file), so a run that is stopped keeps what it measured. */
int replay_timings_add(replay_timings *t, const replay_shape *k, const cycle_breakdown *c);

#endif
