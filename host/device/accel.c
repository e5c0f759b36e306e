/* The device API's front end: device memory, allocation, command checking and queueing.
 * Backends (golden_device.c, sim/rtl/) only ever see valid commands. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "accel_api.h"
#include "accel_backend.h"
#include "page_pool.h"

#include "vec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct block {
    uint64_t addr, bytes;
} block;

struct accel_dev {
    accel_preset preset;
    accel_backend backend;
    const accel_backend_ops *ops;
    void *state;
    uint8_t *mem;
    uint64_t mem_bytes;
    uint8_t *filled; /* per PAGE_POOL_PAGE of memory: 1 if it may hold pages (touched since
                        open or since its pages went to the pool) */
    block *blocks;   /* allocations, sorted by address */
    size_t nblocks, cap_blocks;
    uint64_t allocated, allocated_peak; /* bytes in allocations (port-word multiples) */
    accel_cmd *queue;
    size_t nqueue, cap_queue;
    uint32_t shadow_valid; /* which MXUs have weights waiting, as the queued commands leave it */
    cycle_breakdown base;  /* counters at the last reset */
    int ran;               /* a command has executed (tracing must start before) */
    char err[512];
};

static accel_status fail(accel_dev *dev, accel_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dev->err, sizeof dev->err, fmt, ap);
    va_end(ap);
    return st;
}

const char *const accel_backend_names[ACCEL_BACKENDS + 1] = {"golden", "rtl", "replay", NULL};

const char *accel_backend_name(accel_backend backend) {
    return (unsigned)backend < ACCEL_BACKENDS ? accel_backend_names[backend] : "unknown";
}

int accel_backend_parse(const char *name, accel_backend *out) {
    for (int b = 0; b < ACCEL_BACKENDS; b++) {
        if (strcmp(name, accel_backend_names[b]) == 0) {
            *out = (accel_backend)b;
            return 0;
        }
    }
    return -1;
}

accel_status accel_open_backend(const accel_preset *preset, accel_backend backend,
                                const accel_backend_ops *ops, accel_dev **out, char *err,
                                size_t errlen) {
    *out = NULL;
    accel_dev *dev = calloc(1, sizeof *dev);
    if (!dev) {
        snprintf(err, errlen, "out of host memory");
        return ACCEL_ENOMEM;
    }
    dev->preset = *preset;
    dev->backend = backend;
    dev->ops = ops;
    dev->mem_bytes = (uint64_t)preset->mem_mib << 20;
    /* Reserved, not committed: a page takes host memory when first touched, so a device may
     * have its chip's 32 GiB while a run uses what it touches. */
    dev->mem = mmap(NULL, dev->mem_bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    dev->filled = calloc(dev->mem_bytes / PAGE_POOL_PAGE + 2, 1);
    if (dev->mem == MAP_FAILED || !dev->filled) {
        if (dev->mem != MAP_FAILED)
            munmap(dev->mem, dev->mem_bytes);
        free(dev->filled);
        snprintf(err, errlen, "preset '%s': cannot allocate %d MiB of device memory", preset->name,
                 preset->mem_mib);
        free(dev);
        return ACCEL_ENOMEM;
    }
#ifdef MADV_HUGEPAGE
    /* 2 MiB pages where the kernel allows them: a GEMM's operands fault in 512x less often */
    madvise(dev->mem, dev->mem_bytes, MADV_HUGEPAGE);
#endif
    if (dev->ops->open(preset, dev->mem, dev->mem_bytes, &dev->state, err, errlen) != 0) {
        munmap(dev->mem, dev->mem_bytes);
        free(dev->filled);
        free(dev);
        return ACCEL_EBACKEND;
    }
    *out = dev;
    return ACCEL_OK;
}

void accel_close(accel_dev *dev) {
    if (!dev)
        return;
    dev->ops->close(dev->state);
    munmap(dev->mem, dev->mem_bytes);
    free(dev->filled);
    free(dev->blocks);
    free(dev->queue);
    free(dev);
}

const accel_preset *accel_preset_of(const accel_dev *dev) {
    return &dev->preset;
}

uint64_t accel_mem_peak(const accel_dev *dev) {
    return dev->allocated_peak;
}

const char *accel_last_error(const accel_dev *dev) {
    return dev->err;
}

/* Device memory as whole PAGE_POOL_PAGE pages of the host's address space: the pages that
 * [addr, addr + bytes) covers, whole (lo .. hi - 1) or in part (first .. last), as indices into
 * dev->filled. */
typedef struct page_span {
    uintptr_t lo, hi, first, last;
} page_span;

static page_span pages_of(const accel_dev *dev, uint64_t addr, uint64_t bytes) {
    const uintptr_t P = PAGE_POOL_PAGE, first_page = (uintptr_t)dev->mem / P;
    uintptr_t start = (uintptr_t)dev->mem + addr, end = start + bytes;
    return (page_span){(start + P - 1) / P - first_page, end / P - first_page,
                       start / P - first_page, (end - 1) / P - first_page};
}

static uint8_t *page_at(const accel_dev *dev, uintptr_t i) {
    const uintptr_t P = PAGE_POOL_PAGE;
    return (uint8_t *)(((uintptr_t)dev->mem / P + i) * P);
}

/* A new allocation's empty whole pages take pages from the pool (freed by any device, so the
 * host does not zero fresh ones); every page it touches may then hold data. */
static void fill_pages(accel_dev *dev, uint64_t addr, uint64_t bytes) {
    page_span s = pages_of(dev, addr, bytes);
    for (uintptr_t i = s.lo; i < s.hi; i++)
        if (!dev->filled[i] && !page_pool_take(page_at(dev, i)))
            break; /* the pool is empty */
    for (uintptr_t i = s.first; i <= s.last; i++)
        dev->filled[i] = 1;
}

accel_status accel_alloc(accel_dev *dev, uint64_t bytes, uint64_t *addr) {
    uint64_t align = (uint64_t)dev->preset.mem_bytes_per_cycle;
    if (bytes == 0)
        return fail(dev, ACCEL_EINVAL, "alloc: size 0");
    if (bytes > dev->mem_bytes)
        return fail(dev, ACCEL_ENOMEM, "alloc: %llu bytes exceed device memory (%llu)",
                    (unsigned long long)bytes, (unsigned long long)dev->mem_bytes);
    uint64_t size = (bytes + align - 1) / align * align, at = 0;
    size_t i = 0;
    for (; i < dev->nblocks; i++) { /* first fit */
        if (dev->blocks[i].addr - at >= size)
            break;
        at = dev->blocks[i].addr + dev->blocks[i].bytes;
    }
    if (dev->mem_bytes - at < size)
        return fail(dev, ACCEL_ENOMEM, "alloc: no free range of %llu bytes in device memory",
                    (unsigned long long)size);
    block *b = vec_grow(dev->blocks, &dev->cap_blocks, dev->nblocks + 1, sizeof *b);
    if (!b)
        return fail(dev, ACCEL_ENOMEM, "alloc: out of host memory");
    dev->blocks = b;
    memmove(dev->blocks + i + 1, dev->blocks + i, (dev->nblocks - i) * sizeof *dev->blocks);
    dev->blocks[i] = (block){at, size};
    fill_pages(dev, at, size);
    dev->nblocks++;
    dev->allocated += size;
    if (dev->allocated > dev->allocated_peak)
        dev->allocated_peak = dev->allocated;
    *addr = at;
    return ACCEL_OK;
}

/* Gives a freed block's whole pages to the pool (or back to the host), so the host holds what
 * the devices hold now, not the most each ever held; the range reads as zeros until an
 * allocation takes pooled pages into it. Small blocks keep theirs (not worth the moves). */
enum { RELEASE_MIN_BYTES = 4 << 20 };

static void release(accel_dev *dev, const block *b) {
    if (b->bytes < RELEASE_MIN_BYTES)
        return;
    page_span s = pages_of(dev, b->addr, b->bytes);
    for (uintptr_t i = s.lo; i < s.hi; i++) {
        page_pool_put(page_at(dev, i));
        dev->filled[i] = 0;
    }
}

accel_status accel_free(accel_dev *dev, uint64_t addr) {
    for (size_t i = 0; i < dev->nblocks; i++) {
        if (dev->blocks[i].addr == addr) {
            release(dev, &dev->blocks[i]);
            dev->allocated -= dev->blocks[i].bytes;
            memmove(dev->blocks + i, dev->blocks + i + 1,
                    (dev->nblocks - i - 1) * sizeof *dev->blocks);
            dev->nblocks--;
            return ACCEL_OK;
        }
    }
    return fail(dev, ACCEL_EINVAL, "free: 0x%llx is not an allocation", (unsigned long long)addr);
}

/* [addr, addr+bytes) must lie inside one allocation. */
static accel_status check_range(accel_dev *dev, const char *what, uint64_t addr, uint64_t bytes) {
    for (size_t i = 0; i < dev->nblocks; i++) {
        const block *b = &dev->blocks[i];
        if (addr >= b->addr && addr - b->addr <= b->bytes && bytes <= b->bytes - (addr - b->addr))
            return ACCEL_OK;
    }
    return fail(dev, ACCEL_ERANGE, "%s: bytes 0x%llx..+%llu are not inside one allocation", what,
                (unsigned long long)addr, (unsigned long long)bytes);
}

void *accel_map(accel_dev *dev, uint64_t addr, uint64_t bytes) {
    if (dev->nqueue) {
        fail(dev, ACCEL_EBUSY, "map: %zu commands queued; call accel_wait first", dev->nqueue);
        return NULL;
    }
    return check_range(dev, "map", addr, bytes) == ACCEL_OK ? dev->mem + addr : NULL;
}

accel_status accel_copy_in(accel_dev *dev, uint64_t addr, const void *src, uint64_t bytes) {
    if (dev->nqueue)
        return fail(dev, ACCEL_EBUSY, "copy_in: %zu commands queued; call accel_wait first",
                    dev->nqueue);
    accel_status st = check_range(dev, "copy_in", addr, bytes);
    if (st == ACCEL_OK)
        memcpy(dev->mem + addr, src, bytes);
    return st;
}

accel_status accel_copy_out(accel_dev *dev, uint64_t addr, void *dst, uint64_t bytes) {
    if (dev->nqueue)
        return fail(dev, ACCEL_EBUSY, "copy_out: %zu commands queued; call accel_wait first",
                    dev->nqueue);
    accel_status st = check_range(dev, "copy_out", addr, bytes);
    if (st == ACCEL_OK)
        memcpy(dst, dev->mem + addr, bytes);
    return st;
}

static uint32_t low_mask(uint32_t n) {
    return n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1u;
}

static accel_status check_dma(accel_dev *dev, const char *op, uint64_t addr, uint64_t bytes) {
    if (addr % (uint64_t)dev->preset.mem_bytes_per_cycle)
        return fail(dev, ACCEL_EINVAL, "%s: field 'addr': 0x%llx is not a multiple of %d", op,
                    (unsigned long long)addr, dev->preset.mem_bytes_per_cycle);
    return check_range(dev, op, addr, bytes);
}

static accel_status check_rows(accel_dev *dev, const char *op, const char *field, uint32_t off,
                               uint32_t rows, int depth) {
    if (rows == 0)
        return fail(dev, ACCEL_EINVAL, "%s: field 'rows': must be at least 1", op);
    if (off >= (uint32_t)depth || rows > (uint32_t)depth - off)
        return fail(dev, ACCEL_ERANGE, "%s: field '%s': rows %u..%u outside the buffer of %d", op,
                    field, off, off + rows - 1, depth);
    return ACCEL_OK;
}

static accel_status check_cmd(accel_dev *dev, const accel_cmd *c) {
    const accel_preset *p = &dev->preset;
    const uint64_t R = (uint64_t)p->array_rows, C = (uint64_t)p->array_cols;
    const uint32_t X = (uint32_t)p->mxus;
    accel_status st;
    switch (c->op) {
    case ACCEL_LOAD_A:
        if ((st = check_rows(dev, "LOAD_A", "act_off", c->act_off, c->rows, p->act_buffer_rows)))
            return st;
        return check_dma(dev, "LOAD_A", c->addr, (uint64_t)c->rows * 2 * R);
    case ACCEL_LOAD_W:
        if (c->mxus < 1 || c->mxus > X)
            return fail(dev, ACCEL_EINVAL, "LOAD_W: field 'mxus': %u outside 1..%u", c->mxus, X);
        return check_dma(dev, "LOAD_W", c->addr, (uint64_t)c->mxus * 2 * R * C);
    case ACCEL_LOAD_ACC:
    case ACCEL_STORE: {
        const char *op = c->op == ACCEL_STORE ? "STORE" : "LOAD_ACC";
        if (c->mxu >= X)
            return fail(dev, ACCEL_EINVAL, "%s: field 'mxu': %u outside 0..%u", op, c->mxu, X - 1);
        if ((st = check_rows(dev, op, "acc_off", c->acc_off, c->rows, p->acc_buffer_rows)))
            return st;
        return check_dma(dev, op, c->addr, (uint64_t)c->rows * 4 * C);
    }
    case ACCEL_MATMUL:
        if (c->mxus < 1 || c->mxus > X)
            return fail(dev, ACCEL_EINVAL, "MATMUL: field 'mxus': %u outside 1..%u", c->mxus, X);
        if (c->pf_mxus > X)
            return fail(dev, ACCEL_EINVAL, "MATMUL: field 'pf_mxus': %u outside 0..%u", c->pf_mxus,
                        X);
        if ((st = check_rows(dev, "MATMUL", "act_off", c->act_off, c->rows, p->act_buffer_rows)))
            return st;
        if ((st = check_rows(dev, "MATMUL", "acc_off", c->acc_off, c->rows, p->acc_buffer_rows)))
            return st;
        if ((dev->shadow_valid & low_mask(c->mxus)) != low_mask(c->mxus))
            return fail(dev, ACCEL_EINVAL,
                        "MATMUL: field 'mxus': weights of MXUs 0..%u were not loaded", c->mxus - 1);
        if (c->pf_mxus)
            return check_dma(dev, "MATMUL", c->pf_addr, (uint64_t)c->pf_mxus * 2 * R * C);
        return ACCEL_OK;
    }
    return fail(dev, ACCEL_EINVAL, "command: field 'op': unknown opcode %d", (int)c->op);
}

accel_status accel_issue(accel_dev *dev, const accel_cmd *cmd) {
    accel_status st = check_cmd(dev, cmd);
    if (st != ACCEL_OK)
        return st;
    accel_cmd *q = vec_grow(dev->queue, &dev->cap_queue, dev->nqueue + 1, sizeof *q);
    if (!q)
        return fail(dev, ACCEL_ENOMEM, "issue: out of host memory for the command queue");
    dev->queue = q;
    dev->queue[dev->nqueue++] = *cmd;
    if (cmd->op == ACCEL_LOAD_W)
        dev->shadow_valid |= low_mask(cmd->mxus);
    if (cmd->op == ACCEL_MATMUL)
        dev->shadow_valid = (dev->shadow_valid & ~low_mask(cmd->mxus)) | low_mask(cmd->pf_mxus);
    return ACCEL_OK;
}

accel_status accel_wait(accel_dev *dev) {
    if (dev->nqueue == 0)
        return ACCEL_OK;
    size_t n = dev->nqueue;
    dev->nqueue = 0;
    dev->ran = 1;
    if (dev->ops->execute(dev->state, dev->queue, n, dev->err, sizeof dev->err) != 0)
        return ACCEL_EDEVICE;
    return ACCEL_OK;
}

accel_status accel_read_counters(accel_dev *dev, cycle_breakdown *out) {
    cycle_breakdown now;
    dev->ops->counters(dev->state, &now);
    out->total = now.total - dev->base.total;
    out->busy = now.busy - dev->base.busy;
    out->stall = now.stall - dev->base.stall;
    out->commands = now.commands - dev->base.commands;
    out->macs = now.macs - dev->base.macs;
    return ACCEL_OK;
}

accel_status accel_reset_counters(accel_dev *dev) {
    if (dev->nqueue)
        return fail(dev, ACCEL_EBUSY, "reset_counters: commands queued; call accel_wait first");
    dev->ops->counters(dev->state, &dev->base);
    return ACCEL_OK;
}

uint64_t accel_trace_bytes_estimate(const accel_preset *p, uint64_t cycles) {
    uint64_t per_cycle = 1024 + 16 * (uint64_t)p->mem_bytes_per_cycle;
    return cycles > UINT64_MAX / per_cycle ? UINT64_MAX : cycles * per_cycle;
}

accel_status accel_trace(accel_dev *dev, const char *path) {
    if (!dev->ops->trace)
        return fail(dev, ACCEL_EBACKEND, "trace: the %s backend has no waveforms (use rtl)",
                    accel_backend_name(dev->backend));
    if (dev->ran || dev->nqueue)
        return fail(dev, ACCEL_EBUSY, "trace: must be requested before the first command");
    if (dev->ops->trace(dev->state, path, dev->err, sizeof dev->err) != 0)
        return ACCEL_EINVAL;
    return ACCEL_OK;
}
