/* The pieces of JSON the planner's reports write by hand: escaped strings and numbers. */
#ifndef ACCPAR_JSON_PUT_H
#define ACCPAR_JSON_PUT_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One byte of a JSON string literal: '"', '\\' and control characters escaped (bytes >= 0x80
 * pass through as they are, so UTF-8 stays UTF-8). Returns buf, which must hold 8 bytes. */
const char *json_escape_byte(unsigned char ch, char buf[8]);

/* s as a JSON string literal, escaped byte by byte as above. */
void json_put_string(FILE *f, const char *s);

/* x with 9 significant digits, or null if it is not finite. */
void json_put_number(FILE *f, double x);

#ifdef __cplusplus
}
#endif

#endif
