/* Linear least squares: minimise |A x - b| by Householder QR on unit-norm columns (libm only). */
#ifndef ACCPAR_LSQ_H
#define ACCPAR_LSQ_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rank threshold, relative: after every column is scaled to unit norm, a column whose distance
 * from the span of the columns before it (|R_jj| of the QR factorisation) is at most
 * LSQ_RANK_RTOL times the largest column norm (1 up to rounding) is nearly dependent on them: its
 * coefficient would be set by rounding and noise, not by the data. */
#define LSQ_RANK_RTOL 1e-6

/* A is m x n row-major (m >= n >= 1), b has m entries; names[j] (or NULL) names column j in
 * messages. Columns are scaled to unit norm before the factorisation and x unscaled after.
 * Returns 0 with x (n entries), or -1 with a one-line reason: too few rows, an entry of A or b
 * that is not finite (naming the point and column), out of memory, or rank deficiency naming the
 * column (zero, or nearly dependent on the columns before it: LSQ_RANK_RTOL). */
int lsq_solve(const double *a, const double *b, int m, int n, const char *const *names, double *x,
              char *err, size_t errlen);

/* The same problem with every x_j >= 0 (Lawson and Hanson's active-set method, each step an
 * lsq_solve on the columns whose weight is positive): a weight the data want at zero is zero,
 * never a tiny negative number from rounding. Errors as lsq_solve's, and no convergence (after
 * 3n + 1 outer steps). */
int lsq_solve_nonneg(const double *a, const double *b, int m, int n, const char *const *names,
                     double *x, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
