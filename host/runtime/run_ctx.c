/* The runtime's shared services (run_ctx.h). */
#define _DEFAULT_SOURCE /* madvise */
#include "run_ctx.h"

#include "vec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void run_fail(run_ctx *c, const char *fmt, ...) {
    if (!c->r->verified)
        return;
    c->r->verified = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->r->failure, sizeof c->r->failure, fmt, ap);
    va_end(ap);
}

/* A host buffer; a large one asks for 2 MiB pages where the kernel allows them (the step's
 * layer-sized buffers would otherwise fault in 4 KiB at a time). */
enum { HUGE_MIN_BYTES = 8 << 20, HUGE_PAGE = 2 << 20 };

static void *host_buffer(run_ctx *c, int64_t n, size_t size, const char *what) {
    size_t bytes = size * (size_t)(n > 0 ? n : 1);
    void *p = malloc(bytes);
    if (!p) {
        snprintf(c->err, c->errlen, "layer %s: out of host memory (%lld %s)",
                 c->g->nodes[c->node].name, (long long)n, what);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_MIN_BYTES) {
        uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        uintptr_t hi = ((uintptr_t)p + bytes) / HUGE_PAGE * HUGE_PAGE;
        if (hi > lo)
            madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return p;
}

float *run_floats(run_ctx *c, int64_t n) {
    return host_buffer(c, n, sizeof(float), "floats");
}

double *run_doubles(run_ctx *c, int64_t n) {
    return host_buffer(c, n, sizeof(double), "doubles");
}

void run_event_add(run_ctx *c, const run_event *e) {
    if (!c->o->trace_dir && !c->o->trace_events)
        return;
    run_event *grown = vec_grow(c->events, &c->events_cap, c->n_events + 1, sizeof *grown);
    if (!grown) {
        c->events_lost = 1;
        return;
    }
    c->events = grown;
    c->events[c->n_events++] = *e;
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
