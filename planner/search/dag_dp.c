#include "dag_dp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double dag_cost(const dag_problem *p, const int *state) {
    double c = 0;
    for (int v = 0; v < p->n; v++) {
        c += p->unary[v * DAG_STATES + state[v]];
        for (int e = p->pred_start[v]; e < p->pred_start[v + 1]; e++)
            c += p->pair[e * DAG_STATES * DAG_STATES + state[p->pred[e]] * DAG_STATES + state[v]];
    }
    return c;
}

static int ipow3(int k) {
    int r = 1;
    while (k-- > 0)
        r *= DAG_STATES;
    return r;
}

/* Digit of node u in a frontier key (frontier sorted, digit i has weight 3^i). */
static int digit(const int *front, int width, int key, int u) {
    for (int i = 0; i < width; i++, key /= DAG_STATES)
        if (front[i] == u)
            return key % DAG_STATES;
    return -1;
}

typedef struct {
    int *last_use; /* [n] last node reading v, -1 if none */
    int *width;    /* [n + 1] frontier width after step v (index v + 1); width[0] = 0 */
    int *front;    /* [(n + 1) * DAG_MAX_FRONTIER] frontier members after each step */
    int **back;    /* [n] per step: new key -> prev key * 3 + state */
    double *cost[2];
} dp_work;

static void work_free(dp_work *w, int n) {
    if (w->back)
        for (int v = 0; v < n; v++)
            free(w->back[v]);
    free(w->back);
    free(w->last_use);
    free(w->width);
    free(w->front);
    free(w->cost[0]);
    free(w->cost[1]);
}

static int fail(dp_work *w, int n, char *err, size_t errlen, const char *why, int v) {
    snprintf(err, errlen, "exact search: %s (node %d)", why, v);
    work_free(w, n);
    return -1;
}

/* Frontier after each step: members of the previous frontier still read later, plus v if read
 * later. */
static int build_frontiers(const dag_problem *p, dp_work *w, char *err, size_t errlen) {
    int n = p->n;
    for (int v = 0; v < n; v++)
        w->last_use[v] = -1;
    for (int v = 0; v < n; v++)
        for (int e = p->pred_start[v]; e < p->pred_start[v + 1]; e++)
            w->last_use[p->pred[e]] = v;
    w->width[0] = 0;
    for (int v = 0; v < n; v++) {
        const int *prev = &w->front[v * DAG_MAX_FRONTIER];
        int *next = &w->front[(v + 1) * DAG_MAX_FRONTIER], k = 0;
        for (int i = 0; i < w->width[v]; i++)
            if (w->last_use[prev[i]] > v)
                next[k++] = prev[i];
        if (w->last_use[v] > v) {
            if (k == DAG_MAX_FRONTIER)
                return fail(w, n, err, errlen, "network too wide", v);
            next[k++] = v;
        }
        w->width[v + 1] = k;
    }
    return 0;
}

/* Backtracks the stored choices from the empty final frontier. */
static void backtrack(const dp_work *w, int n, int *state) {
    int key = 0;
    for (int v = n - 1; v >= 0; v--) {
        int code = w->back[v][key];
        state[v] = code % DAG_STATES;
        int prev_key = code / DAG_STATES;
        /* members of the previous frontier get their states from the previous key */
        const int *prev = &w->front[v * DAG_MAX_FRONTIER];
        for (int i = 0; i < w->width[v]; i++) {
            int u = prev[i];
            if (w->last_use[u] <= v)
                state[u] = digit(prev, w->width[v], prev_key, u);
        }
        key = prev_key;
    }
}

static void step(const dag_problem *p, dp_work *w, int v) {
    const int *prev = &w->front[v * DAG_MAX_FRONTIER],
              *next = &w->front[(v + 1) * DAG_MAX_FRONTIER];
    int wp = w->width[v], wn = w->width[v + 1], np = ipow3(wp), nn = ipow3(wn);
    double *from = w->cost[v % 2], *to = w->cost[(v + 1) % 2];
    for (int k = 0; k < nn; k++)
        to[k] = INFINITY;
    for (int k = 0; k < nn; k++)
        w->back[v][k] = 0;
    for (int key = 0; key < np; key++) {
        if (from[key] == INFINITY)
            continue;
        for (int s = 0; s < DAG_STATES; s++) {
            double c = from[key] + p->unary[v * DAG_STATES + s];
            for (int e = p->pred_start[v]; e < p->pred_start[v + 1]; e++) {
                int su = digit(prev, wp, key, p->pred[e]);
                c += p->pair[e * DAG_STATES * DAG_STATES + su * DAG_STATES + s];
            }
            int nk = 0;
            for (int i = wn - 1; i >= 0; i--)
                nk = nk * DAG_STATES + (next[i] == v ? s : digit(prev, wp, key, next[i]));
            if (c < to[nk]) {
                to[nk] = c;
                w->back[v][nk] = key * DAG_STATES + s;
            }
        }
    }
}

int dag_dp_solve(const dag_problem *p, int *state, double *cost, char *err, size_t errlen) {
    int n = p->n;
    dp_work w = {0};
    size_t table = (size_t)ipow3(DAG_MAX_FRONTIER);
    w.last_use = malloc(sizeof(int) * (size_t)n);
    w.width = malloc(sizeof(int) * (size_t)(n + 1));
    w.front = malloc(sizeof(int) * (size_t)(n + 1) * DAG_MAX_FRONTIER);
    w.back = calloc((size_t)n, sizeof *w.back);
    w.cost[0] = malloc(sizeof(double) * table);
    w.cost[1] = malloc(sizeof(double) * table);
    if (!w.last_use || !w.width || !w.front || !w.back || !w.cost[0] || !w.cost[1])
        return fail(&w, n, err, errlen, "out of memory", 0);
    if (build_frontiers(p, &w, err, errlen) != 0)
        return -1;
    for (int v = 0; v < n; v++) {
        w.back[v] = malloc(sizeof(int) * (size_t)ipow3(w.width[v + 1]));
        if (!w.back[v])
            return fail(&w, n, err, errlen, "out of memory", v);
    }
    w.cost[0][0] = 0;
    for (int v = 0; v < n; v++)
        step(p, &w, v);
    *cost = w.cost[n % 2][0];
    if (*cost < INFINITY)
        backtrack(&w, n, state);
    work_free(&w, n);
    return 0;
}
