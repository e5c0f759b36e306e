#include "reproduce.h"

#include "array_model.h"
#include "net_find.h"
#include "plan_report.h"
#include "plan_set.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const reproduce_protocol_names[] = {"testbed", "paper", NULL};
const char *const reproduce_nets[REPRO_NETS] = {"alexnet", "vgg11",    "vgg13",    "vgg16",
                                                "vgg19",   "resnet18", "resnet34", "resnet50"};
const char *const reproduce_shown[REPRO_SHOWN] = {"owt", "hypar", "accpar"};
const double reproduce_paper[REPRO_SHOWN] = {2.98, 3.78, 6.30};
const char reproduce_accels[] = "64xtpu-v2-full,64xtpu-v3-full";

/* What both protocols assume alike. */
static const reproduce_assumption COMMON[] = {
    {"array", "64 TPU-v2 + 64 TPU-v3 (full-size presets), batch 512", 1},
    {"networks", "AlexNet, VGG-11/13/16/19, ResNet-18/34/50", 1},
    {"communication", "the paper's tensor sizes (bf16 conversions, fp32 reductions) over the cut",
     1},
    {"topology", "as chosen (cut: the smaller group's summed links)", 0},
};

static const reproduce_assumption TESTBED[REPRO_OWN_ASSUMPTIONS] = {
    {"baseline ratio",
     "data parallelism balanced under the compute model (its split in samples "
     "minimises the step's compute)",
     0},
    {"OWT and HyPar ratio", "searched per level, heterogeneity-aware, like AccPar's", 0},
    {"AccPar ratio", "searched per level", 1},
    {"compute", "each preset's calibration of the RTL, else the exact cycle contract", 0},
    {"link bandwidth relative to compute", "the presets' link figures times the link scale", 0},
};

static const reproduce_assumption PAPER[REPRO_OWN_ASSUMPTIONS] = {
    {"baseline ratio",
     "1/2 at every level, data parallelism included (the public reference "
     "program's)",
     1},
    {"OWT and HyPar ratio", "1/2 at every level (the reference program's)", 1},
    {"AccPar ratio", "searched per level (the paper credits the flexible ratio to AccPar)", 1},
    {"compute",
     "the peak rate: MACs over the preset's MACs per second (the paper's model is "
     "analytic; its details are not public)",
     0},
    {"link bandwidth relative to compute",
     "the presets' link figures times the link scale (not "
     "known from public sources)",
     0},
};

int reproduce_assumptions(reproduce_protocol p, reproduce_assumption out[REPRO_ASSUMPTIONS]) {
    const reproduce_assumption *own = p == PROTOCOL_PAPER ? PAPER : TESTBED;
    int n = 0;
    for (size_t i = 0; i < sizeof COMMON / sizeof *COMMON; i++)
        out[n++] = COMMON[i];
    for (int i = 0; i < REPRO_OWN_ASSUMPTIONS; i++)
        out[n++] = own[i];
    return n;
}

/* The array with the protocol's compute model, its links scaled and its topology. */
static int make_array(const reproduce_options *o, accel_array *a, char *err, size_t errlen) {
    const char *model = o->compute_model                ? o->compute_model
                        : o->protocol == PROTOCOL_PAPER ? "peak"
                                                        : "calibrated";
    if (accel_array_parse(reproduce_accels, a, err, errlen) != 0 ||
        array_model_select(a, model, NULL, err, errlen) != 0)
        return -1;
    if (!(o->link_scale > 0) || !isfinite(o->link_scale)) {
        snprintf(err, errlen, "--link-scale: %g is not a positive number", o->link_scale);
        return -1;
    }
    for (int k = 0; k < a->n_kinds; k++)
        a->models[k].link_bytes_per_s *= o->link_scale;
    a->topology = o->topology;
    return 0;
}

/* A network's plans: the shown strategies, then data parallelism, each under the protocol. */
static int plan_network(const reproduce_options *o, const net *g, const accel_array *a, plan *p,
                        char *err, size_t errlen) {
    static const strategy shown[REPRO_SHOWN] = {STRATEGY_OWT, STRATEGY_HYPAR, STRATEGY_ACCPAR};
    static const strategy all[REPRO_SHOWN + 1] = {STRATEGY_OWT, STRATEGY_HYPAR, STRATEGY_ACCPAR,
                                                  STRATEGY_DP};
    if (o->protocol == PROTOCOL_TESTBED) {
        plan_options po = {.strat = STRATEGY_DP, .batch = REPRO_BATCH};
        return plan_make_set(g, a, shown, REPRO_SHOWN, &po, p, err, errlen);
    }
    for (int s = 0; s <= REPRO_SHOWN; s++) {
        plan_options po = {.strat = all[s],
                           .batch = REPRO_BATCH,
                           .memory_unchecked = 1, /* compared, never run */
                           .fixed_alpha = all[s] == STRATEGY_ACCPAR ? 0 : 0.5};
        if (plan_make(g, a, &po, &p[s], err, errlen) != 0) {
            for (int t = 0; t < s; t++)
                plan_free(&p[t]);
            return -1;
        }
    }
    return 0;
}

/* Every network's plans under the protocol, into r. */
static int plan_all(const reproduce_options *o, const accel_array *a, reproduce_results *r,
                    char *err, size_t errlen) {
    array_model_label(a, r->model, sizeof r->model);
    for (int k = 0; k < REPRO_NETS; k++) {
        net g;
        plan p[REPRO_SHOWN + 1];
        if (net_find(reproduce_nets[k], &g, err, errlen) != 0)
            return -1;
        int rc = plan_network(o, &g, a, p, err, errlen);
        net_free(&g);
        if (rc != 0)
            return -1;
        for (int s = 0; s <= REPRO_SHOWN; s++) {
            r->step_s[k][s] = p[s].step_s;
            r->compute_s[k][s] = p[s].compute_s;
            r->comm_s[k][s] = p[s].comm_s;
            r->root_alpha[k][s] = p[s].n_levels ? p[s].levels[0].alpha : 1;
        }
        for (int s = 0; s < REPRO_SHOWN; s++) {
            r->speedup[k][s] = plan_speedup(&p[s], &p[REPRO_SHOWN]);
            r->average[s] += r->speedup[k][s] / REPRO_NETS;
        }
        plan_free_set(p, REPRO_SHOWN);
    }
    return 0;
}

int reproduce_run(const reproduce_options *o, reproduce_results *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    accel_array *a = malloc(sizeof *a); /* large: not on the stack */
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = make_array(o, a, err, errlen) == 0 ? plan_all(o, a, r, err, errlen) : -1;
    free(a);
    return rc;
}

double reproduce_scale_reaching(const double *scales, const double *averages, int n,
                                double target) {
    for (int i = n - 1; i > 0; i--) { /* from the fastest links down: the mildest change */
        double a = averages[i] - target, b = averages[i - 1] - target;
        if (a == 0)
            return scales[i];
        if ((a < 0) != (b < 0) || b == 0) {
            double t = a / (a - b), la = log2(scales[i]), lb = log2(scales[i - 1]);
            return exp2(la + t * (lb - la));
        }
    }
    return n > 0 && averages[0] == target ? scales[0] : 0;
}
