/* The device API: the only way software reaches an accelerator (modelled on VTA's driver.h).
 * Open a device from a preset on a backend, allocate and copy device memory, queue commands,
 * run them to completion, read the counters. Every call returns ACCEL_OK or an error code;
 * accel_last_error() says why in one line. Nothing here aborts. */
#ifndef ACCPAR_ACCEL_API_H
#define ACCPAR_ACCEL_API_H

#include "accel_isa.h"
#include "preset.h"
#include "systolic_model.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum accel_status {
    ACCEL_OK = 0,
    ACCEL_EINVAL = -1,  /* bad argument or command field */
    ACCEL_ENOMEM = -2,  /* device memory exhausted, or host allocation failed */
    ACCEL_ERANGE = -3,  /* address or buffer range outside the device */
    ACCEL_EBUSY = -4,   /* commands are queued: run accel_wait() first */
    ACCEL_EDEVICE = -5, /* the device reported an error or hung */
    ACCEL_EBACKEND = -6 /* backend unavailable for this preset */
} accel_status;

/* golden: the C model (numerics bit-exact to the RTL, closed-form cycles); rtl: the verilated
 * accelerator; replay: golden numerics, each command shape's cycles measured once on the RTL. */
typedef enum accel_backend {
    ACCEL_BACKEND_GOLDEN = 0,
    ACCEL_BACKEND_RTL = 1,
    ACCEL_BACKEND_REPLAY = 2
} accel_backend;
enum { ACCEL_BACKENDS = 3 };

/* "golden", "rtl", "replay" in enum order, then NULL. */
extern const char *const accel_backend_names[ACCEL_BACKENDS + 1];

/* The commands (accel_isa.h, generated from rtl/accel_pkg.sv, says what each does). */
typedef enum accel_opcode {
    ACCEL_LOAD_A = ACCEL_OP_LOAD_A,
    ACCEL_LOAD_W = ACCEL_OP_LOAD_W,
    ACCEL_LOAD_ACC = ACCEL_OP_LOAD_ACC,
    ACCEL_MATMUL = ACCEL_OP_MATMUL,
    ACCEL_STORE = ACCEL_OP_STORE
} accel_opcode;

typedef struct accel_cmd {
    accel_opcode op;
    int accumulate;   /* MATMUL: add into the accumulators instead of overwriting */
    uint32_t mxus;    /* LOAD_W, MATMUL: MXUs 0 .. mxus-1 */
    uint32_t mxu;     /* LOAD_ACC, STORE */
    uint32_t rows;    /* LOAD_A, LOAD_ACC, MATMUL, STORE */
    uint32_t act_off; /* LOAD_A, MATMUL: first activation row */
    uint32_t acc_off; /* LOAD_ACC, MATMUL, STORE: first accumulator row */
    uint64_t addr;    /* device-memory byte address, a multiple of the port width */
    uint64_t pf_addr; /* MATMUL: weights to prefetch for the next MATMUL */
    uint32_t pf_mxus; /* MATMUL: how many tiles to prefetch (0: none) */
} accel_cmd;

typedef struct accel_dev accel_dev;

/* Opens a device. On failure *out is NULL and err (if given) holds the reason. Defined by the
 * backend layer (sim/rtl/backends.c), which knows every backend. */
accel_status accel_open(const accel_preset *preset, accel_backend backend, accel_dev **out,
                        char *err, size_t errlen);
void accel_close(accel_dev *dev);

const accel_preset *accel_preset_of(const accel_dev *dev);
const char *accel_backend_name(accel_backend backend);
/* Parses golden, rtl or replay; returns -1 for anything else. */
int accel_backend_parse(const char *name, accel_backend *out);
const char *accel_last_error(const accel_dev *dev);

/* Device memory: allocations are aligned to the port width; their contents are undefined
 * (zeros, or data a freed block of this or another device left: host/device/page_pool.h). */
accel_status accel_alloc(accel_dev *dev, uint64_t bytes, uint64_t *addr);
/* The most bytes allocated at once since the device was opened (sizes rounded up to port
 * words, as allocated). */
uint64_t accel_mem_peak(const accel_dev *dev);
accel_status accel_free(accel_dev *dev, uint64_t addr);
accel_status accel_copy_in(accel_dev *dev, uint64_t addr, const void *src, uint64_t bytes);
/* The host's view of [addr, addr + bytes) of device memory, which must lie inside one allocation,
 * with no command queued: what a DMA engine reads and writes. Writing through it is a copy in,
 * reading a copy out, without a staging buffer (the caller counts the bytes it moves). Valid until
 * the allocation is freed or a command is queued. NULL with the reason in accel_last_error. */
void *accel_map(accel_dev *dev, uint64_t addr, uint64_t bytes);
accel_status accel_copy_out(accel_dev *dev, uint64_t addr, void *dst, uint64_t bytes);

/* Queues one command after checking every field against the preset and the device state. */
accel_status accel_issue(accel_dev *dev, const accel_cmd *cmd);
/* Runs the queued commands to completion, back to back. */
accel_status accel_wait(accel_dev *dev);

/* Counters since open (or the last reset). */
accel_status accel_read_counters(accel_dev *dev, cycle_breakdown *out);
accel_status accel_reset_counters(accel_dev *dev);

/* RTL backend only: write a waveform, VCD or FST by the path's suffix (.vcd, .fst). */
accel_status accel_trace(accel_dev *dev, const char *path);

/* The size of a VCD waveform of `cycles` cycles on preset p, an estimate made before the run:
 * 1 KiB + 16 bytes per memory-port byte for each cycle. Measured on GEMMs of the shipped presets
 * it is 1.1x (tiny) to 2.2x (tpu-v2, tpu-v3) the real size (docs/runtime.md, "Waveforms"). */
uint64_t accel_trace_bytes_estimate(const accel_preset *p, uint64_t cycles);

#ifdef __cplusplus
}
#endif

#endif
