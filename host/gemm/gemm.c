#include "gemm.h"

#include "bf16.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Device-memory layout of one GEMM: A as [chunk][kt] panels of [m_chunk][R] bf16, B as
 * [kt][group] blocks of the group's X tiles of [R][C] bf16, one after another (a LOAD_W or a
 * prefetch reads a group's tiles as one run of words), C as [chunk][nt] tiles of [m_chunk][C]
 * fp32. Each panel, block and tile starts on a port word (a command's address is a word), so
 * its stride is rounded up to the port width. */
typedef struct layout {
    const gemm_schedule *s;
    const gemm_progress *progress;
    accel_dev *dev;
    uint64_t a_addr, b_addr, c_addr;
    uint64_t a_panel, b_block, c_tile; /* strides in elements: bf16, bf16, fp32 */
    accel_status st;
    int64_t issued, total; /* commands */
} layout;

/* elems values of elem_bytes each, rounded up to whole words of bw bytes, in values. */
static uint64_t word_aligned(uint64_t elems, uint64_t elem_bytes, uint64_t bw) {
    return (elems * elem_bytes + bw - 1) / bw * bw / elem_bytes;
}

/* Commands run in batches of this many, so progress can be reported and the command queue
 * stays small. The device idles between batches, which its counters do not count. */
enum { GEMM_BATCH = 128 };

/* Element offsets of a value of B (k, j), an A panel and a C tile. */
static uint64_t b_index(const layout *l, int64_t k, int64_t j) {
    const gemm_schedule *s = l->s;
    const int64_t R = s->preset->array_rows, C = s->preset->array_cols, X = s->preset->mxus;
    int64_t nt = j / C;
    return ((uint64_t)(k / R) * (uint64_t)s->n_groups + (uint64_t)(nt / X)) * l->b_block +
           ((uint64_t)(nt % X) * (uint64_t)R + (uint64_t)(k % R)) * (uint64_t)C + (uint64_t)(j % C);
}

static uint64_t a_panel_index(const layout *l, int64_t chunk, int64_t kt) {
    return ((uint64_t)chunk * (uint64_t)l->s->k_tiles + (uint64_t)kt) * l->a_panel;
}

static uint64_t c_tile_index(const layout *l, int64_t chunk, int64_t nt) {
    return ((uint64_t)chunk * (uint64_t)l->s->n_tiles + (uint64_t)nt) * l->c_tile;
}

/* The byte address of B's tile (kt, nt): the first tile of a group starts its block. */
static uint64_t b_tile_addr(const layout *l, int64_t kt, int64_t nt) {
    return l->b_addr + 2 * b_index(l, kt * l->s->preset->array_rows, nt * l->s->preset->array_cols);
}

static int issue_step(const gemm_step *st, void *ctx) {
    layout *l = ctx;
    const int64_t X = l->s->preset->mxus;
    accel_cmd c = {.rows = (uint32_t)st->rows};
    switch (st->kind) {
    case STEP_LOAD_W:
        c.op = ACCEL_LOAD_W;
        c.mxus = (uint32_t)st->tiles;
        c.addr = b_tile_addr(l, st->kt, st->group * X);
        break;
    case STEP_LOAD_ACC:
    case STEP_STORE:
        c.op = st->kind == STEP_STORE ? ACCEL_STORE : ACCEL_LOAD_ACC;
        c.mxu = (uint32_t)st->mxu;
        c.acc_off = (uint32_t)st->acc_off;
        c.addr = l->c_addr + 4 * c_tile_index(l, st->chunk, st->group * X + st->mxu);
        break;
    case STEP_LOAD_A:
        c.op = ACCEL_LOAD_A;
        c.addr = l->a_addr + 2 * a_panel_index(l, st->chunk, st->kt);
        break;
    case STEP_MATMUL:
        c.op = ACCEL_MATMUL;
        c.mxus = (uint32_t)st->tiles;
        c.acc_off = (uint32_t)st->acc_off;
        c.accumulate = st->accumulate;
        c.pf_mxus = (uint32_t)st->pf_tiles;
        if (st->pf_tiles)
            c.pf_addr = b_tile_addr(l, st->pf_kt, st->pf_group * X);
        break;
    }
    l->st = accel_issue(l->dev, &c);
    if (l->st == ACCEL_OK && ++l->issued % GEMM_BATCH == 0)
        l->st = accel_wait(l->dev);
    if (l->st == ACCEL_OK && l->issued % GEMM_BATCH == 0 && l->progress)
        l->progress->fn(l->progress->ctx, l->issued, l->total);
    return l->st != ACCEL_OK;
}

static uint64_t c_index(const layout *l, int64_t i, int64_t j) {
    const gemm_schedule *s = l->s;
    const int64_t C = s->preset->array_cols;
    int64_t r = i % s->m_chunk;
    return c_tile_index(l, i / s->m_chunk, j / C) + (uint64_t)r * (uint64_t)C + (uint64_t)(j % C);
}

static float a_at(const gemm_args *g, int64_t i, int64_t k) {
    return g->trans_a ? g->a[k * g->m + i] : g->a[i * g->k + k];
}

static float b_at(const gemm_args *g, int64_t k, int64_t j) {
    return g->trans_b ? g->b[j * g->k + k] : g->b[k * g->n + j];
}

/* Fills the host images of A, B (and C) in the device layout, zero-padded. */
static void pack(const layout *l, const gemm_args *g, uint16_t *a, uint16_t *b, float *c) {
    const gemm_schedule *s = l->s;
    const int64_t R = s->preset->array_rows;
    for (int64_t i = 0; i < g->m; i++) {
        int64_t chunk = i / s->m_chunk, r = i % s->m_chunk;
        for (int64_t k = 0; k < g->k; k++)
            a[a_panel_index(l, chunk, k / R) + (uint64_t)r * (uint64_t)R + (uint64_t)(k % R)] =
                bf16_from_float(a_at(g, i, k));
    }
    for (int64_t k = 0; k < g->k; k++)
        for (int64_t j = 0; j < g->n; j++)
            b[b_index(l, k, j)] = bf16_from_float(b_at(g, k, j));
    if (!c)
        return;
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j = 0; j < g->n; j++)
            c[c_index(l, i, j)] = g->c[i * g->n + j];
}

static void unpack_c(const layout *l, const gemm_args *g, const float *c) {
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j = 0; j < g->n; j++)
            g->c[i * g->n + j] = c[c_index(l, i, j)];
}

/* Device allocations of the three operands; freed in reverse on any exit path. */
static int place(layout *l, uint64_t a_bytes, uint64_t b_bytes, uint64_t c_bytes) {
    if (accel_alloc(l->dev, a_bytes, &l->a_addr) != ACCEL_OK)
        return -1;
    if (accel_alloc(l->dev, b_bytes, &l->b_addr) != ACCEL_OK) {
        accel_free(l->dev, l->a_addr);
        return -1;
    }
    if (accel_alloc(l->dev, c_bytes, &l->c_addr) != ACCEL_OK) {
        accel_free(l->dev, l->b_addr);
        accel_free(l->dev, l->a_addr);
        return -1;
    }
    return 0;
}

static int run_on_device(layout *l, const gemm_args *g, const void *a, const void *b, float *c,
                         uint64_t a_bytes, uint64_t b_bytes, uint64_t c_bytes,
                         gemm_run_stats *stats) {
    accel_dev *dev = l->dev;
    cycle_breakdown before, after;
    if (accel_copy_in(dev, l->a_addr, a, a_bytes) || accel_copy_in(dev, l->b_addr, b, b_bytes) ||
        (g->accumulate && accel_copy_in(dev, l->c_addr, c, c_bytes)))
        return -1;
    accel_read_counters(dev, &before);
    if (gemm_schedule_walk(l->s, issue_step, l) != 0 || accel_wait(dev) != ACCEL_OK)
        return -1;
    if (l->progress)
        l->progress->fn(l->progress->ctx, l->total, l->total);
    accel_read_counters(dev, &after);
    if (accel_copy_out(dev, l->c_addr, c, c_bytes))
        return -1;
    stats->cycles.total = after.total - before.total;
    stats->cycles.busy = after.busy - before.busy;
    stats->cycles.stall = after.stall - before.stall;
    stats->cycles.commands = after.commands - before.commands;
    stats->cycles.macs = after.macs - before.macs;
    stats->bytes_to_device = a_bytes + b_bytes + (g->accumulate ? c_bytes : 0);
    stats->bytes_from_device = c_bytes;
    return 0;
}

int gemm_run(accel_dev *dev, const gemm_args *g, gemm_run_stats *stats, char *err, size_t errlen) {
    return gemm_run_reporting(dev, g, NULL, stats, err, errlen);
}

int gemm_run_reporting(accel_dev *dev, const gemm_args *g, const gemm_progress *progress,
                       gemm_run_stats *stats, char *err, size_t errlen) {
    const accel_preset *p = accel_preset_of(dev);
    gemm_schedule s;
    if (gemm_schedule_make(p, g->m, g->k, g->n, g->accumulate, &s, err, errlen) != 0)
        return -1;
    gemm_cycles_closed_form(&s, &stats->formula);
    layout l = {
        .s = &s, .progress = progress, .dev = dev, .total = (int64_t)stats->formula.commands};
    const uint64_t R = (uint64_t)p->array_rows, C = (uint64_t)p->array_cols;
    const uint64_t bw = (uint64_t)p->mem_bytes_per_cycle, X = (uint64_t)p->mxus;
    l.a_panel = word_aligned((uint64_t)s.m_chunk * R, 2, bw);
    l.b_block = word_aligned(X * R * C, 2, bw);
    l.c_tile = word_aligned((uint64_t)s.m_chunk * C, 4, bw);
    double need = 2 * (double)s.m_chunks * (double)s.k_tiles * (double)l.a_panel +
                  2 * (double)s.k_tiles * (double)s.n_groups * (double)l.b_block +
                  4 * (double)s.m_chunks * (double)s.n_tiles * (double)l.c_tile;
    if (need > (double)((uint64_t)p->mem_mib << 20)) {
        snprintf(err, errlen,
                 "GEMM %lldx%lldx%lld needs %.1f MiB of device memory; preset '%s' has %d MiB",
                 (long long)g->m, (long long)g->k, (long long)g->n, need / 1048576.0, p->name,
                 p->mem_mib);
        return -1;
    }
    uint64_t a_bytes = 2 * (uint64_t)s.m_chunks * (uint64_t)s.k_tiles * l.a_panel;
    uint64_t b_bytes = 2 * (uint64_t)s.k_tiles * (uint64_t)s.n_groups * l.b_block;
    uint64_t c_bytes = 4 * (uint64_t)s.m_chunks * (uint64_t)s.n_tiles * l.c_tile;
    uint16_t *a = calloc(a_bytes / 2, sizeof *a);
    uint16_t *b = calloc(b_bytes / 2, sizeof *b);
    float *c = calloc(c_bytes / 4, sizeof *c);
    int rc = -1;
    if (!a || !b || !c) {
        snprintf(err, errlen, "out of host memory packing the GEMM");
    } else if (place(&l, a_bytes, b_bytes, c_bytes) != 0) {
        snprintf(err, errlen, "%s", accel_last_error(dev));
    } else {
        pack(&l, g, a, b, g->accumulate ? c : NULL);
        rc = run_on_device(&l, g, a, b, c, a_bytes, b_bytes, c_bytes, stats);
        if (rc != 0)
            snprintf(err, errlen, "%s", accel_last_error(dev));
        accel_free(dev, l.c_addr);
        accel_free(dev, l.b_addr);
        accel_free(dev, l.a_addr);
    }
    if (rc == 0)
        unpack_c(&l, g, c);
    free(a);
    free(b);
    free(c);
    return rc;
}
