/* The one growable-array helper: arrays grow by doubling through vec_grow. */
#ifndef ACCPAR_VEC_H
#define ACCPAR_VEC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns data grown (by doubling, from at least 16 elements) so that it holds `need` elements
 * of elem bytes, updating *cap; data itself when it already does. NULL when out of memory or
 * the size overflows: data and *cap are then unchanged and still valid. */
void *vec_grow(void *data, size_t *cap, size_t need, size_t elem);

#ifdef __cplusplus
}
#endif

#endif
