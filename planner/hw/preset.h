/* Accelerator presets: the parameters of one emulated device, read from a text file.
 * Format and the TPU-v2/TPU-v3 derivation: docs/accelerator.md. */
#ifndef ACCPAR_PRESET_H
#define ACCPAR_PRESET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct accel_preset {
    char name[64];
    int array_rows;           /* R: PE rows of one MXU (the K extent of a weight tile) */
    int array_cols;           /* C: PE columns of one MXU (the N extent of a weight tile) */
    int mxus;                 /* X: matrix units per device */
    double clock_mhz;         /* device clock */
    int mem_bytes_per_cycle;  /* BW: device-memory port width, bytes per cycle */
    int act_buffer_rows;      /* activation buffer depth, rows of R bf16 values */
    int acc_buffer_rows;      /* accumulator depth, rows of C fp32 values per MXU */
    int mem_mib;              /* device memory size */
    int links;                /* interconnect links per device */
    double link_gbytes_per_s; /* bandwidth of one link, GB/s (1e9 bytes) */
    double link_latency_ns;   /* per-transfer link latency */
} accel_preset;

/* The range of a preset's link figures; a calibration's fitted figures keep to the same range. */
#define PRESET_LINK_GBYTES_MIN 1e-9
#define PRESET_LINK_GBYTES_MAX 1e6
#define PRESET_LINK_LATENCY_NS_MAX 1e9
/* The on-chip storage (buffers, weights, PE registers) an emulated device may hold, MiB. */
#define PRESET_ON_CHIP_MIB_MAX 256

/* Parses a preset file. On error returns -1 and writes "file:line: field 'x': why" to err. */
int preset_load_file(const char *path, accel_preset *out, char *err, size_t errlen);

/* Resolves NAME to models/accelerators/NAME.acc (or takes a path containing '/' or ending
 * in .acc) and loads it. The models folder is models_dir(). */
int preset_find(const char *name, accel_preset *out, char *err, size_t errlen);

/* h extended by every field of the preset (digest.h). */
uint64_t preset_digest(uint64_t h, const accel_preset *p);

/* Peak multiply-accumulates per cycle: R * C * X. */
int64_t preset_macs_per_cycle(const accel_preset *p);

#ifdef __cplusplus
}
#endif

#endif
