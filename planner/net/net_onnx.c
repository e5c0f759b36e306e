/* ONNX models as networks (docs/networks.md, "ONNX"): the ModelProto is read with protobuf-c
 * and the ONNX schema Debian ships; only the graph and the shapes of the weights are used. */
#include "net_onnx.h"

#include "input_file.h"
#include "onnx.pb-c.h"
#include "text_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest model file read: weights included, models reach hundreds of MB. */
#define ONNX_MAX_BYTES ((size_t)1 << 32)
/* Graphs larger than this are refused before anything is looked at (the network holds at most
 * NET_MAX_NODES layers anyway). */
enum { ONNX_MAX_OPERATORS = 1 << 16, ONNX_MAX_NESTING = 64 };

/* A tensor of the graph by name, found by binary search in the sorted names of every weight,
 * graph input and operator output (so the import is O(n log n) in the graph): once defined, a
 * weight (initializer) with its dims, or an activation made by a network node (after the identity
 * operators that pass it on unchanged). */
typedef struct value {
    const char *name;
    const char *alias; /* made by an identity operator: the name of its input, else NULL */
    const char *root;  /* alias resolved through every identity (resolve), once asked */
    int uses;          /* operators other than identities that read it, through identities */
    int defined;
    int node; /* the network node whose output this is, or -1 for a weight */
    const Onnx__TensorProto *weight;
} value;

typedef struct importer {
    const char *path;
    char *err;
    size_t errlen;
    value *values; /* sorted by name, one entry a name */
    size_t n_values;
    net_node *nodes;
    int n_nodes;
} importer;

/* A protobuf string field as text: an absent one (NULL) reads as "". */
static const char *text(const char *s) {
    return s ? s : "";
}

static int fail(importer *im, const Onnx__NodeProto *node, const char *fmt, const char *arg) {
    char why[512], name[256], op[128]; /* the model's strings escaped: the error is one line */
    snprintf(why, sizeof why, fmt, arg);
    text_escape(node && node->name && *node->name ? node->name : "(unnamed)", name, sizeof name);
    text_escape(node ? text(node->op_type) : "", op, sizeof op);
    if (node)
        snprintf(im->err, im->errlen, "%s: node %s (op %s): %s", im->path, name, op, why);
    else
        snprintf(im->err, im->errlen, "%s: %s", im->path, why);
    return -1;
}

/* The entry of a name of the graph, defined or not; NULL for a name the graph never defines. */
static value *lookup(importer *im, const char *name) {
    size_t lo = 0, hi = im->n_values;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(im->values[mid].name, name);
        if (c == 0)
            return &im->values[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static value *find(importer *im, const char *name) {
    value *v = lookup(im, name);
    return v && v->defined ? v : NULL;
}

static void add_value(importer *im, const char *name, int node, const Onnx__TensorProto *weight) {
    value *v = lookup(im, name); /* every name the graph defines is indexed */
    if (v) {
        v->defined = 1;
        v->node = node;
        v->weight = weight;
    }
}

/* A network name from an ONNX one: [A-Za-z0-9_.-] kept, anything else '_', at most 63. */
static void node_name(const char *onnx, const char *fallback, int index, char *out) {
    if (!onnx || !*onnx) {
        snprintf(out, NET_NAME_MAX, "%s_%d", fallback, index);
        return;
    }
    int n = 0;
    for (; onnx[n] && n < NET_NAME_MAX - 1; n++) {
        char ch = onnx[n];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '.' || ch == '-';
        out[n] = ok ? ch : '_';
    }
    out[n] = '\0';
}

static const Onnx__AttributeProto *attribute(const Onnx__NodeProto *node, const char *name) {
    for (size_t a = 0; a < node->n_attribute; a++)
        if (strcmp(text(node->attribute[a]->name), name) == 0)
            return node->attribute[a];
    return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *node, const char *name, int64_t dflt) {
    const Onnx__AttributeProto *a = attribute(node, name);
    return a && a->has_i ? a->i : dflt;
}

/* Every entry of an ints attribute equal (e.g. strides 2,2): that value, dflt if absent, -1 if
 * the entries differ. */
static int64_t attr_uniform(const Onnx__NodeProto *node, const char *name, int64_t dflt) {
    const Onnx__AttributeProto *a = attribute(node, name);
    if (!a || a->n_ints == 0)
        return dflt;
    for (size_t i = 1; i < a->n_ints; i++)
        if (a->ints[i] != a->ints[0])
            return -1;
    return a->ints[0];
}

static int is_identity(const char *op) {
    static const char *const ops[] = {
        "Relu",    "BatchNormalization", "Dropout", "Identity", "Flatten", "Reshape",
        "Softmax", "LeakyRelu",          "Sigmoid", "Clip",     "Tanh",    NULL};
    for (int i = 0; ops[i]; i++)
        if (strcmp(op, ops[i]) == 0)
            return 1;
    return 0;
}

static int is_pool(const char *op) {
    return !strcmp(op, "MaxPool") || !strcmp(op, "AveragePool") ||
           !strcmp(op, "GlobalAveragePool") || !strcmp(op, "GlobalMaxPool");
}

/* The activation an operator reads as input i (a network node's output), or NULL. */
static const value *activation(importer *im, const Onnx__NodeProto *node, size_t i) {
    if (i >= node->n_input)
        return NULL;
    const value *v = find(im, node->input[i]);
    return v && v->node >= 0 ? v : NULL;
}

static const Onnx__TensorProto *weight(importer *im, const Onnx__NodeProto *node, size_t i) {
    if (i >= node->n_input)
        return NULL;
    const value *v = find(im, node->input[i]);
    return v && v->node < 0 ? v->weight : NULL;
}

static int shape(importer *im, const Onnx__NodeProto *node, net_node *nd) {
    const char *field = "";
    char why[256];
    const net_node *a = nd->n_in > 0 ? &im->nodes[nd->in[0]] : NULL;
    const net_node *b = nd->n_in > 1 ? &im->nodes[nd->in[1]] : NULL;
    if (net_infer_shape(nd, a, b, &field, why, sizeof why) == 0 &&
        net_node_fits(nd, &field, why, sizeof why) == 0)
        return 0;
    return fail(im, node, "%s", why);
}

/* The graph's activation inputs (those that are not weights): input nodes N x C x H x W (or
 * N x F); the batch N may be symbolic, every other dimension must be a number. */
static int add_inputs(importer *im, const Onnx__GraphProto *g) {
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *in = g->input[i];
        char name[256];
        text_escape(text(in->name), name, sizeof name);
        if (find(im, text(in->name)))
            continue; /* a weight listed as an input too (older exporters) */
        const Onnx__TypeProto *t = in->type;
        const Onnx__TensorShapeProto *s = t && t->tensor_type ? t->tensor_type->shape : NULL;
        if (!s || (s->n_dim != 4 && s->n_dim != 2)) {
            snprintf(im->err, im->errlen,
                     "%s: graph input %s: expected a shape N x C x H x W or N x F", im->path, name);
            return -1;
        }
        if (im->n_nodes >= NET_MAX_NODES) {
            snprintf(im->err, im->errlen, "%s: more than %d nodes", im->path, NET_MAX_NODES);
            return -1;
        }
        int64_t d[3] = {1, 1, 1};
        for (size_t k = 1; k < s->n_dim; k++) {
            const Onnx__TensorShapeProto__Dimension *dim = s->dim[k];
            int64_t most = k == 1 ? NET_MAX_DIM : NET_MAX_MAP;
            if (dim->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
                dim->dim_value < 1 || dim->dim_value > most) {
                snprintf(im->err, im->errlen,
                         "%s: graph input %s: dimension %zu is dynamic or outside [1, %lld] (only "
                         "the batch may be symbolic)",
                         im->path, name, k, (long long)most);
                return -1;
            }
            d[k - 1] = dim->dim_value;
        }
        net_node *nd = &im->nodes[im->n_nodes];
        memset(nd, 0, sizeof *nd);
        node_name(name, "input", im->n_nodes, nd->name);
        nd->kind = NODE_INPUT;
        nd->oc = d[0], nd->oh = d[1], nd->ow = d[2];
        const char *field;
        char why[256];
        if (net_node_fits(nd, &field, why, sizeof why) != 0) {
            snprintf(im->err, im->errlen, "%s: graph input %s: %s", im->path, name, why);
            return -1;
        }
        add_value(im, text(in->name), im->n_nodes++, NULL);
    }
    return 0;
}

/* A layer's inputs: an activation, then a weight of `dims` dimensions; -1 with the error. */
static int layer_inputs(importer *im, const Onnx__NodeProto *node, size_t dims, const value **x,
                        const Onnx__TensorProto **w) {
    *x = activation(im, node, 0);
    *w = weight(im, node, 1);
    if (*x && *w && (*w)->n_dims == dims)
        return 0;
    return fail(im, node, "expected an activation and a %s weight as inputs",
                dims == 4 ? "4-D" : "2-D");
}

static int add_conv(importer *im, const Onnx__NodeProto *node, net_node *nd) {
    const value *x;
    const Onnx__TensorProto *w;
    if (layer_inputs(im, node, 4, &x, &w) != 0)
        return -1;
    int64_t stride = attr_uniform(node, "strides", 1), pad = attr_uniform(node, "pads", 0);
    int64_t dilation = attr_uniform(node, "dilations", 1);
    if (w->dims[2] != w->dims[3] || stride < 1 || pad < 0 || dilation != 1 ||
        attr_int(node, "group", 1) != 1)
        return fail(im, node, "%s",
                    "only square kernels, equal strides and paddings on every side, no dilation "
                    "and one group are supported");
    if (w->dims[0] < 1 || w->dims[0] > NET_MAX_DIM || w->dims[2] < 1 ||
        w->dims[2] > NET_MAX_KERNEL || stride > NET_MAX_KERNEL || pad > NET_MAX_KERNEL)
        return fail(im, node, "%s", "output channels, kernel, stride or padding out of range");
    nd->kind = NODE_CONV;
    nd->n_in = 1;
    nd->in[0] = x->node;
    nd->cout = w->dims[0];
    nd->k = w->dims[2];
    nd->stride = stride;
    nd->pad = pad;
    nd->pool = 1;
    return 0;
}

static int add_fc(importer *im, const Onnx__NodeProto *node, net_node *nd) {
    const value *x;
    const Onnx__TensorProto *w;
    if (layer_inputs(im, node, 2, &x, &w) != 0)
        return -1;
    int gemm = strcmp(text(node->op_type), "Gemm") == 0;
    if (gemm && attr_int(node, "transA", 0) != 0)
        return fail(im, node, "%s", "transA is not supported");
    nd->kind = NODE_FC;
    nd->n_in = 1;
    nd->in[0] = x->node;
    nd->cout = gemm && attr_int(node, "transB", 0) ? w->dims[0] : w->dims[1];
    if (nd->cout < 1 || nd->cout > NET_MAX_DIM)
        return fail(im, node, "%s", "output features out of range");
    nd->k = nd->stride = nd->pool = 1;
    return 0;
}

/* A pooling operator divides its producer's output map: the producer (a CONV or an add read by
 * nothing else) takes pool = Q, the .net format's floor division. */
static int fold_pool(importer *im, const Onnx__NodeProto *node, const value *pooled) {
    const value *x = activation(im, node, 0);
    if (!x)
        return fail(im, node, "%s", "expected an activation as input");
    net_node *p = &im->nodes[x->node];
    if ((p->kind != NODE_CONV && p->kind != NODE_ADD) || p->pool != 1 || !pooled ||
        pooled->uses != 1)
        return fail(im, node, "%s",
                    "a pool must follow a CONV or an add whose output nothing else reads");
    int64_t out_h, out_w;
    if (strncmp(text(node->op_type), "Global", 6) == 0) {
        out_h = out_w = 1;
    } else {
        const Onnx__AttributeProto *ks = attribute(node, "kernel_shape");
        int64_t k = ks && ks->n_ints ? ks->ints[0] : 0, s = attr_uniform(node, "strides", 1);
        int64_t pad = attr_uniform(node, "pads", 0);
        if (k < 1 || s < 1 || pad < 0 || k > NET_MAX_KERNEL || s > NET_MAX_KERNEL ||
            pad > NET_MAX_KERNEL || attr_uniform(node, "kernel_shape", k) != k ||
            attr_int(node, "ceil_mode", 0) != 0)
            return fail(im, node, "%s", "square kernels, equal strides and paddings only");
        out_h = (p->hout + 2 * pad - k) / s + 1;
        out_w = (p->wout + 2 * pad - k) / s + 1;
    }
    int64_t q = out_h > 0 ? p->hout / out_h : 0;
    if (q < 1 || p->hout / q != out_h || p->wout / q != out_w)
        return fail(im, node, "%s",
                    "the pooled map is not the input map divided by a whole number");
    p->pool = q;
    p->oh = p->hout / q;
    p->ow = p->wout / q;
    return 0;
}

static int by_name_then_order(const void *x, const void *y) {
    const value *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->node > b->node) - (a->node < b->node);
}

/* The index of every name the graph defines: weights, inputs, operators' first outputs (an
 * identity's with its alias), sorted, each name once (its first definition). */
static int index_names(importer *im, const Onnx__GraphProto *g) {
    size_t n = g->n_initializer + g->n_input + g->n_node, k = 0;
    value *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return fail(im, NULL, "%s", "out of memory");
    for (size_t i = 0; i < g->n_initializer; i++, k++)
        v[k] = (value){.name = text(g->initializer[i]->name), .node = (int)k};
    for (size_t i = 0; i < g->n_input; i++, k++)
        v[k] = (value){.name = text(g->input[i]->name), .node = (int)k};
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *node = g->node[i];
        if (node->n_output < 1)
            continue;
        int identity = is_identity(text(node->op_type)) && node->n_input > 0;
        v[k] = (value){.name = text(node->output[0]),
                       .alias = identity ? node->input[0] : NULL,
                       .node = (int)k};
        k++;
    }
    qsort(v, k, sizeof *v, by_name_then_order); /* node: the definition order, for now */
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || strcmp(v[m - 1].name, v[i].name) != 0)
            v[m++] = v[i];
    for (size_t i = 0; i < m; i++)
        v[i].node = -1;
    im->values = v;
    im->n_values = m;
    return 0;
}

/* The value an activation name stands for, through identity operators (at most one step per
 * name of the graph: a cycle of identities ends). The answer is kept for the name asked. */
static const char *resolve(importer *im, const char *name) {
    value *asked = lookup(im, name);
    if (!asked || !asked->alias)
        return name;
    if (!asked->root) {
        const char *r = name;
        for (size_t hops = 0; hops <= im->n_values; hops++) {
            const value *v = lookup(im, r);
            if (!v || !v->alias)
                break;
            if (v->root) {
                r = v->root;
                break;
            }
            r = v->alias;
        }
        asked->root = r;
    }
    return asked->root;
}

static int import(importer *im, const Onnx__GraphProto *g) {
    if (g->n_node > ONNX_MAX_OPERATORS || g->n_initializer > ONNX_MAX_OPERATORS ||
        g->n_input > NET_MAX_NODES)
        return fail(im, NULL, "more than %s operators, weights or inputs", "65536");
    if (index_names(im, g) != 0)
        return -1;
    for (size_t i = 0; i < g->n_initializer; i++)
        add_value(im, text(g->initializer[i]->name), -1, g->initializer[i]);
    if (add_inputs(im, g) != 0)
        return -1;
    for (size_t i = 0; i < g->n_node; i++) { /* who reads what, identities looked through */
        if (is_identity(text(g->node[i]->op_type)))
            continue;
        for (size_t e = 0; e < g->node[i]->n_input; e++) {
            value *v = lookup(im, resolve(im, g->node[i]->input[e]));
            if (v)
                v->uses++;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < g->n_node && rc == 0; i++) {
        const Onnx__NodeProto *node = g->node[i];
        const char *op = text(node->op_type);
        if (node->n_output < 1) {
            rc = fail(im, node, "%s", "no output");
            break;
        }
        if (is_identity(op) ||
            (!strcmp(op, "Add") && (weight(im, node, 0) || weight(im, node, 1)))) {
            const value *x =
                activation(im, node, 0) ? activation(im, node, 0) : activation(im, node, 1);
            if (!x)
                rc = fail(im, node, "%s", "expected an activation as input");
            else
                add_value(im, node->output[0], x->node, NULL);
            continue;
        }
        if (is_pool(op)) {
            if (!activation(im, node, 0)) {
                rc = fail(im, node, "%s", "expected an activation as input");
                break;
            }
            rc = fold_pool(im, node, lookup(im, resolve(im, node->input[0])));
            if (rc == 0)
                add_value(im, node->output[0], activation(im, node, 0)->node, NULL);
            continue;
        }
        if (im->n_nodes >= NET_MAX_NODES) {
            rc = fail(im, node, "more than %s layers", "4096");
            break;
        }
        net_node *nd = &im->nodes[im->n_nodes];
        memset(nd, 0, sizeof *nd);
        node_name(node->name, op, im->n_nodes, nd->name);
        if (!strcmp(op, "Conv"))
            rc = add_conv(im, node, nd);
        else if (!strcmp(op, "Gemm") || !strcmp(op, "MatMul"))
            rc = add_fc(im, node, nd);
        else if (!strcmp(op, "Add")) {
            const value *a = activation(im, node, 0), *b = activation(im, node, 1);
            rc = a && b ? 0 : fail(im, node, "%s", "expected two activations as inputs");
            if (rc == 0) {
                nd->kind = NODE_ADD;
                nd->n_in = 2;
                nd->in[0] = a->node;
                nd->in[1] = b->node;
                nd->pool = 1; /* as the .net format: no kernel or stride for an add */
            }
        } else
            rc = fail(im, node, "%s", "unsupported operator (docs/networks.md lists those mapped)");
        if (rc == 0 && (rc = shape(im, node, nd)) == 0)
            add_value(im, node->output[0], im->n_nodes++, NULL);
    }
    return rc;
}

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t byte = *(*p)++;
        *v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return 1;
    }
    return 0;
}

/* protobuf-c unpacks nested messages by recursion without a limit, and ONNX's schema nests (a
 * type in a type, a graph in an attribute): a hostile file nesting thousands deep would overflow
 * the stack. So the wire format is walked first, descending only into the fields the schema says
 * are messages, and more than ONNX_MAX_NESTING levels is refused. Anything malformed is left for
 * the unpacking to report. */
static int nesting_ok(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
                      int depth) {
    if (depth > ONNX_MAX_NESTING)
        return 0;
    const uint8_t *end = p + len;
    uint64_t key, v;
    while (p < end && read_varint(&p, end, &key)) {
        switch (key & 7) {
        case 0:
            if (!read_varint(&p, end, &v))
                return 1;
            break;
        case 1:
        case 5: {
            size_t n = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return 1;
            p += n;
            break;
        }
        case 2: {
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return 1;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !nesting_ok(f->descriptor, p, (size_t)v, depth + 1))
                return 0;
            p += v;
            break;
        }
        default:
            return 1;
        }
    }
    return 1;
}

int net_load_onnx(const char *path, net *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    char *data;
    size_t len;
    if (input_file_read(path, ONNX_MAX_BYTES, &data, &len, err, errlen) != 0)
        return -1;
    importer im = {path, err, errlen, NULL, 0, NULL, 0};
    if (!nesting_ok(&onnx__model_proto__descriptor, (const uint8_t *)data, len, 0)) {
        free(data);
        return fail(&im, NULL, "messages nested more than %s deep", "64");
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, (const uint8_t *)data);
    free(data);
    int rc = 0;
    if (!m || !m->graph)
        rc = fail(&im, NULL, "%s",
                  m ? "no graph in the model"
                    : "not an ONNX model (the protobuf does not parse: "
                      "truncated or another format)");
    if (rc == 0 && !(im.nodes = calloc(NET_MAX_NODES, sizeof *im.nodes)))
        rc = fail(&im, NULL, "%s", "out of memory");
    if (rc == 0)
        rc = import(&im, m->graph);
    int weighted = 0;
    for (int v = 0; v < im.n_nodes; v++)
        weighted += net_is_weighted(&im.nodes[v]);
    if (rc == 0 && weighted == 0)
        rc = fail(&im, NULL, "%s", "no Conv, Gemm or MatMul: nothing to partition");
    if (rc == 0) {
        out->nodes = im.nodes;
        out->n = im.n_nodes;
        node_name(m->graph->name, "network", 0, out->name);
        snprintf(out->path, sizeof out->path, "%s", path);
    } else {
        free(im.nodes);
    }
    free(im.values);
    if (m)
        onnx__model_proto__free_unpacked(m, NULL);
    return rc;
}
