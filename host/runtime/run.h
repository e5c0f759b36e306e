/* The runtime: one training step of a network, partitioned by a plan over an emulated array.
 * Every weighted layer's forward, backward and gradient GEMMs are split per the plan's types and
 * alpha at every level and run on the devices; reductions and layout conversions move the real
 * tensor pieces between device memories over the platform's links (platform.h). Each run
 * verifies numerics (OpenBLAS), bytes (planner) and cycles (closed form). docs/runtime.md. */
#ifndef ACCPAR_RUN_H
#define ACCPAR_RUN_H

#include "accel_api.h"
#include "cluster.h"
#include "gemm.h"
#include "plan.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The fidelity is the device backend every device runs on (accel_api.h): rtl (every GEMM on
 * the verilated RTL), replay (golden numerics; each distinct command shape timed once on the
 * RTL, its cycles replayed) or golden (golden model only, closed-form cycles). */
typedef accel_backend run_fidelity;
#define RUN_FIDELITY_GOLDEN ACCEL_BACKEND_GOLDEN
#define RUN_FIDELITY_RTL ACCEL_BACKEND_RTL
#define RUN_FIDELITY_REPLAY ACCEL_BACKEND_REPLAY

static inline const char *run_fidelity_name(run_fidelity f) {
    return accel_backend_name(f);
}

static inline int run_fidelity_parse(const char *s, run_fidelity *out) {
    return accel_backend_parse(s, out);
}

typedef struct run_options {
    run_fidelity fidelity;
    uint64_t seed;
    const char *trace_dir; /* NULL, or an existing folder for timeline.csv (and waveforms under
                              rtl), declared outputs (output_set.h) the caller commits */
    void (*progress)(void *ctx, int64_t done, int64_t total); /* may be NULL */
    void *progress_ctx;
    int jobs;                 /* devices emulated at once (threads); results do not depend on it */
    const char *trace_events; /* NULL, or a path for the step's timeline in the Chrome trace-event
                                 format (Perfetto), a declared output the caller commits */
    uint64_t trace_limit_bytes; /* waveforms estimated larger are refused at once; 0: no limit */
    cluster *cluster;           /* NULL: one process; else the step's ranks (docs/scale-out.md) */
    const int *placement;       /* with a cluster: each device's rank; NULL: run_placement's */
    double rank_timeout_s;      /* with a cluster: rank 0 gives up on a silent rank after this */
} run_options;

typedef struct run_layer {
    uint64_t *bytes, *predicted_bytes;  /* [level]: delivered into destination buffers for this
                                           node's reductions and the conversions of its inputs;
                                           the planner's prediction */
    uint64_t *cycles, *contract_cycles; /* [device]: its three GEMMs, counted and closed form */
    gemm_check check[PHASES];           /* assembled result vs OpenBLAS */
    int checked[PHASES];
    uint64_t result_hash[PHASES]; /* digest_words_parallel of the assembled result's bits */
} run_layer;

typedef struct run_result {
    const plan *plan; /* the plan that was run (the caller's) */
    int n_nodes, n_devices, n_levels;
    run_layer *layers;                                /* [node] */
    uint64_t *device_cycles, *device_contract_cycles; /* [device], whole step */
    double *device_model_cycles; /* [device]: the planner's selected model (plan->model) */
    double *device_compute_s;    /* [device] */
    uint64_t *device_mem_resident, *device_mem_peak; /* [device]: bytes reserved for the whole
                                                        step; the allocator's high-water mark */
    double simulated_step_s, predicted_step_s, simulated_compute_s, simulated_comm_s;
    uint64_t bytes_moved;     /* delivered into destination buffers and used there */
    uint64_t link_bytes;      /* carried by the platform's links */
    uint64_t predicted_bytes; /* the planner's */
    uint64_t host_bytes, transfers;
    uint64_t host_memory_bytes;    /* the step's host-memory account (checked before it starts) */
    uint64_t trace_estimate_bytes; /* the waveforms' estimated size (rtl with trace_dir), else 0 */
    uint64_t macs; /* multiply-adds of the devices' GEMMs (M*K*N each), the step's arithmetic */
    int verified;
    char failure[512]; /* the first failed check, named */
    int ranks;         /* processes the devices were spread over (1 without a cluster) */
    int *rank_of;      /* [device]: the rank that emulated it */
    uint64_t rank_bytes, rank_messages; /* payload bytes and messages rank 0 exchanged */
} run_result;

/* run_step's errors: the input cannot be run (a plan made for another network or array, a
 * network without stride and padding, a backend the array lacks, an unwritable --trace), or the
 * run failed on the way (a device error such as device memory exhausted, host memory), named
 * with the layer. */
enum { RUN_BAD_INPUT = -1, RUN_FAILED = -2 };

/* Runs one training step of net g on array a as plan p says (plan_make, or a saved plan
 * loaded with plan_file_load). Returns 0 with *out filled (out->verified says whether every
 * check passed), or RUN_BAD_INPUT or RUN_FAILED with a one-line error. p must outlive *out.
 * With a cluster, every rank calls it with the same inputs: rank 0 runs the step, driving the
 * devices placed on other ranks with messages, and fills *out exactly as one process would (apart
 * from the rank fields); every other rank emulates its own devices for rank 0 until the step
 * ends, then returns rank 0's outcome: its return value, and out->verified. */
int run_step(const net *g, const accel_array *a, const plan *p, const run_options *o,
             run_result *out, char *err, size_t errlen);

void run_result_free(run_result *r);

/* A digest of everything a step's outcome depends on (network, array and its models, the plan's
 * choices and shapes, fidelity and seed) and of the placement: the ranks of a cluster must agree
 * on it. */
uint64_t run_inputs_digest(const net *g, const accel_array *a, const plan *p, const run_options *o);

/* The default placement of n devices on `ranks` ranks: contiguous blocks in device order, rank r
 * taking devices floor(r n / ranks) .. floor((r + 1) n / ranks) - 1 (docs/scale-out.md). */
void run_placement(int n, int ranks, int *rank_of);

#ifdef ACCPAR_TEST_HOOKS
/* Test-only fault injection, compiled only into the test build of the runtime (CMake target
 * accpar_runtime_hooks); the verification must catch each fault and name it. */
typedef enum {
    RUN_FAULT_NONE,
    RUN_FAULT_CORRUPT_TILE,  /* a row of `device`'s GEMM output of `phase` at `node` goes wrong */
    RUN_FAULT_DROP_TRANSFER, /* transfer number `transfer` never reaches its destination */
    RUN_FAULT_MISPACK,       /* `node`'s conversions of kind `phase` (0: F, 1: E) pack the right
                                number of elements, off by one (each the next one's value) */
    RUN_FAULT_ONE_SIDED_SUM, /* `node`'s reductions of `phase`: group j keeps its own partial
                                instead of adding what it received */
    RUN_FAULT_EXTRA_ELEMENT  /* `node`'s conversions of kind `phase` send one element more than
                                the destination needs */
} run_fault_kind;

typedef struct run_fault {
    run_fault_kind kind;
    int node, device, phase;
    int transfer;
    int64_t check_chunk; /* > 0: the OpenBLAS checks cut the im2col rows into chunks of at most
                            this many values (run_verify.c), so a small step takes the paths of
                            a large one; with any kind */
} run_fault;

/* run_step with a fault injected. */
int run_step_faulty(const net *g, const accel_array *a, const plan *p, const run_options *o,
                    const run_fault *fault, run_result *out, char *err, size_t errlen);
#endif

#ifdef __cplusplus
}
#endif

#endif
