/* The OpenBLAS checks of a layer's results, in chunks of the im2col matrix's rows: whole samples
 * when one sample's rows fit CHUNK_ELEMS values, else pieces of one sample. Each chunk's
 * reference runs on the check threads (gemm_check_threads); chunks and their merges run in row
 * order, so the checks' figures do not depend on the thread count. */
#include "run_verify.h"

#include "run_fault.h"
#include "run_tensor.h"

#include "digest.h"
#include "parallel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK_ELEMS = 1 << 24, IM2COL_PARTS = 16 };

/* How a layer's im2col rows (batch samples of rps rows, di columns) are cut into chunks. */
typedef struct chunking {
    int64_t batch, rps, per_chunk; /* whole samples per chunk, when pieces == 1 */
    int64_t pieces;                /* chunks per sample, else 1 */
} chunking;

typedef struct chunk {
    int64_t lo, hi;  /* rows */
    int64_t b0, nb;  /* the samples the rows belong to */
    int first, last; /* the chunk starts / ends its samples */
} chunk;

static chunking chunking_of(const run_ctx *c, const net_node *nd, int64_t di) {
    int64_t rps = nd->hout * nd->wout, sample = rps * di;
    int64_t most = run_fault_check_chunk(c, CHUNK_ELEMS);
    chunking k = {c->p->batch, rps, 1, 1};
    if (sample <= most)
        k.per_chunk = most / (sample > 0 ? sample : 1);
    else /* no piece shorter than one row */
        k.pieces = (sample + most - 1) / most < rps ? (sample + most - 1) / most : rps;
    return k;
}

static int64_t chunk_count(const chunking *k) {
    return k->pieces > 1 ? k->batch * k->pieces : (k->batch + k->per_chunk - 1) / k->per_chunk;
}

/* The most rows a chunk has. */
static int64_t chunk_rows_max(const chunking *k) {
    return k->pieces > 1 ? (k->rps + k->pieces - 1) / k->pieces
                         : (k->per_chunk < k->batch ? k->per_chunk : k->batch) * k->rps;
}

static chunk chunk_at(const chunking *k, int64_t i) {
    chunk c;
    if (k->pieces > 1) {
        int64_t s = i / k->pieces, p = i % k->pieces;
        c = (chunk){s * k->rps + p * k->rps / k->pieces,
                    s * k->rps + (p + 1) * k->rps / k->pieces,
                    s,
                    1,
                    p == 0,
                    p == k->pieces - 1};
    } else {
        int64_t b0 = i * k->per_chunk,
                nb = k->batch - b0 < k->per_chunk ? k->batch - b0 : k->per_chunk;
        c = (chunk){b0 * k->rps, (b0 + nb) * k->rps, b0, nb, 1, 1};
    }
    return c;
}

/* Rows lo .. hi-1 of the layer's im2col, in IM2COL_PARTS parts on the run's threads. */
typedef struct im2col_job {
    const net_node *nd;
    const float *x;
    int64_t lo, hi;
    float *out;
} im2col_job;

static void im2col_part(void *ctx, int i, int worker) {
    (void)worker;
    const im2col_job *j = ctx;
    const net_node *nd = j->nd;
    run_range r = run_range_share((run_range){j->lo, j->hi}, i, IM2COL_PARTS);
    const float *in = j->x + r.lo / (nd->hout * nd->wout) * nd->cin * run_hw_in(nd);
    run_im2col(nd, nd->cin, in, r.lo, r.hi, j->out + (r.lo - j->lo) * nd->cin * nd->k * nd->k);
}

static void im2col_rows(run_ctx *c, const net_node *nd, const float *x, chunk ch, float *out) {
    im2col_job j = {nd, x, ch.lo, ch.hi, out};
    parallel_for(IM2COL_PARTS, c->o->jobs, im2col_part, &j);
}

static void merge(gemm_check *total, const gemm_check *part, int64_t i) {
    if (i == 0)
        *total = *part;
    else
        gemm_check_merge(total, part);
}

/* F(l+1) = im2col(F(l)) W: each chunk's rows of it. */
static int check_forward(run_ctx *c, const net_node *nd, const run_layer_data *t,
                         const float *result, gemm_check *chk) {
    int64_t di = nd->cin * nd->k * nd->k, co = nd->cout;
    chunking k = chunking_of(c, nd, di);
    int64_t rows = chunk_rows_max(&k);
    float *cols = run_floats(c, rows * di), *ref = run_floats(c, rows * co);
    double *mag = run_doubles(c, rows * co);
    int rc = cols && ref && mag ? 0 : -1;
    for (int64_t i = 0; rc == 0 && i < chunk_count(&k); i++) {
        chunk ch = chunk_at(&k, i);
        gemm_check part;
        im2col_rows(c, nd, t->x, ch, cols);
        gemm_args ga = {.m = ch.hi - ch.lo, .k = di, .n = co, .a = cols, .b = t->w};
        rc = gemm_blas_reference(&ga, NULL, ref, mag, &part);
        if (rc == 0) {
            gemm_check_values(result + ch.lo * co, ref, mag, ch.lo, ch.hi - ch.lo, co, di, &part);
            merge(chk, &part, i);
        }
    }
    free(cols), free(ref), free(mag);
    return rc;
}

/* Rows of dW per block when one chunk holds every im2col row: the block's reference, its
 * magnitudes and its slice of the im2col hold at most a chunk's values each. */
static int64_t gradient_block_rows(const run_ctx *c, int64_t di, int64_t co, int64_t rows) {
    int64_t most = run_fault_check_chunk(c, CHUNK_ELEMS) / (co > rows ? co : rows);
    return most < 1 ? 1 : most < di ? most : di;
}

/* dW = im2col(F(l))^T E(l+1) when one chunk holds every im2col row (a fully connected layer's
 * rows are the batch, its dW the layer's largest tensor): the reference in blocks of dW's rows,
 * each checked as soon as it is computed. */
static int check_gradient_by_rows(run_ctx *c, const net_node *nd, const run_layer_data *t,
                                  const chunking *k, const float *result, gemm_check *chk) {
    int64_t di = nd->cin * nd->k * nd->k, co = nd->cout, rows = chunk_rows_max(k);
    int64_t mb = gradient_block_rows(c, di, co, rows);
    float *cols = run_floats(c, rows * di), *slice = run_floats(c, mb < di ? rows * mb : 0);
    float *ref = run_floats(c, mb * co);
    double *mag = run_doubles(c, mb * co);
    int rc = cols && slice && ref && mag ? 0 : -1;
    if (rc == 0)
        im2col_rows(c, nd, t->x, chunk_at(k, 0), cols);
    for (int64_t m0 = 0; rc == 0 && m0 < di; m0 += mb) {
        int64_t m = di - m0 < mb ? di - m0 : mb;
        for (int64_t r = 0; mb < di && r < rows; r++) /* columns m0 .. of the im2col */
            memcpy(slice + r * m, cols + r * di + m0, sizeof(float) * (size_t)m);
        gemm_args ga = {
            .m = m, .k = rows, .n = co, .trans_a = 1, .a = mb < di ? slice : cols, .b = t->gerr};
        gemm_check part;
        rc = gemm_blas_reference(&ga, NULL, ref, mag, &part);
        if (rc == 0) {
            gemm_check_values(result + m0 * co, ref, mag, m0, m, co, rows, &part);
            merge(chk, &part, m0 / mb);
        }
    }
    free(cols), free(slice), free(ref), free(mag);
    return rc;
}

/* dW = im2col(F(l))^T E(l+1): by blocks of its rows when one chunk holds every im2col row (above),
 * else the sum over rows taken chunk by chunk (another order of the same products, within the
 * same bound). */
static int check_gradient(run_ctx *c, const net_node *nd, const run_layer_data *t,
                          const float *result, gemm_check *chk) {
    int64_t di = nd->cin * nd->k * nd->k, co = nd->cout, n = di * co;
    chunking k = chunking_of(c, nd, di);
    int64_t chunks = chunk_count(&k);
    if (chunks == 1)
        return check_gradient_by_rows(c, nd, t, &k, result, chk);
    float *cols = run_floats(c, chunk_rows_max(&k) * di), *ref = run_floats(c, n);
    float *ref_i = run_floats(c, n);
    double *mag = run_doubles(c, n), *mag_i = run_doubles(c, n);
    int rc = cols && ref && ref_i && mag && mag_i ? 0 : -1;
    for (int64_t i = 0; rc == 0 && i < chunks; i++) {
        chunk ch = chunk_at(&k, i);
        im2col_rows(c, nd, t->x, ch, cols);
        gemm_args ga = {.m = di,
                        .k = ch.hi - ch.lo,
                        .n = co,
                        .trans_a = 1,
                        .a = cols,
                        .b = t->gerr + ch.lo * co};
        rc = gemm_blas_reference(&ga, NULL, i == 0 ? ref : ref_i, i == 0 ? mag : mag_i, chk);
        for (int64_t e = 0; rc == 0 && i > 0 && e < n; e++) {
            ref[e] += ref_i[e];
            mag[e] += mag_i[e];
        }
    }
    if (rc == 0)
        gemm_check_values(result, ref, mag, 0, di, co, c->p->batch * k.rps, chk);
    free(cols), free(ref), free(ref_i), free(mag), free(mag_i);
    return rc;
}

/* A chunk's reference and magnitudes added into their images, in channel ranges on the run's
 * threads. */
typedef struct col2im_job {
    const net_node *nd;
    const float *ref;
    const double *mag;
    int64_t lo, hi;
    double *img_ref, *img_mag;
    int parts;
} col2im_job;

/* One channel range per thread: each range walks every row of the chunk, so more ranges than
 * threads only repeat that walk (any split gives the same bits: the ranges' pixels are
 * disjoint). */
static int col2im_parts(const run_ctx *c, const net_node *nd) {
    int jobs = c->o->jobs > 1 ? c->o->jobs : 1;
    return (int)(nd->cin < jobs ? nd->cin : jobs);
}

static void col2im_part(void *ctx, int i, int worker) {
    (void)worker;
    const col2im_job *j = ctx;
    int64_t n = j->nd->cin, rows = j->hi - j->lo; /* the chunk, transposed */
    run_range ch = run_range_share((run_range){0, n}, i, j->parts);
    run_col2im_add_floats(j->nd, n, ch, j->ref, 1, rows, j->lo, j->hi, j->img_ref);
    run_col2im_add(j->nd, n, ch, j->mag, 1, rows, j->lo, j->hi, j->img_mag);
}

/* A sample group's images, in IM2COL_PARTS parts on the run's threads: the reference rounded
 * to float (before the check), or both double images zeroed for the next group (after it). */
typedef struct images_job {
    double *img_ref, *img_mag;
    float *img_f;
    int64_t n;
    int zero;
} images_job;

static void images_part(void *ctx, int i, int worker) {
    (void)worker;
    const images_job *j = ctx;
    run_range r = run_range_share((run_range){0, j->n}, i, IM2COL_PARTS);
    for (int64_t e = r.lo; !j->zero && e < r.hi; e++)
        j->img_f[e] = (float)j->img_ref[e];
    if (j->zero) {
        memset(j->img_ref + r.lo, 0, sizeof(double) * (size_t)run_len(r));
        memset(j->img_mag + r.lo, 0, sizeof(double) * (size_t)run_len(r));
    }
}

/* E(l) = col2im(E(l+1) W^T): reference and magnitudes of each chunk's rows through the same
 * col2im, checked a sample group at a time; the bound's K is the products summed per element
 * (Do k^2). The chunk's reference is computed transposed, W E(l+1)^T, so that col2im walks
 * down its columns in contiguous runs. */
static int check_backward(run_ctx *c, const net_node *nd, const run_layer_data *t,
                          const float *result, gemm_check *chk) {
    int64_t di = nd->cin * nd->k * nd->k, co = nd->cout, img = nd->cin * run_hw_in(nd);
    chunking k = chunking_of(c, nd, di);
    int64_t rows = chunk_rows_max(&k), nb = k.pieces > 1 ? 1 : rows / k.rps, checked = 0;
    float *ref = run_floats(c, rows * di), *img_f = run_floats(c, nb * img);
    double *mag = run_doubles(c, rows * di), *img_ref = run_doubles(c, nb * img);
    double *img_mag = run_doubles(c, nb * img);
    int rc = ref && img_f && mag && img_ref && img_mag ? 0 : -1;
    images_job ij = {img_ref, img_mag, img_f, nb * img, 1};
    if (rc == 0)
        parallel_for(IM2COL_PARTS, c->o->jobs, images_part, &ij);
    for (int64_t i = 0; rc == 0 && i < chunk_count(&k); i++) {
        chunk ch = chunk_at(&k, i);
        gemm_check part;
        gemm_args ga = {.m = di,
                        .k = co,
                        .n = ch.hi - ch.lo,
                        .trans_b = 1,
                        .a = t->w,
                        .b = t->gerr + ch.lo * co};
        rc = gemm_blas_reference(&ga, NULL, ref, mag, &part);
        if (rc != 0)
            break;
        col2im_job j = {nd, ref, mag, ch.lo, ch.hi, img_ref, img_mag, col2im_parts(c, nd)};
        parallel_for(j.parts, c->o->jobs, col2im_part, &j);
        if (!ch.last)
            continue;
        ij = (images_job){img_ref, img_mag, img_f, ch.nb * img, 0};
        parallel_for(IM2COL_PARTS, c->o->jobs, images_part, &ij);
        gemm_check_values(result + ch.b0 * img, img_f, img_mag, ch.b0, ch.nb, img,
                          co * nd->k * nd->k, &part);
        merge(chk, &part, checked++);
        ij.zero = 1; /* for the next group, if there is one */
        if (i + 1 < chunk_count(&k))
            parallel_for(IM2COL_PARTS, c->o->jobs, images_part, &ij);
    }
    free(ref), free(img_f), free(mag), free(img_ref), free(img_mag);
    return rc;
}

/* Names the devices whose own block holds element `index` of a phase's whole result. */
static void holders(run_ctx *c, int v, gemm_phase ph, int64_t index, char *out, size_t len) {
    const net_node *nd = &c->g->nodes[v];
    run_block whole = run_result_block(nd, ph, run_geom_box(&c->G, v, 0, 0));
    int64_t ny = run_len(whole.y) * whole.my;
    int64_t x = index / ny / whole.mx, y = index % ny / whole.my;
    size_t used = (size_t)snprintf(out, len, "held by device");
    for (int d = 0; d < c->r->n_devices && used < len; d++) {
        run_block own = run_result_block(nd, ph, run_geom_box(&c->G, v, d, c->G.depths - 1));
        if (x >= own.x.lo && x < own.x.hi && y >= own.y.lo && y < own.y.hi)
            used += (size_t)snprintf(out + used, len - used, " %d", d);
    }
}

int run_verify(run_ctx *c, int v, gemm_phase ph, const run_layer_data *t, const float *result) {
    const net_node *nd = &c->g->nodes[v];
    run_layer *L = &c->r->layers[v];
    int rc = ph == PHASE_FORWARD    ? check_forward(c, nd, t, result, &L->check[ph])
             : ph == PHASE_BACKWARD ? check_backward(c, nd, t, result, &L->check[ph])
                                    : check_gradient(c, nd, t, result, &L->check[ph]);
    if (rc != 0) {
        snprintf(c->err, c->errlen, "layer %s: out of host memory for the OpenBLAS check",
                 nd->name);
        return -1;
    }
    run_block whole = run_result_block(nd, ph, run_geom_box(&c->G, v, 0, 0));
    L->checked[ph] = 1;
    L->result_hash[ph] = digest_words_parallel(
        DIGEST_INIT, result, sizeof(float) * (size_t)run_block_elems(&whole), c->o->jobs);
    if (!L->check[ph].passed) {
        char who[128];
        holders(c, v, ph, L->check[ph].first_bad, who, sizeof who);
        run_fail(c, "layer %s %s result vs OpenBLAS: %s (%s)", nd->name, phase_name(ph),
                 L->check[ph].message, who);
    }
    return 0;
}

uint64_t run_verify_host_bytes(const run_ctx *c, int v) {
    const net_node *nd = &c->g->nodes[v];
    int64_t di = nd->cin * nd->k * nd->k, co = nd->cout, img = nd->cin * run_hw_in(nd);
    chunking k = chunking_of(c, nd, di);
    int64_t rows = chunk_rows_max(&k), nb = k.pieces > 1 ? 1 : rows / k.rps;
    int jobs = c->o->jobs;
    /* each phase's buffers here (4- and 8-byte values) and its references' scratch */
    int64_t fwd = rows * (di + co) * 4 + rows * co * 8 +
                  (int64_t)gemm_blas_reference_bytes(rows, di, co, jobs);
    int64_t bwd =
        rows * di * 12 + nb * img * 20 + (int64_t)gemm_blas_reference_bytes(di, co, rows, jobs);
    int64_t mb = gradient_block_rows(c, di, co, rows);
    int64_t grad =
        chunk_count(&k) > 1
            ? rows * di * 4 + di * co * 24 + (int64_t)gemm_blas_reference_bytes(di, rows, co, jobs)
            : rows * di * 4 + (mb < di ? rows * mb * 4 : 0) + mb * co * 12 +
                  (int64_t)gemm_blas_reference_bytes(mb, rows, co, jobs);
    int64_t most = fwd > bwd ? fwd : bwd;
    return (uint64_t)(most > grad ? most : grad);
}
