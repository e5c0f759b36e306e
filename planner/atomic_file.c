#include "atomic_file.h"

#include <errno.h>
#include <string.h>

int atomic_write(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                 size_t errlen) {
    char tmp[1100];
    if (strlen(path) > 1024) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
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
