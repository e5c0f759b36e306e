#include "text_file.h"

#include "input_file.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int text_file_open(text_file *tf, const char *path, char *err, size_t errlen) {
    memset(tf, 0, sizeof *tf);
    tf->path = path;
    tf->fp = input_file_open(path, err, errlen);
    if (!tf->fp) {
        return -1;
    }
    return 0;
}

void text_file_close(text_file *tf) {
    if (tf->fp)
        fclose(tf->fp);
    tf->fp = NULL;
}

/* Reads the next line into buf without its newline. Returns 1, 0 at end of file, -1 with err
 * (NUL byte, line too long, read error). */
static int read_line(text_file *tf, char *err, size_t errlen) {
    size_t n = 0;
    int ch = getc(tf->fp);
    if (ch == EOF) {
        if (!ferror(tf->fp))
            return 0;
        snprintf(err, errlen, "%s:%d: read error", tf->path, tf->line_no);
        return -1;
    }
    tf->line_no++;
    for (; ch != EOF && ch != '\n'; ch = getc(tf->fp)) {
        if (ch == '\0') {
            snprintf(err, errlen, "%s:%d: NUL byte", tf->path, tf->line_no);
            return -1;
        }
        if (n == sizeof tf->buf - 1) {
            snprintf(err, errlen, "%s:%d: line longer than %d characters", tf->path, tf->line_no,
                     TEXT_FILE_MAX_LINE - 1);
            return -1;
        }
        tf->buf[n++] = (char)ch;
    }
    tf->buf[n] = '\0';
    tf->unterminated = ch == EOF;
    if (ferror(tf->fp)) {
        snprintf(err, errlen, "%s:%d: read error", tf->path, tf->line_no);
        return -1;
    }
    return 1;
}

int text_file_next_tokens(text_file *tf, char **tok, int maxtok, char *err, size_t errlen) {
    int rc;
    while ((rc = read_line(tf, err, errlen)) > 0) {
        char *hash = strchr(tf->buf, '#');
        if (hash)
            *hash = '\0';
        int n = 0;
        for (char *s = strtok(tf->buf, " \t\r"); s; s = strtok(NULL, " \t\r")) {
            if (n == maxtok) {
                snprintf(err, errlen, "%s:%d: more than %d fields on one line", tf->path,
                         tf->line_no, maxtok);
                return -1;
            }
            tok[n++] = s;
        }
        if (n > 0)
            return n;
    }
    return rc;
}

int text_file_next_pair(text_file *tf, char **key, char **value, char *err, size_t errlen) {
    char *tok[3];
    int n = text_file_next_tokens(tf, tok, 3, err, errlen);
    if (n <= 0)
        return n;
    if (n != 2) {
        snprintf(err, errlen, "%s:%d: field '%s': expected 'key value'", tf->path, tf->line_no,
                 tok[0]);
        return -1;
    }
    *key = tok[0];
    *value = tok[1];
    return 1;
}

int text_file_end_line(const text_file *tf) {
    return tf->line_no > 0 ? tf->line_no : 1;
}

const char *text_file_end_what(const text_file *tf) {
    return tf->line_no > 0 ? "the file ends" : "the file is empty";
}

int text_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *why,
                   size_t whylen) {
    int64_t x = 0;
    size_t n = strspn(s, "0123456789");
    int ok = n > 0 && s[n] == '\0';
    for (size_t i = 0; ok && i < n; i++) {
        int d = s[i] - '0';
        ok = d <= max && x <= (max - d) / 10; /* x * 10 + d <= max, without overflow */
        x = ok ? x * 10 + d : x;
    }
    if (!ok || x < min) {
        snprintf(why, whylen, "'%s' is not an integer in [%lld, %lld]", s, (long long)min,
                 (long long)max);
        return -1;
    }
    *out = x;
    return 0;
}

/* [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)? and nothing else. */
static int decimal_syntax(const char *s) {
    size_t i = s[0] == '+' || s[0] == '-';
    size_t whole = strspn(s + i, "0123456789");
    i += whole;
    size_t frac = 0;
    if (s[i] == '.') {
        frac = strspn(s + i + 1, "0123456789");
        i += 1 + frac;
    }
    if (whole + frac == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        i += 1 + (s[i + 1] == '+' || s[i + 1] == '-');
        size_t exp = strspn(s + i, "0123456789");
        if (exp == 0)
            return 0;
        i += exp;
    }
    return s[i] == '\0';
}

int text_parse_real(const char *s, double min, double max, double *out, char *why, size_t whylen) {
    double x = decimal_syntax(s) ? strtod(s, NULL) : NAN;
    if (!isfinite(x)) {
        snprintf(why, whylen, "'%s' is not a finite decimal number", s);
        return -1;
    }
    if (x < min || x > max) {
        snprintf(why, whylen, "'%s' is %s %g", s, x < min ? "below" : "above", x < min ? min : max);
        return -1;
    }
    *out = x;
    return 0;
}

void text_escape(const char *s, char *out, size_t len) {
    size_t n = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char piece[5];
        if (ch == '\\')
            snprintf(piece, sizeof piece, "\\\\");
        else if (ch >= ' ' && ch <= '~')
            snprintf(piece, sizeof piece, "%c", ch);
        else
            snprintf(piece, sizeof piece, "\\x%02X", ch);
        size_t k = strlen(piece);
        if (n + k + 1 > len)
            break;
        memcpy(out + n, piece, k);
        n += k;
    }
    if (len > 0)
        out[n] = '\0';
}
