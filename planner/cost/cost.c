#include "cost.h"

#include <math.h>
#include <stdio.h>

int cost_split(int64_t d, double alpha, int64_t *di, int64_t *dj) {
    *di = (int64_t)llround(alpha * (double)d);
    *dj = d - *di;
    return *di >= 1 && *dj >= 1 ? 0 : -1;
}

int64_t cost_convert_elems(layout from, layout to, int64_t bt, int64_t ct, int64_t hw,
                           int64_t b_own, int64_t c_own) {
    if (from == to || from == LAYOUT_REP)
        return 0;
    if (from == LAYOUT_B)
        return (bt - b_own) * (to == LAYOUT_C ? c_own : ct) * hw;
    return (to == LAYOUT_B ? b_own : bt) * (ct - c_own) * hw;
}

int64_t cost_intra_elems(const net_node *nd, layer_type type, int64_t b, int64_t ci, int64_t co) {
    if (type == TYPE_I)
        return ci * nd->k * nd->k * co;
    if (type == TYPE_II)
        return b * co * nd->hout * nd->wout;
    return b * ci * nd->hin * nd->win;
}

double cost_transfer_s(uint64_t bytes, double bytes_per_s, double latency_s) {
    return bytes == 0 ? 0.0 : (double)bytes / bytes_per_s + latency_s;
}

void cost_layer_gemms(const net_node *nd, int needs_backward, int64_t b, int64_t ci, int64_t co,
                      gemm_dims out[PHASES]) {
    int64_t rows = b * nd->hout * nd->wout, di = ci * nd->k * nd->k;
    out[PHASE_FORWARD] = (gemm_dims){rows, di, co};
    out[PHASE_BACKWARD] = needs_backward ? (gemm_dims){rows, co, di} : (gemm_dims){0, 0, 0};
    out[PHASE_GRADIENT] = (gemm_dims){di, rows, co};
}

int cost_gemms_seconds(const accel_preset *p, const device_model *m, const gemm_dims g[PHASES],
                       double *seconds, char *err, size_t errlen) {
    double cycles = 0, one;
    for (int i = 0; i < PHASES; i++) {
        if (g[i].m == 0)
            continue;
        if (device_model_cycles(p, m, g[i].m, g[i].k, g[i].n, &one, err, errlen) != 0)
            return -1;
        if (net_mul3_cap(g[i].m, g[i].k, g[i].n, NET_MAX_MACS) > NET_MAX_MACS) {
            snprintf(err, errlen, "GEMM %lldx%lldx%lld exceeds 2^48 multiply-accumulates",
                     (long long)g[i].m, (long long)g[i].k, (long long)g[i].n);
            return -1;
        }
        cycles += one;
    }
    *seconds = cycles / (p->clock_mhz * 1e6);
    return 0;
}
