/* accpar calibrate --compare: plan one network with the peak-rate model and with the calibrated
 * model, emulate both plans, and report which trains faster (docs/calibration.md). */
#ifndef ACCPAR_CAL_COMPARE_H
#define ACCPAR_CAL_COMPARE_H

#include "run.h"

typedef struct compare_args {
    const char *net, *accels, *calibration, *json;
    const char *placement; /* under mpirun: --placement (cli_ranks.h) */
    double scale, image_scale;
    strategy strat;
    int64_t batch;
    run_options o;
} compare_args;

/* Returns the exit status: 0 both runs verified, 1 a check failed, 2 bad input. */
int cal_compare(const compare_args *a);

#endif
