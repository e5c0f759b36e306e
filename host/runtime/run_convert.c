/* The layout conversions between layers (run_convert.h). */
#include "run_convert.h"

#include "run_comm.h"
#include "run_fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One group of a split: its leader, what it holds (have: the producer's layout) and needs (want:
 * the consumer's), its own data over have, and what it receives (NULL: nothing). */
typedef struct side {
    int leader;
    run_block have, want;
    float *own;
    run_xfer *in;
} side;

/* The piece of a [b][c][hw] block a group holds in a layout. */
static run_block piece(layout l, int g, double alpha, run_block whole) {
    if (l == LAYOUT_B)
        whole.x = run_range_part(whole.x, alpha, g);
    else if (l == LAYOUT_C)
        whole.y = run_range_part(whole.y, alpha, g);
    return whole;
}

/* One level's conversion: its splits' sides (2 per split: i, j) and their transfers. */
typedef struct level_job {
    int v, h;
    run_convert_kind kind;
    const char *what;
    side *s;
    int n_sides;
    run_xfer *x;
    int nx;
} level_job;

/* Each leader's own part (from what it assembled at the level above when it holds that, else
 * from the tensor in the producer's layout), and the elements the other leader lacks packed from
 * it. */
static int pack(run_ctx *c, level_job *job, const run_piece *all, const run_piece *held) {
    side *s = job->s;
    for (int k = 0; k < job->n_sides; k++) {
        const run_piece *src = held && held[s[k].leader].data ? &held[s[k].leader] : all;
        /* poisoned (NaN) where not copied: an element nobody wrote cannot pass a check */
        if (!(s[k].own = run_floats(c, run_block_elems(&s[k].have))))
            return -1;
        run_block_copy_jobs(&s[k].have, s[k].own, &src->blk, src->data, 1, c->o->jobs);
    }
    for (int k = 0; k < job->n_sides; k++) {
        const side *from = &s[k ^ 1];
        int64_t n = run_block_missing(&s[k].want, &s[k].have, NULL, NULL, NULL, 0);
        if (n == 0)
            continue;
        float *packed = run_floats(c, n + 1);
        if (!packed)
            return -1;
        run_block_missing(&s[k].want, &s[k].have, &from->have, from->own, packed, 0);
        n = run_fault_pack(c, job->v, (int)job->kind, packed, n);
        run_xfer *x = &job->x[job->nx++];
        *x = (run_xfer){.node = job->v,
                        .level = job->h,
                        .pair = k / 2,
                        .to_group = k % 2,
                        .what = job->what,
                        .data = packed,
                        .n = n,
                        .elem_bytes = COST_ACT_BYTES,
                        .received = run_floats(c, n)};
        s[k].in = x;
        if (!x->received)
            return -1;
    }
    return 0;
}

/* Side k's piece from its own part and what it received, checked element by element against
 * the tensor; *out receives it. */
static int assemble(run_ctx *c, const level_job *job, int k, const run_piece *all, float **out) {
    const side *s = &job->s[k];
    int64_t n = run_block_elems(&s->want);
    int64_t need = run_block_missing(&s->want, &s->have, NULL, NULL, NULL, 0);
    float *got = run_floats(c, n), *want = run_floats(c, n);
    if (!got || !want) {
        free(got), free(want);
        return -1;
    }
    char grp[64];
    run_group_name(c, job->h, k / 2, k % 2, grp, sizeof grp);
    const char *layer = c->g->nodes[job->v].name;
    run_block_copy_jobs(&s->want, got, &s->have, s->own, 1, c->o->jobs); /* poisoned as own */
    if (s->in && s->in->n != need)
        run_fail(c, "layer %s, level %d, %s, group %s: received %lld elements, needs %lld", layer,
                 job->h, job->what, grp, (long long)s->in->n, (long long)need);
    if (s->in && s->in->n >= need) {
        run_block_missing(&s->want, &s->have, &s->want, got, s->in->received, 1);
        run_delivered(c, s->in, need);
    }
    run_block_copy_jobs(&s->want, want, &all->blk, all->data, 0, c->o->jobs);
    int64_t e = run_first_difference(got, want, n);
    if (e >= 0)
        run_fail(c,
                 "layer %s, level %d, %s, group %s: element %lld of the assembled piece is %.9g, "
                 "the tensor holds %.9g",
                 layer, job->h, job->what, grp, (long long)e, (double)got[e], (double)want[e]);
    free(want);
    *out = got;
    return 0;
}

/* One level: pack, transfer, assemble; the assembled pieces replace the leaders' held ones
 * (or are dropped without held). */
static int convert_level(run_ctx *c, level_job *job, layout from, layout to, const run_piece *all,
                         run_piece *held) {
    const plan_level *lv = &c->p->levels[job->h];
    const net_node *nd = &c->g->nodes[job->v];
    job->n_sides = 2 * lv->n_pairs;
    job->nx = 0;
    for (int k = 0; k < job->n_sides; k++) {
        const plan_pair *pp = &lv->pairs[k / 2];
        const run_box *pb = run_geom_box(&c->G, job->v, pp->i.first, job->h);
        run_block parent = run_input_block(nd, pb->b, pb->ci);
        job->s[k] = (side){k % 2 ? pp->j.first : pp->i.first, piece(from, k % 2, lv->alpha, parent),
                           piece(to, k % 2, lv->alpha, parent), NULL, NULL};
    }
    int rc = pack(c, job, all, held);
    if (rc == 0 && job->nx > 0)
        rc = run_comm_batch(c, job->x, job->nx);
    for (int k = 0; k < job->n_sides && rc == 0; k++) {
        float *got = NULL;
        rc = assemble(c, job, k, all, &got);
        run_piece *mine = held ? &held[job->s[k].leader] : NULL;
        if (rc == 0 && mine) {
            free(mine->data);
            *mine = (run_piece){job->s[k].want, got};
        } else {
            free(got);
        }
    }
    for (int k = 0; k < job->n_sides; k++)
        free(job->s[k].own);
    for (int k = 0; k < job->nx; k++) {
        free((float *)job->x[k].data);
        free(job->x[k].received);
    }
    return rc;
}

int run_convert(run_ctx *c, int v, int e, run_convert_kind kind, const float *tensor,
                run_piece *held) {
    const net_node *nd = &c->g->nodes[v];
    int u = nd->in[e];
    const node_kind ku = c->g->nodes[u].kind;
    const plan *p = c->p;
    if (ku == NODE_INPUT)
        return 0;
    run_piece all = {
        run_input_block(nd, (run_range){0, p->batch}, run_geom_box(&c->G, v, 0, 0)->ci),
        (float *)tensor};
    level_job job = {v,    0, kind, kind == CONVERT_E ? "E conversion" : "F conversion",
                     NULL, 0, NULL, 0};
    job.s = calloc((size_t)p->n_devices * 2 + 1, sizeof *job.s);
    job.x = calloc((size_t)p->n_devices * 2 + 1, sizeof *job.x);
    int rc = job.s && job.x ? 0 : -1;
    for (int h = 0; h < p->n_levels && rc == 0; h++) {
        const plan_level *lv = &p->levels[h];
        node_layouts lu = cost_layouts(ku, lv->state[u]), lw = cost_layouts(nd->kind, lv->state[v]);
        job.h = h;
        int e_conv = kind == CONVERT_E;
        rc = convert_level(c, &job, e_conv ? lw.produce_e : lu.produce_f,
                           e_conv ? lu.require_e : lw.require_f, &all, held);
    }
    free(job.s);
    free(job.x);
    return rc;
}
