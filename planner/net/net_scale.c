#include "net_scale.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t scaled(int64_t x, double f) {
    int64_t y = (int64_t)llround((double)x * f);
    return y < 1 ? 1 : y;
}

int net_scale(const net *in, double channels, double images, net *out, char *err, size_t errlen) {
    *out = *in;
    out->nodes = malloc(sizeof *out->nodes * (size_t)in->n);
    if (!out->nodes) {
        snprintf(err, errlen, "%s: out of memory", in->name);
        return -1;
    }
    memcpy(out->nodes, in->nodes, sizeof *out->nodes * (size_t)in->n);
    for (int v = 0; v < in->n; v++) {
        net_node *nd = &out->nodes[v];
        if (nd->kind == NODE_INPUT) {
            nd->oc = scaled(nd->oc, channels);
            nd->oh = scaled(nd->oh, images);
            nd->ow = scaled(nd->ow, images);
            continue;
        }
        if (nd->kind != NODE_ADD)
            nd->cout = scaled(nd->cout, channels);
        const net_node *a = &out->nodes[nd->in[0]];
        const net_node *b = nd->n_in > 1 ? &out->nodes[nd->in[1]] : NULL;
        const char *field = "stride";
        char why[256] = "unknown (reference format): use a .net network";
        int rc = nd->kind == NODE_CONV && nd->stride < 1
                     ? -1
                     : net_infer_shape(nd, a, b, &field, why, sizeof why);
        if (rc != 0 && strcmp(field, "pool") == 0) {
            /* a pool over more than the shrunken map becomes a global pool */
            nd->pool = nd->hout < nd->wout ? nd->hout : nd->wout;
            rc = net_infer_shape(nd, a, b, &field, why, sizeof why);
        }
        if (rc != 0) {
            snprintf(err, errlen, "--scale: %s:%d: layer %s: field '%s': %s",
                     in->path[0] ? in->path : in->name, nd->line, nd->name, field, why);
            net_free(out);
            return -1;
        }
    }
    return 0;
}
