#include "cal_compare.h"

#include "array_model.h"
#include "cli.h"
#include "net_find.h"
#include "report.h"
#include "run_scale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CMD = "calibrate --compare";

enum { PEAK, CALIBRATED, MODELS };
static const char *const MODEL_NAME[MODELS] = {"peak", "calibrated"};

typedef struct outcome {
    char label[2048];
    double predicted_s, simulated_s, compute_s, comm_s, alpha0;
    uint64_t bytes;
    int verified;
    char failure[512];
} outcome;

static int run_one(const compare_args *a, const net *g, int model, outcome *out) {
    static accel_array arr;
    char err[1024];
    if (accel_array_parse(a->accels, &arr, err, sizeof err) != 0 ||
        array_model_select(&arr, MODEL_NAME[model], model == CALIBRATED ? a->calibration : NULL,
                           err, sizeof err) != 0) {
        cli_error(CMD, "%s", err);
        return -1;
    }
    array_model_label(&arr, out->label, sizeof out->label);
    run_result r;
    if (run_step(g, &arr, &a->o, &r, err, sizeof err) != 0) {
        cli_error(CMD, "%s", err);
        return -1;
    }
    out->predicted_s = r.predicted_step_s;
    out->simulated_s = r.simulated_step_s;
    out->compute_s = r.simulated_compute_s;
    out->comm_s = r.simulated_comm_s;
    out->bytes = r.bytes_moved;
    out->alpha0 = r.plan.n_levels > 0 ? r.plan.levels[0].alpha : 1.0;
    out->verified = r.verified;
    snprintf(out->failure, sizeof out->failure, "%s", r.failure);
    run_result_free(&r);
    return 0;
}

static int write_json(const compare_args *a, const net *g, const outcome *o) {
    json_out j = {0};
    json_begin_object(&j, NULL);
    json_str(&j, "net", g->name);
    json_str(&j, "accels", a->accels);
    json_int(&j, "batch", a->o.batch);
    json_str(&j, "strategy", strategy_name(a->o.strat));
    json_str(&j, "fidelity", run_fidelity_name(a->o.fidelity));
    json_num(&j, "scale", a->scale);
    json_num(&j, "image_scale", a->image_scale);
    for (int m = 0; m < MODELS; m++) {
        json_begin_object(&j, MODEL_NAME[m]);
        json_str(&j, "model", o[m].label);
        json_num(&j, "predicted_step_s", o[m].predicted_s);
        json_num(&j, "simulated_step_s", o[m].simulated_s);
        json_num(&j, "simulated_compute_s", o[m].compute_s);
        json_num(&j, "simulated_comm_s", o[m].comm_s);
        json_int(&j, "bytes_moved", (int64_t)o[m].bytes);
        json_num(&j, "root_alpha", o[m].alpha0);
        json_bool(&j, "verified", o[m].verified);
        json_end_object(&j);
    }
    json_num(&j, "speedup_calibrated_over_peak", o[PEAK].simulated_s / o[CALIBRATED].simulated_s);
    json_end_object(&j);
    return cli_write_json(CMD, &j, a->json);
}

int cal_compare(const compare_args *a) {
    net raw = {0}, g = {0};
    char err[1024];
    if (net_find(a->net, &raw, err, sizeof err) != 0 ||
        run_scale_net(&raw, a->scale, a->image_scale, &g, err, sizeof err) != 0) {
        cli_error(CMD, "%s", err);
        net_free(&raw);
        return EXIT_USAGE;
    }
    net_free(&raw);
    outcome o[MODELS];
    memset(o, 0, sizeof o);
    for (int m = 0; m < MODELS; m++)
        if (run_one(a, &g, m, &o[m]) != 0) {
            net_free(&g);
            return EXIT_USAGE;
        }
    printf("accpar calibrate --compare: %s (scale %g, images %g), batch %lld, %s on %s, %s "
           "fidelity\n\n",
           g.name, a->scale, a->image_scale, (long long)a->o.batch, strategy_name(a->o.strat),
           a->accels, run_fidelity_name(a->o.fidelity));
    printf("%-11s %14s %14s %14s %14s %8s  %s\n", "planned by", "predicted s", "emulated s",
           "compute s", "comm s", "alpha0", "model");
    for (int m = 0; m < MODELS; m++)
        printf("%-11s %14.6g %14.6g %14.6g %14.6g %8.4f  %s\n", MODEL_NAME[m], o[m].predicted_s,
               o[m].simulated_s, o[m].compute_s, o[m].comm_s, o[m].alpha0, o[m].label);
    double ratio = o[PEAK].simulated_s / o[CALIBRATED].simulated_s;
    printf("\nin emulation the %s model's plan is faster: %.3fx (%+.1f%% step time for the "
           "peak plan)\n",
           ratio >= 1 ? "calibrated" : "peak", ratio >= 1 ? ratio : 1 / ratio, 100.0 * (ratio - 1));
    int status = o[PEAK].verified && o[CALIBRATED].verified ? 0 : EXIT_CHECK_FAILED;
    for (int m = 0; m < MODELS; m++)
        if (!o[m].verified)
            printf("verification of the %s plan FAILED: %s\n", MODEL_NAME[m], o[m].failure);
    if (a->json && write_json(a, &g, o) != 0)
        status = EXIT_USAGE;
    net_free(&g);
    return status;
}
