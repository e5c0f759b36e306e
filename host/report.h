/* Output files: a small JSON writer and atomic writes (temp file + rename), so a report is
 * either complete or absent. */
#ifndef ACCPAR_REPORT_H
#define ACCPAR_REPORT_H

#include <stddef.h>
#include <stdint.h>

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
void json_bool(json_out *j, const char *key, int value);
void json_free(json_out *j);

/* Writes bytes to path atomically. Returns 0, or -1 with "path: why" in err. */
int write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);
int json_write_file(json_out *j, const char *path, char *err, size_t errlen);

/* A float32 NumPy .npy file of a rows x cols row-major matrix, written atomically. */
int npy_write_f32(const char *path, const float *data, int64_t rows, int64_t cols, char *err,
                  size_t errlen);

#endif
