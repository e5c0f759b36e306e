/* Test-only fault injection (run_fault.h); compiled only into accpar_runtime_hooks. */
#include "run_fault.h"

#include <string.h>

static int at(const run_ctx *c, run_fault_kind kind, int v, int phase) {
    return c->fault && c->fault->kind == kind && c->fault->node == v && c->fault->phase == phase;
}

int run_fault_drops_transfer(const run_ctx *c) {
    return c->fault && c->fault->kind == RUN_FAULT_DROP_TRANSFER &&
           c->fault->transfer == c->transfer_seq;
}

int run_fault_skips_sum(const run_ctx *c, int v, gemm_phase ph, int g) {
    return g == 1 && at(c, RUN_FAULT_ONE_SIDED_SUM, v, (int)ph);
}

int64_t run_fault_pack(const run_ctx *c, int v, int kind, float *packed, int64_t n) {
    if (at(c, RUN_FAULT_MISPACK, v, kind) && n > 1) {
        float first = packed[0];
        memmove(packed, packed + 1, sizeof(float) * (size_t)(n - 1));
        packed[n - 1] = first;
    } else if (at(c, RUN_FAULT_EXTRA_ELEMENT, v, kind)) {
        packed[n] = packed[0];
        return n + 1;
    }
    return n;
}

void run_fault_result(const run_ctx *c, int d, int v, gemm_phase ph, float *out, int64_t m,
                      int64_t n) {
    if (!at(c, RUN_FAULT_CORRUPT_TILE, v, (int)ph) || c->fault->device != d)
        return;
    for (int64_t j = 0; j < n; j++) /* one row of the result, wrong */
        out[m / 2 * n + j] = out[m / 2 * n + j] * 2.0f + 1.0f;
}

int64_t run_fault_check_chunk(const run_ctx *c, int64_t chunk) {
    return c->fault && c->fault->check_chunk > 0 ? c->fault->check_chunk : chunk;
}
