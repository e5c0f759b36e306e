/* The one JSON writer: a report is built in memory (json_out), then written atomically, so a
 * report file is either complete or absent. Strings are escaped byte by byte: '"', '\\' and
 * control characters; bytes >= 0x80 pass through (UTF-8 stays UTF-8). */
#ifndef ACCPAR_JSON_H
#define ACCPAR_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct json_out {
    char *buf;
    size_t len, cap;
    int depth;
    int first[32]; /* no member written yet at this depth */
    int failed;    /* out of memory or nesting too deep */
} json_out;

/* key is NULL at the top level and inside arrays. */
void json_begin_object(json_out *j, const char *key);
void json_end_object(json_out *j);
void json_begin_array(json_out *j, const char *key);
void json_end_array(json_out *j);
void json_str(json_out *j, const char *key, const char *value);
void json_num(json_out *j, const char *key, double value); /* non-finite -> null */
void json_int(json_out *j, const char *key, int64_t value);
void json_uint(json_out *j, const char *key, uint64_t value);
void json_bool(json_out *j, const char *key, int value);
void json_free(json_out *j);

/* One byte of a JSON string literal, escaped as above. Returns buf, which must hold 8 bytes. */
const char *json_escape_byte(unsigned char ch, char buf[8]);

/* Writes the finished report into the declared output path (output_set.h). Returns 0, or -1 with
 * "path: why" in err. */
int json_write_file(json_out *j, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
