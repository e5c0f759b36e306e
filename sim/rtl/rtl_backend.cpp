// The RTL backend of the device API: finds the verilated model matching a preset.
#include "rtl_backends.h"
#include "rtl_model.h"

#include <cstdio>
#include <new>
#include <string>

namespace {

const RtlModelEntry *find_model(const accel_preset *p) {
    for (size_t i = 0; i < rtl_model_count; i++) {
        const RtlModelEntry &e = rtl_model_table[i];
        if (e.rows == p->array_rows && e.cols == p->array_cols && e.mxus == p->mxus &&
            e.act_rows == p->act_buffer_rows && e.acc_rows == p->acc_buffer_rows &&
            e.bw == p->mem_bytes_per_cycle)
            return &e;
    }
    return nullptr;
}

int rtl_open(const accel_preset *p, uint8_t *memory, uint64_t mem_bytes, void **state, char *err,
             size_t errlen) {
    const RtlModelEntry *e = find_model(p);
    if (!e) {
        std::snprintf(err, errlen,
                      "preset '%s': no verilated model with %dx%d x%d MXUs, buffers %d/%d, "
                      "port %d B; add the preset to the CMake list ACCPAR_RTL_PRESETS",
                      p->name, p->array_rows, p->array_cols, p->mxus, p->act_buffer_rows,
                      p->acc_buffer_rows, p->mem_bytes_per_cycle);
        return -1;
    }
    if ((2 * p->array_rows) % p->mem_bytes_per_cycle ||
        (2 * p->array_cols) % p->mem_bytes_per_cycle) {
        std::snprintf(err, errlen,
                      "preset '%s': mem_bytes_per_cycle %d must divide 2*array_rows and "
                      "2*array_cols for the RTL",
                      p->name, p->mem_bytes_per_cycle);
        return -1;
    }
    RtlModel *m = e->create(memory, mem_bytes, p->mem_bytes_per_cycle);
    if (!m) {
        std::snprintf(err, errlen, "out of memory creating the RTL model");
        return -1;
    }
    *state = m;
    return 0;
}

void rtl_close(void *state) {
    delete static_cast<RtlModel *>(state);
}

int rtl_execute(void *state, const accel_cmd *cmds, size_t n, char *err, size_t errlen) {
    std::string why;
    if (static_cast<RtlModel *>(state)->execute(cmds, n, why))
        return 0;
    std::snprintf(err, errlen, "rtl: %s", why.c_str());
    return -1;
}

void rtl_counters(void *state, cycle_breakdown *out) {
    *out = static_cast<RtlModel *>(state)->counters();
}

int rtl_trace(void *state, const char *path, char *err, size_t errlen) {
    std::string why;
    if (static_cast<RtlModel *>(state)->trace(path, why))
        return 0;
    std::snprintf(err, errlen, "%s", why.c_str());
    return -1;
}

} // namespace

extern "C" const accel_backend_ops accel_rtl_ops = {rtl_open, rtl_close, rtl_execute, rtl_counters,
                                                    rtl_trace};
