/* The devices of other ranks (docs/scale-out.md). Rank 0 runs the step as one process would and
 * drives the devices placed on other ranks with requests: device memory operations, and a
 * layer's GEMMs with their operands; every other rank serves requests for its own devices until
 * rank 0 ends the step. Without a cluster every device is local and none of this sends anything.
 * Internal to the runtime. */
#ifndef ACCPAR_RUN_REMOTE_H
#define ACCPAR_RUN_REMOTE_H

#include "run_layer.h"

/* Names the protocol's messages for the cluster's errors (at the start of a step). */
void run_remote_start(run_ctx *c);

/* Device memory of device d wherever it is: a local device directly, another rank's by a request
 * to it. Return 0, or -1 with `why` set (the device's error, or the message that was lost). */
int run_dev_alloc(run_ctx *c, int d, uint64_t bytes, uint64_t *addr, char *why, size_t len);
void run_dev_free(run_ctx *c, int d, uint64_t addr);
int run_dev_copy_in(run_ctx *c, int d, uint64_t addr, const void *src, uint64_t bytes, char *why,
                    size_t len);
int run_dev_copy_out(run_ctx *c, int d, uint64_t addr, void *dst, uint64_t bytes, char *why,
                     size_t len);

/* Layer v's GEMMs of the phases on the other ranks' devices: the requests, each with the device's
 * operands (sent before this rank's devices start), then every answer: out[ph][d] and
 * outcome[d] receive each remote device's results and outcome (its error, if it failed), and its
 * counters in c->r are set to its rank's. Return 0, or -1 with c->err set when the ranks'
 * messages failed (then the job ends: cluster_fail). */
int run_remote_gemms_send(run_ctx *c, int v, const run_layer_data *t, phase_set phases);
int run_remote_gemms_recv(run_ctx *c, int v, phase_set phases, float **out[PHASES],
                          run_device_outcome *outcome);

/* Rank 0, at the end of the step: the memory marks (resident, peak) of every remote device into
 * c->r. Returns 0, or -1 with c->err set. */
int run_remote_marks(run_ctx *c);

/* Rank 0: ends the step on every other rank, telling them its outcome rc, and waits for each to
 * acknowledge it. Returns 0, or -1 (the job then ends: cluster_fail) with c->err set if rc was
 * 0. */
int run_remote_release(run_ctx *c, int rc, int verified);

/* Every other rank: serves rank 0's requests for this rank's devices until it ends the step;
 * returns rank 0's outcome (*verified too). */
int run_serve(run_ctx *c, int *verified);

#endif
