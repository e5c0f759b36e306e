/* The interface between accpar and a verilated accelerator model built on demand as a shared
 * object (sim/rtl/model_cache.c builds it, sim/rtl/model/glue.cpp implements it). A model
 * exports one symbol, accpar_rtl_model; the rest of the .so is hidden. Plain C types only, so
 * that any model built for this ABI version loads into any accpar of the same version. */
#ifndef ACCPAR_RTL_MODEL_ABI_H
#define ACCPAR_RTL_MODEL_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { ACCPAR_RTL_ABI = 1 };

typedef struct rtl_model_counters {
    uint64_t total, busy, stall, commands, macs;
} rtl_model_counters;

typedef struct rtl_model_api {
    int abi;       /* ACCPAR_RTL_ABI */
    int cmd_words; /* 32-bit words of one command (the RTL's command port) */
    /* A model serving its memory port from memory[0 .. mem_bytes), port_bytes a word; NULL when
     * out of memory. */
    void *(*create)(uint8_t *memory, uint64_t mem_bytes, int port_bytes);
    void (*destroy)(void *model);
    /* Runs n commands (cmd_words words each) back to back. Returns 0; or -1 with err set (a hang
     * past cycle_budget cycles, a memory access beyond the end) or with *err_code set (the
     * device's err_code, non-zero). */
    int (*execute)(void *model, const uint32_t *cmds, size_t n, uint64_t cycle_budget,
                   unsigned *err_code, char *err, size_t errlen);
    void (*counters)(void *model, rtl_model_counters *out);
    /* Starts a waveform (before the first command): path ends in the model's trace suffix. */
    int (*trace)(void *model, const char *path, char *err, size_t errlen);
    const char *trace_suffix; /* ".vcd" or ".fst" */
} rtl_model_api;

/* The one symbol a model exports. */
typedef const rtl_model_api *(*rtl_model_entry)(void);
#define ACCPAR_RTL_MODEL_ENTRY "accpar_rtl_model"

#ifdef __cplusplus
}
#endif

#endif
