#include "report.h"

#include "atomic_file.h"
#include "json_put.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(json_out *j, const char *fmt, ...) {
    if (j->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    char small[512];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof small) {
        j->failed = 1;
        return;
    }
    if (j->len + (size_t)n + 1 > j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 4096;
        while (cap < j->len + (size_t)n + 1)
            cap *= 2;
        char *b = realloc(j->buf, cap);
        if (!b) {
            j->failed = 1;
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, small, (size_t)n + 1);
    j->len += (size_t)n;
}

static void put_string(json_out *j, const char *s) {
    char buf[8];
    put(j, "\"");
    for (; *s; s++)
        put(j, "%s", json_escape_byte((unsigned char)*s, buf));
    put(j, "\"");
}

/* Comma, newline, indentation and "key": before a member. */
static void member(json_out *j, const char *key) {
    if (j->depth > 0) {
        put(j, j->first[j->depth] ? "\n" : ",\n");
        j->first[j->depth] = 0;
        put(j, "%*s", 2 * j->depth, "");
    }
    if (key) {
        put_string(j, key);
        put(j, ": ");
    }
}

static void open_scope(json_out *j, const char *key, char ch) {
    member(j, key);
    put(j, "%c", ch);
    if (j->depth + 1 >= (int)(sizeof j->first / sizeof j->first[0])) {
        j->failed = 1;
        return;
    }
    j->first[++j->depth] = 1;
}

static void close_scope(json_out *j, char ch) {
    int empty = j->first[j->depth];
    j->depth--;
    if (!empty)
        put(j, "\n%*s", 2 * j->depth, "");
    put(j, "%c", ch);
    if (j->depth == 0)
        put(j, "\n");
}

void json_begin_object(json_out *j, const char *key) {
    open_scope(j, key, '{');
}
void json_end_object(json_out *j) {
    close_scope(j, '}');
}
void json_begin_array(json_out *j, const char *key) {
    open_scope(j, key, '[');
}
void json_end_array(json_out *j) {
    close_scope(j, ']');
}

void json_str(json_out *j, const char *key, const char *value) {
    member(j, key);
    put_string(j, value);
}

void json_num(json_out *j, const char *key, double value) {
    member(j, key);
    if (isfinite(value))
        put(j, "%.17g", value);
    else
        put(j, "null");
}

void json_int(json_out *j, const char *key, int64_t value) {
    member(j, key);
    put(j, "%lld", (long long)value);
}

void json_bool(json_out *j, const char *key, int value) {
    member(j, key);
    put(j, value ? "true" : "false");
}

void json_free(json_out *j) {
    free(j->buf);
    memset(j, 0, sizeof *j);
}

typedef struct bytes {
    const void *data;
    size_t len;
} bytes;

static int write_bytes(FILE *f, void *ctx) {
    const bytes *b = ctx;
    return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}

int write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen) {
    bytes b = {data, len};
    return atomic_write(path, write_bytes, &b, err, errlen);
}

int json_write_file(json_out *j, const char *path, char *err, size_t errlen) {
    if (j->failed || j->depth != 0) {
        snprintf(err, errlen, "%s: report could not be built (out of memory)", path);
        return -1;
    }
    return write_file_atomic(path, j->buf, j->len, err, errlen);
}

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
    int rc = write_file_atomic(path, buf, total_header + bytes, err, errlen);
    free(buf);
    return rc;
}
