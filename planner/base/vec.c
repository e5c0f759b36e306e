#include "vec.h"

#include <stdint.h>
#include <stdlib.h>

void *vec_grow(void *data, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return data;
    size_t n = *cap ? *cap : 16;
    while (n < need && n <= SIZE_MAX / 2)
        n *= 2;
    if (n < need || n > SIZE_MAX / elem)
        return NULL;
    void *grown = realloc(data, n * elem);
    if (grown)
        *cap = n;
    return grown;
}
