#include "systolic_model.h"

#include <stdio.h>

static uint64_t tile_bytes(const accel_preset *p) {
    return 2u * (uint64_t)p->array_rows * (uint64_t)p->array_cols;
}

uint64_t model_words(const accel_preset *p, uint64_t bytes) {
    uint64_t bw = (uint64_t)p->mem_bytes_per_cycle;
    return (bytes + bw - 1) / bw;
}

/* Per-command counts (the features of the closed form), each command added `count` times:
 * LOAD = issue + words + read latency; STORE = issue + words;
 * MATMUL = issue + rows + fill/drain (R + C) + prefetch excess. */
static void feat_load(const accel_preset *p, uint64_t bytes, uint64_t count, gemm_features *f) {
    f->f[FEAT_COMMANDS] += count;
    f->f[FEAT_LOADS] += count;
    f->f[FEAT_WORDS] += count * model_words(p, bytes);
}

static void feat_store(const accel_preset *p, uint64_t bytes, uint64_t count, gemm_features *f) {
    f->f[FEAT_COMMANDS] += count;
    f->f[FEAT_WORDS] += count * model_words(p, bytes);
}

static void feat_matmul(const accel_preset *p, uint64_t rows, int tiles, int pf_tiles,
                        uint64_t count, gemm_features *f) {
    uint64_t fill = (uint64_t)p->array_rows + (uint64_t)p->array_cols, stream = rows + fill;
    uint64_t prefetch = pf_tiles > 0 ? 1 + model_words(p, (uint64_t)pf_tiles * tile_bytes(p)) : 0;
    f->f[FEAT_COMMANDS] += count;
    f->f[FEAT_ROWS] += count * rows;
    f->f[FEAT_FILL] += count * fill;
    f->f[FEAT_PREFETCH] += count * (prefetch > stream ? prefetch - stream : 0);
    f->macs += count * rows * (uint64_t)p->array_rows * (uint64_t)p->array_cols * (uint64_t)tiles;
}

const char *const gemm_feature_names[GEMM_FEATURES] = {"commands", "loads", "words",
                                                       "rows",     "fill",  "prefetch"};

const uint64_t gemm_contract_cycles[GEMM_FEATURES] = {1, 1, 1, 1, 1, 1};

double gemm_features_weighted(const gemm_features *f, const double theta[GEMM_FEATURES]) {
    double s = 0;
    for (int i = 0; i < GEMM_FEATURES; i++)
        s += theta[i] * (double)f->f[i];
    return s;
}

void gemm_features_add_to(const gemm_features *f, cycle_breakdown *cb) {
    uint64_t x[GEMM_FEATURES];
    for (int i = 0; i < GEMM_FEATURES; i++)
        x[i] = f->f[i] * gemm_contract_cycles[i];
    cb->commands += x[FEAT_COMMANDS];
    cb->busy += x[FEAT_ROWS] + x[FEAT_FILL];
    cb->stall += x[FEAT_LOADS] + x[FEAT_WORDS] + x[FEAT_PREFETCH];
    cb->total += x[FEAT_COMMANDS] + x[FEAT_ROWS] + x[FEAT_FILL] + x[FEAT_LOADS] + x[FEAT_WORDS] +
                 x[FEAT_PREFETCH];
    cb->macs += f->macs;
}

void model_add_load(const accel_preset *p, uint64_t bytes, uint64_t count, cycle_breakdown *cb) {
    gemm_features f = {0};
    feat_load(p, bytes, count, &f);
    gemm_features_add_to(&f, cb);
}

void model_add_store(const accel_preset *p, uint64_t bytes, uint64_t count, cycle_breakdown *cb) {
    gemm_features f = {0};
    feat_store(p, bytes, count, &f);
    gemm_features_add_to(&f, cb);
}

void model_add_matmul(const accel_preset *p, uint64_t rows, int tiles, int pf_tiles, uint64_t count,
                      cycle_breakdown *cb) {
    gemm_features f = {0};
    feat_matmul(p, rows, tiles, pf_tiles, count, &f);
    gemm_features_add_to(&f, cb);
}

static int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

int gemm_schedule_make(const accel_preset *p, int64_t m, int64_t k, int64_t n, int accumulate,
                       gemm_schedule *s, char *err, size_t errlen) {
    const int64_t limit = 2147483647;
    if (m < 1 || k < 1 || n < 1 || m > limit || k > limit || n > limit) {
        snprintf(err, errlen, "GEMM shape %lldx%lldx%lld: each of M, K, N must be in 1..%lld",
                 (long long)m, (long long)k, (long long)n, (long long)limit);
        return -1;
    }
    s->preset = p;
    s->m = m;
    s->k = k;
    s->n = n;
    s->accumulate = accumulate != 0;
    s->k_tiles = ceil_div(k, p->array_rows);
    s->n_tiles = ceil_div(n, p->array_cols);
    s->n_groups = ceil_div(s->n_tiles, p->mxus);
    s->last_group_tiles = (int)(s->n_tiles - (s->n_groups - 1) * p->mxus);
    s->m_chunk = min64(m, min64(p->act_buffer_rows, p->acc_buffer_rows));
    s->m_chunks = ceil_div(m, s->m_chunk);
    s->m_last = m - (s->m_chunks - 1) * s->m_chunk;
    int64_t fit = p->acc_buffer_rows / s->m_chunk;
    s->groups_per_block = min64(s->n_groups, fit < 1 ? 1 : fit);
    s->blocks = ceil_div(s->n_groups, s->groups_per_block);
    s->last_block_groups = s->n_groups - (s->blocks - 1) * s->groups_per_block;
    return 0;
}

int gemm_group_tiles(const gemm_schedule *s, int64_t group) {
    return group == s->n_groups - 1 ? s->last_group_tiles : s->preset->mxus;
}

static int64_t block_groups(const gemm_schedule *s, int64_t b) {
    return b == s->blocks - 1 ? s->last_block_groups : s->groups_per_block;
}

static int64_t chunk_rows(const gemm_schedule *s, int64_t c) {
    return c == s->m_chunks - 1 ? s->m_last : s->m_chunk;
}

/* The MATMUL after (b, c, kt, g) in issue order; returns 0 if there is none. */
static int next_matmul(const gemm_schedule *s, int64_t b, int64_t c, int64_t kt, int64_t g,
                       int64_t *nkt, int64_t *ngroup) {
    int64_t g0 = b * s->groups_per_block;
    if (g + 1 < block_groups(s, b)) {
        *nkt = kt;
        *ngroup = g0 + g + 1;
    } else if (kt + 1 < s->k_tiles) {
        *nkt = kt + 1;
        *ngroup = g0;
    } else if (c + 1 < s->m_chunks) {
        *nkt = 0;
        *ngroup = g0;
    } else if (b + 1 < s->blocks) {
        *nkt = 0;
        *ngroup = g0 + s->groups_per_block;
    } else {
        return 0;
    }
    return 1;
}

/* Loads or stores the accumulators of every tile of a block for one chunk. */
static int walk_acc_tiles(const gemm_schedule *s, gemm_step_kind kind, int64_t b, int64_t c,
                          gemm_step_fn fn, void *ctx) {
    int64_t g0 = b * s->groups_per_block;
    for (int64_t g = 0; g < block_groups(s, b); g++) {
        for (int x = 0; x < gemm_group_tiles(s, g0 + g); x++) {
            gemm_step st = {.kind = kind,
                            .chunk = c,
                            .rows = chunk_rows(s, c),
                            .group = g0 + g,
                            .mxu = x,
                            .acc_off = g * s->m_chunk};
            int rc = fn(&st, ctx);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int gemm_schedule_walk(const gemm_schedule *s, gemm_step_fn fn, void *ctx) {
    gemm_step first = {.kind = STEP_LOAD_W, .kt = 0, .group = 0, .tiles = gemm_group_tiles(s, 0)};
    int rc = fn(&first, ctx);
    for (int64_t b = 0; b < s->blocks && !rc; b++) {
        int64_t g0 = b * s->groups_per_block;
        for (int64_t c = 0; c < s->m_chunks && !rc; c++) {
            int64_t rows = chunk_rows(s, c);
            if (s->accumulate)
                rc = walk_acc_tiles(s, STEP_LOAD_ACC, b, c, fn, ctx);
            for (int64_t kt = 0; kt < s->k_tiles && !rc; kt++) {
                gemm_step la = {.kind = STEP_LOAD_A, .chunk = c, .rows = rows, .kt = kt};
                rc = fn(&la, ctx);
                for (int64_t g = 0; g < block_groups(s, b) && !rc; g++) {
                    gemm_step mm = {.kind = STEP_MATMUL,
                                    .chunk = c,
                                    .rows = rows,
                                    .kt = kt,
                                    .group = g0 + g,
                                    .tiles = gemm_group_tiles(s, g0 + g),
                                    .acc_off = g * s->m_chunk,
                                    .accumulate = kt > 0 || s->accumulate};
                    if (next_matmul(s, b, c, kt, g, &mm.pf_kt, &mm.pf_group))
                        mm.pf_tiles = gemm_group_tiles(s, mm.pf_group);
                    rc = fn(&mm, ctx);
                }
            }
            if (!rc)
                rc = walk_acc_tiles(s, STEP_STORE, b, c, fn, ctx);
        }
    }
    return rc;
}

void model_add_step(const gemm_schedule *s, const gemm_step *st, cycle_breakdown *cb) {
    const accel_preset *p = s->preset;
    uint64_t rows = (uint64_t)st->rows;
    switch (st->kind) {
    case STEP_LOAD_W:
        model_add_load(p, (uint64_t)st->tiles * tile_bytes(p), 1, cb);
        break;
    case STEP_LOAD_ACC:
        model_add_load(p, rows * 4u * (uint64_t)p->array_cols, 1, cb);
        break;
    case STEP_LOAD_A:
        model_add_load(p, rows * 2u * (uint64_t)p->array_rows, 1, cb);
        break;
    case STEP_MATMUL:
        model_add_matmul(p, rows, st->tiles, st->pf_tiles, 1, cb);
        break;
    case STEP_STORE:
        model_add_store(p, rows * 4u * (uint64_t)p->array_cols, 1, cb);
        break;
    }
}

/* One chunk of `rows` rows through a block whose groups have tile counts `first` (group 0),
 * `middle` (groups 1 .. gb-2) and `last` (group gb-1); `next` is the tile count prefetched
 * by the chunk's final MATMUL (0: none). Adds `count` such chunks. */
static void add_chunk(const gemm_schedule *s, uint64_t rows, int64_t gb, int first, int middle,
                      int last, int next, uint64_t count, gemm_features *f) {
    const accel_preset *p = s->preset;
    uint64_t kt = (uint64_t)s->k_tiles;
    if (count == 0)
        return;
    uint64_t tiles_total = (uint64_t)first + (gb > 1 ? (uint64_t)(gb - 2) * middle + last : 0);
    uint64_t acc_bytes = rows * 4u * (uint64_t)p->array_cols;
    if (s->accumulate)
        feat_load(p, acc_bytes, count * tiles_total, f);
    feat_load(p, rows * 2u * (uint64_t)p->array_rows, count * kt, f);
    feat_store(p, acc_bytes, count * tiles_total, f);
    /* The MATMUL of group g prefetches group g+1; the one of the block's last group prefetches
     * group 0 of the next k tile, except the very last one, which prefetches `next`. */
    if (gb > 1) {
        feat_matmul(p, rows, first, gb > 2 ? middle : last, count * kt, f);
        if (gb > 2) {
            feat_matmul(p, rows, middle, middle, count * kt * (uint64_t)(gb - 3), f);
            feat_matmul(p, rows, middle, last, count * kt, f);
        }
    }
    feat_matmul(p, rows, last, first, count * (kt - 1), f);
    feat_matmul(p, rows, last, next, count, f);
}

/* All chunks of block b, whose final MATMUL prefetches `next` tiles. */
static void add_block(const gemm_schedule *s, int64_t b, int next, uint64_t count,
                      gemm_features *f) {
    int64_t g0 = b * s->groups_per_block, gb = block_groups(s, b);
    int first = gemm_group_tiles(s, g0);
    int middle = s->preset->mxus;
    int last = gemm_group_tiles(s, g0 + gb - 1);
    uint64_t full = (uint64_t)(s->m_chunks - 1);
    add_chunk(s, (uint64_t)s->m_chunk, gb, first, middle, last, first, count * full, f);
    add_chunk(s, (uint64_t)s->m_last, gb, first, middle, last, next, count, f);
}

void gemm_features_closed_form(const gemm_schedule *s, gemm_features *f) {
    const accel_preset *p = s->preset;
    *f = (gemm_features){0};
    feat_load(p, (uint64_t)gemm_group_tiles(s, 0) * tile_bytes(p), 1, f);
    int64_t nb = s->blocks;
    if (nb >= 3)
        add_block(s, 0, p->mxus, (uint64_t)(nb - 2), f);
    if (nb >= 2)
        add_block(s, nb - 2, gemm_group_tiles(s, (nb - 1) * s->groups_per_block), 1, f);
    add_block(s, nb - 1, 0, 1, f);
}

void gemm_cycles_closed_form(const gemm_schedule *s, cycle_breakdown *cb) {
    gemm_features f;
    gemm_features_closed_form(s, &f);
    *cb = (cycle_breakdown){0};
    gemm_features_add_to(&f, cb);
}

double model_seconds(const accel_preset *p, uint64_t cycles) {
    return (double)cycles / (p->clock_mhz * 1e6);
}

/* elems values of elem_bytes each, rounded up to whole words of bw bytes, in values. */
static uint64_t word_aligned(uint64_t elems, uint64_t elem_bytes, uint64_t bw) {
    return (elems * elem_bytes + bw - 1) / bw * bw / elem_bytes;
}

void gemm_operands_of(const gemm_schedule *s, gemm_operands *o) {
    const accel_preset *p = s->preset;
    const uint64_t R = (uint64_t)p->array_rows, C = (uint64_t)p->array_cols;
    const uint64_t bw = (uint64_t)p->mem_bytes_per_cycle, X = (uint64_t)p->mxus;
    o->a_panel = word_aligned((uint64_t)s->m_chunk * R, 2, bw);
    o->b_block = word_aligned(X * R * C, 2, bw);
    o->c_tile = word_aligned((uint64_t)s->m_chunk * C, 4, bw);
    o->a_bytes = sat_mul(sat_mul(2 * (uint64_t)s->m_chunks, (uint64_t)s->k_tiles), o->a_panel);
    o->b_bytes = sat_mul(sat_mul(2 * (uint64_t)s->k_tiles, (uint64_t)s->n_groups), o->b_block);
    o->c_bytes = sat_mul(sat_mul(4 * (uint64_t)s->m_chunks, (uint64_t)s->n_tiles), o->c_tile);
}

uint64_t gemm_operand_bytes(const gemm_operands *o) {
    return sat_add(sat_add(o->a_bytes, o->b_bytes), o->c_bytes);
}
