/* Reads the project's network description format (docs/networks.md) into a net. */
#ifndef ACCPAR_NET_PARSE_H
#define ACCPAR_NET_PARSE_H

#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a .net file. On error returns -1 with "file:line: field 'x': why" in err. */
int net_load_file(const char *path, net *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
