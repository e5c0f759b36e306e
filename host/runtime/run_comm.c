/* Transfers between device memories over the platform's links, and their accounting. */
#include "run_comm.h"

#include "run_fault.h"
#include "run_remote.h"

#include "bf16.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The wire format: bf16 or fp32 little-endian words. */
static void encode(const float *x, int64_t n, int elem_bytes, uint8_t *out) {
    for (int64_t i = 0; i < n; i++) {
        if (elem_bytes == 2) {
            uint16_t b = bf16_from_float(x[i]);
            memcpy(out + 2 * i, &b, 2);
        } else {
            memcpy(out + 4 * i, &x[i], 4);
        }
    }
}

static void decode(const uint8_t *in, int64_t n, int elem_bytes, float *x) {
    for (int64_t i = 0; i < n; i++) {
        if (elem_bytes == 2) {
            uint16_t b;
            memcpy(&b, in + 2 * i, 2);
            x[i] = bf16_to_float(b);
        } else {
            memcpy(&x[i], in + 4 * i, 4);
        }
    }
}

typedef struct placed {
    int src, dst;
    uint64_t src_addr, dst_addr, bytes;
    int on_src, on_dst; /* allocated */
    uint8_t *wire;
} placed;

static int fail_dev(run_ctx *c, const run_xfer *x, int d, const char *why) {
    snprintf(c->err, c->errlen, "layer %s, level %d, %s: device %d (%s): %s",
             c->g->nodes[x->node].name, x->level, x->what, d, c->a->kinds[c->a->kind_of[d]].name,
             why);
    return -1;
}

/* Stages the payload in the source's memory and poisons the destination's buffer. */
static int place(run_ctx *c, const run_xfer *x, placed *pl) {
    const plan_pair *pp = &c->p->levels[x->level].pairs[x->pair];
    char why[512];
    pl->src = x->to_group == 0 ? pp->j.first : pp->i.first;
    pl->dst = x->to_group == 0 ? pp->i.first : pp->j.first;
    pl->bytes = (uint64_t)x->n * (uint64_t)x->elem_bytes;
    pl->wire = malloc(pl->bytes);
    if (!pl->wire) {
        snprintf(c->err, c->errlen, "layer %s: out of host memory for a %llu-byte transfer",
                 c->g->nodes[x->node].name, (unsigned long long)pl->bytes);
        return -1;
    }
    encode(x->data, x->n, x->elem_bytes, pl->wire);
    if (run_dev_alloc(c, pl->src, pl->bytes, &pl->src_addr, why, sizeof why) != 0 ||
        !(pl->on_src = 1) ||
        run_dev_copy_in(c, pl->src, pl->src_addr, pl->wire, pl->bytes, why, sizeof why) != 0)
        return fail_dev(c, x, pl->src, why);
    c->r->host_bytes += pl->bytes;
    memset(pl->wire, 0xFF, pl->bytes); /* NaN in both formats: what a dropped transfer leaves */
    if (run_dev_alloc(c, pl->dst, pl->bytes, &pl->dst_addr, why, sizeof why) != 0 ||
        !(pl->on_dst = 1) ||
        run_dev_copy_in(c, pl->dst, pl->dst_addr, pl->wire, pl->bytes, why, sizeof why) != 0)
        return fail_dev(c, x, pl->dst, why);
    return 0;
}

/* The DMA between the two device memories, then the read-back of what arrived. (Between
 * devices of different ranks the DMA's bytes travel through rank 0: docs/scale-out.md.) */
static int deliver(run_ctx *c, run_xfer *x, placed *pl) {
    char why[512];
    int drop = run_fault_drops_transfer(c);
    if (!drop &&
        run_dev_copy_out(c, pl->src, pl->src_addr, pl->wire, pl->bytes, why, sizeof why) != 0)
        return fail_dev(c, x, pl->src, why);
    if (!drop &&
        run_dev_copy_in(c, pl->dst, pl->dst_addr, pl->wire, pl->bytes, why, sizeof why) != 0)
        return fail_dev(c, x, pl->dst, why);
    if (run_dev_copy_out(c, pl->dst, pl->dst_addr, pl->wire, pl->bytes, why, sizeof why) != 0)
        return fail_dev(c, x, pl->dst, why);
    c->r->host_bytes += pl->bytes;
    decode(pl->wire, x->n, x->elem_bytes, x->received);
    for (int64_t k = 0; k < x->n; k++) {
        float sent = x->elem_bytes == 2 ? bf16_round(x->data[k]) : x->data[k];
        if (memcmp(&sent, &x->received[k], sizeof sent) != 0) {
            run_fail(c,
                     "transfer %d (layer %s, level %d, %s, device %d -> %d, %llu bytes): "
                     "element %lld arrived as %g, sent %g",
                     c->transfer_seq, c->g->nodes[x->node].name, x->level, x->what, pl->src,
                     pl->dst, (unsigned long long)pl->bytes, (long long)k, (double)x->received[k],
                     (double)sent);
            break;
        }
    }
    return 0;
}

int run_comm_batch(run_ctx *c, run_xfer *x, int n) {
    placed *pl = calloc((size_t)n + 1, sizeof *pl);
    platform_xfer *px = calloc((size_t)n + 1, sizeof *px);
    int rc = pl && px ? 0 : -1;
    if (rc != 0)
        snprintf(c->err, c->errlen, "layer %s: out of host memory for %d transfers",
                 c->g->nodes[c->node].name, n);
    for (int k = 0; k < n && rc == 0; k++) {
        rc = place(c, &x[k], &pl[k]);
        px[k] = (platform_xfer){c->link[x[k].level * c->r->n_devices + x[k].pair],
                                x[k].to_group == 0 ? 1 : 0, pl[k].bytes};
    }
    double t0 = platform_now_s(c->pf);
    if (rc == 0)
        rc = platform_transfer(c->pf, px, n, c->err, c->errlen);
    for (int k = 0; k < n && rc == 0; k++) {
        rc = deliver(c, &x[k], &pl[k]);
        c->r->transfers++;
        c->transfer_seq++;
    }
    if (n > 0 && rc == 0) {
        c->r->simulated_comm_s += platform_now_s(c->pf) - t0;
        for (int k = 0; k < n; k++) {
            run_event e = {x[k].what,
                           x[k].node,
                           x[k].level,
                           -1,
                           x[k].level * c->r->n_devices + x[k].pair,
                           x[k].to_group,
                           t0,
                           platform_now_s(c->pf),
                           pl[k].bytes,
                           0};
            run_event_add(c, &e);
        }
    }
    for (int k = 0; pl && k < n; k++) {
        if (pl[k].on_src)
            run_dev_free(c, pl[k].src, pl[k].src_addr);
        if (pl[k].on_dst)
            run_dev_free(c, pl[k].dst, pl[k].dst_addr);
        free(pl[k].wire);
    }
    free(pl);
    free(px);
    return rc;
}

void run_delivered(run_ctx *c, const run_xfer *x, int64_t elems) {
    uint64_t bytes = (uint64_t)elems * (uint64_t)x->elem_bytes;
    c->recv[run_recv_slot(c, x->node, x->level, x->pair, x->to_group)] += bytes;
    c->r->layers[x->node].bytes[x->level] += bytes;
    c->r->bytes_moved += bytes;
}
