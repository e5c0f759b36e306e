/* The device API's backends that need the RTL (accel_backend.h describes the interface). */
#ifndef ACCPAR_RTL_BACKENDS_H
#define ACCPAR_RTL_BACKENDS_H

#include "accel_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The verilated accelerator. */
extern const accel_backend_ops accel_rtl_ops;
/* Golden numerics, each command shape's cycles measured once on the RTL. */
extern const accel_backend_ops accel_replay_ops;

#ifdef __cplusplus
}
#endif

#endif
