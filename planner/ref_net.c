#include "ref_net.h"

#include "text_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int alloc_layers(ref_net *out, int n, char *err, size_t errlen) {
    out->layers = calloc((size_t)n, sizeof *out->layers);
    if (!out->layers) {
        snprintf(err, errlen, "out of memory for %d layers", n);
        return -1;
    }
    out->n = n;
    return 0;
}

/* Reads "key value" where key must be `want`; the value a positive integer up to max. */
static int read_field(text_file *tf, const char *want, double max, double *v, char *err,
                      size_t errlen) {
    char *key, *value, *end;
    int rc = text_file_next_pair(tf, &key, &value, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        snprintf(err, errlen, "%s:%d: field '%s': missing (file ends)", tf->path, tf->line_no,
                 want);
        return -1;
    }
    if (strcmp(key, want) != 0) {
        snprintf(err, errlen, "%s:%d: field '%s': expected here, found '%s'", tf->path, tf->line_no,
                 want, key);
        return -1;
    }
    double x = strtod(value, &end);
    if (*end != '\0' || !(x >= 1 && x <= max) || x != floor(x)) {
        snprintf(err, errlen, "%s:%d: field '%s': '%s' is not an integer in [1, %.0f]", tf->path,
                 tf->line_no, want, value, max);
        return -1;
    }
    *v = x;
    return 0;
}

static int read_layer(text_file *tf, ref_layer *L, char *err, size_t errlen) {
    static const char *const conv_keys[] = {"in_ch",  "in_fmap_h",  "in_fmap_w",  "kernel",
                                            "out_ch", "out_fmap_h", "out_fmap_w", "pool"};
    static const char *const fc_keys[] = {"in_ch", "out_ch"};
    char *name, *kind;
    int rc = text_file_next_pair(tf, &name, &kind, err, errlen);
    if (rc <= 0) {
        if (rc == 0)
            snprintf(err, errlen, "%s:%d: field 'name': missing (file ends)", tf->path,
                     tf->line_no);
        return -1;
    }
    if (!net_valid_name(name) || (strcmp(kind, "CONV") != 0 && strcmp(kind, "FC") != 0)) {
        snprintf(err, errlen, "%s:%d: field '%s': expected 'NAME CONV' or 'NAME FC'", tf->path,
                 tf->line_no, name);
        return -1;
    }
    strcpy(L->name, name);
    L->line = tf->line_no;
    L->is_fc = strcmp(kind, "FC") == 0;
    double v[8];
    int nkeys = L->is_fc ? 2 : 8;
    for (int i = 0; i < nkeys; i++) {
        const char *key = L->is_fc ? fc_keys[i] : conv_keys[i];
        double max = (i == 0 || (L->is_fc && i == 1) || i == 4) ? 2147483647.0 : 65536.0;
        if (read_field(tf, key, max, &v[i], err, errlen) != 0)
            return -1;
    }
    if (L->is_fc) {
        L->cin = v[0], L->hin = 1, L->win = 1, L->k = 1;
        L->cout = v[1], L->hout = 1, L->wout = 1, L->pool = 1;
    } else {
        L->cin = v[0], L->hin = v[1], L->win = v[2], L->k = v[3];
        L->cout = v[4], L->hout = v[5], L->wout = v[6], L->pool = (int)v[7];
    }
    return 0;
}

int ref_net_load(const char *path, ref_net *out, char *err, size_t errlen) {
    text_file tf;
    memset(out, 0, sizeof *out);
    if (text_file_open(&tf, path, err, errlen) != 0)
        return -1;
    double n = 0;
    int rc = read_field(&tf, "num_layers", NET_MAX_NODES - 1, &n, err, errlen);
    if (rc == 0)
        rc = alloc_layers(out, (int)n, err, errlen);
    for (int i = 0; i < out->n && rc == 0; i++)
        rc = read_layer(&tf, &out->layers[i], err, errlen);
    char *tok[1];
    if (rc == 0 && text_file_next_tokens(&tf, tok, 1, err, errlen) != 0) {
        snprintf(err, errlen, "%s:%d: field 'num_layers': more layers than the %d declared", path,
                 tf.line_no, out->n);
        rc = -1;
    }
    text_file_close(&tf);
    if (rc != 0) {
        ref_net_free(out);
        return -1;
    }
    const char *base = strrchr(path, '/');
    snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : path);
    return 0;
}

static void set_conv(ref_layer *L, const char *name, double cin, double fmap, double k, double cout,
                     double out_fmap, int pool) {
    *L = (ref_layer){.cin = cin,
                     .hin = fmap,
                     .win = fmap,
                     .k = k,
                     .cout = cout,
                     .hout = out_fmap,
                     .wout = out_fmap,
                     .pool = pool};
    snprintf(L->name, sizeof L->name, "%s", name);
}

int ref_net_resnet(int depth, ref_net *out, char *err, size_t errlen) {
    static const int reps18[4] = {2, 2, 2, 2}, reps34[4] = {3, 4, 6, 3};
    static const double chans[4] = {64, 128, 256, 512}, fmaps[4] = {56, 28, 14, 7};
    memset(out, 0, sizeof *out);
    if (depth != 18 && depth != 34 && depth != 50) {
        snprintf(err, errlen, "reference ResNet depth %d: must be 18, 34 or 50", depth);
        return -1;
    }
    if (alloc_layers(out, depth, err, errlen) != 0)
        return -1;
    snprintf(out->name, sizeof out->name, "resnet%d-reference", depth);
    set_conv(&out->layers[0], "cv1", 3, 224, 7, 64, 56, 4);
    int l = 1;
    for (int s = 0; s < 4; s++) {
        int reps = depth == 18 ? reps18[s] : reps34[s];
        int per_block = depth == 50 ? 3 : 2;
        for (int r = 0; r < reps; r++) {
            for (int b = 0; b < per_block; b++) {
                char name[32];
                snprintf(name, sizeof name, "cv%d%d", s + 2, l + 1);
                double k = depth == 50 && b != 1 ? 1 : 3;
                double cout = depth == 50 && b == 2 ? 4 * chans[s] : chans[s];
                set_conv(&out->layers[l++], name, chans[s], fmaps[s], k, cout, fmaps[s], 1);
            }
        }
    }
    out->layers[l] = (ref_layer){.name = "fc",
                                 .is_fc = 1,
                                 .cin = 2048,
                                 .hin = 1,
                                 .win = 1,
                                 .k = 1,
                                 .cout = 1000,
                                 .hout = 1,
                                 .wout = 1,
                                 .pool = 1};
    return 0;
}

int ref_net_to_net(const ref_net *r, net *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->nodes = calloc((size_t)r->n + 1, sizeof *out->nodes);
    if (!out->nodes) {
        snprintf(err, errlen, "out of memory for %d layers", r->n);
        return -1;
    }
    out->n = r->n + 1;
    snprintf(out->name, sizeof out->name, "%s", r->name);
    const ref_layer *first = &r->layers[0];
    net_node *in = &out->nodes[0];
    *in = (net_node){.name = "data",
                     .kind = NODE_INPUT,
                     .oc = (int64_t)first->cin,
                     .oh = (int64_t)first->hin,
                     .ow = (int64_t)first->win};
    for (int i = 0; i < r->n; i++) {
        const ref_layer *L = &r->layers[i];
        int64_t pool = L->pool > 0 ? L->pool : 1;
        out->nodes[i + 1] = (net_node){.kind = L->is_fc ? NODE_FC : NODE_CONV,
                                       .line = L->line,
                                       .n_in = 1,
                                       .in = {i},
                                       .cin = (int64_t)L->cin,
                                       .hin = (int64_t)L->hin,
                                       .win = (int64_t)L->win,
                                       .k = (int64_t)L->k,
                                       .cout = (int64_t)L->cout,
                                       .hout = (int64_t)L->hout * pool,
                                       .wout = (int64_t)L->wout * pool,
                                       .oc = (int64_t)L->cout,
                                       .oh = (int64_t)L->hout,
                                       .ow = (int64_t)L->wout};
        snprintf(out->nodes[i + 1].name, NET_NAME_MAX, "%s", L->name);
    }
    return 0;
}

void ref_net_free(ref_net *r) {
    free(r->layers);
    r->layers = NULL;
    r->n = 0;
}
