/* A small JSON reader for the project's own JSON inputs (saved plans): the whole document as a
 * tree, each value with the line it starts on, for "file:line: field 'x': why" errors. */
#ifndef ACCPAR_JSON_READ_H
#define ACCPAR_JSON_READ_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value {
    json_type type;
    int line;                 /* where the value starts */
    int boolean;              /* JSON_BOOL */
    double number;            /* JSON_NUMBER */
    char *string;             /* JSON_STRING: NUL-terminated; a \u0000 escape is rejected */
    size_t n;                 /* JSON_ARRAY, JSON_OBJECT: members */
    struct json_value *items; /* members' values */
    char **keys;              /* JSON_OBJECT: members' names */
} json_value;

enum { JSON_MAX_DEPTH = 64, JSON_MAX_BYTES = 64 << 20 };

/* Reads and parses a whole file. Errors: -1 with "path:line: malformed JSON: why" (or
 * "path: cannot open: why") in err. */
int json_read_file(const char *path, json_value *out, char *err, size_t errlen);

/* Parses text[0 .. len); errors name `source` as the file. */
int json_parse(const char *source, const char *text, size_t len, json_value *out, char *err,
               size_t errlen);

void json_value_free(json_value *v);

/* The member `key` of an object, or NULL (not an object, or no such member). */
const json_value *json_member(const json_value *object, const char *key);

/* "null", "a boolean", "a number", "a string", "an array", "an object". */
const char *json_type_name(json_type t);

#ifdef __cplusplus
}
#endif

#endif
