/* The runtime's shared services (run_ctx.h). */
#include "run_ctx.h"

#include "vec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void run_fail(run_ctx *c, const char *fmt, ...) {
    if (!c->r->verified)
        return;
    c->r->verified = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->r->failure, sizeof c->r->failure, fmt, ap);
    va_end(ap);
}

float *run_floats(run_ctx *c, int64_t n) {
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!p)
        snprintf(c->err, c->errlen, "layer %s: out of host memory (%lld floats)",
                 c->g->nodes[c->node].name, (long long)n);
    return p;
}

void run_timeline(run_ctx *c, const char *what, int node, int level, double t0, double t1,
                  uint64_t bytes) {
    if (!c->o->trace_dir)
        return;
    char row[256];
    int n = snprintf(row, sizeof row, "%s,%s,%d,%.12g,%.12g,%llu\n", what, c->g->nodes[node].name,
                     level, t0, t1, (unsigned long long)bytes);
    char *grown = vec_grow(c->timeline, &c->timeline_cap, c->timeline_len + (size_t)n + 1, 1);
    if (!grown) {
        c->timeline_lost = 1;
        return;
    }
    c->timeline = grown;
    memcpy(c->timeline + c->timeline_len, row, (size_t)n + 1);
    c->timeline_len += (size_t)n;
}

void run_group_name(const run_ctx *c, int level, int pair, int g, char *out, size_t len) {
    const plan_pair *pp = &c->p->levels[level].pairs[pair];
    device_group grp = g == 0 ? pp->i : pp->j;
    snprintf(out, len, "%s (devices %d..%d)", g == 0 ? "i" : "j", grp.first,
             grp.first + grp.count - 1);
}

size_t run_recv_slot(const run_ctx *c, int node, int level, int pair, int g) {
    size_t L = (size_t)c->r->n_levels, D = (size_t)c->r->n_devices;
    return ((((size_t)node * L + (size_t)level) * D + (size_t)pair) * 2) + (size_t)g;
}
