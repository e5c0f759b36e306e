/* accpar reproduce: the AccPar paper's experiment on a TPU-v2 + TPU-v3 array under a stated
 * protocol, or its regime map over the link bandwidth (docs/reproduce.md). */
#include "bar_chart.h"
#include "cli.h"
#include "cli_args.h"
#include "json.h"
#include "line_chart.h"
#include "output_set.h"
#include "reproduce.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const CMD = "reproduce";
enum { NETS = REPRO_NETS, SHOWN = REPRO_SHOWN, SCALES = 9 };
/* The regime map's link scales: 1/64 to 4, doubling. */
static const double sweep_scales[SCALES] = {1.0 / 64, 1.0 / 32, 1.0 / 16, 1.0 / 8, 0.25,
                                            0.5,      1,        2,        4};

typedef struct args {
    reproduce_options o;
    int sweep, model, protocol, topology;
    const char *out[3]; /* csv, plot, json */
} args;

typedef struct sweep {
    const args *a;
    double average[SCALES][SHOWN];
    double reached[SHOWN]; /* the largest scale where the paper's average is reached, or 0 */
    char model[1024];
} sweep;

/* The single run's outputs. */

static int write_csv(FILE *f, void *ctx) {
    const reproduce_results *r = ctx;
    fprintf(f, "network,dp_step_s,owt_speedup,hypar_speedup,accpar_speedup");
    static const char *const all[SHOWN + 1] = {"owt", "hypar", "accpar", "dp"};
    for (int s = 0; s <= SHOWN; s++)
        fprintf(f, ",%s_compute_s,%s_comm_s", all[s], all[s]);
    fprintf(f, "\n");
    for (int k = 0; k < NETS; k++) {
        fprintf(f, "%s,%.9g,%.4f,%.4f,%.4f", reproduce_nets[k], r->step_s[k][SHOWN],
                r->speedup[k][0], r->speedup[k][1], r->speedup[k][2]);
        for (int s = 0; s <= SHOWN; s++)
            fprintf(f, ",%.9g,%.9g", r->compute_s[k][s], r->comm_s[k][s]);
        fprintf(f, "\n");
    }
    return 0;
}

static void options_json(json_out *j, const args *a, const char *model) {
    json_str(j, "accels", reproduce_accels);
    json_int(j, "batch", REPRO_BATCH);
    json_str(j, "protocol", reproduce_protocol_names[a->o.protocol]);
    json_str(j, "model", model);
    json_str(j, "topology", array_topology_names[a->o.topology]);
    reproduce_assumption as[REPRO_ASSUMPTIONS];
    int n = reproduce_assumptions(a->o.protocol, as);
    json_begin_array(j, "assumptions");
    for (int i = 0; i < n; i++) {
        json_begin_object(j, NULL);
        json_str(j, "what", as[i].what);
        json_str(j, "choice", as[i].choice);
        json_str(j, "source", as[i].published ? "published" : "inferred");
        json_end_object(j);
    }
    json_end_array(j);
    json_begin_object(j, "paper");
    for (int s = 0; s < SHOWN; s++)
        json_num(j, reproduce_shown[s], reproduce_paper[s]);
    json_end_object(j);
}

static void results_json(json_out *j, const args *a, const reproduce_results *r) {
    static const char *const all[SHOWN + 1] = {"owt", "hypar", "accpar", "dp"};
    json_begin_object(j, NULL);
    options_json(j, a, r->model);
    json_num(j, "link_scale", a->o.link_scale);
    json_begin_array(j, "rows");
    for (int k = 0; k < NETS; k++) {
        json_begin_object(j, NULL);
        json_str(j, "network", reproduce_nets[k]);
        json_str(j, "protocol", reproduce_protocol_names[a->o.protocol]);
        json_num(j, "dp_step_s", r->step_s[k][SHOWN]);
        for (int s = 0; s < SHOWN; s++)
            json_num(j, reproduce_shown[s], r->speedup[k][s]);
        json_begin_object(j, "steps"); /* each strategy's step: compute plus communication */
        for (int s = 0; s <= SHOWN; s++) {
            json_begin_object(j, all[s]);
            json_num(j, "step_s", r->step_s[k][s]);
            json_num(j, "compute_s", r->compute_s[k][s]);
            json_num(j, "comm_s", r->comm_s[k][s]);
            json_num(j, "root_alpha", r->root_alpha[k][s]);
            json_end_object(j);
        }
        json_end_object(j);
        json_end_object(j);
    }
    json_end_array(j);
    json_begin_object(j, "averages");
    for (int s = 0; s < SHOWN; s++)
        json_num(j, reproduce_shown[s], r->average[s]);
    json_end_object(j);
    json_end_object(j);
}

static int write_plot(FILE *f, void *ctx) {
    const reproduce_results *r = ctx;
    bar_chart c = {"Speedup over data parallelism (dashed: paper averages)",
                   "speedup",
                   NETS,
                   SHOWN,
                   reproduce_nets,
                   reproduce_shown,
                   &r->speedup[0][0],
                   reproduce_paper};
    return bar_chart_svg(f, &c);
}

static void print_assumptions(reproduce_protocol p) {
    reproduce_assumption as[REPRO_ASSUMPTIONS];
    int n = reproduce_assumptions(p, as);
    printf("\nprotocol %s: assumptions (published: stated by the paper or its reference program; "
           "inferred: ours)\n",
           reproduce_protocol_names[p]);
    for (int i = 0; i < n; i++)
        printf("  %-36s %-9s %s\n", as[i].what, as[i].published ? "published" : "inferred",
               as[i].choice);
}

static void print_results(const args *a, const reproduce_results *r) {
    printf("speedup over data parallelism, protocol %s, %s, batch %d, links x%g, topology %s\n"
           "%-10s %8s %8s %8s\n",
           reproduce_protocol_names[a->o.protocol], reproduce_accels, REPRO_BATCH, a->o.link_scale,
           array_topology_names[a->o.topology], "network", "owt", "hypar", "accpar");
    for (int k = 0; k < NETS; k++)
        printf("%-10s %7.2fx %7.2fx %7.2fx\n", reproduce_nets[k], r->speedup[k][0],
               r->speedup[k][1], r->speedup[k][2]);
    printf("%-10s %7.2fx %7.2fx %7.2fx\n%-10s %7.2fx %7.2fx %7.2fx\n", "average", r->average[0],
           r->average[1], r->average[2], "paper", reproduce_paper[0], reproduce_paper[1],
           reproduce_paper[2]);
    printf("compute model: %s\n", r->model);
    printf("\nstep time, ms: compute + communication (data parallelism's root alpha)\n"
           "%-10s %21s %21s %21s %21s\n",
           "network", "dp", "owt", "hypar", "accpar");
    for (int k = 0; k < NETS; k++) {
        printf("%-10s", reproduce_nets[k]);
        for (int s = 0; s <= SHOWN; s++) {
            int col = s == 0 ? SHOWN : s - 1; /* dp first */
            char cell[64];
            snprintf(cell, sizeof cell, "%.3g + %.3g", r->compute_s[k][col] * 1e3,
                     r->comm_s[k][col] * 1e3);
            if (s == 0)
                snprintf(cell + strlen(cell), sizeof cell - strlen(cell), " (%.3f)",
                         r->root_alpha[k][SHOWN]);
            printf(" %21s", cell);
        }
        printf("\n");
    }
    print_assumptions(a->o.protocol);
}

/* The regime map's outputs. */

static int write_sweep_csv(FILE *f, void *ctx) {
    const sweep *w = ctx;
    fprintf(f, "link_scale,owt_average,hypar_average,accpar_average\n");
    for (int i = 0; i < SCALES; i++)
        fprintf(f, "%.9g,%.4f,%.4f,%.4f\n", sweep_scales[i], w->average[i][0], w->average[i][1],
                w->average[i][2]);
    return 0;
}

static int write_sweep_plot(FILE *f, void *ctx) {
    const sweep *w = ctx;
    line_chart c = {"Average speedup over data parallelism against the links' bandwidth "
                    "(dashed: paper averages)",
                    "link bandwidth scale (1: the presets' links)",
                    "average speedup",
                    SCALES,
                    SHOWN,
                    reproduce_shown,
                    sweep_scales,
                    &w->average[0][0],
                    reproduce_paper};
    return line_chart_svg(f, &c);
}

static void sweep_json(json_out *j, const sweep *w) {
    json_begin_object(j, NULL);
    options_json(j, w->a, w->model);
    json_begin_array(j, "sweep");
    for (int i = 0; i < SCALES; i++) {
        json_begin_object(j, NULL);
        json_num(j, "link_scale", sweep_scales[i]);
        for (int s = 0; s < SHOWN; s++)
            json_num(j, reproduce_shown[s], w->average[i][s]);
        json_end_object(j);
    }
    json_end_array(j);
    json_begin_object(j, "scale_reaching_paper");
    for (int s = 0; s < SHOWN; s++) /* null: not reached in the range */
        json_num(j, reproduce_shown[s], w->reached[s] > 0 ? w->reached[s] : NAN);
    json_end_object(j);
    json_end_object(j);
}

static int run_sweep(const args *a, sweep *w, char *err, size_t errlen) {
    w->a = a;
    for (int i = 0; i < SCALES; i++) {
        reproduce_options o = a->o;
        o.link_scale = sweep_scales[i];
        reproduce_results r;
        if (reproduce_run(&o, &r, err, errlen) != 0)
            return -1;
        memcpy(w->average[i], r.average, sizeof r.average);
        snprintf(w->model, sizeof w->model, "%s", r.model);
    }
    for (int s = 0; s < SHOWN; s++) {
        double avg[SCALES];
        for (int i = 0; i < SCALES; i++)
            avg[i] = w->average[i][s];
        w->reached[s] = reproduce_scale_reaching(sweep_scales, avg, SCALES, reproduce_paper[s]);
    }
    return 0;
}

static void print_sweep(const sweep *w) {
    const args *a = w->a;
    printf("average speedup over data parallelism against the link bandwidth, protocol %s, "
           "topology %s\n%-10s %8s %8s %8s\n",
           reproduce_protocol_names[a->o.protocol], array_topology_names[a->o.topology], "links x",
           "owt", "hypar", "accpar");
    for (int i = 0; i < SCALES; i++)
        printf("%-10g %7.2fx %7.2fx %7.2fx\n", sweep_scales[i], w->average[i][0], w->average[i][1],
               w->average[i][2]);
    printf("%-10s %7.2fx %7.2fx %7.2fx\ncompute model: %s\n", "paper", reproduce_paper[0],
           reproduce_paper[1], reproduce_paper[2], w->model);
    for (int s = 0; s < SHOWN; s++) {
        if (w->reached[s] > 0)
            printf("%s reaches the paper's %.2fx at links x%.3g\n", reproduce_shown[s],
                   reproduce_paper[s], w->reached[s]);
        else
            printf("%s does not reach the paper's %.2fx between links x%g and x%g\n",
                   reproduce_shown[s], reproduce_paper[s], sweep_scales[0],
                   sweep_scales[SCALES - 1]);
    }
    printf("(a map of regimes, not a result: no scale is the right one; docs/reproduce.md)\n");
    print_assumptions(a->o.protocol);
}

static int parse(int argc, char **argv, args *a) {
    static const char *const sweeps[] = {"link-scale", NULL};
    *a = (args){.o = {.link_scale = 1.0}, .model = -1, .sweep = -1};
    const cli_opt opts[] = {
        CLI_CHOICE("--protocol", &a->protocol, "P",
                   "testbed (heterogeneity-aware baselines, the testbed's model) or\n"
                   "paper (the reference program's assumptions) [testbed]",
                   reproduce_protocol_names),
        CLI_CHOICE("--compute-model", &a->model, "M",
                   "calibrated, exact or peak [testbed: calibrated; paper: peak]",
                   cli_compute_models),
        CLI_CHOICE("--topology", &a->topology, "T",
                   "cut (a split's cut carries the smaller group's links) or torus\n"
                   "(a 2-D torus bisection: 2 sqrt(n) links) [cut]",
                   array_topology_names),
        CLI_REAL("--link-scale", &a->o.link_scale, "F", "every link's bandwidth times F [1]", 1e-6,
                 1e6),
        CLI_CHOICE("--sweep", &a->sweep, "WHAT",
                   "link-scale: the averages at link scales 1/64 .. 4 (a regime map)", sweeps),
        CLI_STRING("--csv", &a->out[0], "PATH", "per-network rows (with --sweep: per scale)"),
        CLI_STRING("--plot", &a->out[1], "PATH.svg", "SVG chart (with --sweep: lines per scale)"),
        CLI_STRING("--json", &a->out[2], "PATH", "rows, averages and assumptions"),
        CLI_END,
    };
    const cli_command cmd = {
        CMD,
        NULL,
        "Plans AlexNet, VGG-11/13/16/19 and ResNet-18/34/50 (batch 512) on 64 tpu-v2-full +\n"
        "64 tpu-v3-full devices with dp, owt, hypar and accpar under a protocol, and prints\n"
        "each strategy's speedup over data parallelism beside the paper's averages, the\n"
        "compute and communication behind each, and the protocol's assumptions.",
        opts,
        NULL,
        NULL,
        0,
        NULL};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    a->o.protocol = (reproduce_protocol)a->protocol;
    a->o.topology = (array_topology)a->topology;
    a->o.compute_model = a->model >= 0 ? cli_compute_models[a->model] : NULL;
    return rc;
}

int cli_reproduce(int argc, char **argv) {
    args a;
    int rc = parse(argc, argv, &a);
    if (rc != CLI_RUN)
        return rc == CLI_DONE ? 0 : EXIT_USAGE;
    static const char *const flags[3] = {"--csv", "--plot", "--json"};
    for (int k = 0; k < 3; k++)
        if (a.out[k] && cli_declare_output(CMD, flags[k], a.out[k]) != 0)
            return cli_finish(CMD, EXIT_USAGE);
    char err[1024];
    static reproduce_results r;
    static sweep w;
    int (*writers[2])(FILE *, void *) = {write_csv, write_plot};
    void *ctx = &r;
    json_out j = {0};
    if (a.sweep >= 0) {
        if (run_sweep(&a, &w, err, sizeof err) != 0) {
            cli_error(CMD, "%s", err);
            return cli_finish(CMD, EXIT_USAGE);
        }
        print_sweep(&w);
        writers[0] = write_sweep_csv;
        writers[1] = write_sweep_plot;
        ctx = &w;
        sweep_json(&j, &w);
    } else {
        if (reproduce_run(&a.o, &r, err, sizeof err) != 0) {
            cli_error(CMD, "%s", err);
            return cli_finish(CMD, EXIT_USAGE);
        }
        print_results(&a, &r);
        results_json(&j, &a, &r);
    }
    for (int k = 0; k < 2; k++)
        if (a.out[k] && output_write(a.out[k], writers[k], ctx, err, sizeof err) != 0) {
            cli_error(CMD, "%s: %s", flags[k], err);
            json_free(&j);
            return cli_finish(CMD, EXIT_USAGE);
        }
    if (a.out[2])
        return cli_finish(CMD, cli_write_json(CMD, &j, a.out[2]) != 0 ? EXIT_USAGE : 0);
    json_free(&j);
    return cli_finish(CMD, 0);
}
