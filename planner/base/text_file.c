#include "text_file.h"

#include <errno.h>
#include <string.h>

int text_file_open(text_file *tf, const char *path, char *err, size_t errlen) {
    memset(tf, 0, sizeof *tf);
    tf->path = path;
    tf->fp = fopen(path, "rb");
    if (!tf->fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
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
