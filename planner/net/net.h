/* Network graph: a DAG of input, CONV, FC and residual ADD nodes with their tensor shapes.
 * The text format and the shape rules are in docs/networks.md. */
#ifndef ACCPAR_NET_H
#define ACCPAR_NET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { NET_NAME_MAX = 64, NET_MAX_NODES = 4096, NET_MAX_IN = 2 };

typedef enum { NODE_INPUT, NODE_CONV, NODE_FC, NODE_ADD } node_kind;

typedef struct net_node {
    char name[NET_NAME_MAX];
    node_kind kind;
    int line;                  /* line of the description file (0: generated) */
    int n_in;                  /* predecessors: 0 (input), 1 (CONV, FC), 2 (ADD) */
    int in[NET_MAX_IN];        /* predecessor node indices, always smaller than this node's */
    int64_t cin, hin, win;     /* input tensor per sample; FC: cin is the flattened size */
    int64_t k;                 /* CONV kernel k x k (1 for FC) */
    int64_t stride, pad, pool; /* CONV stride and padding (0: unknown, reference format);
                                  pool divides the output map (1: none) */
    int64_t cout, hout, wout;  /* GEMM output per sample, before pooling (ADD: the sum) */
    int64_t oc, oh, ow;        /* output tensor per sample after pooling, what consumers see */
} net_node;

typedef struct net {
    char name[NET_NAME_MAX];
    char path[512]; /* file the network came from, for messages ("" if generated) */
    int n;
    net_node *nodes; /* topological order */
} net;

/* GEMM extents of a weighted node (CONV, FC) for `batch` samples (im2col for CONV):
 * rows B' = batch * hout * wout, Di = cin * k * k, Do = cout. */
int64_t net_rows(const net_node *nd, int64_t batch);
int64_t net_di(const net_node *nd);

/* Output shape of nd (cin.., hout.., oc..) from its inputs a, b (b only for ADD) and its own
 * kind, cout, k, stride, pad and pool. Returns 0, or -1 with the failing field's name in
 * *field and the reason in why. */
int net_infer_shape(net_node *nd, const net_node *a, const net_node *b, const char **field,
                    char *why, size_t whylen);

/* A digest of the network's structure and shapes (names, kinds, inputs, every shape field):
 * equal for the same network however it was read. */
uint64_t net_digest(const net *g);

/* Where messages about g point: its file, or its name if it was generated. */
const char *net_source(const net *g);

/* True for CONV and FC. */
int net_is_weighted(const net_node *nd);

/* Names are 1..63 characters from [A-Za-z0-9_.-] (they appear unescaped in JSON and CSV). */
int net_valid_name(const char *s);

/* Size limits that keep every element count of the cost model and the runtime within int64 and
 * every transfer within 2^58 bytes: per-sample tensors (a node's input and its output before
 * pooling) and Di up to 2^31-1 elements, a GEMM up to 2^48 multiply-accumulates. */
#define NET_MAX_ELEMS 2147483647LL

/* What every network format accepts: channels and FC outputs 1..NET_MAX_DIM, input maps
 * 1..NET_MAX_MAP, kernels, strides, pools 1..NET_MAX_KERNEL, padding 0..NET_MAX_KERNEL. */
enum { NET_MAX_DIM = 1 << 20, NET_MAX_MAP = 1 << 16, NET_MAX_KERNEL = 1 << 10 };
#define NET_MAX_MACS (1LL << 48)

/* Checks a shaped node against the limits for one sample. Returns 0, or -1 with the .net field
 * to blame ("c", "in", "k", "cout" or "out") in *field and the reason in why. */
int net_node_fits(const net_node *nd, const char **field, char *why, size_t whylen);

/* a * b * c for a, b, c >= 0, or cap + 1 when that exceeds cap. */
int64_t net_mul3_cap(int64_t a, int64_t b, int64_t c, int64_t cap);

void net_free(net *g);

#ifdef __cplusplus
}
#endif

#endif
