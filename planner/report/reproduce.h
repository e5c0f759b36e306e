/* The AccPar paper's experiment (docs/reproduce.md): eight networks at batch 512 on 64 TPU-v2 +
 * 64 TPU-v3, each strategy's speedup over data parallelism, under a protocol that says which
 * modelling choices are made and which of them are published and which inferred. */
#ifndef ACCPAR_REPRODUCE_H
#define ACCPAR_REPRODUCE_H

#include "accel_array.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { REPRO_NETS = 8, REPRO_SHOWN = 3, REPRO_BATCH = 512 };

/* testbed: every strategy gets a heterogeneity-aware ratio under the testbed's model (data
 *   parallelism balanced, the others searched), compute from each preset's calibration or the
 *   exact contract, the presets' links.
 * paper: the reference program's assumptions as far as they are known: the baselines at ratio
 *   1/2 at every level (data parallelism included), AccPar's ratio searched, compute at the peak
 *   rate, the presets' links. */
typedef enum reproduce_protocol { PROTOCOL_TESTBED, PROTOCOL_PAPER } reproduce_protocol;
extern const char *const reproduce_protocol_names[]; /* "testbed", "paper", NULL */

extern const char *const reproduce_nets[REPRO_NETS];
extern const char *const reproduce_shown[REPRO_SHOWN]; /* owt, hypar, accpar */
extern const double reproduce_paper[REPRO_SHOWN];      /* the paper's average speedups */
extern const char reproduce_accels[];

typedef struct reproduce_options {
    reproduce_protocol protocol;
    const char *compute_model; /* "calibrated", "exact", "peak", or NULL: the protocol's */
    double link_scale;         /* every link's bandwidth times this (1: the presets') */
    array_topology topology;
} reproduce_options;

/* One modelling choice of a protocol and where it comes from. */
typedef struct reproduce_assumption {
    const char *what, *choice;
    int published; /* 1: stated by the paper or its public reference program; 0: inferred */
} reproduce_assumption;

enum { REPRO_OWN_ASSUMPTIONS = 5, REPRO_ASSUMPTIONS = 4 + REPRO_OWN_ASSUMPTIONS };

/* The protocol's assumptions into out; returns their count. */
int reproduce_assumptions(reproduce_protocol p, reproduce_assumption out[REPRO_ASSUMPTIONS]);

typedef struct reproduce_results {
    /* [network][strategy]: owt, hypar, accpar, then dp (the baseline) */
    double step_s[REPRO_NETS][REPRO_SHOWN + 1];
    double compute_s[REPRO_NETS][REPRO_SHOWN + 1], comm_s[REPRO_NETS][REPRO_SHOWN + 1];
    double root_alpha[REPRO_NETS][REPRO_SHOWN + 1];
    double speedup[REPRO_NETS][REPRO_SHOWN];
    double average[REPRO_SHOWN]; /* arithmetic mean over the networks */
    char model[1024];            /* the compute model the plans used (array_model_label) */
} reproduce_results;

/* Plans every network with every strategy under the options. -1 with a one-line error. */
int reproduce_run(const reproduce_options *o, reproduce_results *r, char *err, size_t errlen);

/* The link scale at which a strategy's average first reaches `target` between sweep points
 * (scales[n] ascending, averages[n]), interpolated in log2(scale); 0 if it is never reached. */
double reproduce_scale_reaching(const double *scales, const double *averages, int n, double target);

#ifdef __cplusplus
}
#endif

#endif
