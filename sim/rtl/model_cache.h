/* Verilated accelerator models, built on first use and cached (docs/accelerator.md, "RTL
 * models"). A model is one shared object per accelerator shape, kept in a cache folder under a
 * name that covers everything that changes it: the RTL sources' content, the parameters, the
 * Verilator and compiler versions and flags, the waveform format. The first use of a shape
 * builds it (saying so on stderr); later uses load it at once; an edited RTL source makes a new
 * name, so the next command builds anew. Safe under concurrency (one builder per model, a lock)
 * and failure (a model is installed only when complete; a corrupt one is detected and rebuilt). */
#ifndef ACCPAR_MODEL_CACHE_H
#define ACCPAR_MODEL_CACHE_H

#include "preset.h"
#include "rtl_model_abi.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How the process finds and builds models. dir NULL: $ACCPAR_MODEL_CACHE, else
 * $XDG_CACHE_HOME/accpar/models, else $HOME/.cache/accpar/models. no_build: a missing model is an
 * error instead of a build (also set by $ACCPAR_NO_BUILD=1). Call before the first model. */
void model_cache_configure(const char *dir, int no_build);

/* The cache folder in use. */
const char *model_cache_dir(void);

/* The folder of the RTL sources models are built from: $ACCPAR_RTL_DIR, else the rtl/ of the
 * source tree. */
const char *model_rtl_dir(void);

/* The model for the preset's shape (fst: with FST instead of VCD waveforms), loaded, or built
 * first. Thread-safe; a model stays loaded until the process ends. -1 with a one-line error: a
 * failed build names its first error and its log, --no-build names the missing model. */
int model_cache_get(const accel_preset *p, int fst, const rtl_model_api **api, char *err,
                    size_t errlen);

/* The cache folder of the preset's model (whether built yet or not): where facts measured on that
 * model, such as replay timings, are kept, so that an RTL change leaves them behind. -1 with a
 * one-line error if the tools cannot be identified. */
int model_cache_entry_dir(const accel_preset *p, int fst, char *out, size_t len, char *err,
                          size_t errlen);

/* One cached model, as `accpar models list` shows it. */
typedef struct model_entry {
    char name[160]; /* the folder: shape and identity */
    int rows, cols, mxus, act_rows, acc_rows, bw, fst;
    uint64_t so_bytes;
    double build_s;
    char built_at[32];
    int current; /* built from today's RTL sources and tools */
} model_entry;

/* The cached models (*out freed by the caller), sorted by name. -1 with a one-line error. */
int model_cache_list(model_entry **out, int *n, char *err, size_t errlen);

/* Removes cached models (all, or only those not current), failed builds' logs and leftovers of
 * killed builds; a model being built is left alone. *removed counts the models removed. */
int model_cache_clean(int stale_only, int *removed, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
