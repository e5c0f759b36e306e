#include "compat_ref.h"

#include <stdlib.h>

/* A layer's matrices as the reference keeps them (rows x cols, halved level by level). The
 * reference also keeps derivative copies, always halved with their originals, so F and E of
 * the input have the same size; both are kept in the formulas to mirror its arithmetic. */
typedef struct {
    double in_r, in_c, w_r, w_c, out_r, out_c;
    double kernel, ifmap, ofmap;
} ref_state;

static ref_state state_of(const ref_layer *L) {
    return (ref_state){.in_r = REF_BATCH,
                       .in_c = L->cin,
                       .w_r = L->cin,
                       .w_c = L->cout,
                       .out_r = REF_BATCH,
                       .out_c = L->cout,
                       .kernel = L->k * L->k,
                       .ifmap = L->hin * L->win,
                       .ofmap = L->hout * L->wout};
}

/* Intra-layer elements: I reduces dW, II reduces F(l+1), III reduces E(l). */
static double intra(const ref_state *s, int t) {
    if (t == 0)
        return s->w_r * s->w_c * s->kernel;
    if (t == 1)
        return s->out_r * s->out_c * s->ofmap;
    return s->in_r * s->in_c * s->ifmap;
}

/* Amounts of this layer's input that a conversion moves: none, a quarter of F and E, half F,
 * half E. */
enum { NONE, QUARTER_FE, HALF_F, HALF_E };

static double amount(const ref_state *s, int code) {
    double f = s->in_r * s->in_c, e = s->in_r * s->in_c;
    switch (code) {
    case QUARTER_FE:
        return 0.5 * 0.5 * (f + e) * s->ifmap;
    case HALF_F:
        return 0.5 * f * s->ifmap;
    case HALF_E:
        return 0.5 * e * s->ifmap;
    default:
        return 0.0;
    }
}

/* Previous layer's type -> this layer's type. */
static const int inter_code[3][3] = {
    {NONE, QUARTER_FE, HALF_F}, {HALF_E, HALF_E, NONE}, {QUARTER_FE, NONE, HALF_F}};
/* Shortcut: type of the layer the block starts from -> this layer's type (its own table). */
static const int block_code[3][3] = {
    {NONE, HALF_F, QUARTER_FE}, {QUARTER_FE, HALF_F, NONE}, {HALF_E, NONE, HALF_E}};

/* The reference treats any network of 18, 34 or 50 layers as a ResNet. */
static int is_resnet(int n) {
    return n == 18 || n == 34 || n == 50;
}

/* Layers where the reference adds a shortcut term. */
static int shortcut_in(int n, int l) {
    return n == 50 ? (3 < l && l % 3 == 1) : (2 < l && l % 2 == 1);
}

/* One level: dynamic program over the chain with the reference's greedy shortcut term. The
 * minimum for each type starts from predecessor type 0 *without* the shortcut term, and only a
 * strictly smaller candidate replaces it: that is the reference's initialisation slip. */
static void dp_level(const ref_state *st, int n, int ntypes, int shortcuts, int *types,
                     double *cost, int *track) {
    for (int t = 0; t < ntypes; t++)
        track[t] = t;
    for (int l = 0; l < n; l++)
        for (int t = 0; t < ntypes; t++)
            cost[l * 3 + t] = intra(&st[l], t);
    for (int l = 1; l < n; l++) {
        for (int t = 0; t < ntypes; t++) {
            double best = cost[(l - 1) * 3] + amount(&st[l], inter_code[0][t]);
            int arg = 0;
            for (int p = 0; p < ntypes; p++) {
                double c = cost[(l - 1) * 3 + p] + amount(&st[l], inter_code[p][t]);
                if (shortcuts && shortcut_in(n, l)) {
                    int from = track[(l - 1) * 3 + p];
                    if (n == 50)
                        from = track[(l - 2) * 3 + from];
                    c += amount(&st[l], block_code[from][t]);
                }
                if (best > c) {
                    best = c;
                    arg = p;
                }
            }
            cost[l * 3 + t] += best;
            track[l * 3 + t] = arg;
        }
    }
    int last = 0;
    for (int t = 1; t < ntypes; t++)
        if (cost[(n - 1) * 3 + last] > cost[(n - 1) * 3 + t])
            last = t;
    types[n - 1] = last;
    for (int l = n - 2; l >= 0; l--) {
        last = track[(l + 1) * 3 + last];
        types[l] = last;
    }
}

static void halve(ref_state *s, int t) {
    if (t == 0) {
        s->in_r /= 2.0;
        s->out_r /= 2.0;
    } else if (t == 1) {
        s->in_c /= 2.0;
        s->w_r /= 2.0;
    } else {
        s->w_c /= 2.0;
        s->out_c /= 2.0;
    }
}

int ref_plan(const ref_net *r, strategy s, int *grid) {
    int n = r->n;
    if (s == STRATEGY_DP || s == STRATEGY_OWT) {
        for (int h = 0; h < REF_LEVELS; h++)
            for (int l = 0; l < n; l++)
                grid[h * n + l] = s == STRATEGY_OWT && r->layers[l].is_fc ? 1 : 0;
        return 0;
    }
    ref_state *st = malloc(sizeof *st * (size_t)n);
    double *cost = malloc(sizeof *cost * 3 * (size_t)n);
    int *track = malloc(sizeof *track * 3 * (size_t)n);
    if (!st || !cost || !track) {
        free(st);
        free(cost);
        free(track);
        return -1;
    }
    for (int l = 0; l < n; l++)
        st[l] = state_of(&r->layers[l]);
    int ntypes = s == STRATEGY_HYPAR ? 2 : 3;
    int shortcuts = s == STRATEGY_ACCPAR && is_resnet(n);
    for (int h = 0; h < REF_LEVELS; h++) {
        dp_level(st, n, ntypes, shortcuts, &grid[h * n], cost, track);
        for (int l = 0; l < n; l++)
            halve(&st[l], grid[h * n + l]);
    }
    free(st);
    free(cost);
    free(track);
    return 0;
}
