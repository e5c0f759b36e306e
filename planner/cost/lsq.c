#include "lsq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column j's name for messages. */
static void col_name(const char *const *names, int j, char *out, size_t len) {
    if (names)
        snprintf(out, len, "'%s'", names[j]);
    else
        snprintf(out, len, "%d", j);
}

/* Enough points, and every entry finite. -1 with the reason otherwise. */
static int check_problem(const double *a, const double *b, int m, int n, const char *const *names,
                         char *err, size_t errlen) {
    if (n < 1 || m < n) {
        snprintf(err, errlen, "least squares: %d points for %d unknowns (need at least %d)", m, n,
                 n);
        return -1;
    }
    char name[96];
    for (int i = 0; i < m; i++)
        for (int j = 0; j <= n; j++) /* j == n: the right-hand side */
            if (!isfinite(j < n ? a[i * n + j] : b[i])) {
                if (j < n)
                    col_name(names, j, name, sizeof name);
                snprintf(err, errlen, "least squares: point %d: %s%s is not finite", i,
                         j < n ? "column " : "the measured value", j < n ? name : "");
                return -1;
            }
    return 0;
}

int lsq_solve(const double *a, const double *b, int m, int n, const char *const *names, double *x,
              char *err, size_t errlen) {
    if (check_problem(a, b, m, n, names, err, errlen) != 0)
        return -1;
    char name[96];
    double *q = malloc(sizeof *q * (size_t)m * (size_t)n);
    double *c = malloc(sizeof *c * (size_t)m);
    double *scale = malloc(sizeof *scale * (size_t)n);
    if (!q || !c || !scale) {
        free(q), free(c), free(scale);
        snprintf(err, errlen, "least squares: out of memory");
        return -1;
    }
    memcpy(q, a, sizeof *q * (size_t)m * (size_t)n);
    memcpy(c, b, sizeof *c * (size_t)m);
    int rc = 0;
    double largest = 0; /* the largest column norm after scaling: 1 up to rounding */
    for (int j = 0; j < n && rc == 0; j++) {
        double s = 0, unit = 0;
        for (int i = 0; i < m; i++)
            s = hypot(s, q[i * n + j]);
        scale[j] = s;
        for (int i = 0; i < m && s > 0 && isfinite(s); i++) {
            q[i * n + j] /= s;
            unit = hypot(unit, q[i * n + j]);
        }
        largest = fmax(largest, unit);
        if (s == 0 || !isfinite(s)) {
            col_name(names, j, name, sizeof name);
            snprintf(err, errlen, "least squares: %scolumn %s %s", s == 0 ? "rank deficient: " : "",
                     name,
                     s == 0 ? "is zero in every point" : "has a norm beyond the range of double");
            rc = -1;
        }
    }
    const double tol = LSQ_RANK_RTOL * largest;
    /* Householder reflections H_j = I - 2 v v^T / (v^T v) zero column j below the diagonal;
     * R's diagonal lands in q[j][j], the rest of R above it. */
    for (int j = 0; j < n && rc == 0; j++) {
        double norm = 0;
        for (int i = j; i < m; i++)
            norm = hypot(norm, q[i * n + j]);
        if (norm <= tol) {
            col_name(names, j, name, sizeof name);
            snprintf(err, errlen,
                     "least squares: rank deficient: column %s is within %.3g of a combination "
                     "of the columns before it in these points (threshold %g)",
                     name, norm, tol);
            rc = -1;
            break;
        }
        double alpha = q[j * n + j] > 0 ? -norm : norm;
        double v0 = q[j * n + j] - alpha, vv = v0 * v0;
        for (int i = j + 1; i < m; i++)
            vv += q[i * n + j] * q[i * n + j];
        for (int k = j + 1; k <= n; k++) { /* k == n: the right-hand side */
            double dot = v0 * (k < n ? q[j * n + k] : c[j]);
            for (int i = j + 1; i < m; i++)
                dot += q[i * n + j] * (k < n ? q[i * n + k] : c[i]);
            double t = 2 * dot / vv;
            if (k < n) {
                q[j * n + k] -= t * v0;
                for (int i = j + 1; i < m; i++)
                    q[i * n + k] -= t * q[i * n + j];
            } else {
                c[j] -= t * v0;
                for (int i = j + 1; i < m; i++)
                    c[i] -= t * q[i * n + j];
            }
        }
        q[j * n + j] = alpha;
    }
    for (int j = n - 1; j >= 0 && rc == 0; j--) {
        double s = c[j];
        for (int k = j + 1; k < n; k++)
            s -= q[j * n + k] * x[k];
        x[j] = s / q[j * n + j];
    }
    for (int j = 0; j < n && rc == 0; j++)
        x[j] /= scale[j];
    free(q), free(c), free(scale);
    return rc;
}

int lsq_solve_nonneg(const double *a, const double *b, int m, int n, const char *const *names,
                     double *x, char *err, size_t errlen) {
    if (check_problem(a, b, m, n, names, err, errlen) != 0)
        return -1;
    double *as = malloc(sizeof *as * (size_t)m * (size_t)n);
    double *sub = malloc(sizeof *sub * (size_t)m * (size_t)n);
    double *scale = malloc(sizeof *scale * (size_t)n), *xs = calloc((size_t)n, sizeof *xs);
    double *z = malloc(sizeof *z * (size_t)n), *r = malloc(sizeof *r * (size_t)m);
    enum { FREE, PASSIVE, EXCLUDED }; /* each column's state in the active-set method */
    int *passive = calloc((size_t)n, sizeof *passive), *col = malloc(sizeof *col * (size_t)n);
    const char **sub_names = malloc(sizeof *sub_names * (size_t)n);
    int rc = as && sub && scale && xs && z && r && passive && col && sub_names ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "least squares: out of memory");
    double bnorm = 0;
    for (int i = 0; i < m && rc == 0; i++)
        bnorm = hypot(bnorm, b[i]);
    /* unit columns, so that one tolerance serves every column (lsq_solve rejects a zero one) */
    for (int j = 0; j < n && rc == 0; j++) {
        double s = 0;
        for (int i = 0; i < m; i++)
            s = hypot(s, a[i * n + j]);
        scale[j] = s > 0 && isfinite(s) ? s : 1;
        for (int i = 0; i < m; i++)
            as[i * n + j] = a[i * n + j] / scale[j];
    }
    const double tol = 1e-10 * (bnorm > 0 ? bnorm : 1);
    int converged = 0;
    /* Lawson and Hanson's active set: move the column with the largest positive gradient into
     * the passive set, solve least squares on the passive columns, and step back to the feasible
     * boundary while a passive weight would turn negative. */
    for (int outer = 0; outer <= 3 * n && rc == 0 && !converged; outer++) {
        for (int i = 0; i < m; i++) {
            r[i] = b[i];
            for (int j = 0; j < n; j++)
                r[i] -= as[i * n + j] * xs[j];
        }
        int best = -1;
        double most = tol;
        for (int j = 0; j < n; j++) {
            double w = 0;
            for (int i = 0; i < m; i++)
                w += as[i * n + j] * r[i];
            if (passive[j] == FREE && w > most) {
                most = w;
                best = j;
            }
        }
        if (best < 0) {
            converged = 1;
            break;
        }
        passive[best] = PASSIVE;
        for (int inner = 0; inner <= 3 * n && rc == 0; inner++) {
            int k = 0;
            for (int j = 0; j < n; j++)
                if (passive[j] == PASSIVE) {
                    sub_names[k] = names ? names[j] : NULL;
                    col[k++] = j;
                }
            for (int i = 0; i < m; i++)
                for (int c = 0; c < k; c++)
                    sub[i * k + c] = as[i * n + col[c]];
            rc = lsq_solve(sub, b, m, k, names ? sub_names : NULL, z, err, errlen);
            int feasible = 1;
            for (int c = 0; c < k && rc == 0; c++)
                feasible &= z[c] > 0;
            if (rc != 0 || feasible) {
                for (int c = 0; c < k && rc == 0; c++)
                    xs[col[c]] = z[c];
                break;
            }
            int entered = 0;
            while (col[entered] != best)
                entered++;
            if (inner == 0 && z[entered] <= 0) {
                /* the column just let in cannot take a positive weight (rounding on nearly
                 * dependent columns): keep it out for good, or it would be let in again */
                passive[best] = EXCLUDED;
                break;
            }
            double step = 1;
            for (int c = 0; c < k; c++)
                if (z[c] <= 0)
                    step = fmin(step, xs[col[c]] / (xs[col[c]] - z[c]));
            for (int c = 0; c < k; c++) {
                int j = col[c];
                xs[j] += step * (z[c] - xs[j]);
                if (xs[j] <= 0 || (z[c] <= 0 && xs[j] <= tol)) {
                    xs[j] = 0;
                    passive[j] = FREE;
                }
            }
        }
    }
    if (rc == 0 && !converged) {
        snprintf(err, errlen, "least squares with non-negative weights: no convergence");
        rc = -1;
    }
    for (int j = 0; j < n && rc == 0; j++)
        x[j] = xs[j] / scale[j];
    free(as), free(sub), free(scale), free(xs), free(z), free(r), free(passive), free(col);
    free(sub_names);
    return rc;
}
