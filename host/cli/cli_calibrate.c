/* accpar calibrate: fit the cost model of a preset to emulated cycles and bytes
 * (docs/calibration.md), or --compare the plans of the peak and calibrated models. */
#include "cal_compare.h"
#include "cal_measure.h"
#include "cli.h"
#include "cli_args.h"
#include "cli_ranks.h"
#include "digest.h"
#include "model_cache.h"
#include "parallel.h"
#include "device_model.h"
#include "json.h"
#include "output_set.h"
#include "scatter_plot.h"
#include "text_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const CMD = "calibrate";

typedef struct cal_args {
    const char *accel, *shapes, *out, *json, *csv, *plot, *model_cache;
    int no_build;
    int sweep;
    int backend; /* accel_backend */
    const char *compare, *placement;
    double rank_timeout;
    int64_t batch, jobs;
    int strat, fidelity;
    compare_args cmp;
} cal_args;

enum {
    C_ACCEL,
    C_SWEEP,
    C_SHAPES,
    C_OUT,
    C_BACKEND,
    C_JSON,
    C_CSV,
    C_PLOT,
    C_COMPARE,
    C_ACCELS,
    C_BATCH,
    C_STRATEGY,
    C_FIDELITY,
    C_SCALE,
    C_IMAGE_SCALE,
    C_CALIBRATION,
    C_JOBS,
    C_MODEL_CACHE,
    C_NO_BUILD,
    C_PLACEMENT,
    C_RANK_TIMEOUT,
    C_OPTS
};

/* Returns CLI_RUN, CLI_DONE after --help, CLI_BAD on a usage error (already reported). */
static int parse(int argc, char **argv, cal_args *a) {
    *a = (cal_args){.backend = ACCEL_BACKEND_REPLAY,
                    .batch = 32,
                    .jobs = cli_default_jobs(),
                    .rank_timeout = CLI_RANK_TIMEOUT_DEFAULT_S,
                    .strat = STRATEGY_ACCPAR,
                    .fidelity = ACCEL_BACKEND_REPLAY};
    a->cmp = (compare_args){.accels = "2xtpu-v2,2xtpu-v3", .scale = 1.0};
    static const char *const measured[] = {"rtl", "replay", NULL};
    int measured_backend = 1, given[C_OPTS];
    const cli_opt opts[] = {
        [C_ACCEL] = CLI_STRING("--accel", &a->accel, "PRESET", "preset name or .acc file"),
        [C_SWEEP] = CLI_FLAG("--sweep", &a->sweep, "the designed sweep of shapes (the default)"),
        [C_SHAPES] = CLI_STRING("--shapes", &a->shapes, "FILE",
                                "shapes instead, one 'M K N [accumulate]' a line"),
        [C_OUT] = CLI_STRING("--out", &a->out, "FILE",
                             "calibration file [PRESET.cal in the current folder]"),
        [C_BACKEND] = CLI_CHOICE("--backend", &measured_backend, "B",
                                 "replay (RTL-timed, fast) or rtl [replay]", measured),
        [C_JSON] = CLI_STRING("--json", &a->json, "PATH",
                              "summary (fit_points, heldout_mean_ape, ...), atomically"),
        [C_CSV] = CLI_STRING("--csv", &a->csv, "PATH",
                             "every point: measured, predicted, peak model, error"),
        [C_PLOT] = CLI_STRING("--plot", &a->plot, "PATH.svg", "predicted vs measured, log-log"),
        [C_COMPARE] = CLI_STRING("--compare", &a->compare, "NET",
                                 "plan NET with the peak-rate model and with the calibrated\n"
                                 "model, emulate both plans, report which runs faster"),
        [C_ACCELS] = CLI_STRING("--accels", &a->cmp.accels, "SPEC",
                                "with --compare: the array [2xtpu-v2,2xtpu-v3]"),
        [C_BATCH] =
            CLI_INT("--batch", &a->batch, "N", "with --compare: samples per step [32]", 1, 65536),
        [C_STRATEGY] =
            CLI_CHOICE("--strategy", &a->strat, "S",
                       "with --compare: accpar, hypar, owt or dp [accpar]", strategy_names),
        [C_FIDELITY] =
            CLI_CHOICE("--fidelity", &a->fidelity, "F",
                       "with --compare: golden, rtl or replay [replay]", accel_backend_names),
        [C_SCALE] =
            CLI_REAL("--scale", &a->cmp.scale, "F", "with --compare: as for accpar run", 1e-6, 1),
        [C_IMAGE_SCALE] = CLI_REAL("--image-scale", &a->cmp.image_scale, "F",
                                   "with --compare: as for accpar run", 1e-6, 1),
        [C_CALIBRATION] = CLI_STRING("--calibration", &a->cmp.calibration, "F,..",
                                     "with --compare: calibration files instead of each preset's\n"
                                     "default calibration file"),
        [C_JOBS] = CLI_JOBS(&a->jobs),
        [C_MODEL_CACHE] = CLI_MODEL_OPTS(&a->model_cache, &a->no_build),
        [C_PLACEMENT] = CLI_RANK_OPTS(&a->placement, &a->rank_timeout),
        CLI_END,
    };
    const cli_command cmd = {
        CMD,
        "--accel PRESET [--shapes FILE | --sweep] [--out FILE]\n"
        "                        [--backend replay|rtl] [--json PATH] [--csv PATH]\n"
        "                        [--plot PATH.svg] [--jobs N]\n"
        "       accpar calibrate --compare NET [--accels SPEC] [--batch N]\n"
        "                        [--strategy S] [--fidelity replay|golden|rtl]\n"
        "                        [--scale F] [--image-scale F] [--calibration FILE[,FILE]]\n"
        "                        [--json PATH] [--jobs N]",
        "Runs a designed set of GEMM shapes on an emulated device and transfers of designed\n"
        "sizes on the emulated link, fits the compute model's feature weights and the link's\n"
        "latency and bandwidth by least squares on two thirds of the points, and reports the\n"
        "error on the held-out third. docs/calibration.md.",
        opts,
        "Exit status: 0 success, 1 a target or check failed, 2 bad usage or input.",
        NULL,
        0,
        NULL};
    int rc = cli_parse(&cmd, argc, argv, given);
    if (rc != CLI_RUN)
        return rc;
    a->backend = measured_backend == 0 ? ACCEL_BACKEND_RTL : ACCEL_BACKEND_REPLAY;
    model_cache_configure(a->model_cache, a->no_build);
    if (!given[C_IMAGE_SCALE])
        a->cmp.image_scale = a->cmp.scale;
    a->cmp.json = a->json;
    a->cmp.net = a->compare;
    a->cmp.strat = (strategy)a->strat;
    a->cmp.batch = a->batch;
    a->cmp.o = (run_options){.fidelity = (run_fidelity)a->fidelity,
                             .seed = 1,
                             .jobs = (int)a->jobs,
                             .cluster = cli_cluster(),
                             .rank_timeout_s = a->rank_timeout};
    a->cmp.placement = a->placement;
    if (cli_rank() != 0) /* rank 0 writes every output */
        a->out = a->json = a->csv = a->plot = a->cmp.json = NULL;
    int compare_only = 0, calibrate_only = 0;
    for (int k = C_ACCELS; k <= C_CALIBRATION; k++)
        compare_only |= given[k];
    for (int k = C_ACCEL; k <= C_PLOT; k++)
        calibrate_only |= given[k] && k != C_JSON;
    if (a->compare && calibrate_only) {
        cli_error(CMD, "--compare: takes none of --accel, --shapes, --sweep, --out, --backend, "
                       "--csv, --plot");
        return CLI_BAD;
    }
    if (!a->compare && given[C_PLACEMENT]) {
        cli_error(CMD, "--placement: goes with --compare (the sweep's GEMMs are dealt out to the "
                       "ranks in turn)");
        return CLI_BAD;
    }
    if (!a->compare && compare_only) {
        cli_error(CMD, "--accels, --batch, --strategy, --fidelity, --scale, --image-scale and "
                       "--calibration go with --compare");
        return CLI_BAD;
    }
    if (!a->compare && !a->accel) {
        cli_error(CMD, "--accel: missing (accpar calibrate --help)");
        return CLI_BAD;
    }
    if (a->shapes && a->sweep) {
        cli_error(CMD, "--shapes: give --shapes FILE or --sweep, not both");
        return CLI_BAD;
    }
    return CLI_RUN;
}

static void progress(int done, int total) {
    int width = 40, fill = width * done / (total > 0 ? total : 1);
    fprintf(stderr, "\r  [%.*s%*s] %d/%d GEMMs", fill, "########################################",
            width - fill, "", done, total);
    if (done == total)
        fputc('\n', stderr);
}

/* Peak-rate cycles of every GEMM point, for contrast. */
static int peak_cycles(const accel_preset *p, const calibration *c, double *out, char *err,
                       size_t errlen) {
    device_model peak;
    device_model_peak(p, &peak);
    for (int q = 0; q < c->n_gemm; q++)
        if (device_model_cycles(p, &peak, c->gemm[q].m, c->gemm[q].k, c->gemm[q].n, &out[q], err,
                                errlen) != 0)
            return -1;
    return 0;
}

/* What the CSV and the plot are written from. */
typedef struct plot_ctx {
    const accel_preset *p;
    const calibration *c;
    const double *peak;
} plot_ctx;

static int write_csv_body(FILE *f, void *ctx) {
    const plot_ctx *pc = ctx;
    const calibration *c = pc->c;
    static const char *const ROLE[2] = {"fit", "heldout"};
    fprintf(f, "kind,role,m,k,n,accumulate,bytes,unit,measured,predicted,predicted_peak,"
               "ape_percent,ape_peak_percent\n");
    for (int q = 0; q < c->n_gemm; q++) {
        const cal_gemm *g = &c->gemm[q];
        double m = (double)g->measured;
        fprintf(f, "gemm,%s,%lld,%lld,%lld,%d,,cycles,%llu,%.12g,%.12g,%.6g,%.6g\n", ROLE[g->role],
                (long long)g->m, (long long)g->k, (long long)g->n, g->accumulate,
                (unsigned long long)g->measured, g->predicted, pc->peak[q],
                calibration_ape(m, g->predicted), calibration_ape(m, pc->peak[q]));
    }
    for (int q = 0; q < c->n_xfer; q++) {
        const cal_xfer *x = &c->xfer[q];
        fprintf(f, "xfer,%s,,,,,%llu,seconds,%.12g,%.12g,,%.6g,\n", ROLE[x->role],
                (unsigned long long)x->bytes, x->measured_s, x->predicted_s,
                calibration_ape(x->measured_s, x->predicted_s));
    }
    return 0;
}

static int write_plot_body(FILE *f, void *ctx) {
    const plot_ctx *pc = ctx;
    const calibration *c = pc->c;
    int n = 0, total = 2 * c->n_gemm + c->n_xfer;
    double *x = malloc(sizeof *x * (size_t)total), *y = malloc(sizeof *y * (size_t)total);
    int *s = malloc(sizeof *s * (size_t)total);
    if (!x || !y || !s) {
        free(x), free(y), free(s);
        return -1;
    }
    double hz = pc->p->clock_mhz * 1e6;
    for (int q = 0; q < c->n_gemm; q++) {
        x[n] = (double)c->gemm[q].measured / hz;
        y[n] = c->gemm[q].predicted / hz;
        s[n++] = c->gemm[q].role == CAL_FIT ? 0 : 1;
        if (c->gemm[q].role == CAL_HELDOUT) {
            x[n] = (double)c->gemm[q].measured / hz;
            y[n] = pc->peak[q] / hz;
            s[n++] = 2;
        }
    }
    for (int q = 0; q < c->n_xfer; q++) {
        x[n] = c->xfer[q].measured_s;
        y[n] = c->xfer[q].predicted_s;
        s[n++] = 3;
    }
    static const char *const names[4] = {"GEMMs, calibrated (fit)", "GEMMs, calibrated (held out)",
                                         "GEMMs, peak model (held out)",
                                         "link transfers, calibrated"};
    char title[128];
    snprintf(title, sizeof title, "Calibration of %s: predicted vs measured", c->preset);
    scatter_plot sp = {title, "measured time (s)", "predicted time (s)", n, 4, names, x, y, s};
    int rc = scatter_plot_svg(f, &sp);
    free(x), free(y), free(s);
    return rc;
}

/* The issue's target: held-out mean <= 1 %, max <= 3 %, for compute and for communication. */
static int within_target(const calibration *c) {
    return c->compute.mean_ape <= 1 && c->compute.max_ape <= 3 && c->comm.mean_ape <= 1 &&
           c->comm.max_ape <= 3;
}

static int write_json(const char *path, const cal_args *a, const calibration *c,
                      const cal_error *peak_err) {
    json_out j = {0};
    json_begin_object(&j, NULL);
    json_str(&j, "preset", c->preset);
    json_str(&j, "backend", c->backend);
    json_str(&j, "shapes", a->shapes ? a->shapes : "sweep");
    json_str(&j, "out", a->out);
    json_int(&j, "fit_points", c->compute.fit_points);
    json_int(&j, "heldout_points", c->compute.heldout_points);
    json_num(&j, "heldout_mean_ape", c->compute.mean_ape);
    json_num(&j, "heldout_max_ape", c->compute.max_ape);
    json_num(&j, "peak_heldout_mean_ape", peak_err->mean_ape);
    json_num(&j, "peak_heldout_max_ape", peak_err->max_ape);
    json_int(&j, "comm_fit_points", c->comm.fit_points);
    json_int(&j, "comm_heldout_points", c->comm.heldout_points);
    json_num(&j, "comm_heldout_mean_ape", c->comm.mean_ape);
    json_num(&j, "comm_heldout_max_ape", c->comm.max_ape);
    json_begin_object(&j, "theta");
    for (int i = 0; i < GEMM_FEATURES; i++)
        json_num(&j, gemm_feature_names[i], c->theta[i]);
    json_end_object(&j);
    json_begin_array(&j, "nominal");
    for (int i = 0; i < GEMM_FEATURES; i++)
        if (c->nominal[i])
            json_str(&j, NULL, gemm_feature_names[i]);
    json_end_array(&j);
    json_num(&j, "link_latency_ns", c->link_latency_ns);
    json_num(&j, "link_gbytes_per_s", c->link_gbytes_per_s);
    json_bool(&j, "within_target", within_target(c));
    json_end_object(&j);
    return cli_write_json(CMD, &j, path);
}

static void print_summary(const accel_preset *p, const calibration *c, const char *out,
                          const cal_error *peak_err) {
    printf("accpar calibrate: %s on the %s backend: %d GEMMs (%d fit, %d held out), %d "
           "transfers (%d fit, %d held out)\n\n",
           p->name, c->backend, c->n_gemm, c->compute.fit_points, c->compute.heldout_points,
           c->n_xfer, c->comm.fit_points, c->comm.heldout_points);
    printf("%-10s %16s  %s\n", "feature", "cycles per unit", "");
    for (int i = 0; i < GEMM_FEATURES; i++)
        printf("%-10s %16.9f  %s\n", gemm_feature_names[i], c->theta[i],
               c->nominal[i] ? "nominal (never exercised on this preset)" : "fitted");
    printf("link       latency %.6g ns (preset %.6g), bandwidth %.6g GB/s per link (preset "
           "%.6g)\n\n",
           c->link_latency_ns, p->link_latency_ns, c->link_gbytes_per_s, p->link_gbytes_per_s);
    printf("held-out absolute percentage error   mean        max      (target 1 %% / 3 %%)\n");
    printf("  compute, calibrated model          %-10.3g  %-10.3g\n", c->compute.mean_ape,
           c->compute.max_ape);
    printf("  compute, peak model (contrast)     %-10.3g  %-10.3g\n", peak_err->mean_ape,
           peak_err->max_ape);
    printf("  communication, calibrated          %-10.3g  %-10.3g\n", c->comm.mean_ape,
           c->comm.max_ape);
    printf("\nwrote %s\n", out);
}

/* Under mpirun every rank measured its part of the GEMMs (rank r: r, r + ranks, ...): rank 0
 * collects the cycles of the others'. */
static int gather_measured(calibration *c, double timeout_s) {
    cluster *cl = cli_cluster();
    int ranks = cluster_size(cl), rank = cli_rank();
    if (ranks == 1)
        return 0;
    static const char *const names[] = {NULL, "calibration GEMMs' cycles"};
    cluster_name_kinds(cl, names, 2);
    char err[512] = "out of host memory";
    uint64_t *cycles = calloc((size_t)c->n_gemm / (size_t)ranks + 1, sizeof *cycles);
    int rc = cycles ? 0 : -1;
    for (int r = rank == 0 ? 1 : rank; rc == 0 && r < (rank == 0 ? ranks : rank + 1); r++) {
        int64_t n = c->n_gemm > r ? (c->n_gemm - r + ranks - 1) / ranks : 0; /* rank r's GEMMs */
        if (rank != 0) {
            for (int64_t i = 0; i < n; i++)
                cycles[i] = c->gemm[r + i * ranks].measured;
            cluster_msg m = {1, -1, {n}, cycles, sizeof *cycles * (uint64_t)n};
            rc = cluster_send(cl, 0, &m, err, sizeof err);
            continue;
        }
        cluster_msg m;
        rc = cluster_recv(cl, r, &m, timeout_s, "its calibration GEMMs' cycles", err, sizeof err);
        if (rc == 0 && (m.arg[0] != n || m.bytes != sizeof *cycles * (uint64_t)n)) {
            snprintf(err, sizeof err, "rank 0: rank %d sent %llu bytes of cycles for %lld GEMMs", r,
                     (unsigned long long)m.bytes, (long long)n);
            cluster_fail(cl);
            rc = -1;
        }
        for (int64_t i = 0; rc == 0 && i < n; i++)
            memcpy(&c->gemm[r + i * ranks].measured, (const uint64_t *)m.payload + i,
                   sizeof(uint64_t));
        free(m.payload);
    }
    if (rc != 0)
        cli_error(CMD, "%s", err);
    free(cycles);
    return rc;
}

/* What the ranks of a calibration must agree on: the preset, the GEMMs and the backend. */
static uint64_t measured_digest(const accel_preset *p, const calibration *c, int backend) {
    uint64_t h = digest_int(preset_digest(DIGEST_INIT, p), backend);
    for (int q = 0; q < c->n_gemm; q++) {
        const cal_gemm *g = &c->gemm[q];
        h = digest_int(digest_int(digest_int(digest_int(h, g->m), g->k), g->n), g->accumulate);
    }
    return h;
}

/* The preset, the shapes and the declared outputs; -1 with the error printed. */
static int prepare(cal_args *a, accel_preset *p, calibration *c, char *path, size_t len) {
    char err[1024];
    if (preset_find(a->accel, p, err, sizeof err) != 0) {
        cli_error(CMD, "%s", err);
        return -1;
    }
    if (!a->out && cli_rank() == 0) { /* never a tracked file: a default calibration changes
                                          only when asked */
        snprintf(path, len, "%s.cal", p->name);
        a->out = path;
    }
    int rc = a->shapes ? cal_read_shapes(a->shapes, c, err, sizeof err) : cal_design_sweep(p, c);
    if (rc == 0 && cal_design_transfers(c) != 0)
        rc = -1;
    if (rc != 0) {
        cli_error(CMD, "%s", a->shapes ? err : "out of memory");
        return -1;
    }
    if ((a->out && cli_declare_output(CMD, "--out", a->out) != 0) ||
        (a->csv && cli_declare_output(CMD, "--csv", a->csv) != 0) ||
        (a->json && cli_declare_output(CMD, "--json", a->json) != 0) ||
        (a->plot && cli_declare_output(CMD, "--plot", a->plot) != 0))
        return -1;
    return 0;
}

static int calibrate(cal_args *a) {
    accel_preset p;
    char err[1024], path[512];
    calibration c;
    memset(&c, 0, sizeof c);
    if (cli_ranks_agree(CMD, prepare(a, &p, &c, path, sizeof path)) != 0 ||
        cli_ranks_same(CMD, measured_digest(&p, &c, a->backend)) != 0) {
        calibration_free(&c);
        return EXIT_USAGE;
    }
    int measured =
        cal_measure_gemms(&p, a->backend, (int)a->jobs, cli_rank(), cluster_size(cli_cluster()), &c,
                          isatty(2) && cli_rank() == 0 ? progress : NULL, err, sizeof err);
    if (measured != 0)
        cli_error(CMD, "%s", err);
    if (cli_ranks_agree(CMD, measured) != 0 || gather_measured(&c, a->rank_timeout) != 0) {
        calibration_free(&c);
        return EXIT_USAGE;
    }
    if (cli_rank() != 0) { /* rank 0 fits and writes */
        calibration_free(&c);
        return 0;
    }
    double *peak = malloc(sizeof *peak * (size_t)c.n_gemm);
    if (!peak || cal_measure_transfers(&p, &c, err, sizeof err) != 0 ||
        calibration_fit(&c, &p, err, sizeof err) != 0 ||
        peak_cycles(&p, &c, peak, err, sizeof err) != 0) {
        cli_error(CMD, "%s", peak ? err : "out of memory");
        calibration_free(&c);
        free(peak);
        return EXIT_USAGE;
    }
    cal_error peak_err = calibration_score_gemms(&c, peak);
    char header[2400], accel[1024], shapes[1024];
    text_escape(a->accel, accel, sizeof accel);
    text_escape(a->shapes ? a->shapes : "", shapes, sizeof shapes);
    snprintf(header, sizeof header,
             "# accpar calibration of %s (format: docs/calibration.md)\n"
             "# generated by: accpar calibrate --accel %s %s%s --backend %s\n",
             p.name, accel, a->shapes ? "--shapes " : "--sweep", shapes, c.backend);
    plot_ctx pc = {&p, &c, peak};
    int status = 0;
    if (calibration_write(a->out, &c, header, err, sizeof err) != 0) {
        cli_error(CMD, "--out: %s", err);
        status = EXIT_USAGE;
    } else if (a->csv && output_write(a->csv, write_csv_body, &pc, err, sizeof err) != 0) {
        cli_error(CMD, "--csv: %s", err);
        status = EXIT_USAGE;
    } else if (a->json && write_json(a->json, a, &c, &peak_err) != 0) {
        status = EXIT_USAGE;
    } else if (a->plot && output_write(a->plot, write_plot_body, &pc, err, sizeof err) != 0) {
        cli_error(CMD, "--plot: %s", err);
        status = EXIT_USAGE;
    }
    if (status == 0) {
        print_summary(&p, &c, a->out, &peak_err);
        if (!within_target(&c)) {
            printf("held-out error above target (mean 1 %%, max 3 %%)\n");
            status = EXIT_CHECK_FAILED;
        }
    }
    calibration_free(&c);
    free(peak);
    return status;
}

int cli_calibrate(int argc, char **argv) {
    cal_args a;
    int pr = parse(argc, argv, &a);
    if (cli_ranks_agree(CMD, pr == CLI_BAD ? -1 : 0) != 0 || pr != CLI_RUN)
        return pr == CLI_DONE ? 0 : EXIT_USAGE;
    return cli_finish(CMD, a.compare ? cal_compare(&a.cmp) : calibrate(&a));
}
