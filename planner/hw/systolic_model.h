/* The accelerator's timing contract and the GEMM tiling schedule, shared by the planner
 * (closed-form cycles), the golden device model and the host tiler (which issues the
 * schedule's commands). docs/accelerator.md derives every formula here. */
#ifndef ACCPAR_SYSTOLIC_MODEL_H
#define ACCPAR_SYSTOLIC_MODEL_H

#include "preset.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Cycle counters of a device, as the RTL counts them:
 * total = busy + stall + commands (one issue cycle per command). */
typedef struct cycle_breakdown {
    uint64_t total;    /* cycles with a command in progress */
    uint64_t busy;     /* MATMUL streaming cycles (fill, steady state, drain) */
    uint64_t stall;    /* cycles waiting on device memory */
    uint64_t commands; /* commands executed (each spends one issue cycle) */
    uint64_t macs;     /* PE multiply-accumulates issued, padding included */
} cycle_breakdown;

/* Device-memory words a transfer of `bytes` occupies: ceil(bytes / BW). */
uint64_t model_words(const accel_preset *p, uint64_t bytes);

/* Per-command costs, each added `count` times to *cb.
 * LOAD_A / LOAD_W / LOAD_ACC: 2 + words;  STORE: 1 + words;
 * MATMUL of `rows` rows on `tiles` MXUs prefetching `pf_tiles` weight tiles:
 *   1 + max(rows + R + C, 1 + words(pf_tiles * 2RC))  (just 1 + rows + R + C if pf_tiles = 0). */
void model_add_load(const accel_preset *p, uint64_t bytes, uint64_t count, cycle_breakdown *cb);
void model_add_store(const accel_preset *p, uint64_t bytes, uint64_t count, cycle_breakdown *cb);
void model_add_matmul(const accel_preset *p, uint64_t rows, int tiles, int pf_tiles, uint64_t count,
                      cycle_breakdown *cb);

/* How a GEMM C[M,N] (+)= A[M,K] * B[K,N] is cut into array-sized work (docs/accelerator.md). */
typedef struct gemm_schedule {
    const accel_preset *preset;
    int64_t m, k, n;
    int accumulate;           /* add into the existing C */
    int64_t k_tiles;          /* KT = ceil(K / R) */
    int64_t n_tiles;          /* NT = ceil(N / C) */
    int64_t n_groups;         /* NG = ceil(NT / X): tiles issued together on the X MXUs */
    int last_group_tiles;     /* NT - (NG - 1) X */
    int64_t m_chunk;          /* rows per chunk: min(M, act_buffer_rows, acc_buffer_rows) */
    int64_t m_chunks;         /* MC = ceil(M / m_chunk) */
    int64_t m_last;           /* rows of the last chunk */
    int64_t groups_per_block; /* G: groups whose accumulators fit together */
    int64_t blocks;           /* NB = ceil(NG / G) */
    int64_t last_block_groups;
} gemm_schedule;

/* Returns -1 with a message for shapes outside 1 .. 2^31-1 per dimension. */
int gemm_schedule_make(const accel_preset *p, int64_t m, int64_t k, int64_t n, int accumulate,
                       gemm_schedule *s, char *err, size_t errlen);

int gemm_group_tiles(const gemm_schedule *s, int64_t group);

typedef enum {
    STEP_LOAD_W,   /* weights of (kt, group) into the shadow buffers of MXUs 0..tiles-1 */
    STEP_LOAD_ACC, /* C rows of (chunk, tile of group on mxu) into the accumulators */
    STEP_LOAD_A,   /* A rows of (chunk, kt) into the activation buffer */
    STEP_MATMUL,   /* stream the chunk through the MXUs holding (kt, group) */
    STEP_STORE     /* accumulators of (chunk, group, mxu) out to device memory */
} gemm_step_kind;

typedef struct gemm_step {
    gemm_step_kind kind;
    int64_t chunk, rows;     /* chunk index and its row count */
    int64_t kt, group;       /* weight tile coordinates */
    int tiles;               /* MXUs used (LOAD_W, MATMUL) */
    int mxu;                 /* LOAD_ACC, STORE: which MXU */
    int64_t acc_off;         /* accumulator row offset */
    int accumulate;          /* MATMUL: add into the accumulators */
    int64_t pf_kt, pf_group; /* MATMUL: weights prefetched for the next MATMUL */
    int pf_tiles;            /* 0 if this is the last MATMUL */
} gemm_step;

typedef int (*gemm_step_fn)(const gemm_step *step, void *ctx);

/* Calls fn for every command of the schedule, in issue order; stops at the first non-zero
 * return and passes it on. */
int gemm_schedule_walk(const gemm_schedule *s, gemm_step_fn fn, void *ctx);

/* Cycles of the whole schedule in closed form (O(1), no walk). */
void gemm_cycles_closed_form(const gemm_schedule *s, cycle_breakdown *cb);

/* The closed form as a sum of counts (features) of the schedule, each costing one cycle in the
 * nominal contract: cycles = sum of f[i]. A calibrated model weights them (docs/calibration.md).
 *   COMMANDS  one issue cycle per command
 *   LOADS     one cycle of read latency per LOAD_A / LOAD_W / LOAD_ACC
 *   WORDS     device-memory words moved by loads and stores
 *   ROWS      activation rows streamed by MATMULs
 *   FILL      R + C per MATMUL (fill and drain of the array)
 *   PREFETCH  per MATMUL, max(0, 1 + prefetch words - (rows + R + C)): memory-bound excess */
enum { FEAT_COMMANDS, FEAT_LOADS, FEAT_WORDS, FEAT_ROWS, FEAT_FILL, FEAT_PREFETCH, GEMM_FEATURES };

typedef struct gemm_features {
    uint64_t f[GEMM_FEATURES];
    uint64_t macs; /* PE multiply-accumulates issued (not a time) */
} gemm_features;

extern const char *const gemm_feature_names[GEMM_FEATURES];

/* Cycles each feature costs in the accelerator's contract (docs/accelerator.md, "The cycle
 * window"): one each. The closed form, the exact model and a calibration's nominal weights all
 * read it, so an accelerator whose timing changes changes it here (docs/labs/, lab 2). The
 * commands' weight is 1 by the counters' definition (one issue cycle per command). */
extern const uint64_t gemm_contract_cycles[GEMM_FEATURES];

/* The schedule's features in closed form (O(1)); gemm_cycles_closed_form is built on it. */
void gemm_features_closed_form(const gemm_schedule *s, gemm_features *f);

/* Cycles of a model weighting each feature: sum of theta[i] * f[i] (gemm_contract_cycles: the
 * contract). */
double gemm_features_weighted(const gemm_features *f, const double theta[GEMM_FEATURES]);

/* Adds the contract's cycles of f to *cb (each feature times gemm_contract_cycles): commands,
 * busy = rows + fill, stall = loads + words + prefetch, total = the sum of all six. */
void gemm_features_add_to(const gemm_features *f, cycle_breakdown *cb);

/* Adds the cost of one schedule step (what the device spends on that command). */
void model_add_step(const gemm_schedule *s, const gemm_step *step, cycle_breakdown *cb);

/* Device memory of a GEMM's operands as the host tiler lays them out (docs/accelerator.md):
 * A as [chunk][kt] panels of m_chunk x R bf16, B as [kt][group] blocks of X tiles of R x C bf16,
 * C as [chunk][nt] tiles of m_chunk x C fp32; each panel, block and tile rounded up to whole
 * port words. Byte counts saturate at UINT64_MAX (a shape no device memory holds). */
typedef struct gemm_operands {
    uint64_t a_panel, b_block, c_tile; /* strides in elements: bf16, bf16, fp32 */
    uint64_t a_bytes, b_bytes, c_bytes;
} gemm_operands;

void gemm_operands_of(const gemm_schedule *s, gemm_operands *o);

/* a_bytes + b_bytes + c_bytes, saturating. */
uint64_t gemm_operand_bytes(const gemm_operands *o);

/* x * y, or UINT64_MAX if that does not fit. */
static inline uint64_t sat_mul(uint64_t x, uint64_t y) {
    uint64_t r;
    return __builtin_mul_overflow(x, y, &r) ? UINT64_MAX : r;
}

/* x + y, or UINT64_MAX if that does not fit. */
static inline uint64_t sat_add(uint64_t x, uint64_t y) {
    uint64_t r;
    return __builtin_add_overflow(x, y, &r) ? UINT64_MAX : r;
}

/* Wall time of `cycles` at the preset clock, seconds. */
double model_seconds(const accel_preset *p, uint64_t cycles);

#ifdef __cplusplus
}
#endif

#endif
