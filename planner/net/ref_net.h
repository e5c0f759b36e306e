/* Networks as the public reference program (github linghaosong/AccPar) sees them: a chain of
 * CONV/FC layers with sizes as given. Read from its text format, or generated like its
 * simplified ResNet-18/34/50. docs/networks.md describes the format and the generator. */
#ifndef ACCPAR_REF_NET_H
#define ACCPAR_REF_NET_H

#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ref_layer {
    char name[NET_NAME_MAX];
    int is_fc;
    int line; /* line of the layer's name in the file (0: generated) */
    double cin, hin, win, k, cout, hout, wout; /* hout, wout: the file's out_fmap (often pooled) */
    int pool;
} ref_layer;

typedef struct ref_net {
    char name[NET_NAME_MAX];
    char path[512]; /* file the network came from ("" if generated) */
    int n;
    ref_layer *layers;
} ref_net;

/* Reads the reference format ("num_layers N", then per layer "NAME CONV|FC" and its fields in
 * the reference's order) with the .net format's bounds; each layer's input must be the previous
 * layer's output. Errors: -1 with "file:line: field 'x': why". */
int ref_net_load(const char *path, ref_net *out, char *err, size_t errlen);

/* The reference program's ResNet generator for depth 18, 34 or 50 (its shapes, including its
 * simplifications: no projection layers, FC input 2048, bottleneck inputs kept at 64..512). */
int ref_net_resnet(int depth, ref_net *out, char *err, size_t errlen);

/* A chain network with the same layers: input "data", then each layer; a CONV's pre-pool output
 * is taken as out_fmap * pool. The net keeps r's name and path (for messages). */
int ref_net_to_net(const ref_net *r, net *out, char *err, size_t errlen);

void ref_net_free(ref_net *r);

#ifdef __cplusplus
}
#endif

#endif
