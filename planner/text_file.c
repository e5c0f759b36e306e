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

int text_file_next_tokens(text_file *tf, char **tok, int maxtok, char *err, size_t errlen) {
    while (fgets(tf->buf, sizeof tf->buf, tf->fp)) {
        tf->line_no++;
        size_t len = strlen(tf->buf);
        if (len == sizeof tf->buf - 1 && tf->buf[len - 1] != '\n' && !feof(tf->fp)) {
            snprintf(err, errlen, "%s:%d: line longer than %d characters", tf->path, tf->line_no,
                     TEXT_FILE_MAX_LINE - 2);
            return -1;
        }
        char *hash = strchr(tf->buf, '#');
        if (hash)
            *hash = '\0';
        int n = 0;
        for (char *s = strtok(tf->buf, " \t\r\n"); s; s = strtok(NULL, " \t\r\n")) {
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
    if (ferror(tf->fp)) {
        snprintf(err, errlen, "%s:%d: read error", tf->path, tf->line_no);
        return -1;
    }
    return 0;
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
