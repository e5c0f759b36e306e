#include "plan_report.h"

#include "grid_print.h"

#include <math.h>
#include <stdlib.h>

static const char *state_name(const net_node *nd, int state) {
    static const char *const types[] = {"I", "II", "III"}, *const layouts[] = {"B", "C", "R"};
    return nd->kind == NODE_ADD ? layouts[state] : types[state];
}

double plan_speedup(const plan *p, const plan *dp) {
    return dp && dp->step_s > 0 && p->step_s > 0 ? dp->step_s / p->step_s : NAN;
}

void plan_print_table(FILE *f, const net *g, const plan *p, const plan *dp) {
    fprintf(f, "strategy %s, %d devices, batch %lld, %d levels\n%-16s", strategy_name(p->strat),
            p->n_devices, (long long)p->batch, p->n_levels, "level");
    for (int h = 0; h < p->n_levels; h++)
        fprintf(f, "%6d", h);
    fprintf(f, "\n%-16s", "alpha");
    for (int h = 0; h < p->n_levels; h++)
        fprintf(f, "%6.3f", p->levels[h].alpha);
    fprintf(f, "\n");
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        if (nd->kind == NODE_INPUT)
            continue;
        fprintf(f, "%-16.16s", nd->name);
        for (int h = 0; h < p->n_levels; h++)
            fprintf(f, "%6s", state_name(nd, p->levels[h].state[v]));
        fprintf(f, "\n");
    }
    fprintf(f, "compute %.6f s, communication %.6f s (%llu bytes), step %.6f s", p->compute_s,
            p->comm_s, (unsigned long long)p->comm_bytes, p->step_s);
    double s = plan_speedup(p, dp);
    if (!isnan(s))
        fprintf(f, ", speedup over dp %.3fx", s);
    fprintf(f, "\n");
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

static void json_number(FILE *f, double x) {
    if (isfinite(x))
        fprintf(f, "%.9g", x);
    else
        fprintf(f, "null");
}

void plan_write_json(FILE *f, const net *g, const plan *p, const plan *dp) {
    fprintf(f, "{\"strategy\": \"%s\", \"devices\": %d, \"batch\": %lld, \"nodes\": [",
            strategy_name(p->strat), p->n_devices, (long long)p->batch);
    const char *sep = "";
    for (int v = 0; v < g->n; v++) {
        if (g->nodes[v].kind != NODE_INPUT) {
            fprintf(f, "%s\"%s\"", sep, g->nodes[v].name);
            sep = ", ";
        }
    }
    fprintf(f, "], \"levels\": [");
    for (int h = 0; h < p->n_levels; h++) {
        const plan_level *lv = &p->levels[h];
        fprintf(f, "%s{\"alpha\": %.9g, \"comm_s\": ", h ? ", " : "", lv->alpha);
        json_number(f, lv->comm_s);
        fprintf(f, ", \"comm_bytes\": %llu, \"types\": [", (unsigned long long)lv->comm_bytes);
        sep = "";
        for (int v = 0; v < g->n; v++) {
            if (g->nodes[v].kind != NODE_INPUT) {
                fprintf(f, "%s\"%s\"", sep, state_name(&g->nodes[v], lv->state[v]));
                sep = ", ";
            }
        }
        fprintf(f, "]}");
    }
    fprintf(f, "], \"predicted_step_s\": ");
    json_number(f, p->step_s);
    fprintf(f, ", \"compute_s\": ");
    json_number(f, p->compute_s);
    fprintf(f, ", \"comm_s\": ");
    json_number(f, p->comm_s);
    fprintf(f, ", \"comm_bytes\": %llu, \"speedup_vs_dp\": ", (unsigned long long)p->comm_bytes);
    json_number(f, plan_speedup(p, dp));
    fprintf(f, "}");
}
