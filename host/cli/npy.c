#include "npy.h"

#include "output_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int npy_write_f32(const char *path, const float *data, int64_t rows, int64_t cols, char *err,
                  size_t errlen) {
    char header[128];
    int n = snprintf(header, sizeof header,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                     (long long)rows, (long long)cols);
    /* magic (6) + version (2) + header length (2) + header + padding + '\n', a multiple of 64 */
    size_t total_header = ((size_t)10 + (size_t)n + 1 + 63) / 64 * 64;
    size_t hlen = total_header - 10;
    size_t bytes = (size_t)(rows * cols) * sizeof(float);
    unsigned char *buf = malloc(total_header + bytes);
    if (!buf) {
        snprintf(err, errlen, "%s: out of host memory", path);
        return -1;
    }
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hlen & 0xFF);
    buf[9] = (unsigned char)(hlen >> 8);
    memset(buf + 10, ' ', hlen);
    memcpy(buf + 10, header, (size_t)n);
    buf[total_header - 1] = '\n';
    memcpy(buf + total_header, data, bytes); /* little-endian host, as '<f4' says */
    int rc = output_write_bytes(path, buf, total_header + bytes, err, errlen);
    free(buf);
    return rc;
}
