/* accpar reproduce: the AccPar paper's experiment on a TPU-v2 + TPU-v3 array (docs/reproduce.md).
 */
#include "array_model.h"
#include "cli.h"
#include "cli_args.h"
#include "bar_chart.h"
#include "json.h"
#include "output_set.h"
#include "net_find.h"
#include "plan_report.h"
#include "plan_set.h"

#include <stdio.h>
#include <string.h>

enum { NETS = 8, SHOWN = 3 }; /* owt, hypar, accpar */
static const char *const nets[NETS] = {"alexnet", "vgg11",    "vgg13",    "vgg16",
                                       "vgg19",   "resnet18", "resnet34", "resnet50"};
static const char *const shown[SHOWN] = {"owt", "hypar", "accpar"};
static const double paper[SHOWN] = {2.98, 3.78, 6.30};
static const char accels[] = "64xtpu-v2-full,64xtpu-v3-full";

typedef struct {
    double speedup[NETS][SHOWN];
    double dp_step[NETS];
    double average[SHOWN];
    char model[1024]; /* the compute model the plans used (array_model_label) */
} results;

static int run(results *r, char *err, size_t errlen) {
    static const strategy list[SHOWN] = {STRATEGY_OWT, STRATEGY_HYPAR, STRATEGY_ACCPAR};
    static accel_array arr;
    if (accel_array_parse(accels, &arr, err, errlen) != 0 ||
        array_model_select(&arr, NULL, NULL, err, errlen) != 0)
        return -1;
    array_model_label(&arr, r->model, sizeof r->model);
    for (int k = 0; k < NETS; k++) {
        net g;
        plan p[SHOWN + 1]; /* the shown strategies, then dp */
        plan_options o = {STRATEGY_DP, 512, 0, 0};
        if (net_find(nets[k], &g, err, errlen) != 0)
            return -1;
        int rc = plan_make_set(&g, &arr, list, SHOWN, &o, p, err, errlen);
        net_free(&g);
        if (rc != 0)
            return -1;
        for (int s = 0; s < SHOWN; s++) {
            r->speedup[k][s] = plan_speedup(&p[s], &p[SHOWN]);
            r->average[s] += r->speedup[k][s] / NETS;
        }
        r->dp_step[k] = p[SHOWN].step_s;
        plan_free_set(p, SHOWN);
    }
    return 0;
}

static int write_csv(FILE *f, void *ctx) {
    const results *r = ctx;
    fprintf(f, "network,dp_step_s,owt_speedup,hypar_speedup,accpar_speedup\n");
    for (int k = 0; k < NETS; k++)
        fprintf(f, "%s,%.9g,%.4f,%.4f,%.4f\n", nets[k], r->dp_step[k], r->speedup[k][0],
                r->speedup[k][1], r->speedup[k][2]);
    return 0;
}

static void results_json(json_out *j, const results *r) {
    json_begin_object(j, NULL);
    json_str(j, "accels", accels);
    json_int(j, "batch", 512);
    json_str(j, "model", r->model);
    json_begin_array(j, "rows");
    for (int k = 0; k < NETS; k++) {
        json_begin_object(j, NULL);
        json_str(j, "network", nets[k]);
        json_num(j, "dp_step_s", r->dp_step[k]);
        for (int s = 0; s < SHOWN; s++)
            json_num(j, shown[s], r->speedup[k][s]);
        json_end_object(j);
    }
    json_end_array(j);
    json_begin_object(j, "averages");
    for (int s = 0; s < SHOWN; s++)
        json_num(j, shown[s], r->average[s]);
    json_end_object(j);
    json_begin_object(j, "paper");
    for (int s = 0; s < SHOWN; s++)
        json_num(j, shown[s], paper[s]);
    json_end_object(j);
    json_end_object(j);
}

static int write_plot(FILE *f, void *ctx) {
    const results *r = ctx;
    bar_chart c = {"Speedup over data parallelism (dashed: paper averages)",
                   "speedup",
                   NETS,
                   SHOWN,
                   nets,
                   shown,
                   &r->speedup[0][0],
                   paper};
    return bar_chart_svg(f, &c);
}

int cli_reproduce(int argc, char **argv) {
    const char *out[3] = {NULL, NULL, NULL}; /* csv, plot, json */
    const cli_opt opts[] = {
        CLI_STRING("--csv", &out[0], "PATH", "per-network rows"),
        CLI_STRING("--plot", &out[1], "PATH.svg", "SVG bar chart"),
        CLI_STRING("--json", &out[2], "PATH", "rows and averages"),
        CLI_END,
    };
    const cli_command cmd = {
        "reproduce",
        NULL,
        "Plans AlexNet, VGG-11/13/16/19 and ResNet-18/34/50 (batch 512) on 64 tpu-v2-full +\n"
        "64 tpu-v3-full devices with dp, owt, hypar and accpar, and prints each strategy's\n"
        "speedup over data parallelism beside the paper's averages, and the compute model it\n"
        "planned with (each preset's calibration file if it has one, else exact).",
        opts,
        NULL,
        NULL,
        0,
        NULL};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_RUN)
        return rc == CLI_DONE ? 0 : EXIT_USAGE;
    static const char *const flags[3] = {"--csv", "--plot", "--json"};
    for (int k = 0; k < 3; k++)
        if (out[k] && cli_declare_output("reproduce", flags[k], out[k]) != 0)
            return cli_finish("reproduce", EXIT_USAGE);
    results r = {0};
    char err[1024];
    if (run(&r, err, sizeof err) != 0) {
        cli_error("reproduce", "%s", err);
        return cli_finish("reproduce", EXIT_USAGE);
    }
    printf("speedup over data parallelism, %s, batch 512\n%-10s %8s %8s %8s\n", accels, "network",
           "owt", "hypar", "accpar");
    for (int k = 0; k < NETS; k++)
        printf("%-10s %7.2fx %7.2fx %7.2fx\n", nets[k], r.speedup[k][0], r.speedup[k][1],
               r.speedup[k][2]);
    printf("%-10s %7.2fx %7.2fx %7.2fx\n%-10s %7.2fx %7.2fx %7.2fx\n", "average", r.average[0],
           r.average[1], r.average[2], "paper", paper[0], paper[1], paper[2]);
    printf("compute model: %s\n", r.model);
    int (*writers[2])(FILE *, void *) = {write_csv, write_plot};
    for (int k = 0; k < 2; k++) {
        if (out[k] && output_write(out[k], writers[k], &r, err, sizeof err) != 0) {
            cli_error("reproduce", "%s: %s", flags[k], err);
            return cli_finish("reproduce", EXIT_USAGE);
        }
    }
    if (out[2]) {
        json_out j = {0};
        results_json(&j, &r);
        if (cli_write_json("reproduce", &j, out[2]) != 0)
            return cli_finish("reproduce", EXIT_USAGE);
    }
    return cli_finish("reproduce", 0);
}
