#include "cal_compare.h"

#include "array_model.h"
#include "cli.h"
#include "cli_ranks.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CMD = "calibrate --compare";

enum { PEAK, CALIBRATED, MODELS };
static const char *const MODEL_NAME[MODELS] = {"peak", "calibrated"};

typedef struct outcome {
    char label[2048]; /* the model each preset used, exactly (array_model_label) */
    plan p;
    run_result r;
} outcome;

/* 1 if the plans split the array alike: the same ratio and node states at every level. */
static int same_plan(const plan *x, const plan *y) {
    if (x->n_levels != y->n_levels || x->n_nodes != y->n_nodes)
        return 0;
    for (int l = 0; l < x->n_levels; l++)
        if (x->levels[l].alpha != y->levels[l].alpha ||
            memcmp(x->levels[l].state, y->levels[l].state, sizeof(int) * (size_t)x->n_nodes))
            return 0;
    return 1;
}

static double root_alpha(const plan *p) {
    return p->n_levels > 0 ? p->levels[0].alpha : 1.0;
}

/* Plans with the model and runs the plan; under mpirun on every rank (only rank 0's outcome
 * is whole: run.h). */
static int run_one(const compare_args *a, const net *g, int model, outcome *out) {
    static accel_array arr;
    char err[1024];
    int rc = cli_load_array(CMD, a->accels, MODEL_NAME[model],
                            model == CALIBRATED ? a->calibration : NULL, 0, &arr);
    plan_options po = {.strat = a->strat, .batch = a->batch};
    if (rc == 0 && (rc = plan_make(g, &arr, &po, &out->p, err, sizeof err)) != 0)
        cli_error(CMD, "%s", err);
    if (cli_ranks_agree(CMD, rc) != 0)
        return -1;
    array_model_label(&arr, out->label, sizeof out->label);
    int *rank_of = malloc(sizeof(int) * (size_t)arr.n);
    run_options o = a->o;
    o.placement = rank_of;
    rc = rank_of ? cli_placement(CMD, a->placement, arr.n, rank_of) : -1;
    rc = cli_ranks_agree(CMD, rc) != 0 ||
                 cli_ranks_same(CMD, run_inputs_digest(g, &arr, &out->p, &o)) != 0
             ? -1
             : 0;
    if (rc == 0 && run_step(g, &arr, &out->p, &o, &out->r, err, sizeof err) != 0) {
        cli_error(CMD, "%s", err);
        rc = -1;
    }
    free(rank_of);
    return rc;
}

static int write_json(const compare_args *a, const net *g, const outcome *o, int identical) {
    json_out j = {0};
    json_begin_object(&j, NULL);
    json_str(&j, "net", g->name);
    json_str(&j, "accels", a->accels);
    json_int(&j, "batch", a->batch);
    json_str(&j, "strategy", strategy_name(a->strat));
    json_str(&j, "fidelity", run_fidelity_name(a->o.fidelity));
    json_num(&j, "scale", a->scale);
    json_num(&j, "image_scale", a->image_scale);
    for (int m = 0; m < MODELS; m++) {
        json_begin_object(&j, MODEL_NAME[m]);
        const run_result *r = &o[m].r;
        json_str(&j, "model", o[m].label);
        json_num(&j, "predicted_step_s", r->predicted_step_s);
        json_num(&j, "simulated_step_s", r->simulated_step_s);
        json_num(&j, "simulated_compute_s", r->simulated_compute_s);
        json_num(&j, "simulated_comm_s", r->simulated_comm_s);
        json_int(&j, "bytes_moved", (int64_t)r->bytes_moved);
        json_num(&j, "root_alpha", root_alpha(r->plan));
        json_bool(&j, "verified", r->verified);
        json_end_object(&j);
    }
    json_bool(&j, "identical_plans", identical);
    json_num(&j, "speedup_calibrated_over_peak",
             o[PEAK].r.simulated_step_s / o[CALIBRATED].r.simulated_step_s);
    json_end_object(&j);
    return cli_write_json(CMD, &j, a->json);
}

/* Prints the table and the verdict, writes the JSON; returns the exit status. */
static int report(const compare_args *a, const net *g, const outcome *o) {
    printf("accpar calibrate --compare: %s (scale %g, images %g), batch %lld, %s on %s, %s "
           "fidelity\n\n",
           g->name, a->scale, a->image_scale, (long long)a->batch, strategy_name(a->strat),
           a->accels, run_fidelity_name(a->o.fidelity));
    printf("%-11s %14s %14s %14s %14s %8s  %s\n", "planned by", "predicted s", "emulated s",
           "compute s", "comm s", "alpha0", "model used");
    for (int m = 0; m < MODELS; m++) {
        const run_result *r = &o[m].r;
        printf("%-11s %14.6g %14.6g %14.6g %14.6g %8.4f  %s\n", MODEL_NAME[m], r->predicted_step_s,
               r->simulated_step_s, r->simulated_compute_s, r->simulated_comm_s,
               root_alpha(r->plan), o[m].label);
    }
    int identical = same_plan(&o[PEAK].p, &o[CALIBRATED].p);
    double ratio = o[PEAK].r.simulated_step_s / o[CALIBRATED].r.simulated_step_s;
    if (identical)
        printf("\nthe two models give the same plan (the same ratios and layer types at every "
               "level), so the emulated steps are the same\n");
    else
        printf("\nin emulation the %s model's plan is faster: %.3fx (%+.1f%% step time for the "
               "peak plan)\n",
               ratio >= 1 ? "calibrated" : "peak", ratio >= 1 ? ratio : 1 / ratio,
               100.0 * (ratio - 1));
    int status = o[PEAK].r.verified && o[CALIBRATED].r.verified ? 0 : EXIT_CHECK_FAILED;
    for (int m = 0; m < MODELS; m++)
        if (!o[m].r.verified)
            printf("verification of the %s plan FAILED: %s\n", MODEL_NAME[m], o[m].r.failure);
    if (a->json && write_json(a, g, o, identical) != 0)
        status = EXIT_USAGE;
    return status;
}

int cal_compare(const compare_args *a) {
    net g = {0};
    int loaded = cli_load_net(CMD, a->net, a->scale, a->image_scale, &g);
    if (loaded == 0 && a->json && cli_declare_output(CMD, "--json", a->json) != 0)
        loaded = -1;
    if (cli_ranks_agree(CMD, loaded) != 0) {
        net_free(&g);
        return EXIT_USAGE;
    }
    outcome o[MODELS];
    memset(o, 0, sizeof o);
    int status = 0;
    for (int m = 0; m < MODELS && status == 0; m++)
        if (run_one(a, &g, m, &o[m]) != 0)
            status = EXIT_USAGE;
    if (status == 0 && cli_rank() != 0) /* rank 0 reports; this is its outcome */
        status = o[PEAK].r.verified && o[CALIBRATED].r.verified ? 0 : EXIT_CHECK_FAILED;
    else if (status == 0)
        status = report(a, &g, o);
    for (int m = 0; m < MODELS; m++) {
        run_result_free(&o[m].r);
        plan_free(&o[m].p);
    }
    net_free(&g);
    return status;
}
