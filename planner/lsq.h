/* Linear least squares: minimise |A x - b| by Householder QR on unit-norm columns (libm only). */
#ifndef ACCPAR_LSQ_H
#define ACCPAR_LSQ_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A is m x n row-major (m >= n >= 1), b has m entries; names[j] (or NULL) names column j in
 * messages. Columns are scaled to unit norm before the factorisation and x unscaled after.
 * Returns 0 with x (n entries), or -1 with a one-line reason: too few rows, out of memory, or
 * rank deficiency (a column that is zero or, to 1e-9 of its norm, a combination of the columns
 * before it). */
int lsq_solve(const double *a, const double *b, int m, int n, const char *const *names, double *x,
              char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
