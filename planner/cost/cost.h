/* The cost model: tensor layouts and their conversions, element sizes, link transfer time and
 * per-device GEMM time from the systolic closed form. Every formula: docs/cost-model.md. */
#ifndef ACCPAR_COST_H
#define ACCPAR_COST_H

#include "device_model.h"
#include "net.h"
#include "preset.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes per element: layout conversions move bf16 activations F and errors E; intra-layer
 * reductions move fp32 partial sums. */
enum { COST_ACT_BYTES = 2, COST_PSUM_BYTES = 4 };

/* Layout of a tensor between two groups: split along the batch, split along the channels, or
 * whole in both. */
typedef enum { LAYOUT_B, LAYOUT_C, LAYOUT_REP } layout;

/* Node states: a layer's type (0 = I splits B, 1 = II splits Di, 2 = III splits Do); an add's
 * layout (0 = B, 1 = C, 2 = replicated). */
enum { COST_STATES = 3 };

/* Layouts a node in `state` produces for its output F, requires for its input F, produces for
 * its input error E and requires for its output error E. */
typedef struct node_layouts {
    layout produce_f, require_f, produce_e, require_e;
} node_layouts;

node_layouts cost_layouts(node_kind kind, int state);

/* Splits a dimension d with ratio alpha: group i gets round(alpha*d) (half away from zero),
 * group j the rest. Returns 0 if both parts are >= 1, -1 if the split is infeasible. */
int cost_split(int64_t d, double alpha, int64_t *di, int64_t *dj);

/* Elements a group must receive to turn a tensor of bt x ct x hw elements from layout `from`
 * into `to`, when it owns b_own batch rows (B layout) or c_own channels (C layout). */
int64_t cost_convert_elems(layout from, layout to, int64_t bt, int64_t ct, int64_t hw,
                           int64_t b_own, int64_t c_own);

/* Elements each group receives in the intra-layer reduction of a layer of `type` whose
 * sub-problem is b samples, ci input and co output channels: |dW|, |F(l+1)| or |E(l)|. */
int64_t cost_intra_elems(const net_node *nd, int type, int64_t b, int64_t ci, int64_t co);

/* Seconds for one transfer: bytes / bandwidth + latency, 0 for no bytes. */
double cost_transfer_s(uint64_t bytes, double bytes_per_s, double latency_s);

typedef struct gemm_dims {
    int64_t m, k, n; /* all 0: the GEMM is not run */
} gemm_dims;

/* The three GEMMs of a weighted node for a sub-problem of b samples, ci input and co output
 * channels. The backward GEMM is skipped (zeros) when the node reads a network input. */
void cost_layer_gemms(const net_node *nd, int needs_backward, int64_t b, int64_t ci, int64_t co,
                      gemm_dims out[3]);

/* Seconds one device spends on the three GEMMs as its model m predicts (device_model.h; the exact
 * model is the closed form). -1 with a message if a shape is outside the systolic model's range
 * or a GEMM exceeds NET_MAX_MACS. */
int cost_gemms_seconds(const accel_preset *p, const device_model *m, const gemm_dims g[3],
                       double *seconds, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
