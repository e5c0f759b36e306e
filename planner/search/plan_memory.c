#include "plan_memory.h"

#include "systolic_model.h"

#include <stdio.h>
#include <string.h>

static uint64_t words_up(uint64_t bytes, uint64_t bw) {
    return bytes > UINT64_MAX - bw ? UINT64_MAX : (bytes + bw - 1) / bw * bw;
}

/* The device's shares of a weighted node's W and dW (fp32) and kept input (bf16), from the
 * node's forward GEMM on it: k = input channels x k x k, n = output channels, m = samples x
 * output pixels. */
static uint64_t resident_of(const net_node *nd, const gemm_dims *fw, uint64_t bw) {
    if (fw->m == 0)
        return 0;
    uint64_t weights = sat_mul((uint64_t)fw->k, (uint64_t)fw->n);
    uint64_t samples = (uint64_t)(fw->m / (nd->hout * nd->wout));
    uint64_t channels = (uint64_t)(fw->k / (nd->k * nd->k));
    uint64_t kept = sat_mul(sat_mul(samples, channels), (uint64_t)(nd->hin * nd->win));
    uint64_t w = words_up(sat_mul(weights, MEMORY_WEIGHT_BYTES), bw);
    return sat_add(sat_add(w, w), words_up(sat_mul(kept, MEMORY_KEPT_BYTES), bw));
}

static uint64_t gemm_bytes(const accel_preset *pr, const gemm_dims *d) {
    gemm_schedule s;
    char why[256];
    if (d->m == 0 || gemm_schedule_make(pr, d->m, d->k, d->n, 0, &s, why, sizeof why) != 0)
        return 0;
    gemm_operands o;
    gemm_operands_of(&s, &o);
    return gemm_operand_bytes(&o);
}

/* The largest bytes both groups of a split receive for one layer, and that layer (-1: none). */
static uint64_t largest_receipt(const plan *p, const plan_pair *pp, int *node) {
    uint64_t most = 0;
    *node = -1;
    for (int v = 0; v < p->n_nodes; v++) {
        uint64_t both = 0;
        for (int g = 0; g < 2; g++)
            both = sat_add(both, sat_add(pp->intra_bytes[v], pp->inter_bytes[2 * v + g]));
        if (both > most) {
            most = both;
            *node = v;
        }
    }
    return most;
}

/* Per split and layer, the leaders of both groups stage what each group receives (sent by one,
 * received by the other): the transfers of one communication phase are a part of that. Splits
 * sharing their byte arrays (plan.h) are scanned once. */
static void add_staging(const plan *p, const accel_array *a, plan_memory *out) {
    for (int h = 0; h < p->n_levels; h++) {
        const plan_level *lv = &p->levels[h];
        enum { SEEN = 8 };
        struct {
            const uint64_t *bytes;
            uint64_t most;
            int node;
        } seen[SEEN] = {{0}};
        for (int q = 0; q < lv->n_pairs; q++) {
            const plan_pair *pp = &lv->pairs[q];
            int s = 0;
            while (s < SEEN && seen[s].bytes && seen[s].bytes != pp->intra_bytes)
                s++;
            if (s == SEEN)
                s = q % SEEN;
            if (seen[s].bytes != pp->intra_bytes) {
                seen[s].bytes = pp->intra_bytes;
                seen[s].most = largest_receipt(p, pp, &seen[s].node);
            }
            uint64_t most = seen[s].most;
            int node = seen[s].node;
            for (int side = 0; node >= 0 && side < 2; side++) {
                int d = side ? pp->j.first : pp->i.first;
                uint64_t bw = (uint64_t)a->kinds[a->kind_of[d]].mem_bytes_per_cycle;
                uint64_t need = sat_add(most, 2 * bw);
                if (need > out[d].staging) {
                    out[d].staging = need;
                    out[d].staging_node = node;
                }
            }
        }
    }
}

void plan_memory_of(const net *g, const accel_array *a, const plan *p, plan_memory *out) {
    for (int d = 0; d < p->n_devices; d++) {
        const accel_preset *pr = &a->kinds[a->kind_of[d]];
        uint64_t bw = (uint64_t)pr->mem_bytes_per_cycle;
        plan_memory *m = &out[d];
        *m = (plan_memory){
            .gemm_node = -1, .staging_node = -1, .capacity = (uint64_t)pr->mem_mib << 20};
        int alike = 0; /* an earlier device of the same kind and GEMMs needs the same */
        while (alike < d &&
               (a->kind_of[alike] != a->kind_of[d] || p->class_of[alike] != p->class_of[d]))
            alike++;
        if (alike < d) {
            *m = out[alike];
            continue;
        }
        for (int v = 0; v < g->n; v++) {
            if (!net_is_weighted(&g->nodes[v]))
                continue;
            m->resident = sat_add(m->resident,
                                  resident_of(&g->nodes[v], plan_gemm(p, d, v, PHASE_FORWARD), bw));
            for (int ph = 0; ph < PHASES; ph++) {
                uint64_t b = gemm_bytes(pr, plan_gemm(p, d, v, (gemm_phase)ph));
                if (b > m->gemm) {
                    m->gemm = b;
                    m->gemm_node = v;
                    m->gemm_phase = (gemm_phase)ph;
                }
            }
        }
    }
    add_staging(p, a, out);
    for (int d = 0; d < p->n_devices; d++)
        out[d].peak =
            sat_add(out[d].resident, out[d].gemm > out[d].staging ? out[d].gemm : out[d].staging);
}

int plan_memory_check(const net *g, const accel_array *a, const plan_memory *m, char *err,
                      size_t errlen) {
    for (int d = 0; d < a->n; d++) {
        if (m[d].peak <= m[d].capacity)
            continue;
        const double mib = 1048576.0;
        char where[256] = "";
        if (m[d].gemm >= m[d].staging && m[d].gemm_node >= 0)
            snprintf(where, sizeof where, " at layer %s %s (GEMM %.1f MiB)",
                     g->nodes[m[d].gemm_node].name, phase_name(m[d].gemm_phase), m[d].gemm / mib);
        else if (m[d].staging_node >= 0)
            snprintf(where, sizeof where, " at layer %s's transfers (%.1f MiB)",
                     g->nodes[m[d].staging_node].name, m[d].staging / mib);
        snprintf(err, errlen,
                 "device %d (%s) needs %.1f MiB of device memory%s on top of %.1f MiB of weights, "
                 "gradients and kept activations; preset '%s' has %d MiB",
                 d, a->kinds[a->kind_of[d]].name, m[d].peak / mib, where, m[d].resident / mib,
                 a->kinds[a->kind_of[d]].name, a->kinds[a->kind_of[d]].mem_mib);
        return -1;
    }
    return 0;
}
