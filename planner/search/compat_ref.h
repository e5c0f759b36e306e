/* Reference-compatible mode: the public reference program's partition search, ported exactly
 * (communication element counts only, alpha = 1/2, batch 512, 7 levels, its greedy ResNet
 * shortcut term and its quirks). docs/cost-model.md, "Reference-compatible mode". */
#ifndef ACCPAR_COMPAT_REF_H
#define ACCPAR_COMPAT_REF_H

#include "ref_net.h"
#include "strategy.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { REF_LEVELS = 7, REF_BATCH = 512 };

/* Fills grid[h * r->n + l] with the type (0 = I, 1 = II, 2 = III) of layer l at level h,
 * h = 0 .. REF_LEVELS-1, as the reference program chooses them for strategy s.
 * Returns -1 only when out of memory. */
int ref_plan(const ref_net *r, strategy s, int *grid);

#ifdef __cplusplus
}
#endif

#endif
