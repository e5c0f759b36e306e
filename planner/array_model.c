#include "array_model.h"

#include <stdio.h>
#include <string.h>

/* Loads a calibration file into the model of every kind named by its preset (only kind `only`
 * if >= 0). */
static int use_file(accel_array *a, int only, const char *path, char *err, size_t errlen) {
    calibration c;
    if (calibration_load(path, &c, err, errlen) != 0)
        return -1;
    int rc = 0, used = 0;
    for (int k = 0; k < a->n_kinds && rc == 0; k++)
        if (k == only || (only < 0 && strcmp(a->kinds[k].name, c.preset) == 0)) {
            rc = device_model_calibrated(&a->kinds[k], &c, path, &a->models[k], err, errlen);
            used++;
        }
    if (rc == 0 && !used) {
        snprintf(err, errlen, "%s: field 'preset': '%s' is not a preset of the array", path,
                 c.preset);
        rc = -1;
    }
    calibration_free(&c);
    return rc;
}

static int exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

int array_model_select(accel_array *a, const char *kind, const char *files, char *err,
                       size_t errlen) {
    kind = kind ? kind : "calibrated";
    int peak = !strcmp(kind, "peak"), exact = !strcmp(kind, "exact");
    if (!peak && !exact && strcmp(kind, "calibrated")) {
        snprintf(err, errlen,
                 "--compute-model: field 'compute-model': '%s' is not exact, calibrated or peak",
                 kind);
        return -1;
    }
    if (files && (peak || exact)) {
        snprintf(err, errlen,
                 "--calibration: field 'calibration': only with --compute-model calibrated");
        return -1;
    }
    for (int k = 0; k < a->n_kinds; k++) {
        char path[512];
        if (peak)
            device_model_peak(&a->kinds[k], &a->models[k]);
        else
            device_model_exact(&a->kinds[k], &a->models[k]);
        device_model_default_path(&a->kinds[k], path, sizeof path);
        if (!peak && !exact && exists(path) && use_file(a, k, path, err, errlen) != 0)
            return -1;
    }
    char list[2048];
    if (files && strlen(files) >= sizeof list) {
        snprintf(err, errlen, "--calibration: field 'calibration': longer than %zu characters",
                 sizeof list - 1);
        return -1;
    }
    snprintf(list, sizeof list, "%s", files ? files : "");
    for (char *item = files ? list : NULL; item;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (use_file(a, -1, item, err, errlen) != 0)
            return -1;
        item = comma ? comma + 1 : NULL;
    }
    return 0;
}

void array_model_label(const accel_array *a, char *buf, size_t len) {
    int same = 1;
    for (int k = 1; k < a->n_kinds; k++)
        same &= a->models[k].kind == a->models[0].kind && a->models[0].kind != MODEL_CALIBRATED;
    if (a->n_kinds == 1 || same) {
        device_model_label(&a->models[0], buf, len);
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < a->n_kinds && used < len; k++) {
        char one[600];
        device_model_label(&a->models[k], one, sizeof one);
        used += (size_t)snprintf(buf + used, len - used, "%s%s: %s", k ? "; " : "",
                                 a->kinds[k].name, one);
    }
}
