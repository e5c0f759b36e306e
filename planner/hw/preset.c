#include "preset.h"

#include "digest.h"
#include "models_dir.h"
#include "text_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { FIELD_INT, FIELD_REAL, FIELD_NAME } field_kind;

typedef struct {
    const char *key;
    field_kind kind;
    size_t offset;
    double min, max;
} field_spec;

#define F(key, kind, min, max)                                                                     \
    { #key, kind, offsetof(accel_preset, key), min, max }
static const field_spec fields[] = {
    F(name, FIELD_NAME, 0, 0),
    F(array_rows, FIELD_INT, 1, 4096),
    F(array_cols, FIELD_INT, 1, 4096),
    F(mxus, FIELD_INT, 1, 32),
    F(clock_mhz, FIELD_REAL, 1e-3, 1e6),
    F(mem_bytes_per_cycle, FIELD_INT, 1, 1 << 20),
    F(act_buffer_rows, FIELD_INT, 1, 1 << 20),
    F(acc_buffer_rows, FIELD_INT, 1, 1 << 20),
    F(mem_mib, FIELD_INT, 1, 1 << 20),
    F(links, FIELD_INT, 1, 64),
    F(link_gbytes_per_s, FIELD_REAL, PRESET_LINK_GBYTES_MIN, PRESET_LINK_GBYTES_MAX),
    F(link_latency_ns, FIELD_REAL, 0, PRESET_LINK_LATENCY_NS_MAX),
};
#undef F
enum { NFIELDS = sizeof fields / sizeof fields[0] };

static int set_field(const field_spec *f, const char *value, accel_preset *p, const char *where,
                     char *err, size_t errlen) {
    char *base = (char *)p + f->offset;
    if (f->kind == FIELD_NAME) {
        if (strlen(value) >= sizeof p->name) {
            snprintf(err, errlen, "%s: field '%s': longer than %zu characters", where, f->key,
                     sizeof p->name - 1);
            return -1;
        }
        strcpy(base, value);
        return 0;
    }
    if (f->kind == FIELD_INT) {
        char why[160];
        int64_t v;
        if (text_parse_int(value, (int64_t)f->min, (int64_t)f->max, &v, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: field '%s': %s", where, f->key, why);
            return -1;
        }
        *(int *)base = (int)v;
        return 0;
    }
    char why[160];
    if (text_parse_real(value, f->min, f->max, (double *)base, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: field '%s': %s", where, f->key, why);
        return -1;
    }
    return 0;
}

static int field_line(const int *line, const char *key) {
    for (int i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].key, key) == 0)
            return line[i];
    return 0;
}

/* The rules a preset must keep for the RTL to build and run it (docs/accelerator.md,
 * "Presets"): "file:line: field 'x': rule" for the first one broken. */
static int check_buildable(const accel_preset *p, const char *path, const int *line, char *err,
                           size_t errlen) {
    const char *field = NULL, *rule = NULL;
    char why[200];
    uint64_t words = ((uint64_t)p->mem_mib << 20) / (uint64_t)p->mem_bytes_per_cycle;
    uint64_t pes = (uint64_t)p->array_rows * (uint64_t)p->array_cols;
    uint64_t act = (uint64_t)p->act_buffer_rows * (uint64_t)p->array_rows * 2;
    uint64_t acc = (uint64_t)p->mxus * (uint64_t)p->array_cols * (uint64_t)p->acc_buffer_rows * 4;
    uint64_t arrays = pes * 2 + (uint64_t)p->mxus * pes * (2 + 2 + 4); /* a; weights x2, psum */
    if (p->mem_bytes_per_cycle % 4 != 0) {
        field = "mem_bytes_per_cycle";
        rule = "must be a multiple of 4: a port word carries whole fp32 accumulator values";
    } else if (words > (uint64_t)1 << 32) {
        field = "mem_mib";
        rule = "more than 2^32 port words: a command addresses device memory in 32-bit words";
    } else if (act + acc + arrays > (uint64_t)PRESET_ON_CHIP_MIB_MAX << 20) {
        /* the field of the largest share */
        field = acc >= act && acc >= arrays ? "acc_buffer_rows"
                : act >= arrays             ? "act_buffer_rows"
                                            : "array_rows";
        snprintf(why, sizeof why,
                 "on-chip storage of %.0f MiB (activations %.0f, accumulators %.0f, arrays %.0f) "
                 "is more than the %d MiB an emulated device may hold",
                 (double)(act + acc + arrays) / (1 << 20), (double)act / (1 << 20),
                 (double)acc / (1 << 20), (double)arrays / (1 << 20), PRESET_ON_CHIP_MIB_MAX);
        rule = why;
    }
    if (!field)
        return 0;
    snprintf(err, errlen, "%s:%d: field '%s': %s", path, field_line(line, field), field, rule);
    return -1;
}

int preset_load_file(const char *path, accel_preset *out, char *err, size_t errlen) {
    text_file tf;
    if (text_file_open(&tf, path, err, errlen) != 0)
        return -1;
    accel_preset p;
    memset(&p, 0, sizeof p);
    int seen[NFIELDS] = {0}; /* the line of each field, 0 if not given */
    char *key, *value;
    int rc;
    while ((rc = text_file_next_pair(&tf, &key, &value, err, errlen)) > 0) {
        char where[600];
        snprintf(where, sizeof where, "%s:%d", path, tf.line_no);
        int i = 0;
        while (i < NFIELDS && strcmp(fields[i].key, key) != 0)
            i++;
        if (i == NFIELDS) {
            snprintf(err, errlen, "%s: field '%s': unknown field", where, key);
            rc = -1;
            break;
        }
        if (seen[i]) {
            snprintf(err, errlen, "%s: field '%s': given twice", where, key);
            rc = -1;
            break;
        }
        seen[i] = tf.line_no;
        if (set_field(&fields[i], value, &p, where, err, errlen) != 0) {
            rc = -1;
            break;
        }
    }
    text_file_close(&tf);
    if (rc < 0)
        return -1;
    for (int i = 0; i < NFIELDS; i++) {
        if (!seen[i]) {
            snprintf(err, errlen, "%s:%d: field '%s': missing (%s)", path, text_file_end_line(&tf),
                     fields[i].key, text_file_end_what(&tf));
            return -1;
        }
    }
    if (check_buildable(&p, path, seen, err, errlen) != 0)
        return -1;
    *out = p;
    return 0;
}

int preset_find(const char *name, accel_preset *out, char *err, size_t errlen) {
    size_t n = strlen(name);
    if (strchr(name, '/') || (n > 4 && strcmp(name + n - 4, ".acc") == 0))
        return preset_load_file(name, out, err, errlen);
    char path[1024];
    snprintf(path, sizeof path, "%s/accelerators/%s.acc", models_dir(), name);
    return preset_load_file(path, out, err, errlen);
}

int64_t preset_macs_per_cycle(const accel_preset *p) {
    return (int64_t)p->array_rows * p->array_cols * p->mxus;
}

uint64_t preset_digest(uint64_t h, const accel_preset *p) {
    for (int i = 0; i < NFIELDS; i++) {
        const field_spec *f = &fields[i];
        const char *at = (const char *)p + f->offset;
        h = digest_str(h, f->key);
        if (f->kind == FIELD_NAME)
            h = digest_str(h, at);
        else if (f->kind == FIELD_INT)
            h = digest_int(h, *(const int *)at);
        else
            h = digest_real(h, *(const double *)at);
    }
    return h;
}
