/* The step's host-memory account: what the runtime allocates, layer by layer, from the same
 * geometry and sizes the allocations use. */
#include "run_memory.h"

#include "run_layer.h"
#include "run_verify.h"

#include "parallel.h"
#include "plan_memory.h"

/* The process before the step: program, libraries, the models and their caches. */
enum { BASE_BYTES = 256 << 20 };
/* Device memory the host keeps after a free: blocks smaller than the release threshold
 * (host/device/accel.c) stay in host memory, at most this much per device. */
enum { DEVICE_KEPT_BYTES = 64 << 20 };

static uint64_t add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Inserts x into the descending list top[0..n-1], dropping the smallest. */
static void keep_largest(uint64_t *top, int n, uint64_t x) {
    for (int i = 0; i < n; i++)
        if (x > top[i]) {
            uint64_t t = top[i];
            top[i] = x;
            x = t;
        }
}

/* Weighted layer v: its whole tensors and results, every device's operands and results (held
 * until the layer's checks end), the `jobs` largest device working sets (the double images of
 * E(l) its backward GEMM's result is added into; the im2col-shaped operands and result are
 * packed from and taken out of the device directly), and the checks'
 * buffers. Adds the device input pieces kept for the backward sweep to *kept. */
static uint64_t layer_bytes(const run_ctx *c, int v, uint64_t *kept) {
    const net_node *nd = &c->g->nodes[v];
    int n = c->r->n_devices, jobs = c->o->jobs < n ? c->o->jobs : n;
    jobs = jobs > 1 ? jobs : 1;
    jobs = jobs < PARALLEL_MAX_JOBS ? jobs : PARALLEL_MAX_JOBS;
    int64_t batch = c->p->batch, di = nd->cin * nd->k * nd->k, rows = batch * nd->hout * nd->wout;
    int64_t x = batch * nd->cin * run_hw_in(nd);
    uint64_t floats = (uint64_t)(2 * x + 2 * di * nd->cout + 2 * rows * nd->cout),
             top[PARALLEL_MAX_JOBS] = {0};
    for (int d = 0; d < n; d++) {
        int64_t ops[3];
        run_device_operand_elems(c, v, d, ops);
        const run_box *b = run_geom_box(&c->G, v, d, c->G.depths - 1);
        int64_t work = 2 * run_device_error_window(c, v, d) * run_len(b->ci) * run_hw_in(nd);
        floats += (uint64_t)(ops[0] + ops[1] + ops[2]);
        for (int ph = 0; ph < PHASES; ph++)
            floats += (uint64_t)run_device_result_elems(c, v, d, (gemm_phase)ph);
        keep_largest(top, jobs, (uint64_t)work);
        *kept = add(*kept, 4 * (uint64_t)ops[0]);
    }
    for (int i = 0; i < jobs; i++)
        floats += top[i];
    return add(4 * floats, run_verify_host_bytes(c, v));
}

/* A device's working set: its largest GEMM's operands or its largest transfer's staging. */
static uint64_t device_work(const plan *p, int d) {
    return p->memory[d].gemm > p->memory[d].staging ? p->memory[d].gemm : p->memory[d].staging;
}

uint64_t run_page_pool_bytes(const run_ctx *c) {
    const plan *p = c->p;
    int n = p->n_devices, jobs = c->o->jobs < n ? c->o->jobs : n;
    jobs = jobs > 1 ? jobs : 1;
    jobs = jobs < PARALLEL_MAX_JOBS ? jobs : PARALLEL_MAX_JOBS;
    uint64_t top[PARALLEL_MAX_JOBS] = {0}, bytes = 0;
    for (int d = 0; p->memory && d < n; d++)
        keep_largest(top, jobs, device_work(p, d));
    for (int i = 0; i < jobs; i++)
        bytes = add(bytes, top[i]);
    return bytes;
}

uint64_t run_host_bytes(const run_ctx *c) {
    const plan *p = c->p;
    /* device memory: the pages of the GEMMs and transfers running now (the --jobs largest
     * working sets), as many again in the page pool between a free and the next allocation, and
     * the small blocks */
    uint64_t devices = 2 * run_page_pool_bytes(c), kept = 0, layer = 0;
    for (int d = 0; p->memory && d < p->n_devices; d++) {
        uint64_t work = device_work(p, d);
        devices = add(devices, work < DEVICE_KEPT_BYTES ? work : DEVICE_KEPT_BYTES);
    }
    for (int v = 0; v < c->g->n; v++) {
        if (!net_is_weighted(&c->g->nodes[v]))
            continue;
        uint64_t bytes = layer_bytes(c, v, &kept);
        layer = bytes > layer ? bytes : layer;
    }
    return add(add(BASE_BYTES, devices), add(kept, layer));
}
