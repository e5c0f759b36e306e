#define _POSIX_C_SOURCE 200809L /* open, fstat, fcntl, fdopen */
#include "input_file.h"

#include "vec.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files opened as inputs, so that no output replaces one (output_set.c). */
#define REMEMBERED_MAX 64
static struct {
    dev_t dev;
    ino_t ino;
    char path[256];
} remembered[REMEMBERED_MAX];
static int n_remembered;
static pthread_mutex_t remembered_lock = PTHREAD_MUTEX_INITIALIZER;

static void remember(const char *path, const struct stat *st) {
    pthread_mutex_lock(&remembered_lock);
    int i = 0;
    while (i < n_remembered && (remembered[i].dev != st->st_dev || remembered[i].ino != st->st_ino))
        i++;
    if (i == n_remembered && i < REMEMBERED_MAX) {
        remembered[i].dev = st->st_dev;
        remembered[i].ino = st->st_ino;
        snprintf(remembered[i].path, sizeof remembered[i].path, "%s", path);
        n_remembered++;
    }
    pthread_mutex_unlock(&remembered_lock);
}

const char *input_file_read_as(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    const char *found = NULL;
    pthread_mutex_lock(&remembered_lock);
    for (int i = 0; i < n_remembered && !found; i++)
        if (remembered[i].dev == st.st_dev && remembered[i].ino == st.st_ino)
            found = remembered[i].path;
    pthread_mutex_unlock(&remembered_lock);
    return found;
}

FILE *input_file_open(const char *path, char *err, size_t errlen) {
    /* O_NONBLOCK: opening a FIFO without a writer must not wait for one */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    remember(path, &st);
    int flags = fcntl(fd, F_GETFL);
    FILE *f = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

int input_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int input_file_read(const char *path, size_t max, char **text, size_t *len, char *err,
                    size_t errlen) {
    FILE *f = input_file_open(path, err, errlen);
    if (!f)
        return -1;
    size_t cap = 0, n = 0;
    char *buf = NULL;
    const char *why = NULL;
    for (;;) {
        if (n + 1 >= cap) { /* room for at least one byte and the NUL */
            char *grown = vec_grow(buf, &cap, n + 4096, 1);
            if (!grown) {
                why = "out of memory";
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f); /* room for the NUL */
        n += got;
        if (n > max) {
            why = "larger than the format's limit";
            break;
        }
        if (got == 0) {
            why = ferror(f) ? "read error" : NULL;
            break;
        }
    }
    fclose(f);
    if (why) {
        snprintf(err, errlen, "%s: %s", path, why);
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}
