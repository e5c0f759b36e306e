/* Resolves a --net argument to a network (docs/networks.md, "Finding networks"). */
#ifndef ACCPAR_NET_FIND_H
#define ACCPAR_NET_FIND_H

#include "net.h"
#include "ref_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* resnet18-reference, resnet34-reference, resnet50-reference: the reference's generator;
 * a name ending in .txt: the reference format, as a path or under models/networks/reference/;
 * a path (containing '/' or ending in .net): the .net format; else models/networks/NAME.net. */
int net_find(const char *name, net *out, char *err, size_t errlen);

/* The same names for the reference-compatible mode, which needs the reference format or
 * generator. */
int ref_net_find(const char *name, ref_net *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
