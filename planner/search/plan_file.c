#include "plan_file.h"

#include "digest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char FORMAT[] = "accpar-plan";

void plan_file_write(json_out *j, const plan_file_meta *meta, const net *g, const accel_array *a,
                     const plan *p) {
    char hex[DIGEST_HEX];
    json_begin_object(j, NULL);
    json_str(j, "format", FORMAT);
    json_int(j, "version", PLAN_FILE_VERSION);
    json_str(j, "network", meta->net);
    digest_hex(net_digest(g), hex);
    json_str(j, "network_digest", hex);
    json_num(j, "scale", meta->scale);
    json_num(j, "image_scale", meta->image_scale);
    json_str(j, "accels", meta->accels);
    digest_hex(accel_array_digest(a), hex);
    json_str(j, "array_digest", hex);
    json_str(j, "compute_model", meta->compute_model);
    json_str(j, "calibration", meta->calibration);
    json_str(j, "model", p->model);
    json_str(j, "strategy", strategy_name(p->strat));
    json_int(j, "batch", p->batch);
    json_int(j, "search_levels", p->search_levels);
    json_begin_array(j, "levels");
    for (int h = 0; h < p->n_levels; h++) {
        json_begin_object(j, NULL);
        json_num(j, "alpha", p->levels[h].alpha);
        json_begin_object(j, "states");
        for (int v = 0; v < g->n; v++)
            if (g->nodes[v].kind != NODE_INPUT)
                json_str(j, g->nodes[v].name,
                         node_state_name(g->nodes[v].kind, p->levels[h].state[v]));
        json_end_object(j);
        json_end_object(j);
    }
    json_end_array(j);
    json_begin_object(j, "predicted");
    json_num(j, "step_s", p->step_s);
    json_num(j, "compute_s", p->compute_s);
    json_num(j, "comm_s", p->comm_s);
    json_uint(j, "comm_bytes", p->comm_bytes);
    json_end_object(j);
    json_end_object(j);
}

/* "path:line: field 'key': why" about value v (or the document when v is NULL). */
static int bad(const plan_file *f, const json_value *v, const char *key, const char *why, char *err,
               size_t errlen) {
    snprintf(err, errlen, "%s:%d: field '%s': %s", f->path, v ? v->line : f->doc.line, key, why);
    return -1;
}

/* The member key of obj of type t, or NULL with the error set. */
static const json_value *member(const plan_file *f, const json_value *obj, const char *key,
                                json_type t, char *err, size_t errlen) {
    const json_value *v = json_member(obj, key);
    char why[64];
    if (!v) {
        bad(f, obj, key, "missing", err, errlen);
        return NULL;
    }
    if (v->type != t) {
        snprintf(why, sizeof why, "must be %s", json_type_name(t));
        bad(f, v, key, why, err, errlen);
        return NULL;
    }
    return v;
}

static int get_str(const plan_file *f, const char *key, char *out, size_t len, char *err,
                   size_t errlen) {
    const json_value *v = member(f, &f->doc, key, JSON_STRING, err, errlen);
    if (!v)
        return -1;
    if (strlen(v->string) >= len)
        return bad(f, v, key, "too long", err, errlen);
    snprintf(out, len, "%s", v->string);
    return 0;
}

/* A number in [min, max]; whole numbers only when integer is set. label names the field in
 * errors (NULL: key). */
static int get_num(const plan_file *f, const json_value *obj, const char *key, const char *label,
                   double min, double max, int integer, double *out, char *err, size_t errlen) {
    const json_value *v = member(f, obj, key, JSON_NUMBER, err, errlen);
    if (!v)
        return -1;
    char why[128];
    if (v->number < min || v->number > max || (integer && v->number != floor(v->number))) {
        snprintf(why, sizeof why, "%.17g is not %s in [%g, %g]", v->number,
                 integer ? "an integer" : "a number", min, max);
        return bad(f, v, label ? label : key, why, err, errlen);
    }
    *out = v->number;
    return 0;
}

int plan_file_read(const char *path, plan_file *f, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    if (json_read_file(path, &f->doc, err, errlen) != 0)
        return -1;
    char format[32], strat[16];
    double version, batch, levels;
    plan_file_meta *m = &f->meta;
    int rc = f->doc.type != JSON_OBJECT ? bad(f, NULL, "format",
                                              "not a plan file (a JSON object "
                                              "with format accpar-plan)",
                                              err, errlen)
                                        : 0;
    if (rc == 0)
        rc = get_str(f, "format", format, sizeof format, err, errlen);
    if (rc == 0 && strcmp(format, FORMAT) != 0)
        rc = bad(f, json_member(&f->doc, "format"), "format", "not accpar-plan", err, errlen);
    if (rc == 0)
        rc = get_num(f, &f->doc, "version", NULL, 1, PLAN_FILE_VERSION, 1, &version, err, errlen);
    if (rc == 0)
        rc = get_str(f, "network", m->net, sizeof m->net, err, errlen);
    if (rc == 0)
        rc = get_num(f, &f->doc, "scale", NULL, 1e-6, 1, 0, &m->scale, err, errlen);
    if (rc == 0)
        rc = get_num(f, &f->doc, "image_scale", NULL, 1e-6, 1, 0, &m->image_scale, err, errlen);
    if (rc == 0)
        rc = get_str(f, "accels", m->accels, sizeof m->accels, err, errlen);
    if (rc == 0)
        rc = get_str(f, "compute_model", m->compute_model, sizeof m->compute_model, err, errlen);
    if (rc == 0)
        rc = get_str(f, "calibration", m->calibration, sizeof m->calibration, err, errlen);
    if (rc == 0)
        rc = get_str(f, "strategy", strat, sizeof strat, err, errlen);
    if (rc == 0 && strategy_parse(strat, &f->strat) != 0)
        rc = bad(f, json_member(&f->doc, "strategy"), "strategy", "not dp, owt, hypar or accpar",
                 err, errlen);
    if (rc == 0)
        rc = get_num(f, &f->doc, "batch", NULL, 1, 1 << 24, 1, &batch, err, errlen);
    if (rc == 0)
        rc =
            get_num(f, &f->doc, "search_levels", NULL, 0, PLAN_MAX_LEVELS, 1, &levels, err, errlen);
    if (rc != 0) {
        plan_file_free(f);
        return -1;
    }
    f->batch = (int64_t)batch;
    f->search_levels = (int)levels;
    return 0;
}

/* The saved digest `key` against the one computed now. */
static int check_digest(const plan_file *f, const char *key, uint64_t now, const char *what,
                        char *err, size_t errlen) {
    char saved[64], hex[DIGEST_HEX], why[512];
    if (get_str(f, key, saved, sizeof saved, err, errlen) != 0)
        return -1;
    digest_hex(now, hex);
    if (strcmp(saved, hex) == 0)
        return 0;
    snprintf(why, sizeof why, "%s differs from the one the plan was made for (digest %s, plan %s)",
             what, hex, saved);
    return bad(f, json_member(&f->doc, key), key, why, err, errlen);
}

/* Level h's alpha and states into choice (states by node index). */
static int read_level(const plan_file *f, const json_value *lv, int h, const net *g,
                      plan_choice *choice, char *err, size_t errlen) {
    char key[80];
    snprintf(key, sizeof key, "levels[%d]", h);
    if (lv->type != JSON_OBJECT)
        return bad(f, lv, key, "must be an object", err, errlen);
    snprintf(key, sizeof key, "levels[%d].alpha", h);
    if (get_num(f, lv, "alpha", key, 0, 1, 0, &choice->alpha[h], err, errlen) != 0)
        return -1;
    const json_value *states = member(f, lv, "states", JSON_OBJECT, err, errlen);
    if (!states)
        return -1;
    for (int v = 0; v < g->n; v++)
        choice->state[h][v] = STATE_NONE;
    for (size_t k = 0; k < states->n; k++) {
        const json_value *s = &states->items[k];
        int v = 0;
        while (v < g->n && strcmp(g->nodes[v].name, states->keys[k]) != 0)
            v++;
        char why[160];
        snprintf(key, sizeof key, "states.%.56s", states->keys[k]);
        if (v == g->n || g->nodes[v].kind == NODE_INPUT)
            return bad(f, s, key, "no such layer or add in the network", err, errlen);
        snprintf(why, sizeof why, "must be %s",
                 g->nodes[v].kind == NODE_ADD ? "B, C or R" : "I, II or III");
        if (s->type != JSON_STRING ||
            node_state_parse(g->nodes[v].kind, s->string, &choice->state[h][v]) != 0)
            return bad(f, s, key, why, err, errlen);
    }
    for (int v = 0; v < g->n; v++)
        if (g->nodes[v].kind != NODE_INPUT && choice->state[h][v] == STATE_NONE) {
            snprintf(key, sizeof key, "states.%.63s", g->nodes[v].name);
            return bad(f, states, key, "missing", err, errlen);
        }
    return 0;
}

static int read_choice(const plan_file *f, const net *g, plan_choice *choice, char *err,
                       size_t errlen) {
    const json_value *levels = member(f, &f->doc, "levels", JSON_ARRAY, err, errlen);
    if (!levels)
        return -1;
    if (levels->n > PLAN_MAX_LEVELS)
        return bad(f, levels, "levels", "more levels than a plan can have", err, errlen);
    choice->n_levels = (int)levels->n;
    for (int h = 0; h < choice->n_levels; h++) {
        if (!(choice->state[h] = malloc(sizeof(int) * (size_t)g->n))) {
            snprintf(err, errlen, "%s: out of memory", f->path);
            return -1;
        }
        if (read_level(f, &levels->items[h], h, g, choice, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* The rebuilt plan's prediction against the saved one, if the file has one. */
static int check_prediction(const plan_file *f, const plan *p, char *err, size_t errlen) {
    const json_value *pred = json_member(&f->doc, "predicted");
    double step;
    char why[512];
    if (!pred)
        return 0;
    if (pred->type != JSON_OBJECT)
        return bad(f, pred, "predicted", "must be an object", err, errlen);
    if (get_num(f, pred, "step_s", NULL, 0, INFINITY, 0, &step, err, errlen) != 0)
        return -1;
    if (fabs(step - p->step_s) > 1e-9 * fabs(p->step_s)) {
        snprintf(why, sizeof why,
                 "%.17g s saved, %.17g s now: the levels were edited or the compute model's "
                 "files changed (delete \"predicted\" to run an edited plan)",
                 step, p->step_s);
        return bad(f, json_member(pred, "step_s"), "predicted.step_s", why, err, errlen);
    }
    return 0;
}

int plan_file_plan(const plan_file *f, const net *g, const accel_array *a, plan *out, char *err,
                   size_t errlen) {
    memset(out, 0, sizeof *out);
    if (check_digest(f, "network_digest", net_digest(g), "the network", err, errlen) != 0 ||
        check_digest(f, "array_digest", accel_array_digest(a), "the array", err, errlen) != 0)
        return -1;
    plan_choice choice;
    memset(&choice, 0, sizeof choice);
    plan_options o = {.strat = f->strat, .batch = f->batch, .search_levels = f->search_levels};
    char why[1024];
    int rc = read_choice(f, g, &choice, err, errlen);
    if (rc == 0 && (rc = plan_make_chosen(g, a, &o, &choice, out, why, sizeof why)) != 0)
        snprintf(err, errlen, "%s: %s", f->path, why);
    if (rc == 0 && check_prediction(f, out, err, errlen) != 0) {
        plan_free(out);
        rc = -1;
    }
    for (int h = 0; h < PLAN_MAX_LEVELS; h++)
        free(choice.state[h]);
    return rc;
}

void plan_file_free(plan_file *f) {
    json_value_free(&f->doc);
}
