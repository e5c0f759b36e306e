#include "accel_array.h"

#include "digest.h"
#include "input_file.h"
#include "models_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* preset_find, naming the flag when a preset given by name (no '/', not ending in .acc) has no
 * file under the models folder. */
static int find_preset(const char *name, accel_preset *p, char *err, size_t errlen) {
    char why[1100], path[1100];
    if (preset_find(name, p, why, sizeof why) == 0)
        return 0;
    size_t n = strlen(name);
    int by_name = !strchr(name, '/') && !(n > 4 && strcmp(name + n - 4, ".acc") == 0);
    snprintf(path, sizeof path, "%s/accelerators/%s.acc", models_dir(), name);
    if (by_name && !input_file_exists(path))
        snprintf(err, errlen, "--accels: unknown preset '%s' (%s)", name, why);
    else
        snprintf(err, errlen, "%s", why);
    return -1;
}

static int parse_item(char *item, accel_array *a, char *err, size_t errlen) {
    char *x = strchr(item, 'x');
    char *end;
    long count = x ? strtol(item, &end, 10) : 0;
    if (!x || end != x || item[0] < '0' || item[0] > '9' || x[1] == '\0') {
        snprintf(err, errlen, "--accels: field '%s': expected COUNTxPRESET, e.g. 4xtpu-v2", item);
        return -1;
    }
    if (count < 1 || count > ARRAY_MAX_DEVICES - a->n) {
        snprintf(err, errlen, "--accels: field '%s': count must be 1..%d in total", item,
                 ARRAY_MAX_DEVICES);
        return -1;
    }
    if (a->n_kinds == ARRAY_MAX_KINDS) {
        snprintf(err, errlen, "--accels: field '%s': more than %d kinds", item, ARRAY_MAX_KINDS);
        return -1;
    }
    accel_preset *p = &a->kinds[a->n_kinds];
    if (find_preset(x + 1, p, err, errlen) != 0)
        return -1;
    device_model_exact(p, &a->models[a->n_kinds]);
    for (long d = 0; d < count; d++)
        a->kind_of[a->n++] = a->n_kinds;
    a->n_kinds++;
    return 0;
}

int accel_array_parse(const char *spec, accel_array *out, char *err, size_t errlen) {
    char buf[1024];
    memset(out, 0, sizeof *out);
    if (strlen(spec) >= sizeof buf || spec[0] == '\0') {
        snprintf(err, errlen, "--accels: field 'accels': empty or longer than %zu characters",
                 sizeof buf - 1);
        return -1;
    }
    strcpy(buf, spec);
    for (char *item = buf; item;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (parse_item(item, out, err, errlen) != 0)
            return -1;
        item = comma ? comma + 1 : NULL;
    }
    if (out->n == 0) {
        snprintf(err, errlen, "--accels: field 'accels': no devices in '%s'", spec);
        return -1;
    }
    return 0;
}

int accel_array_split(const accel_array *a, device_group g, device_group *i, device_group *j) {
    if (g.count < 2)
        return 0;
    int run = 1;
    while (run < g.count && a->kind_of[g.first + run] == a->kind_of[g.first])
        run++;
    int left = run < g.count ? run : (g.count + 1) / 2;
    *i = (device_group){g.first, left};
    *j = (device_group){g.first + left, g.count - left};
    return 1;
}

double accel_group_macs_per_s(const accel_array *a, device_group g) {
    double sum = 0;
    for (int d = g.first; d < g.first + g.count; d++) {
        const accel_preset *p = &a->kinds[a->kind_of[d]];
        sum += (double)preset_macs_per_cycle(p) * p->clock_mhz * 1e6;
    }
    return sum;
}

/* The group's links: the sum of links x bandwidth and the largest latency, with per-kind figures
 * from the presets (the hardware) or from the planner's models. */
static void group_links(const accel_array *a, device_group g, int modelled, double *bytes_per_s,
                        double *latency_s) {
    *bytes_per_s = *latency_s = 0;
    for (int d = g.first; d < g.first + g.count; d++) {
        const accel_preset *p = &a->kinds[a->kind_of[d]];
        const device_model *m = &a->models[a->kind_of[d]];
        double lat = modelled ? m->link_latency_s : p->link_latency_ns * 1e-9;
        *bytes_per_s += p->links * (modelled ? m->link_bytes_per_s : p->link_gbytes_per_s * 1e9);
        *latency_s = lat > *latency_s ? lat : *latency_s;
    }
}

double accel_group_link_bytes_per_s(const accel_array *a, device_group g) {
    double b, l;
    group_links(a, g, 0, &b, &l);
    return b;
}

double accel_group_latency_s(const accel_array *a, device_group g) {
    double b, l;
    group_links(a, g, 0, &b, &l);
    return l;
}

const char *const array_topology_names[] = {"cut", "torus", NULL};

void accel_group_model_link(const accel_array *a, device_group g, double *bytes_per_s,
                            double *latency_s) {
    group_links(a, g, 1, bytes_per_s, latency_s);
}

int accel_groups_alike(const accel_array *a, device_group x, device_group y) {
    if (x.count != y.count)
        return 0;
    for (int d = 0; d < x.count; d++)
        if (a->kind_of[x.first + d] != a->kind_of[y.first + d])
            return 0;
    return 1;
}

uint64_t accel_array_digest(const accel_array *a) {
    uint64_t h = digest_int(DIGEST_INIT, a->n);
    for (int d = 0; d < a->n; d++)
        h = digest_int(h, a->kind_of[d]);
    for (int k = 0; k < a->n_kinds; k++)
        h = preset_digest(h, &a->kinds[k]);
    return h;
}
