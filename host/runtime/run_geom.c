#include "run_geom.h"

#include "parallel.h"

#include <stdlib.h>
#include <string.h>

run_range run_range_part(run_range r, double alpha, int part) {
    int64_t di, dj;
    cost_split(run_len(r), alpha, &di, &dj);
    return part == 0 ? (run_range){r.lo, r.lo + di} : (run_range){r.lo + di, r.hi};
}

const run_box *run_geom_box(const run_geom *G, int node, int dev, int depth) {
    return &G->box[((size_t)node * (size_t)G->p->n_devices + (size_t)dev) * (size_t)G->depths +
                   (size_t)depth];
}

/* Which side of the level's split holds dev: 0 (i), 1 (j), or -1 (its group is not split). */
static int side_of(const plan_level *lv, int dev) {
    for (int q = 0; q < lv->n_pairs; q++) {
        const plan_pair *pp = &lv->pairs[q];
        if (dev >= pp->i.first && dev < pp->i.first + pp->i.count)
            return 0;
        if (dev >= pp->j.first && dev < pp->j.first + pp->j.count)
            return 1;
    }
    return -1;
}

static run_box split_box(const net_node *nd, int state, double alpha, int part, run_box b) {
    if (nd->kind == NODE_ADD) {
        if (state == LAYOUT_B)
            b.b = run_range_part(b.b, alpha, part);
        else if (state == LAYOUT_C)
            b.ci = b.co = run_range_part(b.ci, alpha, part);
    } else if (state == TYPE_I) {
        b.b = run_range_part(b.b, alpha, part);
    } else if (state == TYPE_II) {
        b.ci = run_range_part(b.ci, alpha, part);
    } else {
        b.co = run_range_part(b.co, alpha, part);
    }
    return b;
}

int run_geom_make(const net *g, const plan *p, run_geom *out) {
    out->p = p;
    out->depths = p->n_levels + 1;
    out->box = malloc(sizeof *out->box * (size_t)g->n * (size_t)p->n_devices * (size_t)out->depths);
    if (!out->box)
        return -1;
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        int64_t ci = nd->kind == NODE_ADD ? nd->cout : nd->kind == NODE_INPUT ? nd->oc : nd->cin;
        int64_t co = nd->kind == NODE_INPUT ? nd->oc : nd->cout;
        for (int d = 0; d < p->n_devices; d++) {
            run_box b = {{0, p->batch}, {0, ci}, {0, co}};
            for (int h = 0; h < out->depths; h++) {
                out->box[((size_t)v * (size_t)p->n_devices + (size_t)d) * (size_t)out->depths +
                         (size_t)h] = b;
                if (h == p->n_levels)
                    break;
                const plan_level *lv = &p->levels[h];
                int side = side_of(lv, d);
                if (side >= 0 && lv->state[v] >= 0)
                    b = split_box(nd, lv->state[v], lv->alpha, side, b);
            }
        }
    }
    return 0;
}

void run_geom_free(run_geom *G) {
    free(G->box);
    G->box = NULL;
}

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

int64_t run_first_difference(const float *a, const float *b, int64_t n) {
    if (n <= 0 || memcmp(a, b, sizeof(float) * (size_t)n) == 0) /* at once; then the element */
        return -1;
    int64_t e = 0;
    while (memcmp(&a[e], &b[e], sizeof(float)) == 0)
        e++;
    return e;
}

void run_block_copy(const run_block *dst, float *d, const run_block *src, const float *s) {
    int64_t x0 = max64(dst->x.lo, src->x.lo), x1 = min64(dst->x.hi, src->x.hi);
    int64_t y0 = max64(dst->y.lo, src->y.lo), y1 = min64(dst->y.hi, src->y.hi);
    if (x0 >= x1 || y0 >= y1)
        return;
    int64_t run = (y1 - y0) * dst->my;
    for (int64_t x = x0; x < x1; x++)
        for (int64_t xm = 0; xm < dst->mx; xm++) {
            int64_t dr = ((x - dst->x.lo) * dst->mx + xm) * run_len(dst->y);
            int64_t sr = ((x - src->x.lo) * src->mx + xm) * run_len(src->y);
            memcpy(d + (dr + y0 - dst->y.lo) * dst->my, s + (sr + y0 - src->y.lo) * src->my,
                   sizeof(float) * (size_t)run);
        }
}

typedef struct copy_job {
    const run_block *dst, *src;
    float *d;
    const float *s;
    int poison, parts;
} copy_job;

static void copy_part(void *ctx, int i, int worker) {
    (void)worker;
    const copy_job *j = ctx;
    run_block part = *j->dst;
    part.x = run_range_share(j->dst->x, i, j->parts);
    float *d = j->d + (part.x.lo - j->dst->x.lo) * part.mx * run_len(part.y) * part.my;
    if (j->poison)
        memset(d, 0xFF, sizeof(float) * (size_t)run_block_elems(&part));
    run_block_copy(&part, d, j->src, j->s);
}

/* Parts of at least COPY_PART_MIN elements, at most COPY_PARTS. */
enum { COPY_PARTS = 16, COPY_PART_MIN = 1 << 18 };

void run_block_copy_jobs(const run_block *dst, float *d, const run_block *src, const float *s,
                         int poison, int jobs) {
    int64_t nx = run_len(dst->x), by_size = run_block_elems(dst) / COPY_PART_MIN;
    int64_t parts = by_size < nx ? by_size : nx;
    parts = parts < 1 ? 1 : parts > COPY_PARTS ? COPY_PARTS : parts;
    copy_job j = {.dst = dst, .src = src, .d = d, .s = s, .poison = poison, .parts = (int)parts};
    parallel_for(j.parts, jobs, copy_part, &j);
}

int64_t run_block_missing(const run_block *want, const run_block *have, const run_block *at,
                          float *data, float *packed, int unpack) {
    int64_t n = 0;
    for (int64_t x = want->x.lo; x < want->x.hi; x++) {
        int x_in = x >= have->x.lo && x < have->x.hi;
        for (int64_t xm = 0; xm < want->mx; xm++)
            for (int64_t y = want->y.lo; y < want->y.hi; y++) {
                if (x_in && y >= have->y.lo && y < have->y.hi)
                    continue;
                if (packed) {
                    float *d =
                        data +
                        (((x - at->x.lo) * at->mx + xm) * run_len(at->y) + (y - at->y.lo)) * at->my;
                    size_t size = sizeof(float) * (size_t)want->my;
                    if (unpack)
                        memcpy(d, packed + n, size);
                    else
                        memcpy(packed + n, d, size);
                }
                n += want->my;
            }
    }
    return n;
}

int64_t run_hw_in(const net_node *nd) {
    return nd->kind == NODE_ADD ? nd->hout * nd->wout : nd->hin * nd->win;
}

run_block run_input_block(const net_node *nd, run_range b, run_range ci) {
    return (run_block){b, ci, 1, run_hw_in(nd)};
}

run_block run_result_block(const net_node *nd, gemm_phase ph, const run_box *b) {
    if (ph == PHASE_FORWARD)
        return (run_block){b->b, b->co, nd->hout * nd->wout, 1};
    if (ph == PHASE_BACKWARD)
        return run_input_block(nd, b->b, b->ci);
    return (run_block){b->ci, b->co, nd->k * nd->k, 1};
}
