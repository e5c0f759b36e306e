/* --scale: a network with its channel counts and image sizes multiplied by a factor. */
#ifndef ACCPAR_NET_SCALE_H
#define ACCPAR_NET_SCALE_H

#include "net.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Channels (input c, CONV cout, FC out) scale by `channels`, the inputs' h and w by `images`,
 * each rounded and at least 1; shapes are inferred again. -1 with a one-line error if a layer
 * no longer fits (e.g. a kernel larger than its shrunken input). */
int net_scale(const net *in, double channels, double images, net *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
