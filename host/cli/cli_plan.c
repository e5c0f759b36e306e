/* accpar plan: partition a network over a heterogeneous accelerator array; print the plan, write
 * it as JSON, or save it for accpar run --plan. */
#include "cli.h"
#include "cli_args.h"
#include "grid_print.h"
#include "json.h"
#include "net_find.h"
#include "plan_file.h"
#include "plan_report.h"
#include "plan_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CMD = "plan";
static const char *const STRATEGIES[] = {"accpar", "hypar", "owt", "dp", "all", NULL};
static const char *const FORMATS[] = {"table", "reference-grid", NULL};
static const char *const COMPAT[] = {"reference", NULL};

typedef struct {
    const char *net, *accels, *json, *out, *calibration;
    int strategy, format, compat, model;
    int64_t batch, levels, device_mib;
    double scale, image_scale;
    int given[32];
} plan_args;

enum {
    P_NET,
    P_ACCELS,
    P_BATCH,
    P_STRATEGY,
    P_LEVELS,
    P_SCALE,
    P_IMAGE_SCALE,
    P_MODEL,
    P_CALIBRATION,
    P_COMPAT,
    P_FORMAT,
    P_JSON,
    P_OUT,
    P_DEVICE_MIB
};

static int parse_args(int argc, char **argv, plan_args *a) {
    *a = (plan_args){.batch = 512, .scale = 1, .compat = -1};
    const cli_opt opts[] = {
        [P_NET] = CLI_STRING("--net", &a->net, "NAME|FILE",
                             "models/networks/NAME.net, a .net file, a reference-format .txt\n"
                             "file (name or path), or resnet18|34|50-reference\n"
                             "(docs/networks.md)"),
        [P_ACCELS] = CLI_STRING("--accels", &a->accels, "SPEC",
                                "devices by preset, e.g. 4xtpu-v2,4xtpu-v3 (models/accelerators/)"),
        [P_BATCH] =
            CLI_INT("--batch", &a->batch, "N", "samples per training step [512]", 1, 1 << 24),
        [P_STRATEGY] = CLI_CHOICE("--strategy", &a->strategy, "S",
                                  "accpar, hypar, owt, dp, or all (the four) [accpar]", STRATEGIES),
        [P_LEVELS] = CLI_INT("--levels", &a->levels, "L",
                             "hierarchy levels the strategy searches; deeper ones are data\n"
                             "parallel [all]",
                             1, PLAN_MAX_LEVELS),
        [P_SCALE] = CLI_REAL("--scale", &a->scale, "F",
                             "multiply channels and image sizes by F, as accpar run [1]", 1e-6, 1),
        [P_IMAGE_SCALE] = CLI_REAL("--image-scale", &a->image_scale, "F",
                                   "multiply image sizes only by F [--scale]", 1e-6, 1),
        [P_MODEL] = CLI_CHOICE("--compute-model", &a->model, "M",
                               "calibrated (each preset's models/calibration/NAME.cal if\n"
                               "present, else exact), exact (the closed-form cycle contract)\n"
                               "or peak (MACs at the peak rate) [calibrated]; docs/calibration.md",
                               cli_compute_models),
        [P_CALIBRATION] = CLI_STRING("--calibration", &a->calibration, "F,..",
                                     "calibration files to use instead of the presets' defaults"),
        [P_COMPAT] = CLI_CHOICE("--compat", &a->compat, "reference",
                                "the public reference program's search exactly (batch 512,\n"
                                "7 levels, alpha 1/2, communication only); takes no --accels,\n"
                                "--batch, --levels or --out",
                                COMPAT),
        [P_FORMAT] = CLI_CHOICE("--format", &a->format, "F",
                                "table (levels x layers) or reference-grid (the reference's\n"
                                "layout) [table]",
                                FORMATS),
        [P_JSON] = CLI_STRING("--json", &a->json, "PATH",
                              "also write a JSON report of the plans (atomically)"),
        [P_OUT] = CLI_STRING("--out", &a->out, "FILE",
                             "save the plan (one strategy) for accpar run --plan\n"
                             "(docs/plan-file.md)"),
        [P_DEVICE_MIB] = CLI_DEVICE_MIB(&a->device_mib),
        CLI_END,
    };
    const cli_command cmd = {
        CMD,
        "--net NAME|FILE --accels COUNTxPRESET[,...] [--batch N]\n"
        "                   [--strategy accpar|hypar|owt|dp|all] [--levels L] [--scale F]\n"
        "                   [--image-scale F] [--compute-model calibrated|exact|peak]\n"
        "                   [--calibration FILE[,FILE]] [--format table|reference-grid]\n"
        "                   [--device-mib MIB] [--json PATH] [--out FILE]\n"
        "       accpar plan --net NAME|FILE --compat reference [--strategy S|all]\n"
        "                   [--format table|reference-grid] [--json PATH]",
        "Partitions a network's training step over a heterogeneous accelerator array with the\n"
        "chosen strategy and prints the plan: every level's ratio alpha and every layer's type,\n"
        "the predicted times and each device's peak memory (docs/runtime.md).",
        opts,
        "Exit status: 0 planned (when the fastest plan does not fit the devices' memory, a\n"
        "slower one that does, said so), 1 no plan fits (the line names the fastest plan's\n"
        "device, its need, the layer and the capacity), 2 bad usage or input.",
        NULL,
        0,
        NULL};
    int rc = cli_parse(&cmd, argc, argv, a->given);
    if (rc != CLI_RUN)
        return rc;
    if (!a->given[P_IMAGE_SCALE])
        a->image_scale = a->scale;
    if (!a->net) {
        cli_error(CMD, "--net: field 'net': missing (see --help)");
        return CLI_BAD;
    }
    if (a->out && a->strategy == STRATEGY_COUNT) {
        cli_error(CMD, "--out: saves one plan; choose one --strategy, not all");
        return CLI_BAD;
    }
    return CLI_RUN;
}

/* Strategies to run: one, or all four (STRATEGIES lists them in the report's order). Returns
 * the count. */
static int strategies(int choice, strategy *list) {
    static const strategy order[] = {STRATEGY_ACCPAR, STRATEGY_HYPAR, STRATEGY_OWT, STRATEGY_DP};
    if (choice == STRATEGY_COUNT) {
        for (int s = 0; s < STRATEGY_COUNT; s++)
            list[s] = (strategy)s;
        return STRATEGY_COUNT;
    }
    list[0] = order[choice];
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
                json_str(
                    j, NULL,
                    node_state_name(NODE_CONV, r->grids[(s * REF_LEVELS + h) * r->ref->n + l]));
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
        cells[c] = node_state_name(NODE_CONV, grid[c]);
    printf("strategy %s, reference-compatible: batch %d, %d levels, communication only\n",
           strategy_name(s), REF_BATCH, REF_LEVELS);
    plan_print_types(stdout, REF_LEVELS, r->n, names, alpha, cells);
    free(names);
    return 0;
}

/* The reference mode's fixed settings: 0, or EXIT_USAGE with a message. */
static int check_compat(const plan_args *a) {
    const char *fixed = a->batch != REF_BATCH ? "batch" : "levels";
    const int *g = a->given;
    const char *device_flag = g[P_ACCELS]                      ? "accels"
                              : g[P_MODEL]                     ? "compute-model"
                              : g[P_CALIBRATION]               ? "calibration"
                              : g[P_OUT]                       ? "out"
                              : g[P_SCALE] || g[P_IMAGE_SCALE] ? "scale"
                                                               : NULL;
    if ((g[P_BATCH] && a->batch != REF_BATCH) || (g[P_LEVELS] && a->levels != REF_LEVELS))
        cli_error(CMD, "--%s: field '%s': --compat reference fixes batch %d and %d levels", fixed,
                  fixed, REF_BATCH, REF_LEVELS);
    else if (device_flag)
        cli_error(CMD,
                  "--%s: field '%s': --compat reference counts elements and models no devices; "
                  "drop it",
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
        cli_error(CMD, "%s", err);
        return EXIT_USAGE;
    }
    if (a->json && cli_declare_output(CMD, "--json", a->json) != 0) {
        ref_net_free(&r);
        return EXIT_USAGE;
    }
    int table = a->format == 0;
    int *grids = malloc(sizeof(int) * REF_LEVELS * (size_t)r.n * (size_t)n);
    int rc = grids ? 0 : EXIT_USAGE;
    for (int s = 0; s < n && rc == 0; s++) {
        int *grid = &grids[(size_t)s * REF_LEVELS * (size_t)r.n];
        if (table && s > 0)
            printf("\n");
        if (ref_plan(&r, list[s], grid) != 0 ||
            (table ? print_compat_table(&r, list[s], grid)
                   : ref_print_grid(stdout, &r, list[s], grid)) != 0)
            rc = EXIT_USAGE;
    }
    report rep = {.n = n, .list = list, .grids = grids, .ref = &r};
    if (rc != 0)
        cli_error(CMD, "out of memory");
    else if (a->json) {
        json_out j = {0};
        compat_json(&j, &rep);
        rc = cli_write_json(CMD, &j, a->json) != 0 ? EXIT_USAGE : 0;
    }
    free(grids);
    ref_net_free(&r);
    return rc;
}

/* plan --out: the plan file of one strategy's plan. */
static int save_plan(const plan_args *a, const net *g, const accel_array *arr, const plan *p) {
    plan_file_meta meta = {.scale = a->scale, .image_scale = a->image_scale};
    snprintf(meta.net, sizeof meta.net, "%s", a->net);
    snprintf(meta.accels, sizeof meta.accels, "%s", a->accels);
    snprintf(meta.compute_model, sizeof meta.compute_model, "%s", cli_compute_models[a->model]);
    snprintf(meta.calibration, sizeof meta.calibration, "%s", a->calibration ? a->calibration : "");
    json_out j = {0};
    plan_file_write(&j, &meta, g, arr, p);
    char err[1200];
    int rc = json_write_file(&j, a->out, err, sizeof err);
    json_free(&j);
    if (rc != 0)
        cli_error(CMD, "--out: %s", err);
    return rc;
}

static int run_plans(const plan_args *a, const strategy *list, int n, const net *g,
                     const accel_array *arr) {
    char err[1024];
    plan plans[STRATEGY_COUNT + 1];
    plan_options o = {.strat = STRATEGY_DP, .batch = a->batch, .search_levels = (int)a->levels};
    int made = plan_make_set(g, arr, list, n, &o, plans, err, sizeof err);
    if (made != 0) {
        cli_error(CMD, "%s", err);
        return made == PLAN_NO_FIT ? EXIT_CHECK_FAILED : EXIT_USAGE;
    }
    int rc = 0;
    int table = a->format == 0;
    for (int s = 0; s < n && rc == 0; s++) {
        if (table && s > 0)
            printf("\n");
        rc = table ? plan_print_table(stdout, g, &plans[s], &plans[n])
                   : plan_print_grid(stdout, g, &plans[s]);
    }
    report rep = {.n = n, .list = list, .g = g, .plans = plans};
    if (rc != 0) {
        cli_error(CMD, "out of memory");
        rc = EXIT_USAGE;
    } else if (a->json) {
        json_out j = {0};
        plans_json(&j, &rep);
        rc = cli_write_json(CMD, &j, a->json) != 0 ? EXIT_USAGE : 0;
    }
    if (rc == 0 && a->out && save_plan(a, g, arr, &plans[0]) != 0)
        rc = EXIT_USAGE;
    plan_free_set(plans, n);
    return rc;
}

int cli_plan(int argc, char **argv) {
    plan_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_RUN)
        return rc == CLI_DONE ? 0 : EXIT_USAGE;
    strategy list[STRATEGY_COUNT];
    int n = strategies(a.strategy, list);
    if (a.compat >= 0)
        return cli_finish(CMD, run_compat(&a, list, n));
    if (!a.accels) {
        cli_error(CMD, "--accels: field 'accels': missing (see --help)");
        return EXIT_USAGE;
    }
    static accel_array arr;
    net g;
    if (cli_load_array(CMD, a.accels, cli_compute_models[a.model], a.calibration, a.device_mib,
                       &arr) != 0 ||
        cli_load_net(CMD, a.net, a.scale, a.image_scale, &g) != 0)
        return EXIT_USAGE;
    if ((a.json && cli_declare_output(CMD, "--json", a.json) != 0) ||
        (a.out && cli_declare_output(CMD, "--out", a.out) != 0))
        rc = EXIT_USAGE;
    else
        rc = run_plans(&a, list, n, &g, &arr);
    net_free(&g);
    return cli_finish(CMD, rc);
}
