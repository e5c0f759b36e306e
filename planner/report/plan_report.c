#include "plan_report.h"

#include "grid_print.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { TABLE_WIDTH = 100, LEAD = 12 /* "level  alpha" */ };

double plan_speedup(const plan *p, const plan *dp) {
    return dp && dp->step_s > 0 && p->step_s > 0 ? dp->step_s / p->step_s : NAN;
}

static int column_width(const char *name) {
    int n = (int)strlen(name);
    return n > 3 ? n : 3;
}

void plan_print_types(FILE *f, int levels, int cols, const char *const *names, const double *alpha,
                      const char *const *cells) {
    for (int c0 = 0; c0 < cols;) {
        int c1 = c0 + 1, width = LEAD + 2 + column_width(names[c0]);
        while (c1 < cols && width + 2 + column_width(names[c1]) <= TABLE_WIDTH)
            width += 2 + column_width(names[c1++]);
        fprintf(f, "%s%-5s  %-5s", c0 ? "\n" : "", "level", "alpha");
        for (int c = c0; c < c1; c++)
            fprintf(f, "  %-*s", c + 1 < c1 ? column_width(names[c]) : 0, names[c]);
        fputc('\n', f);
        for (int h = 0; h < levels; h++) {
            fprintf(f, "%-5d  %5.3f", h, alpha[h]);
            for (int c = c0; c < c1; c++)
                fprintf(f, "  %-*s", c + 1 < c1 ? column_width(names[c]) : 0,
                        cells[(size_t)h * (size_t)cols + (size_t)c]);
            fputc('\n', f);
        }
        c0 = c1;
    }
}

int plan_print_table(FILE *f, const net *g, const plan *p, const plan *dp) {
    size_t levels = (size_t)p->n_levels, cols = 0;
    for (int v = 0; v < g->n; v++)
        cols += g->nodes[v].kind != NODE_INPUT;
    const char **names = malloc(sizeof *names * cols * (levels + 1));
    double *alpha = malloc(sizeof *alpha * (levels + 1));
    if (!names || !alpha) {
        free(names);
        free(alpha);
        return -1;
    }
    const char **cells = names + cols;
    for (size_t h = 0; h < levels; h++)
        alpha[h] = p->levels[h].alpha;
    for (int v = 0, c = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        if (nd->kind == NODE_INPUT)
            continue;
        names[c] = nd->name;
        for (size_t h = 0; h < levels; h++)
            cells[h * cols + (size_t)c] = node_state_name(nd->kind, p->levels[h].state[v]);
        c++;
    }
    fprintf(f, "strategy %s, %d devices, batch %lld, %d levels\n", strategy_name(p->strat),
            p->n_devices, (long long)p->batch, p->n_levels);
    plan_print_types(f, p->n_levels, (int)cols, names, alpha, cells);
    fprintf(f, "compute %.6f s, communication %.6f s (%llu bytes), step %.6f s", p->compute_s,
            p->comm_s, (unsigned long long)p->comm_bytes, p->step_s);
    double s = plan_speedup(p, dp);
    if (!isnan(s))
        fprintf(f, ", speedup over dp %.3fx", s);
    fprintf(f, "\ncompute model: %s\n", p->model);
    free(names);
    free(alpha);
    return 0;
}

int plan_print_grid(FILE *f, const net *g, const plan *p) {
    const char **names = malloc(sizeof *names * (size_t)g->n);
    int *cells = malloc(sizeof *cells * (size_t)g->n * (size_t)(p->n_levels + 1));
    if (!names || !cells) {
        free(names);
        free(cells);
        return -1;
    }
    int cols = 0;
    for (int v = 0; v < g->n; v++)
        if (net_is_weighted(&g->nodes[v]))
            names[cols++] = g->nodes[v].name;
    for (int h = 0; h < p->n_levels; h++) {
        int c = 0;
        for (int v = 0; v < g->n; v++)
            if (net_is_weighted(&g->nodes[v]))
                cells[h * cols + c++] = p->levels[h].state[v];
    }
    grid_print(f, grid_title(p->strat), p->n_levels, cols, names, cells);
    free(names);
    free(cells);
    return 0;
}

void plan_write_json(json_out *j, const net *g, const plan *p, const plan *dp) {
    json_begin_object(j, NULL);
    json_str(j, "strategy", strategy_name(p->strat));
    json_int(j, "devices", p->n_devices);
    json_int(j, "batch", p->batch);
    json_str(j, "model", p->model);
    json_begin_array(j, "nodes");
    for (int v = 0; v < g->n; v++)
        if (g->nodes[v].kind != NODE_INPUT)
            json_str(j, NULL, g->nodes[v].name);
    json_end_array(j);
    json_begin_array(j, "levels");
    for (int h = 0; h < p->n_levels; h++) {
        const plan_level *lv = &p->levels[h];
        json_begin_object(j, NULL);
        json_num(j, "alpha", lv->alpha);
        json_num(j, "comm_s", lv->comm_s);
        json_uint(j, "comm_bytes", lv->comm_bytes);
        json_begin_array(j, "types");
        for (int v = 0; v < g->n; v++)
            if (g->nodes[v].kind != NODE_INPUT)
                json_str(j, NULL, node_state_name(g->nodes[v].kind, lv->state[v]));
        json_end_array(j);
        json_end_object(j);
    }
    json_end_array(j);
    json_num(j, "predicted_step_s", p->step_s);
    json_num(j, "compute_s", p->compute_s);
    json_num(j, "comm_s", p->comm_s);
    json_uint(j, "comm_bytes", p->comm_bytes);
    json_num(j, "speedup_vs_dp", plan_speedup(p, dp));
    json_end_object(j);
}
