/* What a backend implements behind the device API. The front end (accel.c) owns device
 * memory and has validated every command before a backend sees it. The backends that need the
 * RTL live in sim/rtl/, which also defines accel_open() from the table of backends. */
#ifndef ACCPAR_ACCEL_BACKEND_H
#define ACCPAR_ACCEL_BACKEND_H

#include "accel_api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct accel_backend_ops {
    /* Creates the backend's state; memory is the device memory it serves DMA from. */
    int (*open)(const accel_preset *p, uint8_t *memory, uint64_t mem_bytes, void **state, char *err,
                size_t errlen);
    void (*close)(void *state);
    /* Executes the commands in order, back to back; returns 0 or -1 with err set. */
    int (*execute)(void *state, const accel_cmd *cmds, size_t n, char *err, size_t errlen);
    void (*counters)(void *state, cycle_breakdown *out);
    /* May be NULL: the backend cannot trace. */
    int (*trace)(void *state, const char *path, char *err, size_t errlen);
} accel_backend_ops;

extern const accel_backend_ops accel_golden_ops;

/* The command word of c as the RTL reads it (ACCEL_CMD_BITS bits in 32-bit little-endian
 * words); addresses are converted from bytes to words of port_bytes. */
void accel_cmd_pack(const accel_cmd *c, uint32_t port_bytes, uint32_t words[ACCEL_CMD_WORDS]);

/* A device error code's name ("ERR_NO_WEIGHTS") and meaning; "unknown" for other codes. */
const char *accel_error_name(unsigned code);
const char *accel_error_meaning(unsigned code);

/* Opens a device on the given backend implementation (accel_open's work once the backend is
 * chosen). */
accel_status accel_open_backend(const accel_preset *preset, accel_backend backend,
                                const accel_backend_ops *ops, accel_dev **out, char *err,
                                size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
