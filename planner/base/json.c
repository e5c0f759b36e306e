#include "json.h"

#include "output_set.h"
#include "vec.h"

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
    char *b = vec_grow(j->buf, &j->cap, j->len + (size_t)n + 1, 1);
    if (!b) {
        j->failed = 1;
        return;
    }
    j->buf = b;
    memcpy(j->buf + j->len, small, (size_t)n + 1);
    j->len += (size_t)n;
}

const char *json_escape_byte(unsigned char ch, char buf[8]) {
    if (ch == '"' || ch == '\\')
        snprintf(buf, 8, "\\%c", ch);
    else if (ch < 0x20)
        snprintf(buf, 8, "\\u%04x", ch);
    else
        snprintf(buf, 8, "%c", ch);
    return buf;
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

void json_uint(json_out *j, const char *key, uint64_t value) {
    member(j, key);
    put(j, "%llu", (unsigned long long)value);
}

void json_bool(json_out *j, const char *key, int value) {
    member(j, key);
    put(j, value ? "true" : "false");
}

void json_free(json_out *j) {
    free(j->buf);
    memset(j, 0, sizeof *j);
}

int json_write_file(json_out *j, const char *path, char *err, size_t errlen) {
    if (j->failed || j->depth != 0) {
        snprintf(err, errlen, "%s: report could not be built (out of memory)", path);
        return -1;
    }
    return output_write_bytes(path, j->buf, j->len, err, errlen);
}
