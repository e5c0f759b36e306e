/* The step's host memory, accounted before anything large is allocated (docs/runtime.md,
 * "Host memory"). Internal to the runtime. */
#ifndef ACCPAR_RUN_MEMORY_H
#define ACCPAR_RUN_MEMORY_H

#include "run_ctx.h"

/* The most host memory the step holds at once, in bytes, when one process runs every device
 * (with ranks, rank 0 holds less: other ranks compute their devices' working sets): the
 * process's own base, device memory in use, the kept layer inputs, and the largest layer's
 * tensors, device pieces, working buffers and checks. Needs c->G. */
uint64_t run_host_bytes(const run_ctx *c);

/* The page pool's limit for the step (host/device/page_pool.h): the --jobs largest device
 * working sets, what the devices running at once free and allocate again. */
uint64_t run_page_pool_bytes(const run_ctx *c);

#endif
