#include "device_model.h"
#include "models_dir.h"

#include <stdio.h>
#include <string.h>

static void links(const accel_preset *p, device_model *m) {
    m->link_bytes_per_s = p->link_gbytes_per_s * 1e9;
    m->link_latency_s = p->link_latency_ns * 1e-9;
}

void device_model_exact(const accel_preset *p, device_model *m) {
    memset(m, 0, sizeof *m);
    m->kind = MODEL_EXACT;
    for (int i = 0; i < GEMM_FEATURES; i++)
        m->theta[i] = (double)gemm_contract_cycles[i];
    links(p, m);
}

void device_model_peak(const accel_preset *p, device_model *m) {
    device_model_exact(p, m);
    m->kind = MODEL_PEAK;
}

int device_model_calibrated(const accel_preset *p, const calibration *c, const char *path,
                            device_model *m, char *err, size_t errlen) {
    if (strcmp(c->preset, p->name) != 0) {
        snprintf(err, errlen, "%s: field 'preset': calibrated for '%s', not '%s'", path, c->preset,
                 p->name);
        return -1;
    }
    memset(m, 0, sizeof *m);
    m->kind = MODEL_CALIBRATED;
    memcpy(m->theta, c->theta, sizeof m->theta);
    m->link_bytes_per_s = c->link_gbytes_per_s * 1e9;
    m->link_latency_s = c->link_latency_ns * 1e-9;
    snprintf(m->file, sizeof m->file, "%s", path);
    return 0;
}

void device_model_default_path(const accel_preset *p, char *path, size_t len) {
    snprintf(path, len, "%s/calibration/%s.cal", models_dir(), p->name);
}

int device_model_cycles(const accel_preset *p, const device_model *m, int64_t rows, int64_t k,
                        int64_t n, double *cycles, char *err, size_t errlen) {
    gemm_schedule s;
    gemm_features f;
    if (gemm_schedule_make(p, rows, k, n, 0, &s, err, errlen) != 0)
        return -1;
    if (m->kind == MODEL_PEAK) {
        *cycles = (double)rows * (double)k * (double)n / (double)preset_macs_per_cycle(p);
        return 0;
    }
    gemm_features_closed_form(&s, &f);
    *cycles = gemm_features_weighted(&f, m->theta);
    return 0;
}

void device_model_label(const device_model *m, char *buf, size_t len) {
    if (m->kind == MODEL_CALIBRATED)
        snprintf(buf, len, "calibrated (%s)", m->file);
    else
        snprintf(buf, len, "%s",
                 m->kind == MODEL_PEAK ? "peak"
                 : m->no_file          ? "exact (no calibration file)"
                                       : "exact");
}
