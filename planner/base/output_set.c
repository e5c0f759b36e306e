#define _DEFAULT_SOURCE /* mkstemps, realpath, fsync */
#include "output_set.h"

#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct output {
    char *path;     /* as given */
    char *resolved; /* the folder's real path, '/', the name: two names of one file compare equal */
    char *temp;
    int written;
} output;

static output outputs[OUTPUT_SET_MAX];
static int n_outputs;
/* What the signal handler removes: outputs[i].temp while it exists, else NULL. */
static char *volatile temps[OUTPUT_SET_MAX];

static void remove_temps_and_die(int sig) {
    for (int i = 0; i < OUTPUT_SET_MAX; i++)
        if (temps[i])
            unlink(temps[i]);
    raise(sig); /* SA_RESETHAND restored the default action: it ends the process as it would */
}

/* While the set changes or is renamed into place, the cleanup signals wait (in this thread):
 * a temporary is never left unregistered, and a rename loop never stops half-way. */
static void hold_signals(sigset_t *saved) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &s, saved);
}

static void release_signals(const sigset_t *saved) {
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}

static void install_cleanup(void) {
    static int installed;
    if (installed)
        return;
    installed = 1;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old, sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = remove_temps_and_die;
        sa.sa_flags = SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(sigs[i], &sa, NULL);
    }
}

/* The permissions fopen would give the file, not mkstemp's 0600. */
static void plain_permissions(int fd) {
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
}

static char *joined(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static void forget(int i) {
    temps[i] = NULL;
    free(outputs[i].path);
    free(outputs[i].resolved);
    free(outputs[i].temp);
    memset(&outputs[i], 0, sizeof outputs[i]);
}

static output *find(const char *path) {
    for (int i = 0; i < n_outputs; i++)
        if (strcmp(outputs[i].path, path) == 0)
            return &outputs[i];
    return NULL;
}

/* The checks of output_declare that need no file created; fills folder and name. */
static int check_path(const char *path, char *folder, size_t cap, const char **name, char *err,
                      size_t errlen) {
    struct stat st;
    const char *slash = strrchr(path, '/');
    *name = slash ? slash + 1 : path;
    if (*path && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path,
                 S_ISDIR(st.st_mode) ? "is a folder, not a file"
                                     : "exists and is not a regular file");
        return -1;
    }
    if (!*path || !**name) {
        snprintf(err, errlen, "'%s': not a file name", path);
        return -1;
    }
    if (strlen(path) >= cap) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    const char *input = input_file_read_as(path);
    if (input) {
        snprintf(err, errlen, "%s: is the input %s; refusing to overwrite it", path, input);
        return -1;
    }
    if (!slash)
        snprintf(folder, cap, ".");
    else if (slash == path)
        snprintf(folder, cap, "/");
    else
        snprintf(folder, cap, "%.*s", (int)(slash - path), path);
    return 0;
}

int output_declare(const char *path, char *err, size_t errlen) {
    char folder[PATH_MAX], real[PATH_MAX];
    const char *name;
    if (check_path(path, folder, sizeof folder, &name, err, errlen) != 0)
        return -1;
    if (!realpath(folder, real)) {
        snprintf(err, errlen, "%s: cannot create a file in '%s': %s", path, folder,
                 strerror(errno));
        return -1;
    }
    if (n_outputs == OUTPUT_SET_MAX) {
        snprintf(err, errlen, "%s: more than %d outputs", path, OUTPUT_SET_MAX);
        return -1;
    }
    output o = {0};
    o.path = joined(path, "", "");
    o.resolved = joined(real, strcmp(real, "/") ? "/" : "", name);
    /* ends in the output's name: a writer that picks a format by the extension still does */
    char *dot_name = joined(".partial-XXXXXX-", name, "");
    o.temp = dot_name ? joined(folder, "/", dot_name) : NULL;
    free(dot_name);
    if (!o.path || !o.resolved || !o.temp) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(o.path), free(o.resolved), free(o.temp);
        return -1;
    }
    for (int i = 0; i < n_outputs; i++)
        if (strcmp(outputs[i].resolved, o.resolved) == 0) {
            snprintf(err, errlen, "%s: is also the output %s", path, outputs[i].path);
            free(o.path), free(o.resolved), free(o.temp);
            return -1;
        }
    install_cleanup();
    sigset_t saved;
    hold_signals(&saved);
    int fd = mkstemps(o.temp, (int)strlen(name) + 1);
    if (fd < 0) {
        release_signals(&saved);
        snprintf(err, errlen, "%s: cannot create a file in '%s': %s", path, folder,
                 strerror(errno));
        free(o.path), free(o.resolved), free(o.temp);
        return -1;
    }
    plain_permissions(fd);
    close(fd);
    outputs[n_outputs] = o;
    temps[n_outputs] = o.temp;
    n_outputs++;
    release_signals(&saved);
    return 0;
}

const char *output_temp(const char *path) {
    output *o = find(path);
    if (!o)
        return NULL;
    o->written = 1;
    return o->temp;
}

int output_write(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                 size_t errlen) {
    output *o = find(path);
    if (!o) {
        snprintf(err, errlen, "%s: written but never declared an output (a bug)", path);
        return -1;
    }
    FILE *f = fopen(o->temp, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write %s: %s", path, o->temp, strerror(errno));
        return -1;
    }
    int rc = write(f, ctx);
    int bad = rc != 0 || fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        snprintf(err, errlen, "%s: write failed: %s", path,
                 rc != 0 ? "by the writer" : strerror(saved));
        return -1;
    }
    o->written = 1;
    return 0;
}

int file_replace(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                 size_t errlen) {
    char *temp = joined(path, ".XXXXXX", ".partial");
    int fd = temp ? mkstemps(temp, (int)strlen(".partial")) : -1;
    if (fd >= 0)
        plain_permissions(fd);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        snprintf(err, errlen, "%s: cannot create a temporary beside it: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd), unlink(temp);
        free(temp);
        return -1;
    }
    int rc = write(f, ctx);
    if (fclose(f) != 0 || rc != 0 || rename(temp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write it: %s", path,
                 rc != 0 ? "the writer failed" : strerror(errno));
        unlink(temp);
        rc = -1;
    }
    free(temp);
    return rc;
}

typedef struct bytes {
    const void *data;
    size_t len;
} bytes;

static int write_bytes(FILE *f, void *ctx) {
    const bytes *b = ctx;
    return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}

int output_write_bytes(const char *path, const void *data, size_t len, char *err, size_t errlen) {
    bytes b = {data, len};
    return output_write(path, write_bytes, &b, err, errlen);
}

int file_replace_bytes(const char *path, const void *data, size_t len, char *err, size_t errlen) {
    bytes b = {data, len};
    return file_replace(path, write_bytes, &b, err, errlen);
}

/* fsync of a file or folder by name (a waveform written by name; a folder's new entries). */
static int sync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int output_commit(char *err, size_t errlen) {
    int rc = 0;
    for (int i = 0; i < n_outputs && rc == 0; i++) {
        const output *o = &outputs[i];
        const char *input = o->written ? input_file_read_as(o->path) : NULL;
        if (input) {
            snprintf(err, errlen, "%s: is the input %s; refusing to overwrite it", o->path, input);
            rc = -1;
        } else if (o->written && sync_path(o->temp) != 0) {
            snprintf(err, errlen, "%s: cannot sync %s: %s", o->path, o->temp, strerror(errno));
            rc = -1;
        }
    }
    sigset_t saved;
    hold_signals(&saved);
    for (int i = 0; i < n_outputs && rc == 0; i++) {
        output *o = &outputs[i];
        if (!o->written)
            continue;
        if (rename(o->temp, o->path) != 0) {
            snprintf(err, errlen, "%s: cannot rename %s over it: %s", o->path, o->temp,
                     strerror(errno));
            rc = -1;
            break;
        }
        temps[i] = NULL;
        char *slash = strrchr(o->resolved, '/');
        *slash = '\0'; /* the folder, so that the new name survives a crash too */
        sync_path(*o->resolved ? o->resolved : "/");
    }
    output_discard();
    release_signals(&saved);
    return rc;
}

void output_discard(void) {
    for (int i = 0; i < n_outputs; i++) {
        if (temps[i])
            unlink(outputs[i].temp);
        forget(i);
    }
    n_outputs = 0;
}
