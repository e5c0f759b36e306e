/* The replay backend: numerics from the golden model, cycles from the RTL. Each distinct
 * command shape (opcode, rows, MXUs, prefetched tiles) runs once on a scratch verilated
 * device; its measured counters are replayed for every later command of that shape. This
 * makes full-size networks practical while every cycle still comes from the RTL. */
#include "replay_timings.h"
#include "rtl_backends.h"

#include "vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef replay_shape shape_key;

typedef struct measured {
    shape_key key;
    cycle_breakdown cycles;
} measured;

typedef struct replay {
    accel_preset p;
    void *golden;
    void *rtl;        /* scratch device, opened on the first unseen shape */
    uint8_t *scratch; /* its memory: room for the largest single transfer */
    uint64_t scratch_bytes;
    replay_timings *shared; /* the model's timings, in this process and its cache folder */
    measured *seen;         /* this device's copy of what it used: looked up without a lock */
    size_t n_seen, cap_seen;
    cycle_breakdown cb;
} replay;

static void replay_close(void *state) {
    replay *r = state;
    if (!r)
        return;
    if (r->golden)
        accel_golden_ops.close(r->golden);
    if (r->rtl)
        accel_rtl_ops.close(r->rtl);
    free(r->scratch);
    free(r->seen);
    free(r);
}

static int replay_open(const accel_preset *p, uint8_t *memory, uint64_t mem_bytes, void **state,
                       char *err, size_t errlen) {
    replay *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "replay: out of host memory");
        return -1;
    }
    r->p = *p;
    const uint64_t R = (uint64_t)p->array_rows, C = (uint64_t)p->array_cols;
    uint64_t tiles = (uint64_t)p->mxus * 2 * R * C, acts = (uint64_t)p->act_buffer_rows * 2 * R;
    uint64_t accs = (uint64_t)p->acc_buffer_rows * 4 * C;
    r->scratch_bytes = tiles > acts ? tiles : acts;
    r->scratch_bytes = accs > r->scratch_bytes ? accs : r->scratch_bytes;
    /* whole port words: a transfer's last word is read whole */
    const uint64_t bw = (uint64_t)p->mem_bytes_per_cycle;
    r->scratch_bytes = (r->scratch_bytes + bw - 1) / bw * bw;
    r->scratch = calloc(1, r->scratch_bytes);
    if (!r->scratch) {
        snprintf(err, errlen, "replay: out of host memory");
        replay_close(r);
        return -1;
    }
    /* open the RTL now, so a preset without a verilated model fails here, not mid-run */
    if (accel_golden_ops.open(p, memory, mem_bytes, &r->golden, err, errlen) != 0 ||
        accel_rtl_ops.open(p, r->scratch, r->scratch_bytes, &r->rtl, err, errlen) != 0 ||
        !(r->shared = replay_timings_of(p, err, errlen))) {
        replay_close(r);
        return -1;
    }
    *state = r;
    return 0;
}

static shape_key key_of(const accel_cmd *c) {
    shape_key k = {(int)c->op, 0, 0, 0};
    if (c->op != ACCEL_LOAD_W)
        k.rows = c->rows;
    if (c->op == ACCEL_LOAD_W || c->op == ACCEL_MATMUL)
        k.mxus = c->mxus;
    if (c->op == ACCEL_MATMUL)
        k.pf_mxus = c->pf_mxus;
    return k;
}

static cycle_breakdown minus(cycle_breakdown a, cycle_breakdown b) {
    return (cycle_breakdown){a.total - b.total, a.busy - b.busy, a.stall - b.stall,
                             a.commands - b.commands, a.macs - b.macs};
}

/* Runs one command of this shape on the scratch RTL device and returns its counters. */
static int measure(replay *r, shape_key k, cycle_breakdown *out, char *err, size_t errlen) {
    accel_cmd c = {.op = (accel_opcode)k.op, .mxus = k.mxus, .rows = k.rows, .pf_mxus = k.pf_mxus};
    accel_cmd weights = {.op = ACCEL_LOAD_W, .mxus = (uint32_t)r->p.mxus};
    cycle_breakdown before, after;
    /* a MATMUL needs loaded weights; the setup command is not part of the measurement */
    if (c.op == ACCEL_MATMUL && accel_rtl_ops.execute(r->rtl, &weights, 1, err, errlen) != 0)
        return -1;
    accel_rtl_ops.counters(r->rtl, &before);
    if (accel_rtl_ops.execute(r->rtl, &c, 1, err, errlen) != 0)
        return -1;
    accel_rtl_ops.counters(r->rtl, &after);
    *out = minus(after, before);
    return 0;
}

static int lookup(replay *r, const accel_cmd *c, cycle_breakdown *out, char *err, size_t errlen) {
    shape_key k = key_of(c);
    for (size_t i = 0; i < r->n_seen; i++) {
        if (!memcmp(&r->seen[i].key, &k, sizeof k)) {
            *out = r->seen[i].cycles;
            return 0;
        }
    }
    measured *grown = vec_grow(r->seen, &r->cap_seen, r->n_seen + 1, sizeof *grown);
    if (!grown) {
        snprintf(err, errlen, "replay: out of host memory");
        return -1;
    }
    r->seen = grown;
    if (!replay_timings_find(r->shared, &k, out)) {
        if (measure(r, k, out, err, errlen) != 0)
            return -1;
        if (replay_timings_add(r->shared, &k, out) != 0) {
            snprintf(err, errlen, "replay: out of host memory");
            return -1;
        }
    }
    r->seen[r->n_seen++] = (measured){k, *out};
    return 0;
}

static int replay_execute(void *state, const accel_cmd *cmds, size_t n, char *err, size_t errlen) {
    replay *r = state;
    if (accel_golden_ops.execute(r->golden, cmds, n, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        cycle_breakdown c;
        if (lookup(r, &cmds[i], &c, err, errlen) != 0)
            return -1;
        r->cb.total += c.total;
        r->cb.busy += c.busy;
        r->cb.stall += c.stall;
        r->cb.commands += c.commands;
        r->cb.macs += c.macs;
    }
    return 0;
}

static void replay_counters(void *state, cycle_breakdown *out) {
    *out = ((replay *)state)->cb;
}

const accel_backend_ops accel_replay_ops = {replay_open, replay_close, replay_execute,
                                            replay_counters, NULL};
