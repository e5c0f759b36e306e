/* accel_open: the table of the device API's backends (accel_api.h's accel_backend). */
#include "rtl_backends.h"

#include <stdio.h>

accel_status accel_open(const accel_preset *preset, accel_backend backend, accel_dev **out,
                        char *err, size_t errlen) {
    static const accel_backend_ops *const ops[] = {
        [ACCEL_BACKEND_GOLDEN] = &accel_golden_ops,
        [ACCEL_BACKEND_RTL] = &accel_rtl_ops,
        [ACCEL_BACKEND_REPLAY] = &accel_replay_ops,
    };
    *out = NULL;
    if ((unsigned)backend >= sizeof ops / sizeof ops[0]) {
        snprintf(err, errlen, "unknown backend %d", (int)backend);
        return ACCEL_EINVAL;
    }
    return accel_open_backend(preset, backend, ops[backend], out, err, errlen);
}
