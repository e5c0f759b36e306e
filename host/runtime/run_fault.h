/* The hooks of test-only fault injection (run.h, ACCPAR_TEST_HOOKS). In the product build they
 * are empty inline functions and the injection code is not compiled at all. Internal to the
 * runtime. */
#ifndef ACCPAR_RUN_FAULT_H
#define ACCPAR_RUN_FAULT_H

#include "run_ctx.h"

#ifdef ACCPAR_TEST_HOOKS
/* Transfer number c->transfer_seq is dropped. */
int run_fault_drops_transfer(const run_ctx *c);
/* Group g of a reduction of node v's phase ph keeps its own partial. */
int run_fault_skips_sum(const run_ctx *c, int v, gemm_phase ph, int g);
/* Repacks n packed conversion elements of node v (room for n + 1); returns the count to send. */
int64_t run_fault_pack(const run_ctx *c, int v, int kind, float *packed, int64_t n);
/* Corrupts device d's result of node v's phase ph (m x n, row-major). */
void run_fault_result(const run_ctx *c, int d, int v, gemm_phase ph, float *out, int64_t m,
                      int64_t n);
/* The checks' chunk size: the test's, else `chunk`. */
int64_t run_fault_check_chunk(const run_ctx *c, int64_t chunk);
#else
static inline int run_fault_drops_transfer(const run_ctx *c) {
    (void)c;
    return 0;
}
static inline int run_fault_skips_sum(const run_ctx *c, int v, gemm_phase ph, int g) {
    (void)c, (void)v, (void)ph, (void)g;
    return 0;
}
static inline int64_t run_fault_pack(const run_ctx *c, int v, int kind, float *packed, int64_t n) {
    (void)c, (void)v, (void)kind, (void)packed;
    return n;
}
static inline void run_fault_result(const run_ctx *c, int d, int v, gemm_phase ph, float *out,
                                    int64_t m, int64_t n) {
    (void)c, (void)d, (void)v, (void)ph, (void)out, (void)m, (void)n;
}
static inline int64_t run_fault_check_chunk(const run_ctx *c, int64_t chunk) {
    (void)c;
    return chunk;
}
#endif

#endif
