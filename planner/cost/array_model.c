#include "array_model.h"

#include "input_file.h"

#include <stdio.h>
#include <string.h>

/* Loads a calibration file into the model of every kind named by its preset (only kind `only`
 * if >= 0) and marks those kinds in given[]; a kind already given a file is an error. */
static int use_file(accel_array *a, int only, const char *path, int *given, char *err,
                    size_t errlen) {
    calibration c;
    if (calibration_load(path, &c, err, errlen) != 0)
        return -1;
    int rc = 0, used = 0;
    for (int k = 0; k < a->n_kinds && rc == 0; k++) {
        if (k != only && (only >= 0 || strcmp(a->kinds[k].name, c.preset) != 0))
            continue;
        if (given[k]) {
            snprintf(err, errlen, "%s: field 'preset': '%s' already has a calibration file (%s)",
                     path, c.preset, a->models[k].file);
            rc = -1;
            break;
        }
        rc = device_model_calibrated(&a->kinds[k], &c, path, &a->models[k], err, errlen);
        given[k] = 1;
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
    char list[2048];
    if (files && strlen(files) >= sizeof list) {
        snprintf(err, errlen, "--calibration: field 'calibration': longer than %zu characters",
                 sizeof list - 1);
        return -1;
    }
    int given[ARRAY_MAX_KINDS] = {0};
    for (int k = 0; k < a->n_kinds; k++) {
        if (peak)
            device_model_peak(&a->kinds[k], &a->models[k]);
        else
            device_model_exact(&a->kinds[k], &a->models[k]);
    }
    /* The given files first: a preset they cover never reads its default file. */
    snprintf(list, sizeof list, "%s", files ? files : "");
    for (char *item = files ? list : NULL; item;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (use_file(a, -1, item, given, err, errlen) != 0)
            return -1;
        item = comma ? comma + 1 : NULL;
    }
    for (int k = 0; k < a->n_kinds && !peak && !exact; k++) {
        if (given[k])
            continue;
        char path[512];
        device_model_default_path(&a->kinds[k], path, sizeof path);
        if (!input_file_exists(path))
            a->models[k].no_file = 1;
        else if (use_file(a, k, path, given, err, errlen) != 0)
            return -1;
    }
    return 0;
}

void array_model_label(const accel_array *a, char *buf, size_t len) {
    char first[600], one[600];
    int same = 1;
    device_model_label(&a->models[0], first, sizeof first);
    for (int k = 1; k < a->n_kinds; k++) {
        device_model_label(&a->models[k], one, sizeof one);
        same &= strcmp(one, first) == 0;
    }
    if (same) {
        snprintf(buf, len, "%s", first);
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < a->n_kinds && used < len; k++) {
        device_model_label(&a->models[k], one, sizeof one);
        used += (size_t)snprintf(buf + used, len - used, "%s%s: %s", k ? "; " : "",
                                 a->kinds[k].name, one);
    }
}
