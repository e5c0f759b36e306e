/* The points of a calibration before measuring: the designed sweep of GEMM shapes, a shapes
 * file, the designed transfers. */
#include "cal_design.h"

#include "text_file.h"
#include "vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every third point is held out. */
static int add_gemm(calibration *c, int64_t m, int64_t k, int64_t n, int acc) {
    cal_gemm g = {.m = m,
                  .k = k,
                  .n = n,
                  .accumulate = acc,
                  .role = c->n_gemm % 3 == 2 ? CAL_HELDOUT : CAL_FIT};
    return calibration_add_gemm(c, &g);
}

/* Orders GEMM points by shape (M, K, N, accumulate); 0 for the same shape. */
static int compare_shape(const cal_gemm *x, const cal_gemm *y) {
    const int64_t a[4] = {x->m, x->k, x->n, x->accumulate},
                  b[4] = {y->m, y->k, y->n, y->accumulate};
    for (int i = 0; i < 4; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static int64_t at_least1(int64_t x) {
    return x < 1 ? 1 : x;
}

int cal_design_sweep(const accel_preset *p, calibration *c) {
    const int64_t R = p->array_rows, C = p->array_cols, X = p->mxus;
    const int64_t mc =
        p->act_buffer_rows < p->acc_buffer_rows ? p->act_buffer_rows : p->acc_buffer_rows;
    const int64_t groups = p->acc_buffer_rows / mc + 1; /* groups for two blocks at full chunks */
    /* Levels of each dimension: tiny, ragged around one tile, several tiles, the buffer depth and
     * beyond it (several chunks), and for N enough MXU groups for two and three accumulator blocks
     * at full chunks (more at partial ones). On small arrays levels can coincide (R - 1 = 1). */
    const int64_t M[] = {1,          2,  at_least1(R - 1), R + 3,     3 * R + 1,
                         mc / 2 + 1, mc, mc + 7,           2 * mc + 3};
    const int64_t K[] = {1, at_least1(R - 1), R, R + 1, 4 * R + 3, 9 * R};
    const int64_t N[] = {1,
                         at_least1(C - 1),
                         C + 1,
                         X * C,
                         X * C + C / 2 + 1,
                         groups * X * C + 3,
                         2 * groups * X * C + C + 5};
    enum { NM = sizeof M / sizeof M[0], NK = sizeof K / sizeof K[0], NN = sizeof N / sizeof N[0] };
    const int64_t total = NM * NK * NN * 2, want = 90, budget = 1 << 22; /* MACs per shape */
    /* Walk the grid in a scrambled order (a stride coprime to its size) and keep the shapes
     * within the MAC budget, each once. */
    int64_t stride = 97;
    while (total % stride == 0 || stride % 2 == 0 || stride % 3 == 0)
        stride += 2;
    for (int64_t i = 0, kept = 0; i < total && kept < want; i++) {
        int64_t x = i * stride % total;
        int acc = (int)(x % 2);
        x /= 2;
        int64_t m = M[x % NM], k = K[x / NM % NK], n = N[x / NM / NK];
        cal_gemm g = {.m = m, .k = k, .n = n, .accumulate = acc};
        int seen = 0;
        for (int q = 0; q < c->n_gemm && !seen; q++)
            seen = compare_shape(&c->gemm[q], &g) == 0;
        if (m * k * n > budget || seen)
            continue;
        if (add_gemm(c, m, k, n, acc) != 0)
            return -1;
        kept++;
    }
    return 0;
}

/* A point of a shapes file and its line. */
typedef struct numbered {
    cal_gemm g;
    int line;
} numbered;

static int by_shape_then_line(const void *x, const void *y) {
    const numbered *a = x, *b = y;
    int c = compare_shape(&a->g, &b->g);
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* The earliest line that repeats a shape of an earlier line is an error naming both. */
static int check_repeats(const char *path, const calibration *c, const int *line_of, char *err,
                         size_t errlen) {
    numbered *s = malloc(sizeof *s * (size_t)c->n_gemm);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int q = 0; q < c->n_gemm; q++)
        s[q] = (numbered){c->gemm[q], line_of[q]};
    qsort(s, (size_t)c->n_gemm, sizeof *s, by_shape_then_line);
    int later = -1; /* index in s of the repeat with the smallest line */
    for (int i = 1; i < c->n_gemm; i++)
        if (compare_shape(&s[i].g, &s[i - 1].g) == 0 &&
            (i == 1 || compare_shape(&s[i - 1].g, &s[i - 2].g) != 0) &&
            (later < 0 || s[i].line < s[later].line))
            later = i;
    if (later >= 0) {
        const cal_gemm *g = &s[later].g;
        snprintf(
            err, errlen,
            "%s:%d: field 'shape': '%lld %lld %lld%s' repeats line %d (each shape once, so the "
            "held-out points stay apart from the fitted ones)",
            path, s[later].line, (long long)g->m, (long long)g->k, (long long)g->n,
            g->accumulate ? " accumulate" : "", s[later - 1].line);
    }
    free(s);
    return later >= 0 ? -1 : 0;
}

int cal_read_shapes(const char *path, calibration *c, char *err, size_t errlen) {
    text_file tf;
    if (text_file_open(&tf, path, err, errlen) != 0)
        return -1;
    static const char *const field[3] = {"M", "K", "N"};
    char *t[TEXT_FILE_MAX_TOKENS];
    int n, rc = 0, *line_of = NULL;
    size_t lines_cap = 0;
    while (rc == 0 && (n = text_file_next_tokens(&tf, t, TEXT_FILE_MAX_TOKENS, err, errlen)) > 0) {
        int64_t d[3];
        char why[160];
        if (n < 3 || n > 4) {
            snprintf(err, errlen, "%s:%d: field 'shape': expected M K N [accumulate]", path,
                     tf.line_no);
            rc = -1;
        }
        for (int i = 0; i < 3 && rc == 0; i++)
            if (text_parse_int(t[i], 1, 2147483647, &d[i], why, sizeof why) != 0) {
                snprintf(err, errlen, "%s:%d: field '%s': %s", path, tf.line_no, field[i], why);
                rc = -1;
            }
        if (rc == 0 && n == 4 && strcmp(t[3], "accumulate") != 0) {
            snprintf(err, errlen, "%s:%d: field 'accumulate': '%s' is not the word accumulate",
                     path, tf.line_no, t[3]);
            rc = -1;
        }
        int *lines =
            rc == 0 ? vec_grow(line_of, &lines_cap, (size_t)c->n_gemm + 1, sizeof *lines) : NULL;
        if (lines)
            line_of = lines;
        if (rc == 0 && (!lines || add_gemm(c, d[0], d[1], d[2], n == 4) != 0)) {
            snprintf(err, errlen, "%s:%d: field 'shape': more than %d shapes or out of memory",
                     path, tf.line_no, CAL_MAX_POINTS);
            rc = -1;
        }
        if (rc == 0)
            line_of[c->n_gemm - 1] = tf.line_no;
    }
    if (rc == 0 && n < 0)
        rc = -1;
    if (rc == 0 && c->n_gemm == 0) {
        snprintf(err, errlen, "%s:%d: field 'shape': no shapes (%s)", path, text_file_end_line(&tf),
                 text_file_end_what(&tf));
        rc = -1;
    }
    if (rc == 0)
        rc = check_repeats(path, c, line_of, err, errlen);
    free(line_of);
    text_file_close(&tf);
    return rc;
}

int cal_design_transfers(calibration *c) {
    enum { SIZES = 30 };
    double bytes = 1;
    for (int i = 0; i < SIZES; i++, bytes *= 1.78) { /* 1 B .. ~16 MiB */
        cal_xfer x = {.bytes = (uint64_t)bytes + (uint64_t)(i % 4) * 3,
                      .role = i % 3 == 2 ? CAL_HELDOUT : CAL_FIT};
        if (calibration_add_xfer(c, &x) != 0)
            return -1;
    }
    return 0;
}
