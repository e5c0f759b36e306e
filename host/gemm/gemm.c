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

/* Writes A and B (and C) into their device memory in the device layout, zero-padded: each
 * panel row, tile row and tile row of C is a run of at most R (C) consecutive values. */
static void pack(const layout *l, const gemm_args *g, uint16_t *a, uint16_t *b, float *c) {
    const gemm_schedule *s = l->s;
    const int64_t R = s->preset->array_rows, C = s->preset->array_cols;
    /* k outermost: a transposed A is read R of its rows at a time, which stay in cache */
    for (int64_t k0 = 0; k0 < g->k; k0 += R) {
        int64_t n = g->k - k0 < R ? g->k - k0 : R;
        for (int64_t i0 = 0; !g->a && i0 < g->m; i0 += s->m_chunk)
            g->a_blocks.fn(g->a_blocks.ctx, i0, g->m - i0 < s->m_chunk ? g->m - i0 : s->m_chunk, k0,
                           n, a + a_panel_index(l, i0 / s->m_chunk, k0 / R), R);
        for (int64_t i = 0; g->a && i < g->m; i++) {
            int64_t chunk = i / s->m_chunk, r = i % s->m_chunk;
            uint16_t *dst = a + a_panel_index(l, chunk, k0 / R) + (uint64_t)r * (uint64_t)R;
            if (g->trans_a)
                bf16_from_floats(dst, g->a + k0 * g->m + i, n, g->m);
            else
                bf16_from_floats(dst, g->a + i * g->k + k0, n, 1);
        }
    }
    for (int64_t k = 0; k < g->k; k++)
        for (int64_t j0 = 0; j0 < g->n; j0 += C) {
            int64_t n = g->n - j0 < C ? g->n - j0 : C;
            if (g->trans_b)
                bf16_from_floats(b + b_index(l, k, j0), g->b + j0 * g->k + k, n, g->k);
            else
                bf16_from_floats(b + b_index(l, k, j0), g->b + k * g->n + j0, n, 1);
        }
    if (!c)
        return;
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j0 = 0; j0 < g->n; j0 += C)
            memcpy(c + c_index(l, i, j0), g->c + i * g->n + j0,
                   (size_t)(g->n - j0 < C ? g->n - j0 : C) * sizeof *c);
}

static void unpack_c(const layout *l, const gemm_args *g, const float *c) {
    const int64_t C = l->s->preset->array_cols, mc = l->s->m_chunk;
    for (int64_t i0 = 0; !g->c && i0 < g->m; i0 += mc)
        g->c_blocks.fn(g->c_blocks.ctx, i0, g->m - i0 < mc ? g->m - i0 : mc,
                       c + c_tile_index(l, i0 / mc, 0), (int64_t)l->c_tile, C);
    if (!g->c)
        return;
    for (int64_t i = 0; i < g->m; i++)
        for (int64_t j0 = 0; j0 < g->n; j0 += C)
            memcpy(g->c + i * g->n + j0, c + c_index(l, i, j0),
                   (size_t)(g->n - j0 < C ? g->n - j0 : C) * sizeof *c);
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

/* Zeroes the padding pack leaves unwritten (the allocation may hold an earlier GEMM's data):
 * whole A panels and B blocks that pack fills only in part (the last chunk of rows, the last K
 * tile, the last group of column tiles), and the rounding tail of every other. */
static void zero_padding(const layout *l, uint16_t *a, uint16_t *b) {
    const gemm_schedule *s = l->s;
    const int64_t R = s->preset->array_rows, C = s->preset->array_cols, X = s->preset->mxus;
    const int k_part = s->k % R != 0, m_part = s->m % s->m_chunk != 0;
    const int n_part = s->n % C != 0 || s->n_tiles % X != 0;
    const uint64_t a_used = (uint64_t)(s->m_chunk * R), b_used = (uint64_t)(X * R * C);
    for (int64_t chunk = 0; chunk < s->m_chunks; chunk++)
        for (int64_t kt = 0; kt < s->k_tiles; kt++) {
            int whole = (k_part && kt == s->k_tiles - 1) || (m_part && chunk == s->m_chunks - 1);
            uint64_t from = whole ? 0 : a_used;
            memset(a + a_panel_index(l, chunk, kt) + from, 0, 2 * (l->a_panel - from));
        }
    for (int64_t kt = 0; kt < s->k_tiles; kt++)
        for (int64_t g = 0; g < s->n_groups; g++) {
            int whole = (k_part && kt == s->k_tiles - 1) || (n_part && g == s->n_groups - 1);
            uint64_t from = whole ? 0 : b_used;
            uint64_t at = ((uint64_t)kt * (uint64_t)s->n_groups + (uint64_t)g) * l->b_block;
            memset(b + at + from, 0, 2 * (l->b_block - from));
        }
}

/* Packs the operands into the device's memory, runs the schedule, unpacks C. */
static int run_on_device(layout *l, const gemm_args *g, uint64_t a_bytes, uint64_t b_bytes,
                         uint64_t c_bytes, gemm_run_stats *stats) {
    accel_dev *dev = l->dev;
    cycle_breakdown before, after;
    uint16_t *a = accel_map(dev, l->a_addr, a_bytes), *b = accel_map(dev, l->b_addr, b_bytes);
    float *c = accel_map(dev, l->c_addr, c_bytes);
    if (!a || !b || !c)
        return -1;
    zero_padding(l, a, b);
    if (g->accumulate)
        memset(c, 0, c_bytes);
    pack(l, g, a, b, g->accumulate ? c : NULL);
    accel_read_counters(dev, &before);
    if (gemm_schedule_walk(l->s, issue_step, l) != 0 || accel_wait(dev) != ACCEL_OK)
        return -1;
    if (l->progress)
        l->progress->fn(l->progress->ctx, l->total, l->total);
    accel_read_counters(dev, &after);
    if (!(c = accel_map(dev, l->c_addr, c_bytes)))
        return -1;
    unpack_c(l, g, c);
    stats->cycles.total = after.total - before.total;
    stats->cycles.busy = after.busy - before.busy;
    stats->cycles.stall = after.stall - before.stall;
    stats->cycles.commands = after.commands - before.commands;
    stats->cycles.macs = after.macs - before.macs;
    stats->bytes_to_device = a_bytes + b_bytes + (g->accumulate ? c_bytes : 0);
    stats->bytes_from_device = c_bytes;
    return 0;
}

int gemm_fits_device(const gemm_schedule *s, char *err, size_t errlen) {
    const accel_preset *p = s->preset;
    gemm_operands ops;
    gemm_operands_of(s, &ops);
    uint64_t need = gemm_operand_bytes(&ops);
    if (need <= (uint64_t)p->mem_mib << 20)
        return 0;
    snprintf(err, errlen,
             "GEMM %lldx%lldx%lld needs %.1f MiB of device memory; preset '%s' has %d MiB",
             (long long)s->m, (long long)s->k, (long long)s->n, (double)need / 1048576.0, p->name,
             p->mem_mib);
    return -1;
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
    if (!g->c && g->accumulate) {
        snprintf(err, errlen, "a GEMM that accumulates needs C stored, not given to a function");
        return -1;
    }
    gemm_cycles_closed_form(&s, &stats->formula);
    layout l = {
        .s = &s, .progress = progress, .dev = dev, .total = (int64_t)stats->formula.commands};
    if (gemm_fits_device(&s, err, errlen) != 0)
        return -1;
    gemm_operands ops;
    gemm_operands_of(&s, &ops);
    l.a_panel = ops.a_panel;
    l.b_block = ops.b_block;
    l.c_tile = ops.c_tile;
    uint64_t a_bytes = ops.a_bytes, b_bytes = ops.b_bytes, c_bytes = ops.c_bytes;
    if (place(&l, a_bytes, b_bytes, c_bytes) != 0) {
        snprintf(err, errlen, "%s", accel_last_error(dev));
        return -1;
    }
    int rc = run_on_device(&l, g, a_bytes, b_bytes, c_bytes, stats);
    if (rc != 0)
        snprintf(err, errlen, "%s", accel_last_error(dev));
    accel_free(dev, l.c_addr);
    accel_free(dev, l.b_addr);
    accel_free(dev, l.a_addr);
    return rc;
}
