/* The emulated platform, as the runtime sees it: N devices, each in its own clock domain, joined
 * by full-duplex links with bandwidth and latency, and one simulated clock (SystemC time).
 * Implemented in sim/platform/platform.cpp; the runtime never includes a SystemC header.
 * Time model and topology: docs/runtime.md. Every call returns 0 or -1 with a one-line reason
 * in err; nothing here aborts. */
#ifndef ACCPAR_PLATFORM_API_H
#define ACCPAR_PLATFORM_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct platform platform;

/* A platform of n devices whose clocks run at clock_mhz[d]. Simulated time starts at 0. The
 * platforms of a process share its one SystemC kernel and clock: use one at a time. */
int platform_open(int n, const double *clock_mhz, platform **out, char *err, size_t errlen);
void platform_close(platform *p);

/* Adds a full-duplex link (both directions at bytes_per_s, each transfer paying latency_s);
 * returns its id (0, 1, ...) or -1. */
int platform_add_link(platform *p, double bytes_per_s, double latency_s, char *err, size_t errlen);

/* A compute phase: device d works cycles[d] of its own clock, starting at its next clock edge;
 * returns when every device is done (a barrier). */
int platform_compute(platform *p, const uint64_t *cycles, char *err, size_t errlen);

/* One transfer on a link in one direction (0 or 1). */
typedef struct platform_xfer {
    int link, dir;
    uint64_t bytes;
} platform_xfer;

/* A communication phase: the transfers start together; each direction of a link carries one
 * transfer at a time (in array order), for latency + bytes / bandwidth. Returns at the last
 * completion (a barrier). */
int platform_transfer(platform *p, const platform_xfer *x, int n, char *err, size_t errlen);

/* Simulated seconds since platform_open. */
double platform_now_s(const platform *p);

/* Bytes carried by a link in both directions so far. */
uint64_t platform_link_bytes(const platform *p, int link);

#ifdef __cplusplus
}
#endif

#endif
