#include "plan_report.h"

#include "grid_print.h"
#include "plan_memory.h"

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

static int same_memory(const plan_memory *x, const plan_memory *y) {
    return x->resident == y->resident && x->gemm == y->gemm && x->gemm_node == y->gemm_node &&
           x->gemm_phase == y->gemm_phase && x->staging == y->staging && x->capacity == y->capacity;
}

/* Per device (runs of equal rows as one range): resident, largest GEMM and its layer, staging
 * bound, peak and capacity in MiB. */
static void print_memory(FILE *f, const net *g, const plan *p) {
    if (!p->memory)
        return;
    const double mib = 1048576.0;
    fprintf(f, "device memory, MiB (docs/runtime.md):\n%-9s %10s %10s %-22s %10s %10s %10s %6s\n",
            "devices", "resident", "gemm", "largest gemm", "staging", "peak", "capacity", "use");
    for (int d = 0, e; d < p->n_devices; d = e) {
        const plan_memory *m = &p->memory[d];
        for (e = d + 1; e < p->n_devices && same_memory(m, &p->memory[e]); e++)
            ;
        char range[32], layer[96] = "-";
        snprintf(range, sizeof range, e - d > 1 ? "%d-%d" : "%d", d, e - 1);
        if (m->gemm_node >= 0)
            snprintf(layer, sizeof layer, "%s %s", g->nodes[m->gemm_node].name,
                     phase_name(m->gemm_phase));
        fprintf(f, "%-9s %10.1f %10.1f %-22s %10.1f %10.1f %10.1f %5.1f%%\n", range,
                m->resident / mib, m->gemm / mib, layer, m->staging / mib, m->peak / mib,
                m->capacity / mib, 100.0 * (double)m->peak / (double)m->capacity);
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
    if (p->fastest_step_s > 0)
        fprintf(f,
                "memory: the fastest plan (step %.6f s) does not fit the devices' memory; this "
                "one fits, %+.1f%% step time\n",
                p->fastest_step_s, 100.0 * (p->step_s / p->fastest_step_s - 1));
    print_memory(f, g, p);
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
    json_num(j, "fastest_step_s", p->fastest_step_s > 0 ? p->fastest_step_s : p->step_s);
    json_bool(j, "fastest_fits", p->fastest_step_s == 0);
    json_begin_array(j, "memory");
    for (int d = 0; p->memory && d < p->n_devices; d++) {
        const plan_memory *m = &p->memory[d];
        json_begin_object(j, NULL);
        json_int(j, "device", d);
        json_uint(j, "resident_bytes", m->resident);
        json_uint(j, "gemm_bytes", m->gemm);
        json_str(j, "gemm_layer", m->gemm_node >= 0 ? g->nodes[m->gemm_node].name : "");
        json_str(j, "gemm_phase", m->gemm_node >= 0 ? phase_name(m->gemm_phase) : "");
        json_uint(j, "staging_bytes", m->staging);
        json_uint(j, "peak_bytes", m->peak);
        json_uint(j, "capacity_bytes", m->capacity);
        json_end_object(j);
    }
    json_end_array(j);
    json_end_object(j);
}
