/* The reductions of a layer's partial results up the hierarchy (run_layer.h). */
#include "run_reduce.h"

#include "run_comm.h"
#include "run_fault.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const REDUCTION[PHASES] = {"F reduction", "E reduction", "dW reduction"};
/* The layer type that reduces each phase's result: II (F(l+1)), III (E(l)), I (dW). */
static const layer_type REDUCING_TYPE[PHASES] = {TYPE_II, TYPE_III, TYPE_I};

/* x[0] went j -> i, x[1] i -> j: each leader adds what it received to its own partial, and the
 * two sums must agree bit for bit (fp32 addition commutes). */
static void add_received(run_ctx *c, gemm_phase ph, const run_xfer *x, float **val) {
    const plan_pair *pp = &c->p->levels[x[0].level].pairs[x[0].pair];
    int lead[2] = {pp->i.first, pp->j.first};
    for (int g = 0; g < 2; g++) {
        if (run_fault_skips_sum(c, x[g].node, ph, g))
            continue;
        for (int64_t e = 0; e < x[g].n; e++)
            val[lead[g]][e] += x[g].received[e];
        run_delivered(c, &x[g], x[g].n);
    }
    int64_t e = run_first_difference(val[lead[0]], val[lead[1]], x[0].n);
    if (e >= 0) {
        char gi[64], gj[64];
        run_group_name(c, x[0].level, x[0].pair, 0, gi, sizeof gi);
        run_group_name(c, x[0].level, x[0].pair, 1, gj, sizeof gj);
        run_fail(c,
                 "layer %s, level %d, %s: the groups' sums differ at element %lld: %.9g in group "
                 "%s, %.9g in group %s",
                 c->g->nodes[x[0].node].name, x[0].level, x[0].what, (long long)e,
                 (double)val[lead[0]][e], gi, (double)val[lead[1]][e], gj);
    }
}

/* A split that cuts the tensor: its two halves side by side, in the parent's block. */
static int side_by_side(run_ctx *c, int v, gemm_phase ph, int h, int q, float **val) {
    const net_node *nd = &c->g->nodes[v];
    const plan_pair *pp = &c->p->levels[h].pairs[q];
    run_block parent = run_result_block(nd, ph, run_geom_box(&c->G, v, pp->i.first, h));
    float *whole = run_floats(c, run_block_elems(&parent));
    if (!whole)
        return -1;
    for (int g = 0; g < 2; g++) {
        int leader = g ? pp->j.first : pp->i.first;
        run_block part = run_result_block(nd, ph, run_geom_box(&c->G, v, leader, h + 1));
        run_block_copy_jobs(&parent, whole, &part, val[leader], 0, c->o->jobs);
    }
    free(val[pp->i.first]);
    free(val[pp->j.first]);
    val[pp->j.first] = NULL;
    val[pp->i.first] = whole;
    return 0;
}

int run_reduce(run_ctx *c, int v, gemm_phase ph, float **val) {
    const net_node *nd = &c->g->nodes[v];
    const plan *p = c->p;
    int rc = 0;
    run_xfer *x = calloc((size_t)p->n_devices * 2 + 1, sizeof *x);
    if (!x)
        return -1;
    for (int h = p->n_levels - 1; h >= 0 && rc == 0; h--) {
        const plan_level *lv = &p->levels[h];
        int nx = 0, reducing = lv->state[v] == (int)REDUCING_TYPE[ph];
        for (int q = 0; q < lv->n_pairs && rc == 0; q++) {
            int i = lv->pairs[q].i.first, j = lv->pairs[q].j.first;
            if (!reducing) {
                rc = side_by_side(c, v, ph, h, q, val);
                continue;
            }
            run_block parent = run_result_block(nd, ph, run_geom_box(&c->G, v, i, h));
            int64_t n = run_block_elems(&parent);
            for (int g = 0; g < 2; g++) {
                x[nx] = (run_xfer){.node = v,
                                   .level = h,
                                   .pair = q,
                                   .to_group = g,
                                   .what = REDUCTION[ph],
                                   .data = val[g == 0 ? j : i],
                                   .n = n,
                                   .elem_bytes = COST_PSUM_BYTES,
                                   .received = run_floats(c, n)};
                rc = x[nx++].received ? rc : -1;
            }
        }
        if (rc == 0 && nx > 0)
            rc = run_comm_batch(c, x, nx);
        for (int k = 0; k < nx; k += 2) {
            const plan_pair *pp = &lv->pairs[x[k].pair];
            if (rc == 0)
                add_received(c, ph, &x[k], val);
            free(x[k].received);
            free(x[k + 1].received);
            free(val[pp->j.first]);
            val[pp->j.first] = NULL;
        }
    }
    free(x);
    return rc;
}
