/* Several strategies' plans of one network with the data-parallel baseline they are compared
 * with, as the plan and reproduce commands need them. */
#ifndef ACCPAR_PLAN_SET_H
#define ACCPAR_PLAN_SET_H

#include "plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Plans g for strategies list[0 .. n) into out[0 .. n) and for data parallelism into out[n],
 * each with o's batch and searched levels (o->strat is not used); the baseline out[n] need not
 * fit the devices' memory. On error frees the plans it made and returns plan_make's error with
 * the one-line message. */
int plan_make_set(const net *g, const accel_array *a, const strategy *list, int n,
                  const plan_options *o, plan *out, char *err, size_t errlen);

/* Frees out[0 .. n], as made by plan_make_set. */
void plan_free_set(plan *out, int n);

#ifdef __cplusplus
}
#endif

#endif
