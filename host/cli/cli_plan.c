/* accpar plan: partition a network over a heterogeneous accelerator array. */
#include "accel_array.h"
#include "array_model.h"
#include "cli.h"
#include "atomic_file.h"
#include "grid_print.h"
#include "json.h"
#include "net_find.h"
#include "plan_report.h"
#include "plan_set.h"
#include "text_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: accpar plan --net NAME|FILE --accels COUNTxPRESET[,...] [--batch N]\n"
    "                   [--strategy accpar|hypar|owt|dp|all] [--levels L]\n"
    "                   [--format table|reference-grid] [--json PATH]\n"
    "                   [--compute-model calibrated|exact|peak] [--calibration FILE[,FILE]]\n"
    "       accpar plan --net NAME|FILE --compat reference [--strategy S|all]\n"
    "                   [--format table|reference-grid] [--json PATH]\n"
    "  --net       models/networks/NAME.net, a .net file, a reference-format .txt file\n"
    "              (name or path), or resnet18|34|50-reference (docs/networks.md)\n"
    "  --accels    devices by preset, e.g. 4xtpu-v2,4xtpu-v3 (models/accelerators/)\n"
    "  --batch     samples per training step (default 512)\n"
    "  --strategy  default accpar; all plans the four strategies\n"
    "  --levels    hierarchy levels the strategy searches; deeper ones are data parallel\n"
    "              (default: all)\n"
    "  --compat reference  the public reference program's search exactly (batch 512,\n"
    "              7 levels, alpha 1/2, communication only); takes no --accels, --batch\n"
    "              or --levels\n"
    "  --format    table (default: levels x layers) or reference-grid (the reference's\n"
    "              layout)\n"
    "  --json      also write a JSON report to PATH (atomically)\n"
    "  --compute-model  calibrated (default: each preset's models/calibration/NAME.cal if\n"
    "              present, else exact), exact (the closed-form cycle contract) or peak\n"
    "              (MACs at the peak rate); docs/calibration.md\n"
    "  --calibration  calibration files to use instead of the presets' defaults\n";

typedef struct {
    const char *net, *accels, *strategy, *compat, *format, *json, *model, *calibration;
    long long batch, levels;
} plan_args;

static int parse_count(const char *flag, const char *v, long long max, long long *out) {
    char why[160];
    int64_t x;
    if (text_parse_int(v, 1, max, &x, why, sizeof why) != 0) {
        fprintf(stderr, "accpar plan: %s: field '%s': %s\n", flag, flag + 2, why);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_args(int argc, char **argv, plan_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        const char **slot = strcmp(flag, "--net") == 0             ? &a->net
                            : strcmp(flag, "--accels") == 0        ? &a->accels
                            : strcmp(flag, "--strategy") == 0      ? &a->strategy
                            : strcmp(flag, "--compat") == 0        ? &a->compat
                            : strcmp(flag, "--format") == 0        ? &a->format
                            : strcmp(flag, "--json") == 0          ? &a->json
                            : strcmp(flag, "--compute-model") == 0 ? &a->model
                            : strcmp(flag, "--calibration") == 0   ? &a->calibration
                                                                   : NULL;
        int is_count = strcmp(flag, "--batch") == 0 || strcmp(flag, "--levels") == 0;
        if (!slot && !is_count) {
            fprintf(stderr, "accpar plan: unknown option '%s' (see --help)\n", flag);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "accpar plan: %s: field '%s': missing value\n", flag, flag + 2);
            return -1;
        }
        const char *v = argv[++i];
        if (slot)
            *slot = v;
        else if (parse_count(flag, v, flag[2] == 'b' ? 1 << 24 : PLAN_MAX_LEVELS,
                             flag[2] == 'b' ? &a->batch : &a->levels) != 0)
            return -1;
    }
    if (!a->net) {
        fprintf(stderr, "accpar plan: --net: field 'net': missing (see --help)\n");
        return -1;
    }
    if (strcmp(a->format, "table") != 0 && strcmp(a->format, "reference-grid") != 0) {
        fprintf(stderr,
                "accpar plan: --format: field 'format': '%s' is not table or reference-grid\n",
                a->format);
        return -1;
    }
    return 0;
}

/* Strategies to run: one, or all four. Returns the count, -1 if unknown. */
static int strategies(const char *name, strategy *list) {
    if (strcmp(name, "all") == 0) {
        for (int s = 0; s < STRATEGY_COUNT; s++)
            list[s] = (strategy)s;
        return STRATEGY_COUNT;
    }
    if (strategy_parse(name, &list[0]) != 0) {
        fprintf(stderr,
                "accpar plan: --strategy: field 'strategy': '%s' is not accpar, hypar, owt, dp or "
                "all\n",
                name);
        return -1;
    }
    return 1;
}

typedef struct {
    int n;
    const strategy *list;
    const int *grids; /* compat: REF_LEVELS * layers per strategy */
    const ref_net *ref;
    const net *g;
    const plan *plans; /* normal mode: one per strategy, then the dp plan */
} report;

static void compat_json(json_out *j, const report *r) {
    json_begin_object(j, NULL);
    json_str(j, "network", r->ref->name);
    json_str(j, "compat", "reference");
    json_int(j, "batch", REF_BATCH);
    json_begin_array(j, "plans");
    for (int s = 0; s < r->n; s++) {
        json_begin_object(j, NULL);
        json_str(j, "strategy", strategy_name(r->list[s]));
        json_begin_array(j, "levels");
        for (int h = 0; h < REF_LEVELS; h++) {
            json_begin_object(j, NULL);
            json_num(j, "alpha", 0.5);
            json_begin_array(j, "types");
            for (int l = 0; l < r->ref->n; l++)
                json_str(j, NULL,
                         plan_state_name(NODE_CONV, r->grids[(s * REF_LEVELS + h) * r->ref->n + l]));
            json_end_array(j);
            json_end_object(j);
        }
        json_end_array(j);
        json_end_object(j);
    }
    json_end_array(j);
    json_end_object(j);
}

static void plans_json(json_out *j, const report *r) {
    json_begin_object(j, NULL);
    json_str(j, "network", r->g->name);
    json_begin_array(j, "plans");
    for (int s = 0; s < r->n; s++)
        plan_write_json(j, r->g, &r->plans[s], &r->plans[r->n]);
    json_end_array(j);
    json_end_object(j);
}

/* The reference's grid of one strategy as a levels x layers table. -1 when out of memory. */
static int print_compat_table(const ref_net *r, strategy s, const int *grid) {
    const char **names = malloc(sizeof *names * (size_t)r->n * (REF_LEVELS + 1));
    if (!names)
        return -1;
    const char **cells = names + r->n;
    double alpha[REF_LEVELS];
    for (int h = 0; h < REF_LEVELS; h++)
        alpha[h] = 0.5;
    for (int l = 0; l < r->n; l++)
        names[l] = r->layers[l].name;
    for (int c = 0; c < REF_LEVELS * r->n; c++)
        cells[c] = plan_state_name(NODE_CONV, grid[c]);
    printf("strategy %s, reference-compatible: batch %d, %d levels, communication only\n",
           strategy_name(s), REF_BATCH, REF_LEVELS);
    plan_print_types(stdout, REF_LEVELS, r->n, names, alpha, cells);
    free(names);
    return 0;
}

/* The reference mode's fixed settings: 0, or EXIT_USAGE with a message. */
static int check_compat(const plan_args *a) {
    const char *fixed = a->batch && a->batch != REF_BATCH ? "batch" : "levels";
    const char *device_flag = a->accels        ? "accels"
                              : a->model       ? "compute-model"
                              : a->calibration ? "calibration"
                                               : NULL;
    if (strcmp(a->compat, "reference") != 0)
        fprintf(stderr, "accpar plan: --compat: field 'compat': '%s' is not reference\n",
                a->compat);
    else if ((a->batch && a->batch != REF_BATCH) || (a->levels && a->levels != REF_LEVELS))
        fprintf(stderr,
                "accpar plan: --%s: field '%s': --compat reference fixes batch %d and %d "
                "levels\n",
                fixed, fixed, REF_BATCH, REF_LEVELS);
    else if (device_flag)
        fprintf(stderr,
                "accpar plan: --%s: field '%s': --compat reference counts elements and models no "
                "devices; drop it\n",
                device_flag, device_flag);
    else
        return 0;
    return EXIT_USAGE;
}

static int run_compat(const plan_args *a, const strategy *list, int n) {
    if (check_compat(a) != 0)
        return EXIT_USAGE;
    ref_net r;
    char err[1024];
    if (ref_net_find(a->net, &r, err, sizeof err) != 0) {
        fprintf(stderr, "accpar plan: %s\n", err);
        return EXIT_USAGE;
    }
    int table = strcmp(a->format, "table") == 0;
    int *grids = malloc(sizeof(int) * REF_LEVELS * (size_t)r.n * (size_t)n), rc = grids ? 0 : 1;
    for (int s = 0; s < n && rc == 0; s++) {
        int *grid = &grids[(size_t)s * REF_LEVELS * (size_t)r.n];
        if (table && s > 0)
            printf("\n");
        rc = ref_plan(&r, list[s], grid) != 0 ||
             (table ? print_compat_table(&r, list[s], grid)
                    : ref_print_grid(stdout, &r, list[s], grid)) != 0;
    }
    report rep = {.n = n, .list = list, .grids = grids, .ref = &r};
    if (rc != 0)
        fprintf(stderr, "accpar plan: out of memory\n");
    else if (a->json) {
        json_out j = {0};
        compat_json(&j, &rep);
        rc = cli_write_json("plan", &j, a->json) != 0;
    }
    free(grids);
    ref_net_free(&r);
    return rc;
}

static int run_plans(const plan_args *a, const strategy *list, int n, const net *g,
                     const accel_array *arr) {
    char err[1024];
    plan plans[STRATEGY_COUNT + 1];
    plan_options o = {STRATEGY_DP, a->batch ? a->batch : 512, (int)a->levels};
    if (plan_make_set(g, arr, list, n, &o, plans, err, sizeof err) != 0) {
        fprintf(stderr, "accpar plan: %s\n", err);
        return EXIT_USAGE;
    }
    int rc = 0;
    int table = strcmp(a->format, "table") == 0;
    for (int s = 0; s < n && rc == 0; s++) {
        if (table && s > 0)
            printf("\n");
        rc = table ? plan_print_table(stdout, g, &plans[s], &plans[n])
                   : plan_print_grid(stdout, g, &plans[s]);
    }
    report rep = {.n = n, .list = list, .g = g, .plans = plans};
    if (rc != 0) {
        fprintf(stderr, "accpar plan: out of memory\n");
        rc = 1;
    } else if (a->json) {
        json_out j = {0};
        plans_json(&j, &rep);
        rc = cli_write_json("plan", &j, a->json) != 0;
    }
    plan_free_set(plans, n);
    return rc;
}

int cli_plan(int argc, char **argv) {
    plan_args a = {.strategy = "accpar", .format = "table"};
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc > 0 ? 0 : EXIT_USAGE;
    strategy list[STRATEGY_COUNT];
    int n = strategies(a.strategy, list);
    if (n < 0)
        return EXIT_USAGE;
    if (a.compat)
        return run_compat(&a, list, n);
    if (!a.accels) {
        fprintf(stderr, "accpar plan: --accels: field 'accels': missing (see --help)\n");
        return EXIT_USAGE;
    }
    char err[1024];
    static accel_array arr;
    net g;
    if (accel_array_parse(a.accels, &arr, err, sizeof err) != 0 ||
        array_model_select(&arr, a.model, a.calibration, err, sizeof err) != 0 ||
        net_find(a.net, &g, err, sizeof err) != 0) {
        fprintf(stderr, "accpar plan: %s\n", err);
        return EXIT_USAGE;
    }
    rc = run_plans(&a, list, n, &g, &arr);
    net_free(&g);
    return rc;
}
