#include "run_trace.h"

#include "json.h"
#include "output_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DIR/timeline.csv; -1 with the error if it does not fit in len. */
static int timeline_path(run_ctx *c, char *path, size_t len) {
    if ((size_t)snprintf(path, len, "%s/timeline.csv", c->o->trace_dir) < len)
        return 0;
    snprintf(c->err, c->errlen, "--trace: %s: path too long", c->o->trace_dir);
    return -1;
}

int run_trace_output(run_ctx *c, const char *flag, const char *path) {
    char why[1400];
    if (output_declare(path, why, sizeof why) == 0)
        return 0;
    snprintf(c->err, c->errlen, "%s: %s", flag, why);
    return -1;
}

int run_trace_declare(run_ctx *c) {
    char path[1100];
    if (c->o->trace_dir &&
        (timeline_path(c, path, sizeof path) != 0 || run_trace_output(c, "--trace", path) != 0))
        return -1;
    return c->o->trace_events ? run_trace_output(c, "--trace-events", c->o->trace_events) : 0;
}

static int write_csv(FILE *f, void *ctx) {
    const run_ctx *c = ctx;
    fprintf(f, "what,node,level,device,link,start_s,end_s,bytes,cycles\n");
    for (size_t k = 0; k < c->n_events; k++) {
        const run_event *e = &c->events[k];
        char device[16] = "", link[16] = "";
        if (e->device >= 0)
            snprintf(device, sizeof device, "%d", e->device);
        if (e->link >= 0)
            snprintf(link, sizeof link, "%d", e->link);
        fprintf(f, "%s,%s,%d,%s,%s,%.12g,%.12g,%llu,%llu\n", e->what, c->g->nodes[e->node].name,
                e->level, device, link, e->t0, e->t1, (unsigned long long)e->bytes,
                (unsigned long long)e->cycles);
    }
    return 0;
}

enum { PID_DEVICES = 1, PID_LINKS = 2 };

static void track_name(json_out *j, int pid, int tid, const char *name) {
    json_begin_object(j, NULL);
    json_str(j, "name", tid < 0 ? "process_name" : "thread_name");
    json_str(j, "ph", "M");
    json_int(j, "pid", pid);
    if (tid >= 0)
        json_int(j, "tid", tid);
    json_begin_object(j, "args");
    json_str(j, "name", name);
    json_end_object(j);
    json_end_object(j);
}

/* One track per device, one per link used (levels x pairs), then a complete ("X") event per
 * span: times in microseconds of simulated time. */
static int trace_json(const run_ctx *c, json_out *j) {
    const accel_array *a = c->a;
    int links = c->r->n_devices * (c->r->n_levels > 0 ? c->r->n_levels : 1);
    char *used = calloc((size_t)links, 1), name[160];
    if (!used)
        return -1;
    json_begin_object(j, NULL);
    json_str(j, "displayTimeUnit", "ns");
    json_begin_array(j, "traceEvents");
    track_name(j, PID_DEVICES, -1, "devices");
    track_name(j, PID_LINKS, -1, "links");
    for (int d = 0; d < a->n; d++) {
        snprintf(name, sizeof name, "device %d (%s)", d, a->kinds[a->kind_of[d]].name);
        track_name(j, PID_DEVICES, d, name);
    }
    for (size_t k = 0; k < c->n_events; k++)
        if (c->events[k].link >= 0 && !used[c->events[k].link]) {
            const run_event *e = &c->events[k];
            used[e->link] = 1;
            snprintf(name, sizeof name, "level %d split %d", e->level,
                     e->link - e->level * c->r->n_devices);
            track_name(j, PID_LINKS, e->link, name);
        }
    for (size_t k = 0; k < c->n_events; k++) {
        const run_event *e = &c->events[k];
        const char *layer = c->g->nodes[e->node].name;
        snprintf(name, sizeof name, "%s %s", layer, e->what);
        json_begin_object(j, NULL);
        json_str(j, "name", name);
        json_str(j, "cat", e->device >= 0 ? "compute" : "transfer");
        json_str(j, "ph", "X");
        json_num(j, "ts", e->t0 * 1e6);
        json_num(j, "dur", (e->t1 - e->t0) * 1e6);
        json_int(j, "pid", e->device >= 0 ? PID_DEVICES : PID_LINKS);
        json_int(j, "tid", e->device >= 0 ? e->device : e->link);
        json_begin_object(j, "args");
        json_str(j, "layer", layer);
        json_str(j, "phase", e->what);
        if (e->device >= 0) {
            json_uint(j, "cycles", e->cycles);
        } else {
            json_int(j, "level", e->level);
            json_str(j, "direction", e->to_group ? "i to j" : "j to i");
            json_uint(j, "bytes", e->bytes);
        }
        json_end_object(j);
        json_end_object(j);
    }
    json_end_array(j);
    json_end_object(j);
    free(used);
    return 0;
}

int run_trace_write(run_ctx *c) {
    char path[1100];
    if (c->events_lost) {
        snprintf(c->err, c->errlen, "--trace: out of host memory for the timeline");
        return -1;
    }
    if (c->o->trace_dir && (timeline_path(c, path, sizeof path) != 0 ||
                            output_write(path, write_csv, c, c->err, c->errlen) != 0))
        return -1;
    if (!c->o->trace_events)
        return 0;
    json_out j = {0};
    int rc = trace_json(c, &j);
    if (rc != 0)
        snprintf(c->err, c->errlen, "--trace-events: out of host memory");
    else
        rc = json_write_file(&j, c->o->trace_events, c->err, c->errlen);
    json_free(&j);
    return rc;
}
