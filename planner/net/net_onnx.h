/* ONNX models as networks (docs/networks.md, "ONNX"). */
#ifndef ACCPAR_NET_ONNX_H
#define ACCPAR_NET_ONNX_H

#include "net.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads an ONNX model: Conv, Gemm and MatMul become CONV and FC layers (weights' shapes from the
 * initializers), Add of two activations a residual add, pooling operators the pool of the CONV or
 * add they follow, and shape-preserving operators (Relu, BatchNormalization, Flatten, ...) are
 * looked through; shapes are inferred from the graph input N x C x H x W (N may be symbolic).
 * Errors: -1 with "path: node NAME (op OP): why" (an unsupported operator or attribute) or
 * "path: why" (not a model, a dynamic dimension other than the batch). */
int net_load_onnx(const char *path, net *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
