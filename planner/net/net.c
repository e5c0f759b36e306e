#include "net.h"

#include "digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t net_rows(const net_node *nd, int64_t batch) {
    return batch * nd->hout * nd->wout;
}

int64_t net_di(const net_node *nd) {
    return nd->cin * nd->k * nd->k;
}

int net_is_weighted(const net_node *nd) {
    return nd->kind == NODE_CONV || nd->kind == NODE_FC;
}

const char *net_source(const net *g) {
    return g->path[0] ? g->path : g->name;
}

void net_free(net *g) {
    free(g->nodes);
    g->nodes = NULL;
    g->n = 0;
}

int net_valid_name(const char *s) {
    size_t n = strlen(s);
    return n > 0 && n < NET_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int net_infer_shape(net_node *nd, const net_node *a, const net_node *b, const char **field,
                    char *why, size_t whylen) {
    if (nd->kind == NODE_INPUT)
        return 0;
    nd->cin = a->oc;
    nd->hin = a->oh;
    nd->win = a->ow;
    *field = "k";
    if (nd->kind == NODE_CONV) {
        int64_t span_h = a->oh + 2 * nd->pad - nd->k, span_w = a->ow + 2 * nd->pad - nd->k;
        if (span_h < 0 || span_w < 0) {
            snprintf(why, whylen, "kernel larger than the padded input");
            return -1;
        }
        nd->hout = span_h / nd->stride + 1;
        nd->wout = span_w / nd->stride + 1;
        if (nd->cin * nd->k * nd->k > 2147483647) {
            snprintf(why, whylen, "cin*k*k exceeds 2^31-1");
            return -1;
        }
    } else if (nd->kind == NODE_FC) {
        nd->cin = a->oc * a->oh * a->ow;
        nd->hin = nd->win = 1;
        nd->hout = nd->wout = 1;
        if (nd->cin > 2147483647) {
            *field = "in";
            snprintf(why, whylen, "flattened input exceeds 2^31-1");
            return -1;
        }
    } else {
        if (a->oc != b->oc || a->oh != b->oh || a->ow != b->ow) {
            *field = "in";
            snprintf(why, whylen, "shapes differ: %s is %lldx%lldx%lld, %s is %lldx%lldx%lld",
                     a->name, (long long)a->oc, (long long)a->oh, (long long)a->ow, b->name,
                     (long long)b->oc, (long long)b->oh, (long long)b->ow);
            return -1;
        }
        nd->cout = a->oc;
        nd->hout = a->oh;
        nd->wout = a->ow;
    }
    nd->oc = nd->cout;
    nd->oh = nd->hout / nd->pool;
    nd->ow = nd->wout / nd->pool;
    if (nd->oh < 1 || nd->ow < 1) {
        *field = "pool";
        snprintf(why, whylen, "larger than the output feature map");
        return -1;
    }
    return 0;
}

/* a * b for a, b >= 0, or cap + 1 when that exceeds cap. */
static int64_t mul_cap(int64_t a, int64_t b, int64_t cap) {
    return a != 0 && b > cap / a ? cap + 1 : a * b;
}

int64_t net_mul3_cap(int64_t a, int64_t b, int64_t c, int64_t cap) {
    return mul_cap(mul_cap(a, b, cap), c, cap);
}

int net_node_fits(const net_node *nd, const char **field, char *why, size_t whylen) {
    const int64_t lim = NET_MAX_ELEMS;
    const char *out = nd->kind == NODE_FC ? "out" : nd->kind == NODE_ADD ? "in" : "cout";
    int weighted = net_is_weighted(nd);
    int64_t rows = mul_cap(nd->hout, nd->wout, lim);
    int64_t di = net_mul3_cap(nd->cin, nd->k, nd->k, lim);
    const char *bad = NULL, *what = "";
    if (nd->kind == NODE_INPUT) {
        if (net_mul3_cap(nd->oc, nd->oh, nd->ow, lim) > lim)
            bad = "c", what = "c*h*w exceeds 2^31-1 elements per sample";
    } else if (net_mul3_cap(nd->cin, nd->hin, nd->win, lim) > lim) {
        bad = "in", what = "the input tensor exceeds 2^31-1 elements per sample";
    } else if (mul_cap(rows, nd->cout, lim) > lim) {
        bad = out, what = "the output tensor (before pooling) exceeds 2^31-1 elements per sample";
    } else if (weighted && di > lim) {
        bad = "k", what = "Di = cin*k*k exceeds 2^31-1";
    } else if (weighted && net_mul3_cap(rows, di, nd->cout, NET_MAX_MACS) > NET_MAX_MACS) {
        bad = out, what = "one sample's GEMM exceeds 2^48 multiply-accumulates";
    }
    if (!bad)
        return 0;
    *field = bad;
    snprintf(why, whylen, "%s", what);
    return -1;
}

uint64_t net_digest(const net *g) {
    uint64_t h = digest_int(DIGEST_INIT, g->n);
    for (int v = 0; v < g->n; v++) {
        const net_node *nd = &g->nodes[v];
        const int64_t f[] = {nd->kind,
                             nd->n_in,
                             nd->n_in > 0 ? nd->in[0] : -1,
                             nd->n_in > 1 ? nd->in[1] : -1,
                             nd->cin,
                             nd->hin,
                             nd->win,
                             nd->k,
                             nd->stride,
                             nd->pad,
                             nd->pool,
                             nd->cout,
                             nd->hout,
                             nd->wout,
                             nd->oc,
                             nd->oh,
                             nd->ow};
        h = digest_str(h, nd->name);
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
            h = digest_int(h, f[i]);
    }
    return h;
}
