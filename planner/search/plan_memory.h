/* Each device's peak memory under a plan (docs/runtime.md, "Device memory"): what the device keeps
 * for the whole step and the largest working set it needs on top of it. The runtime reserves the
 * same and reports its allocator's high-water mark, which tests compare with this model. */
#ifndef ACCPAR_PLAN_MEMORY_H
#define ACCPAR_PLAN_MEMORY_H

#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes per element the device keeps: weights and weight gradients as fp32 (the optimizer's
 * master copy), the layer inputs kept for the backward pass as bf16 (what its GEMMs read). */
enum { MEMORY_WEIGHT_BYTES = 4, MEMORY_KEPT_BYTES = 2 };

typedef struct plan_memory {
    uint64_t resident; /* sum over weighted layers of its shares of W, dW and the kept input,
                          each rounded up to whole port words (one allocation each) */
    uint64_t gemm;     /* the largest GEMM's operand layout (gemm_operands_of) */
    int gemm_node;     /* and its layer and phase (-1: the device runs no GEMM) */
    gemm_phase gemm_phase;
    uint64_t staging;  /* bound of the largest communication phase staged on the device: per
                          split it leads, what both groups receive for one layer, plus two port
                          words of rounding */
    int staging_node;  /* its layer (-1: the device leads no split) */
    uint64_t peak;     /* resident + max(gemm, staging), saturating */
    uint64_t capacity; /* the preset's mem_mib */
} plan_memory;

/* out[d] for every device of the plan. */
void plan_memory_of(const net *g, const accel_array *a, const plan *p, plan_memory *out);

/* 0 if every device's peak fits its capacity, else -1 with one line naming the first device that
 * does not, its need and capacity, and the layer of its largest working set. */
int plan_memory_check(const net *g, const accel_array *a, const plan_memory *m, char *err,
                      size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
