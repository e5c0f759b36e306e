/* The independent check of a GEMM: OpenBLAS sgemm on the same bf16 inputs, and the
 * per-element bound |c - blas| <= 2 gamma_K mag_ij, mag_ij >= sum_k |a_ik b_kj| (gemm.h,
 * docs/design.md, docs/accelerator.md). */
#include "gemm.h"

#include "clones.h"
#include "parallel.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* gamma_n = n u / (1 - n u) with u = 2^-24, the fp32 unit roundoff. */
static double gamma_n(int64_t n) {
    double nu = (double)n * 0x1p-24;
    return nu / (1.0 - nu);
}

static int same_special(float x, float y) {
    if (isnan(x) || isnan(y))
        return isnan(x) && isnan(y);
    return x == y; /* infinities of one sign */
}

/* The checks' threads. OpenBLAS itself runs single-threaded: its results change with its thread
 * count, so the reference is computed in blocks of rows of C, a split that does not depend on the
 * thread count (block_rows), and the blocks run in parallel. */
static int check_threads = 1;
enum { NORM_TERMS = GEMM_CHECK_NORM_TERMS, CHUNK_NORMS = 1024 };

/* Rows per block of an M-row reference: about M / BLOCKS_AIM (whole 32-byte vectors of a
 * transposed A), so the threads share the blocks evenly, within ROWS_MIN .. ROWS_MAX. Every block
 * packs all of op(B) again, so larger blocks pack it fewer times; the scratch per thread grows
 * with them. (A floor of 256 rows in multiples of 64 cut VGG-16's 576- and 1152-row dW and E
 * references into 3 and 5 uneven blocks: on two threads, one waited a tenth of the time.) */
enum { BLOCKS_AIM = 8, ROWS_MIN = 64, ROWS_MAX = 2048, ROWS_ROUND = 8 };

static int64_t block_rows(int64_t M) {
    int64_t r = ((M + BLOCKS_AIM - 1) / BLOCKS_AIM + ROWS_ROUND - 1) / ROWS_ROUND * ROWS_ROUND;
    return r < ROWS_MIN ? ROWS_MIN : r > ROWS_MAX ? ROWS_MAX : r;
}

void gemm_check_threads(int n) {
    openblas_set_num_threads(1);
    check_threads = n > 0 ? n : 1;
}

const char *gemm_check_blas_kernels(void) {
    return openblas_get_corename();
}

/* out[r][b] = the 2-norm of terms b*NORM_TERMS .. of row r0 + r of a rows x K operand (the last
 * block may be shorter; kb = the number of blocks). Element (r, k) is at src[(r0 + r) * ld + k],
 * or with k_major at src[k * ld + r0 + r], summed in sum (rows floats); either way the loops
 * read src in storage order. */
static CPU_CLONES void block_norms(const float *src, int64_t ld, int k_major, int64_t r0,
                                   int64_t rows, int64_t K, float *out, float *sum) {
    const int64_t kb = (K + NORM_TERMS - 1) / NORM_TERMS;
    for (int64_t r = 0; !k_major && r < rows; r++) {
        const float *x = src + (r0 + r) * ld;
        for (int64_t b = 0; b < kb; b++) {
            int64_t k0 = b * NORM_TERMS, n = K - k0 < NORM_TERMS ? K - k0 : NORM_TERMS;
            float s[4] = {0}; /* four chains (term k in chain k % 4): one vector register */
            int64_t k = 0;
            for (; k + 4 <= n; k += 4)
                for (int l = 0; l < 4; l++)
                    s[l] += x[k0 + k + l] * x[k0 + k + l];
            for (; k < n; k++)
                s[k & 3] += x[k0 + k] * x[k0 + k];
            out[r * kb + b] = sqrtf((s[0] + s[1]) + (s[2] + s[3]));
        }
    }
    for (int64_t b = 0; k_major && b < kb; b++) {
        int64_t k0 = b * NORM_TERMS, n = K - k0 < NORM_TERMS ? K - k0 : NORM_TERMS;
        for (int64_t r = 0; r < rows; r++)
            sum[r] = 0.0f;
        for (int64_t k = k0; k < k0 + n; k++) {
            const float *x = src + k * ld + r0;
            for (int64_t r = 0; r < rows; r++)
                sum[r] += x[r] * x[r];
        }
        for (int64_t r = 0; r < rows; r++)
            out[r * kb + b] = sqrtf(sum[r]);
    }
}

typedef struct blas_blocks {
    const gemm_args *g;
    const float *norm_b; /* op(B)'s columns' block norms, N x kb */
    int64_t kb;
    float *scratch; /* per worker: A's block norms (rows x kb), C's rows for one chunk of blocks
                       (rows x N) and a row of sums (rows: a block's at most) */
    size_t scratch_per_worker;
    const float *c_in; /* C before the GEMM when accumulating, else NULL */
    float *ref;
    double *mag;
} blas_blocks;

/* Rows m0 .. of ref and mag: sgemm on the rows' slices of A and C (+ c_in); and the magnitudes by
 * Cauchy-Schwarz over blocks of NORM_TERMS terms, sum_k |a_ik b_kj| <= sum_blocks |a_i,blk|
 * |b_blk,j| (2-norms): sgemm on the block norms, a GEMM NORM_TERMS times smaller than the
 * products' own, over chunks of CHUNK_NORMS blocks, each chunk's sum added in fp64 (+ |c_ij|). */
static void blas_block(void *ctx, int blk, int worker) {
    const blas_blocks *B = ctx;
    const gemm_args *g = B->g;
    const int64_t M = g->m, K = g->k, N = g->n, kb = B->kb, br = block_rows(M), m0 = blk * br;
    int rows = (int)(M - m0 < br ? M - m0 : br);
    enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
    int lda = (int)(g->trans_a ? M : K), ldb = (int)(g->trans_b ? K : N);
    size_t a_off = (size_t)(g->trans_a ? m0 : m0 * K), c_off = (size_t)(m0 * N);
    size_t nc = (size_t)rows * (size_t)N;
    double *mag = B->mag + c_off;
    const float *c_in = B->c_in ? B->c_in + c_off : NULL;
    if (B->c_in)
        memcpy(B->ref + c_off, B->c_in + c_off, nc * sizeof *B->ref);
    cblas_sgemm(CblasRowMajor, ta, tb, rows, (int)N, (int)K, 1.0f, g->a + a_off, lda, g->b, ldb,
                B->c_in ? 1.0f : 0.0f, B->ref + c_off, (int)N);
    const size_t most = (size_t)(M < br ? M : br);
    float *norm_a = B->scratch + (size_t)worker * B->scratch_per_worker;
    float *part = norm_a + most * (size_t)kb, *sum = part + most * (size_t)N;
    block_norms(g->a, lda, g->trans_a, m0, rows, K, norm_a, sum);
    for (int64_t b0 = 0; b0 < kb; b0 += CHUNK_NORMS) {
        int bc = (int)(kb - b0 < CHUNK_NORMS ? kb - b0 : CHUNK_NORMS);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, (int)N, bc, 1.0f, norm_a + b0,
                    (int)kb, B->norm_b + b0, (int)kb, 0.0f, part, (int)N);
        /* the sums start at |c_in| (or 0), the first chunk's products written with them */
        for (size_t i = 0; b0 > 0 && i < nc; i++)
            mag[i] += part[i];
        for (size_t i = 0; b0 == 0 && i < nc; i++)
            mag[i] = (c_in ? fabs((double)c_in[i]) : 0.0) + part[i];
    }
    for (size_t i = 0; kb == 0 && i < nc; i++) /* K = 0: no products */
        mag[i] = c_in ? fabs((double)c_in[i]) : 0.0;
}

/* gemm_blas_reference's scratch for an M x K x N GEMM on `workers` threads: per worker, a
 * block's rows of A's block norms, of one chunk's products and of sums; and B's block norms. */
typedef struct scratch_size {
    size_t per_worker, norm_b; /* floats */
} scratch_size;

static scratch_size scratch_of(int64_t M, int64_t K, int64_t N) {
    size_t kb = (size_t)((K + NORM_TERMS - 1) / NORM_TERMS);
    size_t most = (size_t)(M < block_rows(M) ? M : block_rows(M));
    return (scratch_size){most * (kb + (size_t)N + 1), (size_t)N * (kb + 1)};
}

uint64_t gemm_blas_reference_bytes(int64_t m, int64_t k, int64_t n, int threads) {
    scratch_size s = scratch_of(m, k, n);
    return (uint64_t)((size_t)(threads > 1 ? threads : 1) * s.per_worker + s.norm_b) *
           sizeof(float);
}

int gemm_blas_reference(const gemm_args *g, const float *c_in, float *ref, double *mag,
                        gemm_check *out) {
    const int64_t M = g->m, K = g->k, N = g->n, kb = (K + NORM_TERMS - 1) / NORM_TERMS;
    const int blocks = (int)((M + block_rows(M) - 1) / block_rows(M));
    const int workers = check_threads < blocks ? check_threads : blocks;
    const scratch_size sz = scratch_of(M, K, N);
    size_t per = sz.per_worker;
    float *scratch = malloc((size_t)workers * per * sizeof *scratch);
    float *norm_b = malloc(sz.norm_b * sizeof *norm_b);
    memset(out, 0, sizeof *out);
    if (!scratch || !norm_b) {
        free(scratch), free(norm_b);
        snprintf(out->message, sizeof out->message, "out of host memory for the BLAS check");
        return -1;
    }
    /* op(B)'s column j is row j of an N x K operand: k-major unless B is stored transposed */
    block_norms(g->b, g->trans_b ? K : N, !g->trans_b, 0, N, K, norm_b, norm_b + N * kb);
    blas_blocks B = {g, norm_b, kb, scratch, per, c_in, ref, mag};
    parallel_for(blocks, workers, blas_block, &B);
    free(scratch), free(norm_b);
    return 0;
}

/* Element i's |c - ref| and its ratio to the bound (0 when equal, infinite against a zero bound or
 * for unlike specials): the one definition the screen and the exact walk share. */
static inline double diff_of(float c, float ref) {
    if (!isfinite(c) || !isfinite(ref))
        return same_special(c, ref) ? 0.0 : INFINITY;
    return fabs((double)c - (double)ref);
}

static inline double ratio_of(double diff, double bound) {
    if (diff == 0.0 || diff == INFINITY) /* equal, or unlike specials: whatever the bound */
        return diff;
    return bound > 0.0 ? diff / bound : INFINITY;
}

/* The exact walk: every element, in order (the first out of bound names the message). */
static void check_walk(const float *c, const float *ref, const double *mag, int64_t row0,
                       size_t first, size_t n, size_t N, double gamma, gemm_check *out) {
    memset(out, 0, sizeof *out);
    out->passed = 1;
    out->first_bad = -1;
    out->worst_index = (int64_t)first;
    for (size_t i = 0; i < n; i++) {
        double bound = 2.0 * gamma * mag[i], diff = diff_of(c[i], ref[i]);
        double ratio = ratio_of(diff, bound);
        if (diff > out->max_abs_err)
            out->max_abs_err = diff;
        if (ratio > out->max_bound_ratio) {
            out->max_bound_ratio = ratio;
            out->worst_index = (int64_t)(first + i);
        }
        if (ratio > 1.0 && out->passed) {
            out->passed = 0;
            out->first_bad = (int64_t)(first + i);
            size_t at = first + i - (size_t)row0 * N;
            snprintf(out->message, sizeof out->message,
                     "C[%lld][%lld] = %.9g, OpenBLAS %.9g: |diff| %.3g exceeds bound %.3g",
                     (long long)(row0 + (int64_t)(at / N)), (long long)(at % N), (double)c[i],
                     (double)ref[i], diff, bound);
        }
    }
}

/* A screen of n finite-looking elements, vectorised: the largest diff and ratio, and whether any
 * value is infinite or NaN (then the screen's figures mean nothing). */
typedef struct screen {
    double diff, ratio;
    int special;
} screen;

/* Lanes of running maxima: the compiler keeps each in a vector register (it does not reorder
 * a floating-point max reduction itself). */
enum { LANES = 8 };

static inline void screen_one(float c, float ref, double mag, double gamma, double *diff_most,
                              double *ratio_most, double *odd_most) {
    double diff = fabs((double)c - (double)ref), bound = 2.0 * gamma * mag;
    double ratio = diff / (bound > 0.0 ? bound : 0x1p-1074); /* zero bound: 0, or far above 1 */
    double odd = diff < INFINITY && ratio <= INFINITY ? 0.0 : 1.0; /* inf or NaN */
    *diff_most = diff > *diff_most ? diff : *diff_most;
    *ratio_most = ratio > *ratio_most ? ratio : *ratio_most;
    *odd_most = odd > *odd_most ? odd : *odd_most;
}

static CPU_CLONES screen screen_of(const float *c, const float *ref, const double *mag, size_t n,
                                   double gamma) {
    double d[LANES] = {0}, r[LANES] = {0}, o[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++)
            screen_one(c[i + l], ref[i + l], mag[i + l], gamma, &d[l], &r[l], &o[l]);
    for (; i < n; i++)
        screen_one(c[i], ref[i], mag[i], gamma, &d[0], &r[0], &o[0]);
    for (int l = 1; l < LANES; l++) {
        d[0] = d[l] > d[0] ? d[l] : d[0];
        r[0] = r[l] > r[0] ? r[l] : r[0];
        o[0] = o[l] > o[0] ? o[l] : o[0];
    }
    return (screen){d[0], r[0], o[0] > 0.0};
}

/* Elements are screened in blocks; a block with a special value or one out of bound is walked
 * exactly, and the walk's figures merged in order, so the result is the exact walk's of the
 * whole range (the largest ratio's index: the first block holding it, walked again). */
enum { SCREEN_BLOCK = 1024 };

static void check_rows(const float *c, const float *ref, const double *mag, int64_t row0,
                       int64_t rows, int64_t cols, int64_t terms, gemm_check *out) {
    size_t nc = (size_t)(rows * cols), N = (size_t)cols, first = (size_t)(row0 * cols);
    double gamma = gamma_n(terms);
    check_walk(c, ref, mag, row0, first, 0, N, gamma, out);
    for (size_t b = 0; b < nc; b += SCREEN_BLOCK) {
        size_t n = nc - b < SCREEN_BLOCK ? nc - b : SCREEN_BLOCK;
        screen s = screen_of(c + b, ref + b, mag + b, n, gamma);
        gemm_check part;
        if (s.special || !(s.ratio <= 1.0)) {
            check_walk(c + b, ref + b, mag + b, row0, first + b, n, N, gamma, &part);
            gemm_check_merge(out, &part);
            continue;
        }
        if (s.diff > out->max_abs_err)
            out->max_abs_err = s.diff;
        if (s.ratio > out->max_bound_ratio) {
            check_walk(c + b, ref + b, mag + b, row0, first + b, n, N, gamma, &part);
            out->max_bound_ratio = part.max_bound_ratio;
            out->worst_index = part.worst_index;
        }
    }
}

void gemm_check_merge(gemm_check *total, const gemm_check *part) {
    if (part->max_abs_err > total->max_abs_err)
        total->max_abs_err = part->max_abs_err;
    if (part->max_bound_ratio > total->max_bound_ratio) {
        total->max_bound_ratio = part->max_bound_ratio;
        total->worst_index = part->worst_index;
    }
    if (total->passed && !part->passed) {
        total->passed = 0;
        total->first_bad = part->first_bad;
        memcpy(total->message, part->message, sizeof total->message);
    }
}

/* Large checks run in CHECK_PARTS row ranges on the check threads, merged in row order. */
enum { CHECK_PARTS = 64, CHECK_PARALLEL_MIN = 1 << 20 };

typedef struct check_job {
    const float *c, *ref;
    const double *mag;
    int64_t row0, rows, cols, terms;
    gemm_check *parts;
} check_job;

static void check_part(void *ctx, int i, int worker) {
    (void)worker;
    const check_job *j = ctx;
    int64_t lo = j->rows * i / CHECK_PARTS, hi = j->rows * (i + 1) / CHECK_PARTS;
    size_t at = (size_t)(lo * j->cols);
    check_rows(j->c + at, j->ref + at, j->mag + at, j->row0 + lo, hi - lo, j->cols, j->terms,
               &j->parts[i]);
}

void gemm_check_values(const float *c, const float *ref, const double *mag, int64_t row0,
                       int64_t rows, int64_t cols, int64_t terms, gemm_check *out) {
    gemm_check *parts = rows >= CHECK_PARTS && rows * cols >= CHECK_PARALLEL_MIN
                            ? malloc(sizeof *parts * CHECK_PARTS)
                            : NULL;
    if (!parts) {
        check_rows(c, ref, mag, row0, rows, cols, terms, out);
        return;
    }
    check_job j = {c, ref, mag, row0, rows, cols, terms, parts};
    parallel_for(CHECK_PARTS, check_threads, check_part, &j);
    *out = parts[0];
    for (int i = 1; i < CHECK_PARTS; i++)
        gemm_check_merge(out, &parts[i]);
    free(parts);
}

int gemm_check_blas(const gemm_args *g, const float *c_in, const float *c, gemm_check *out) {
    size_t nc = (size_t)(g->m * g->n);
    float *ref = malloc(nc * sizeof *ref);
    double *mag = malloc(nc * sizeof *mag);
    int rc = -1;
    if (!ref || !mag) {
        memset(out, 0, sizeof *out);
        snprintf(out->message, sizeof out->message, "out of host memory for the BLAS check");
    } else if (gemm_blas_reference(g, c_in, ref, mag, out) == 0) {
        gemm_check_values(c, ref, mag, 0, g->m, g->n, g->k + (c_in ? 1 : 0), out);
        rc = 0;
    }
    free(ref), free(mag);
    return rc;
}
