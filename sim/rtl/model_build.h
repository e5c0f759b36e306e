/* Building one verilated accelerator model as a shared object: Verilator turns rtl/ into C++
 * for one shape, the C++ compiler builds it with the model glue (model/glue.cpp) into
 * model.so. Internal to the model cache (model_cache.c), which decides when to build. */
#ifndef ACCPAR_MODEL_BUILD_H
#define ACCPAR_MODEL_BUILD_H

#include <stddef.h>

/* What a model is built for: the accelerator's parameters and its waveform format. */
typedef struct model_spec {
    int rows, cols, mxus, act_rows, acc_rows, bw;
    int fst; /* FST waveforms instead of VCD */
} model_spec;

/* The tools a build runs, and their versions (part of every model's identity). */
typedef struct model_toolchain {
    char verilator[512]; /* the verilator program */
    char root[512];      /* VERILATOR_ROOT: include/ holds the runtime */
    char version[256];   /* verilator --version */
    char cxx[256];       /* the C++ compiler */
    char cxx_version[256];
} model_toolchain;

/* Finds the tools: $ACCPAR_VERILATOR or the verilator found at configure time (else PATH), and
 * $CXX or c++. Verilator's answers are remembered in memo_dir (may be NULL). -1 with a one-line
 * error. */
int model_toolchain_find(model_toolchain *t, const char *memo_dir, char *err, size_t errlen);

/* The text that identifies a model: the content of the RTL's files (those rtl_dir/accel.f lists),
 * the glue's, the parameters, the tools' versions and every flag.
 * -1 with a one-line error (an RTL file unreadable). */
int model_identity(const model_spec *s, const model_toolchain *t, const char *rtl_dir, char *out,
                   size_t len, char *err, size_t errlen);

/* Builds dir/model.so (dir exists and is empty), logging every command and its output in
 * dir/build.log. tick (may be NULL) is called about once a second with the seconds elapsed.
 * -1 with "why: the first error line" in err. */
int model_build(const model_spec *s, const model_toolchain *t, const char *rtl_dir, const char *dir,
                void (*tick)(void *ctx, double seconds), void *ctx, char *err, size_t errlen);

#endif
