/* The independent check of a GEMM: OpenBLAS sgemm on the same bf16 inputs, and the
 * per-element bound |c - blas| <= 2 gamma_K sum_k |a_ik b_kj| (docs/design.md, docs/accelerator.md). */
#include "gemm.h"

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

int gemm_blas_reference(const gemm_args *g, const float *c_in, float *ref, double *mag,
                        gemm_check *out) {
    const int64_t M = g->m, K = g->k, N = g->n;
    size_t na = (size_t)(M * K), nb = (size_t)(K * N), nc = (size_t)(M * N);
    double *abs_a = malloc(na * sizeof *abs_a), *abs_b = malloc(nb * sizeof *abs_b);
    memset(out, 0, sizeof *out);
    if (!abs_a || !abs_b) {
        free(abs_a), free(abs_b);
        snprintf(out->message, sizeof out->message, "out of host memory for the BLAS check");
        return -1;
    }
    for (size_t i = 0; i < na; i++)
        abs_a[i] = fabs((double)g->a[i]);
    for (size_t i = 0; i < nb; i++)
        abs_b[i] = fabs((double)g->b[i]);
    for (size_t i = 0; i < nc; i++) {
        ref[i] = c_in ? c_in[i] : 0.0f;
        mag[i] = c_in ? fabs((double)c_in[i]) : 0.0;
    }
    enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
    int lda = (int)(g->trans_a ? M : K), ldb = (int)(g->trans_b ? K : N);
    cblas_sgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0f, g->a, lda, g->b, ldb,
                c_in ? 1.0f : 0.0f, ref, (int)N);
    /* sum_k |a_ik b_kj| (+ |c_ij|) in double: its own error is far below the bound's slack */
    cblas_dgemm(CblasRowMajor, ta, tb, (int)M, (int)N, (int)K, 1.0, abs_a, lda, abs_b, ldb,
                c_in ? 1.0 : 0.0, mag, (int)N);
    free(abs_a), free(abs_b);
    return 0;
}

void gemm_check_values(const float *c, const float *ref, const double *mag, int64_t rows,
                       int64_t cols, int64_t terms, gemm_check *out) {
    size_t nc = (size_t)(rows * cols), N = (size_t)cols;
    double gamma = gamma_n(terms);
    memset(out, 0, sizeof *out);
    out->passed = 1;
    out->first_bad = -1;
    for (size_t i = 0; i < nc; i++) {
        double diff, ratio, bound = 2.0 * gamma * mag[i];
        if (!isfinite(c[i]) || !isfinite(ref[i])) {
            diff = same_special(c[i], ref[i]) ? 0.0 : INFINITY;
            ratio = diff;
        } else {
            diff = fabs((double)c[i] - (double)ref[i]);
            ratio = diff == 0.0 ? 0.0 : (bound > 0.0 ? diff / bound : INFINITY);
        }
        if (diff > out->max_abs_err)
            out->max_abs_err = diff;
        if (ratio > out->max_bound_ratio || (i == 0 && ratio >= out->max_bound_ratio)) {
            out->max_bound_ratio = ratio;
            out->worst_index = (int64_t)i;
        }
        if (ratio > 1.0 && out->passed) {
            out->passed = 0;
            out->first_bad = (int64_t)i;
            snprintf(out->message, sizeof out->message,
                     "C[%lld][%lld] = %.9g, OpenBLAS %.9g: |diff| %.3g exceeds bound %.3g",
                     (long long)(i / N), (long long)(i % N), (double)c[i], (double)ref[i], diff,
                     bound);
        }
    }
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
        gemm_check_values(c, ref, mag, g->m, g->n, g->k + (c_in ? 1 : 0), out);
        rc = 0;
    }
    free(ref), free(mag);
    return rc;
}
