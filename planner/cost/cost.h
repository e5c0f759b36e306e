/* The cost model: tensor layouts and their conversions, element sizes, link transfer time and
 * per-device GEMM time from the systolic closed form. Every formula: docs/cost-model.md. */
#ifndef ACCPAR_COST_H
#define ACCPAR_COST_H

#include "device_model.h"
#include "net.h"
#include "partition.h"
#include "preset.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes per element: layout conversions move bf16 activations F and errors E; intra-layer
 * reductions move fp32 partial sums. */
enum { COST_ACT_BYTES = 2, COST_PSUM_BYTES = 4 };

/* Splits a dimension d with ratio alpha: group i gets round(alpha*d) (half away from zero),
 * group j the rest. Returns 0 if both parts are >= 1, -1 if the split is infeasible. */
int cost_split(int64_t d, double alpha, int64_t *di, int64_t *dj);

/* Elements a group must receive to turn a tensor of bt x ct x hw elements from layout `from`
 * into `to`, when it owns b_own batch rows (B layout) or c_own channels (C layout). */
int64_t cost_convert_elems(layout from, layout to, int64_t bt, int64_t ct, int64_t hw,
                           int64_t b_own, int64_t c_own);

/* Elements each group receives in the intra-layer reduction of a layer of `type` whose
 * sub-problem is b samples, ci input and co output channels: |dW|, |F(l+1)| or |E(l)|. */
int64_t cost_intra_elems(const net_node *nd, layer_type type, int64_t b, int64_t ci, int64_t co);

/* Seconds for one transfer: bytes / bandwidth + latency, 0 for no bytes. */
double cost_transfer_s(uint64_t bytes, double bytes_per_s, double latency_s);

typedef struct gemm_dims {
    int64_t m, k, n; /* all 0: the GEMM is not run */
} gemm_dims;

/* The three GEMMs of a weighted node (out[phase]) for a sub-problem of b samples, ci input and
 * co output channels. The backward GEMM is skipped (zeros) when the node reads a network input. */
void cost_layer_gemms(const net_node *nd, int needs_backward, int64_t b, int64_t ci, int64_t co,
                      gemm_dims out[PHASES]);

/* Seconds one device spends on the three GEMMs as its model m predicts (device_model.h; the exact
 * model is the closed form). -1 with a message if a shape is outside the systolic model's range
 * or a GEMM exceeds NET_MAX_MACS. */
int cost_gemms_seconds(const accel_preset *p, const device_model *m, const gemm_dims g[PHASES],
                       double *seconds, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
