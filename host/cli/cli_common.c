#include "cli.h"
#include "cli_ranks.h"

#include "array_model.h"
#include "net_find.h"
#include "net_scale.h"
#include "output_set.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const cli_compute_models[] = {"calibrated", "exact", "peak", NULL};

void cli_error(const char *cmd, const char *fmt, ...) {
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cli_record_error(text);
    if (cli_rank() == 0) /* the other ranks' errors reach rank 0 (cli_ranks.h) */
        fprintf(stderr, "accpar %s: %s\n", cmd, text);
}

int cli_write_json(const char *cmd, json_out *j, const char *path) {
    char err[512];
    int rc = json_write_file(j, path, err, sizeof err);
    json_free(j);
    if (rc != 0)
        cli_error(cmd, "--json: %s", err);
    return rc;
}

int cli_declare_output(const char *cmd, const char *flag, const char *path) {
    char err[1400];
    if (output_declare(path, err, sizeof err) == 0)
        return 0;
    cli_error(cmd, "%s: %s", flag, err);
    return -1;
}

int cli_finish(const char *cmd, int status) {
    char err[1400];
    if (status != 0 && status != EXIT_CHECK_FAILED) {
        output_discard();
        return status;
    }
    if (output_commit(err, sizeof err) == 0)
        return status;
    cli_error(cmd, "%s", err);
    return EXIT_USAGE;
}

void cli_progress(void *unit, int64_t done, int64_t total) {
    int width = 40, fill = (int)(width * done / (total > 0 ? total : 1));
    fprintf(stderr, "\r  [%.*s%*s] %lld/%lld %s", fill, "########################################",
            width - fill, "", (long long)done, (long long)total, (const char *)unit);
    if (done == total)
        fputc('\n', stderr);
}

int cli_load_net(const char *cmd, const char *name, double scale, double image_scale, net *out) {
    net raw = {0};
    char err[1024];
    memset(out, 0, sizeof *out);
    int rc = net_find(name, &raw, err, sizeof err);
    if (rc == 0 && scale == 1.0 && image_scale == 1.0) {
        *out = raw;
        return 0;
    }
    if (rc == 0)
        rc = net_scale(&raw, scale, image_scale, out, err, sizeof err);
    net_free(&raw);
    if (rc != 0)
        cli_error(cmd, "%s", err);
    return rc;
}

int cli_load_array(const char *cmd, const char *accels, const char *model, const char *calibration,
                   int64_t device_mib, accel_array *out) {
    char err[1024];
    if (accel_array_parse(accels, out, err, sizeof err) != 0 ||
        array_model_select(out, model, calibration, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        return -1;
    }
    for (int k = 0; device_mib > 0 && k < out->n_kinds; k++) {
        accel_preset *p = &out->kinds[k];
        /* the preset rule: a command addresses device memory in 32-bit port words */
        if (((uint64_t)device_mib << 20) / (uint64_t)p->mem_bytes_per_cycle > (uint64_t)1 << 32) {
            cli_error(cmd, "--device-mib: %lld MiB is more than 2^32 port words of preset '%s'",
                      (long long)device_mib, p->name);
            return -1;
        }
        p->mem_mib = (int)device_mib;
    }
    return 0;
}
