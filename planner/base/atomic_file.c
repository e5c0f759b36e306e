#include "atomic_file.h"

#include <errno.h>
#include <string.h>

/* Creates PATH.tmp (its name in tmp), or NULL with a message. */
static FILE *open_temp(const char *path, char *tmp, size_t len, char *err, size_t errlen) {
    if (strlen(path) > 1024) {
        snprintf(err, errlen, "%s: path too long", path);
        return NULL;
    }
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
    return f;
}

int atomic_write_check(const char *path, char *err, size_t errlen) {
    char tmp[1100];
    FILE *f = open_temp(path, tmp, sizeof tmp, err, errlen);
    if (!f)
        return -1;
    fclose(f);
    remove(tmp);
    return 0;
}

int atomic_write(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                 size_t errlen) {
    char tmp[1100];
    FILE *f = open_temp(path, tmp, sizeof tmp, err, errlen);
    if (!f)
        return -1;
    int rc = write(f, ctx);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rc != 0) {
        snprintf(err, errlen, "%s: write failed", tmp);
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

typedef struct bytes {
    const void *data;
    size_t len;
} bytes;

static int write_bytes(FILE *f, void *ctx) {
    const bytes *b = ctx;
    return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}

int atomic_write_bytes(const char *path, const void *data, size_t len, char *err, size_t errlen) {
    bytes b = {data, len};
    return atomic_write(path, write_bytes, &b, err, errlen);
}
