#include "dag_order.h"

#include <stdlib.h>

/* Predecessor e of v that is a DP node, or -1 (a network input). */
static int dp_pred(const net *g, int v, int e) {
    int u = g->nodes[v].in[e];
    return g->nodes[u].kind == NODE_INPUT ? -1 : u;
}

/* Sethi-Ullman need of every node: 1 without DP predecessors, a single predecessor's need, and
 * for two max(larger, smaller + 1) (the first result stays live while the second is built). */
static void needs(const net *g, int *need) {
    for (int v = 0; v < g->n; v++) {
        int n1 = 0, n2 = 0;
        for (int e = 0; e < g->nodes[v].n_in; e++) {
            int u = dp_pred(g, v, e), x = u < 0 ? 0 : need[u];
            if (x > n1)
                n2 = n1, n1 = x;
            else if (x > n2)
                n2 = x;
        }
        need[v] = n1 == 0 ? 1 : n2 == n1 ? n1 + 1 : n1;
    }
}

/* Post-order depth-first visit of v's predecessors, the larger need first (ties: listed order).
 * Iterative, so deep chains cannot exhaust the C stack. */
static void visit(const net *g, const int *need, int root, char *seen, int *stack, int *order,
                  int *m) {
    int top = 0;
    stack[top++] = root;
    seen[root] = 1;
    while (top > 0) {
        int v = stack[top - 1], next = -1;
        for (int e = 0; e < g->nodes[v].n_in; e++) {
            int u = dp_pred(g, v, e);
            if (u >= 0 && !seen[u] && (next < 0 || need[u] > need[next]))
                next = u;
        }
        if (next < 0) {
            order[(*m)++] = v;
            top--;
        } else {
            seen[next] = 1;
            stack[top++] = next;
        }
    }
}

int dag_order(const net *g, int *order) {
    int n = g->n, m = 0;
    int *need = malloc(sizeof(int) * (size_t)n * 2);
    char *seen = calloc((size_t)n, 2);
    if (!need || !seen) {
        free(need);
        free(seen);
        return -1;
    }
    int *stack = need + n;
    char *read = seen + n; /* read by a DP node */
    needs(g, need);
    for (int v = 0; v < n; v++)
        for (int e = 0; e < g->nodes[v].n_in; e++)
            if (dp_pred(g, v, e) >= 0)
                read[dp_pred(g, v, e)] = 1;
    for (int v = 0; v < n; v++)
        if (g->nodes[v].kind != NODE_INPUT && !read[v] && !seen[v])
            visit(g, need, v, seen, stack, order, &m);
    free(need);
    free(seen);
    return m;
}

int dag_order_width(const net *g, const int *order, int m, int *widest) {
    int *last = malloc(sizeof(int) * ((size_t)g->n + (size_t)m + 1));
    if (!last)
        return -1;
    int *delta = last + g->n, width = 0, best = 0;
    for (int x = 0; x < m; x++) {
        last[order[x]] = x;
        delta[x] = 0;
    }
    for (int x = 0; x < m; x++)
        for (int e = 0; e < g->nodes[order[x]].n_in; e++) {
            int u = dp_pred(g, order[x], e);
            if (u >= 0 && last[u] < x)
                last[u] = x;
        }
    /* visited at step x and read until step last[u]: in the frontier after steps x .. last-1 */
    for (int x = 0; x < m; x++) {
        int u = order[x];
        if (last[u] > x) {
            delta[x]++;
            delta[last[u]]--;
        }
    }
    *widest = m > 0 ? order[0] : -1;
    for (int x = 0; x < m; x++) {
        width += delta[x];
        if (width > best) {
            best = width;
            *widest = order[x];
        }
    }
    free(last);
    return best;
}
