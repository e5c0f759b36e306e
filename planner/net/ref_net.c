#include "ref_net.h"

#include "text_file.h"

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

/* Upper bounds of the fields, as in the .net format (docs/networks.md). */
#define CHANNELS_MAX (1 << 20)
#define FMAP_MAX (1 << 16)
#define KERNEL_MAX (1 << 10)

/* Reads "key value" where key must be `want`; the value an integer in [1, max]. */
static int read_field(text_file *tf, const char *want, int64_t max, int64_t *v, char *err,
                      size_t errlen) {
    char *key, *value, why[160];
    int rc = text_file_next_pair(tf, &key, &value, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        snprintf(err, errlen, "%s:%d: field '%s': missing (%s)", tf->path, text_file_end_line(tf),
                 want, text_file_end_what(tf));
        return -1;
    }
    if (strcmp(key, want) != 0) {
        snprintf(err, errlen, "%s:%d: field '%s': expected here, found '%s'", tf->path, tf->line_no,
                 want, key);
        return -1;
    }
    if (text_parse_int(value, 1, max, v, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s:%d: field '%s': %s", tf->path, tf->line_no, want, why);
        return -1;
    }
    return 0;
}

/* The chain node of a layer: a CONV's pre-pool output is out_fmap * pool. */
static net_node layer_node(const ref_layer *L, int index) {
    int64_t pool = L->pool;
    net_node nd = {.kind = L->is_fc ? NODE_FC : NODE_CONV,
                   .line = L->line,
                   .n_in = 1,
                   .in = {index},
                   .cin = (int64_t)L->cin,
                   .hin = (int64_t)L->hin,
                   .win = (int64_t)L->win,
                   .k = (int64_t)L->k,
                   .pool = pool,
                   .cout = (int64_t)L->cout,
                   .hout = (int64_t)L->hout * pool,
                   .wout = (int64_t)L->wout * pool,
                   .oc = (int64_t)L->cout,
                   .oh = (int64_t)L->hout,
                   .ow = (int64_t)L->wout};
    snprintf(nd.name, sizeof nd.name, "%s", L->name);
    return nd;
}

enum { IN_CH, IN_H, IN_W, KERNEL, OUT_CH, OUT_H, OUT_W, POOL, NKEYS };
static const char *const keys[NKEYS] = {"in_ch",  "in_fmap_h",  "in_fmap_w",  "kernel",
                                        "out_ch", "out_fmap_h", "out_fmap_w", "pool"};

/* A layer's input must be the previous layer's output (an FC's in_ch its flattened size), a
 * CONV's output map no larger than a convolution allows, and its sizes within the cost model's
 * limits. lines[key]: where each field was read. */
static int check_layer(const text_file *tf, const ref_layer *L, const ref_layer *prev,
                       const int *lines, char *err, size_t errlen) {
    int key = -1;
    char why[160] = "";
    double flat = prev ? prev->cout * prev->hout * prev->wout : 0;
    if (prev && (L->is_fc ? L->cin != flat
                          : L->cin != prev->cout || L->hin != prev->hout || L->win != prev->wout)) {
        key = L->cin != (L->is_fc ? flat : prev->cout) ? IN_CH : L->hin != prev->hout ? IN_H : IN_W;
        snprintf(why, sizeof why, "does not match the output of %s (%.0fx%.0fx%.0f)", prev->name,
                 prev->cout, prev->hout, prev->wout);
    } else if (!L->is_fc && (L->hout * L->pool > L->hin + 1 || L->wout * L->pool > L->win + 1)) {
        /* a convolution with pad <= k/2 (as .net requires) cannot grow the map by more than 1 */
        key = L->hout * L->pool > L->hin + 1 ? OUT_H : OUT_W;
        snprintf(why, sizeof why, "out_fmap * pool exceeds the input map + 1 (%.0fx%.0f)", L->hin,
                 L->win);
    } else {
        net_node nd = layer_node(L, 0);
        const char *field;
        if (net_node_fits(&nd, &field, why, sizeof why) != 0)
            key = strcmp(field, "k") == 0 ? KERNEL : strcmp(field, "in") == 0 ? IN_CH : OUT_CH;
    }
    if (key < 0)
        return 0;
    snprintf(err, errlen, "%s:%d: field '%s': %s", tf->path, lines[key], keys[key], why);
    return -1;
}

static int read_layer(text_file *tf, ref_layer *L, const ref_layer *prev, char *err,
                      size_t errlen) {
    static const int64_t conv_max[NKEYS] = {CHANNELS_MAX, FMAP_MAX, FMAP_MAX, KERNEL_MAX,
                                            CHANNELS_MAX, FMAP_MAX, FMAP_MAX, KERNEL_MAX};
    static const int fc_order[2] = {IN_CH, OUT_CH};
    char *name, *kind;
    int rc = text_file_next_pair(tf, &name, &kind, err, errlen);
    if (rc <= 0) {
        if (rc == 0)
            snprintf(err, errlen, "%s:%d: field 'name': missing (%s)", tf->path,
                     text_file_end_line(tf), text_file_end_what(tf));
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
    /* an FC's in_ch is a flattened size: up to 2^31-1 like a .net FC's input */
    int64_t v[NKEYS] = {1, 1, 1, 1, 1, 1, 1, 1};
    int lines[NKEYS] = {0};
    for (int i = 0; i < (L->is_fc ? 2 : NKEYS); i++) {
        int key = L->is_fc ? fc_order[i] : i;
        int64_t max = L->is_fc && key == IN_CH ? NET_MAX_ELEMS : conv_max[key];
        if (read_field(tf, keys[key], max, &v[key], err, errlen) != 0)
            return -1;
        lines[key] = tf->line_no;
    }
    L->cin = (double)v[IN_CH], L->hin = (double)v[IN_H], L->win = (double)v[IN_W];
    L->k = (double)v[KERNEL], L->cout = (double)v[OUT_CH], L->hout = (double)v[OUT_H];
    L->wout = (double)v[OUT_W], L->pool = (int)v[POOL];
    return check_layer(tf, L, prev, lines, err, errlen);
}

int ref_net_load(const char *path, ref_net *out, char *err, size_t errlen) {
    text_file tf;
    memset(out, 0, sizeof *out);
    if (text_file_open(&tf, path, err, errlen) != 0)
        return -1;
    int64_t n = 0;
    int rc = read_field(&tf, "num_layers", NET_MAX_NODES - 1, &n, err, errlen);
    if (rc == 0)
        rc = alloc_layers(out, (int)n, err, errlen);
    for (int i = 0; i < out->n && rc == 0; i++)
        rc = read_layer(&tf, &out->layers[i], i ? &out->layers[i - 1] : NULL, err, errlen);
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
    snprintf(out->path, sizeof out->path, "%s", path);
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
    snprintf(out->path, sizeof out->path, "%s", r->path);
    const ref_layer *first = &r->layers[0];
    net_node *in = &out->nodes[0];
    *in = (net_node){.name = "data",
                     .kind = NODE_INPUT,
                     .oc = (int64_t)first->cin,
                     .oh = (int64_t)first->hin,
                     .ow = (int64_t)first->win};
    for (int i = 0; i < r->n; i++)
        out->nodes[i + 1] = layer_node(&r->layers[i], i);
    return 0;
}

void ref_net_free(ref_net *r) {
    free(r->layers);
    r->layers = NULL;
    r->n = 0;
}
