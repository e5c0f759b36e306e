/* The runtime: one training step of a network, partitioned by a plan over an emulated array.
 * Every weighted layer's forward, backward and gradient GEMMs are split per the plan's types and
 * alpha at every level and run on the devices; reductions and layout conversions move the real
 * tensor pieces between device memories over the platform's links (platform_api.h). Each run
 * verifies numerics (OpenBLAS), bytes (planner) and cycles (closed form). docs/runtime.md. */
#ifndef ACCPAR_RUN_H
#define ACCPAR_RUN_H

#include "accel_api.h"
#include "gemm.h"
#include "plan.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RUN_FIDELITY_RTL,    /* every GEMM on the verilated RTL */
    RUN_FIDELITY_REPLAY, /* the replay backend: golden numerics; each distinct command (tile)
                            shape timed once on the RTL, its cycles replayed */
    RUN_FIDELITY_GOLDEN  /* golden model only (cycles from the closed form) */
} run_fidelity;

/* Test-only fault injection: the fault must be caught and named by the verification. */
typedef enum { RUN_FAULT_NONE, RUN_FAULT_CORRUPT_TILE, RUN_FAULT_DROP_TRANSFER } run_fault_kind;

typedef struct run_fault {
    run_fault_kind kind;
    int node, device, phase; /* CORRUPT_TILE: a row of this device's GEMM output (phase
                                0/1/2) goes wrong */
    int transfer;            /* DROP_TRANSFER: sequence number of the transfer to drop */
} run_fault;

typedef struct run_options {
    strategy strat;
    int64_t batch;
    run_fidelity fidelity;
    uint64_t seed;
    const char *trace_dir; /* NULL, or a folder for timeline.csv (and waveforms under rtl) */
    run_fault fault;
    void (*progress)(void *ctx, int64_t done, int64_t total); /* may be NULL */
    void *progress_ctx;
} run_options;

enum { RUN_PHASES = 3 }; /* forward, backward, gradient */

typedef struct run_layer {
    uint64_t *bytes, *predicted_bytes;   /* [level]: moved for this node's reductions and the
                                            conversions of its inputs */
    uint64_t *cycles, *predicted_cycles; /* [device]: its three GEMMs */
    gemm_check check[RUN_PHASES];        /* assembled result vs OpenBLAS */
    int checked[RUN_PHASES];
} run_layer;

typedef struct run_result {
    plan plan;
    int n_nodes, n_devices, n_levels;
    run_layer *layers;                                 /* [node] */
    uint64_t *device_cycles, *device_predicted_cycles; /* [device], whole step */
    double *device_compute_s;                          /* [device] */
    double simulated_step_s, predicted_step_s, simulated_compute_s, simulated_comm_s;
    uint64_t bytes_moved, predicted_bytes, host_bytes, transfers;
    int verified;
    char failure[512]; /* the first failed check, named */
} run_result;

/* Runs one training step. Returns 0 with *out filled (out->verified says whether every check
 * passed), or -1 with a one-line error (bad batch or split, device or memory failure). */
int run_step(const net *g, const accel_array *a, const run_options *o, run_result *out, char *err,
             size_t errlen);

void run_result_free(run_result *r);

const char *run_fidelity_name(run_fidelity f);
int run_fidelity_parse(const char *s, run_fidelity *out);

#ifdef __cplusplus
}
#endif

#endif
