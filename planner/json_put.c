#include "json_put.h"

#include <math.h>

const char *json_escape_byte(unsigned char ch, char buf[8]) {
    if (ch == '"' || ch == '\\')
        snprintf(buf, 8, "\\%c", ch);
    else if (ch < 0x20)
        snprintf(buf, 8, "\\u%04x", ch);
    else
        snprintf(buf, 8, "%c", ch);
    return buf;
}

void json_put_string(FILE *f, const char *s) {
    char buf[8];
    fputc('"', f);
    for (; *s; s++)
        fputs(json_escape_byte((unsigned char)*s, buf), f);
    fputc('"', f);
}

void json_put_number(FILE *f, double x) {
    if (isfinite(x))
        fprintf(f, "%.9g", x);
    else
        fprintf(f, "null");
}
