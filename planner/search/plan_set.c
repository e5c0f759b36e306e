#include "plan_set.h"

static void free_first(plan *out, int made) {
    for (int s = 0; s < made; s++)
        plan_free(&out[s]);
}

int plan_make_set(const net *g, const accel_array *a, const strategy *list, int n,
                  const plan_options *o, plan *out, char *err, size_t errlen) {
    for (int s = 0; s <= n; s++) {
        plan_options os = *o;
        os.strat = s < n ? list[s] : STRATEGY_DP;
        os.memory_unchecked = os.memory_unchecked || s == n;
        int rc = plan_make(g, a, &os, &out[s], err, errlen);
        if (rc != 0) {
            free_first(out, s);
            return rc;
        }
    }
    return 0;
}

void plan_free_set(plan *out, int n) {
    free_first(out, n + 1);
}
