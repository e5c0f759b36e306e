// The RTL backend of the device API: a verilated accelerator built for the preset's shape on
// first use (model_cache.h), driven through the model's C interface (model/rtl_model_abi.h).
#include "model_cache.h"
#include "rtl_backends.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

struct rtl_device {
    accel_preset p;
    uint8_t *memory;
    uint64_t mem_bytes;
    const rtl_model_api *api = nullptr;
    void *model = nullptr;
    std::vector<uint32_t> words; // the commands of one execute, packed
};

// A model of the preset with the given waveform format, in d.
int attach(rtl_device *d, int fst, char *err, size_t errlen) {
    const rtl_model_api *api;
    if (model_cache_get(&d->p, fst, &api, err, errlen) != 0)
        return -1;
    if (api->cmd_words != ACCEL_CMD_WORDS) {
        std::snprintf(err, errlen,
                      "the RTL's command word has %d 32-bit words, this accpar's %d: rebuild "
                      "accpar after changing rtl/accel_pkg.sv",
                      api->cmd_words, (int)ACCEL_CMD_WORDS);
        return -1;
    }
    void *model = api->create(d->memory, d->mem_bytes, d->p.mem_bytes_per_cycle);
    if (!model) {
        std::snprintf(err, errlen, "out of memory creating the RTL model");
        return -1;
    }
    if (d->model)
        d->api->destroy(d->model);
    d->api = api;
    d->model = model;
    return 0;
}

int rtl_open(const accel_preset *p, uint8_t *memory, uint64_t mem_bytes, void **state, char *err,
             size_t errlen) {
    rtl_device *d = new (std::nothrow) rtl_device;
    if (d) {
        d->p = *p;
        d->memory = memory;
        d->mem_bytes = mem_bytes;
    }
    if (!d) {
        std::snprintf(err, errlen, "out of memory creating the RTL model");
        return -1;
    }
    if (attach(d, 0, err, errlen) != 0) {
        delete d;
        return -1;
    }
    *state = d;
    return 0;
}

void rtl_close(void *state) {
    rtl_device *d = static_cast<rtl_device *>(state);
    if (d->model)
        d->api->destroy(d->model);
    delete d;
}

// A generous bound on one command's cycles, to turn a hang into an error.
uint64_t cycle_bound(const accel_preset &p, const accel_cmd &c) {
    uint64_t rows = c.rows, tiles = (uint64_t)c.mxus + c.pf_mxus;
    uint64_t tile_words =
        2 * (uint64_t)p.array_rows * (uint64_t)p.array_cols / (uint64_t)p.mem_bytes_per_cycle + 1;
    return 8 + 2 * (rows * 1024 + tiles * tile_words + rows + 8192);
}

int rtl_execute(void *state, const accel_cmd *cmds, size_t n, char *err, size_t errlen) {
    rtl_device *d = static_cast<rtl_device *>(state);
    uint64_t budget = 64;
    try {
        d->words.resize(n * ACCEL_CMD_WORDS);
    } catch (const std::bad_alloc &) {
        std::snprintf(err, errlen, "rtl: out of host memory for %zu commands", n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        accel_cmd_pack(&cmds[i], (uint32_t)d->p.mem_bytes_per_cycle,
                       &d->words[i * ACCEL_CMD_WORDS]);
        budget += cycle_bound(d->p, cmds[i]);
    }
    unsigned code = 0;
    char why[512] = "";
    if (d->api->execute(d->model, d->words.data(), n, budget, &code, why, sizeof why) == 0)
        return 0;
    if (code != 0)
        std::snprintf(err, errlen, "rtl: device error %s (%u): %s", accel_error_name(code), code,
                      accel_error_meaning(code));
    else
        std::snprintf(err, errlen, "rtl: %s", why);
    return -1;
}

void rtl_counters(void *state, cycle_breakdown *out) {
    rtl_device *d = static_cast<rtl_device *>(state);
    rtl_model_counters c;
    d->api->counters(d->model, &c);
    *out = {c.total, c.busy, c.stall, c.commands, c.macs};
}

int rtl_trace(void *state, const char *path, char *err, size_t errlen) {
    rtl_device *d = static_cast<rtl_device *>(state);
    size_t n = std::strlen(path);
    int fst = n >= 4 && std::strcmp(path + n - 4, ".fst") == 0;
    if (fst && std::strcmp(d->api->trace_suffix, ".fst") != 0 && attach(d, 1, err, errlen) != 0)
        return -1;
    return d->api->trace(d->model, path, err, errlen);
}

} // namespace

extern "C" const accel_backend_ops accel_rtl_ops = {rtl_open, rtl_close, rtl_execute, rtl_counters,
                                                    rtl_trace};
