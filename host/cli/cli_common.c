#include "cli.h"

#include "bf16.h"
#include "json.h"
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "accpar %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *cli_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_error(cmd, "%s: missing value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_int(const char *cmd, const char *flag, const char *value, int64_t min, int64_t max,
            int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (end == value || *end != '\0' || errno != 0 || v < min || v > max) {
        cli_error(cmd, "%s: '%s' is not an integer in %" PRId64 "..%" PRId64, flag, value, min,
                  max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_scale(const char *cmd, const char *flag, const char *value, double *out) {
    char *end;
    errno = 0;
    double f = strtod(value, &end);
    if (end == value || *end || errno || !(f > 0.0 && f <= 1.0)) {
        cli_error(cmd, "%s: '%s' is not a number in (0, 1]", flag, value);
        return -1;
    }
    *out = f;
    return 0;
}

int cli_write_json(const char *cmd, json_out *j, const char *path) {
    char err[512];
    int rc = json_write_file(j, path, err, sizeof err);
    json_free(j);
    if (rc != 0)
        cli_error(cmd, "--json: %s", err);
    return rc;
}

void cli_progress(void *unit, int64_t done, int64_t total) {
    int width = 40, fill = (int)(width * done / (total > 0 ? total : 1));
    fprintf(stderr, "\r  [%.*s%*s] %lld/%lld %s", fill, "########################################",
            width - fill, "", (long long)done, (long long)total, (const char *)unit);
    if (done == total)
        fputc('\n', stderr);
}

int cli_run_choice(const char *cmd, const char *flag, const char *value, run_options *o) {
    if (!strcmp(flag, "--strategy") && strategy_parse(value, &o->strat) != 0) {
        cli_error(cmd, "--strategy: '%s' is not accpar, hypar, owt or dp", value);
        return -1;
    }
    if (!strcmp(flag, "--fidelity") && run_fidelity_parse(value, &o->fidelity) != 0) {
        cli_error(cmd, "--fidelity: '%s' is not rtl, replay or golden", value);
        return -1;
    }
    return 0;
}
