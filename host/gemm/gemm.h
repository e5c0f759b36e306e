/* One GEMM on one device: C = op(A) op(B) (+ C), tiled onto the device's MXUs as the
 * schedule of planner/hw/systolic_model.h says, and checked. */
#ifndef ACCPAR_GEMM_H
#define ACCPAR_GEMM_H

#include "accel_api.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* op(A) given by a function instead of a stored matrix: writes op(A)(i0 + r, k0 + t), r < ni,
 * t < nk, as bf16 to dst[r * ld + t] (one panel of the device's operand at a time). The runtime
 * gives a CONV's im2col this way, so it is never held: the panels are packed straight from the
 * input image. */
typedef struct gemm_a_blocks {
    void (*fn)(const void *ctx, int64_t i0, int64_t ni, int64_t k0, int64_t nk, uint16_t *dst,
               int64_t ld);
    const void *ctx;
} gemm_a_blocks;

/* C given to a function instead of stored (gemm_args.c NULL; not with accumulate): called once
 * per chunk of rows as the device holds them, in row order, with rows i0 .. i0+ni-1 (ni at most
 * the schedule's m_chunk): element (i0 + r, j) is at
 * tiles[(j / cols) * tile_stride + r * cols + j % cols]. The runtime adds a CONV's error GEMM
 * into its image this way (col2im), so the im2col-shaped result is never held. */
typedef struct gemm_c_blocks {
    void (*fn)(void *ctx, int64_t i0, int64_t ni, const float *tiles, int64_t tile_stride,
               int64_t cols);
    void *ctx;
} gemm_c_blocks;

typedef struct gemm_args {
    int64_t m, k, n;
    int trans_a;    /* A is stored K x M (op(A) = A^T), else M x K; row-major */
    int trans_b;    /* B is stored N x K, else K x N */
    int accumulate; /* C += op(A) op(B) instead of C = op(A) op(B) */
    const float *a; /* values must be bf16-representable (see bf16_round); NULL: a_blocks */
    const float *b;
    float *c; /* M x N row-major; read when accumulate, always written; NULL: c_blocks */
    gemm_a_blocks a_blocks; /* op(A) when a is NULL (gemm_run only; trans_a is not read) */
    gemm_c_blocks c_blocks; /* C when c is NULL (gemm_run only) */
} gemm_args;

/* Called as commands complete: done and total commands of the GEMM. */
typedef struct gemm_progress {
    void (*fn)(void *ctx, int64_t done, int64_t total);
    void *ctx;
} gemm_progress;

typedef struct gemm_run_stats {
    cycle_breakdown cycles;  /* the device's counters for this GEMM */
    cycle_breakdown formula; /* the closed form (systolic_model.h) */
    uint64_t bytes_to_device, bytes_from_device;
} gemm_run_stats;

/* 0 if the GEMM's operands (gemm_operands_of) fit the preset's device memory, else -1 with
 * "GEMM MxKxN needs X MiB of device memory; preset 'P' has Y MiB" in err. Checked by gemm_run
 * and, before allocating anything, by every command that builds a GEMM's operands. */
int gemm_fits_device(const gemm_schedule *s, char *err, size_t errlen);

/* Runs the GEMM on dev. Returns 0, or -1 with a one-line reason in err. */
int gemm_run(accel_dev *dev, const gemm_args *g, gemm_run_stats *stats, char *err, size_t errlen);
/* The same, reporting progress (progress may be NULL). */
int gemm_run_reporting(accel_dev *dev, const gemm_args *g, const gemm_progress *progress,
                       gemm_run_stats *stats, char *err, size_t errlen);

typedef struct gemm_check {
    double max_abs_err;     /* max |c - blas| */
    double max_bound_ratio; /* max |c - blas| / bound; <= 1 passes */
    int64_t worst_index;    /* row-major index of the largest ratio */
    int64_t first_bad;      /* row-major index of the element the message names, or -1 */
    int passed;
    char message[256]; /* the first element out of bound, or empty */
} gemm_check;

/* The threads the checks may use (n >= 1; the default 1); a process-wide setting. The checks'
 * results do not depend on it. */
void gemm_check_threads(int n);

/* The OpenBLAS kernels the checks run on: its core name, e.g. "Haswell". */
const char *gemm_check_blas_kernels(void);

/* The magnitude of element (i, j) that the bound scales, docs/design.md:
 *   mag_ij = sum over blocks of GEMM_CHECK_NORM_TERMS consecutive k of |a_i,blk| |b_blk,j|
 * (2-norms; + |c_ij| when accumulating), by Cauchy-Schwarz at least sum_k |a_ik b_kj|. */
#define GEMM_CHECK_NORM_TERMS 16

/* Compares c against OpenBLAS sgemm on the same inputs (c_in: C before the GEMM when
 * accumulating, else NULL) with the bound 2 * gamma_K * mag_ij of docs/design.md. */
int gemm_check_blas(const gemm_args *g, const float *c_in, const float *c, gemm_check *out);

/* Its two halves, for results that pass through further sums (a partitioned GEMM, col2im):
 * ref = OpenBLAS op(A) op(B) (+ c_in) and mag, each M x N (mag by sgemm on the block norms in
 * chunks of at most 1024 blocks added in fp64: relative error below 6.1e-5); then c against
 * ref with the bound 2 gamma_terms mag, terms being the most products any element sums. Both
 * return 0, or -1 (out of memory, with out->message set). */
int gemm_blas_reference(const gemm_args *g, const float *c_in, float *ref, double *mag,
                        gemm_check *out);
/* The host bytes gemm_blas_reference allocates for an m x k x n GEMM (beyond ref and mag) when
 * the checks run on `threads` threads. */
uint64_t gemm_blas_reference_bytes(int64_t m, int64_t k, int64_t n, int threads);
void gemm_check_values(const float *c, const float *ref, const double *mag, int64_t row0,
                       int64_t rows, int64_t cols, int64_t terms, gemm_check *out);
/* For a check done in pieces: rows row0 .. row0 + rows - 1 of a larger matrix above (indices
 * and the message name the larger matrix's rows), and total (first gemm_check_values' result)
 * merged with the next piece's part, pieces taken in row order: the same as one check of the
 * whole. */
void gemm_check_merge(gemm_check *total, const gemm_check *part);

#ifdef __cplusplus
}
#endif

#endif
