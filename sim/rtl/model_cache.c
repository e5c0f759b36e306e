#define _GNU_SOURCE /* flock */
#include "model_cache.h"

#include "digest.h"
#include "input_file.h"
#include "model_build.h"
#include "vec.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef ACCPAR_RTL_SOURCE_DIR
#define ACCPAR_RTL_SOURCE_DIR "rtl"
#endif

typedef struct loaded {
    char name[160];
    const rtl_model_api *api;
} loaded;

static struct {
    pthread_mutex_t lock;
    char dir[1024];
    int configured, no_build;
    model_toolchain tools;
    int have_tools;
    loaded *models;
    size_t n_models, cap_models;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

void model_cache_configure(const char *dir, int no_build) {
    pthread_mutex_lock(&g.lock);
    const char *env = getenv("ACCPAR_MODEL_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME"), *nb = getenv("ACCPAR_NO_BUILD");
    if (dir && *dir)
        snprintf(g.dir, sizeof g.dir, "%s", dir);
    else if (env && *env)
        snprintf(g.dir, sizeof g.dir, "%s", env);
    else if (xdg && *xdg)
        snprintf(g.dir, sizeof g.dir, "%s/accpar/models", xdg);
    else
        snprintf(g.dir, sizeof g.dir, "%s/.cache/accpar/models", home && *home ? home : "/tmp");
    g.no_build = no_build || (nb && strcmp(nb, "1") == 0);
    g.configured = 1;
    pthread_mutex_unlock(&g.lock);
}

const char *model_cache_dir(void) {
    if (!g.configured)
        model_cache_configure(NULL, 0);
    return g.dir;
}

const char *model_rtl_dir(void) {
    const char *env = getenv("ACCPAR_RTL_DIR");
    return env && *env ? env : ACCPAR_RTL_SOURCE_DIR;
}

/* mkdir -p. */
static int make_dirs(const char *path) {
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* rm -r. */
static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[1400];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(sub);
        else
            unlink(sub);
    }
    closedir(d);
    rmdir(path);
}

/* Where the tools' versions are remembered (model_toolchain_find). */
static const char *memo_dir(void) {
    static char path[1100];
    snprintf(path, sizeof path, "%s/toolchain", model_cache_dir());
    return path;
}

static model_spec spec_of(const accel_preset *p, int fst) {
    return (model_spec){p->array_rows,      p->array_cols,          p->mxus, p->act_buffer_rows,
                        p->acc_buffer_rows, p->mem_bytes_per_cycle, fst};
}

/* The model's folder name: its shape, readable, and the digest of its whole identity. */
static void entry_name(const model_spec *s, const char *identity, char *out, size_t len) {
    char hex[DIGEST_HEX];
    digest_hex(digest_str(DIGEST_INIT, identity), hex);
    snprintf(out, len, "%dx%dx%d-b%d-a%d-c%d-%s-%s", s->rows, s->cols, s->mxus, s->bw, s->act_rows,
             s->acc_rows, s->fst ? "fst" : "vcd", hex);
}

static int file_digest(const char *path, uint64_t *bytes, char hex[DIGEST_HEX]) {
    char *data, why[256];
    size_t n;
    if (input_file_read(path, (size_t)1 << 31, &data, &n, why, sizeof why) != 0)
        return -1;
    digest_hex(digest_bytes(DIGEST_INIT, data, n), hex);
    *bytes = n;
    free(data);
    return 0;
}

/* 1 if dir holds a complete model of this identity: its manifest starts with the identity and
 * names the shared object's size and digest, which match. */
static int entry_valid(const char *dir, const char *identity) {
    char path[1300], *text, why[256], so_hex[DIGEST_HEX], want_hex[DIGEST_HEX] = "";
    size_t n;
    uint64_t so_bytes, want_bytes = 0;
    snprintf(path, sizeof path, "%s/manifest", dir);
    if (input_file_read(path, 1 << 16, &text, &n, why, sizeof why) != 0)
        return 0;
    int ok = strncmp(text, identity, strlen(identity)) == 0;
    const char *b = strstr(text, "\nso_bytes "), *d = strstr(text, "\nso_digest ");
    if (ok && b && d) {
        want_bytes = strtoull(b + 10, NULL, 10);
        snprintf(want_hex, sizeof want_hex, "%.16s", d + 11);
    }
    free(text);
    snprintf(path, sizeof path, "%s/model.so", dir);
    return ok && b && d && file_digest(path, &so_bytes, so_hex) == 0 && so_bytes == want_bytes &&
           strcmp(so_hex, want_hex) == 0;
}

static const rtl_model_api *load(const char *dir, char *err, size_t errlen) {
    char path[1300];
    snprintf(path, sizeof path, "%s/model.so", dir);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    rtl_model_entry entry = h ? (rtl_model_entry)(uintptr_t)dlsym(h, ACCPAR_RTL_MODEL_ENTRY) : NULL;
    const rtl_model_api *api = entry ? entry() : NULL;
    if (!api || api->abi != ACCPAR_RTL_ABI) {
        snprintf(err, errlen, "%s: not a model of this accpar (%s)", path,
                 h ? "wrong interface" : dlerror());
        if (h)
            dlclose(h);
        return NULL;
    }
    return api;
}

/* The mean build time of the cached models, for the first-use message (without any, 20 s:
 * about what two cores take for any shape). */
static double typical_build_s(void) {
    model_entry *e = NULL;
    int n = 0;
    char err[256];
    double s = 20;
    if (model_cache_list(&e, &n, err, sizeof err) == 0 && n > 0) {
        double sum = 0;
        for (int i = 0; i < n; i++)
            sum += e[i].build_s;
        s = sum / n;
    }
    free(e);
    return s;
}

typedef struct progress {
    const model_spec *s;
    int tty;
} progress;

static void tick(void *ctx, double seconds) {
    const progress *p = ctx;
    if (p->tty)
        fprintf(stderr, "\r  building RTL model %dx%dx%d: %.0f s", p->s->rows, p->s->cols,
                p->s->mxus, seconds);
}

/* Builds into a fresh temporary folder and installs it as entry (the lock is held). */
static int build_and_install(const model_spec *s, const char *identity, const char *name,
                             const char *entry, char *err, size_t errlen) {
    char tmp[1300], manifest[1400], so[1400], failed[1300];
    snprintf(tmp, sizeof tmp, "%s/tmp/%s.XXXXXX", g.dir, name);
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "model cache %s: cannot create a build folder: %s", g.dir,
                 strerror(errno));
        return -1;
    }
    progress pr = {s, isatty(2)};
    fprintf(stderr,
            "accpar: building RTL model %dx%dx%d (port %d B, buffers %d/%d rows, %s) on first "
            "use, ~%.0f s; log: %s/build.log\n",
            s->rows, s->cols, s->mxus, s->bw, s->act_rows, s->acc_rows, s->fst ? "FST" : "VCD",
            typical_build_s(), tmp);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = model_build(s, &g.tools, model_rtl_dir(), tmp, tick, &pr, err, errlen);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (pr.tty)
        fprintf(stderr, "\n");
    if (rc != 0) {
        char why[700];
        snprintf(failed, sizeof failed, "%s/failed/%s.log", g.dir, name);
        snprintf(manifest, sizeof manifest, "%s/build.log", tmp);
        rename(manifest, failed);
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "building RTL model %dx%dx%d: %s (log: %s)", s->rows, s->cols,
                 s->mxus, why, failed);
        remove_tree(tmp);
        return -1;
    }
    /* the manifest last, then one rename: a half-built model is never installed */
    uint64_t bytes;
    char hex[DIGEST_HEX], stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(so, sizeof so, "%s/model.so", tmp);
    snprintf(manifest, sizeof manifest, "%s/manifest", tmp);
    FILE *f = file_digest(so, &bytes, hex) == 0 ? fopen(manifest, "w") : NULL;
    int ok = f && fprintf(f, "%sso_bytes %llu\nso_digest %s\nbuild_seconds %.1f\nbuilt_at %s\n",
                          identity, (unsigned long long)bytes, hex, secs, stamp) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    char why[700] = "";
    if (ok && !load(tmp, why, sizeof why)) /* a model that does not load is not installed */
        ok = 0;
    if (ok) {
        char obj[1400];
        snprintf(obj, sizeof obj, "%s/obj", tmp);
        remove_tree(obj);   /* the generated C++ and objects: not needed to load the model */
        remove_tree(entry); /* a corrupt entry this build replaces */
        ok = rename(tmp, entry) == 0;
    }
    if (!ok) {
        snprintf(err, errlen, "model cache %s: cannot install %s: %s", g.dir, name,
                 why[0] ? why : strerror(errno));
        remove_tree(tmp);
        return -1;
    }
    fprintf(stderr, "accpar: built RTL model %dx%dx%d in %.0f s (%s)\n", s->rows, s->cols, s->mxus,
            secs, entry);
    return 0;
}

/* Removes leftovers of killed builds of this model (the caller holds its lock). */
static void remove_leftovers(const char *name) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s/tmp", g.dir);
    DIR *d = opendir(tmp);
    size_t n = strlen(name);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, name, n) == 0 && e->d_name[n] == '.') {
            char path[1400];
            snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
            remove_tree(path);
        }
    }
    if (d)
        closedir(d);
}

/* The model of name, built under its lock if it is missing or corrupt. */
static const rtl_model_api *find_or_build(const model_spec *s, const char *identity,
                                          const char *name, char *err, size_t errlen) {
    char entry[1200], lock_path[1300], sub[1200];
    snprintf(entry, sizeof entry, "%s/%s", g.dir, name);
    if (entry_valid(entry, identity))
        return load(entry, err, errlen);
    if (g.no_build) {
        snprintf(err, errlen,
                 "no RTL model %dx%dx%d (port %d B, buffers %d/%d) in the model cache %s and "
                 "--no-build is set: build it with accpar models build, or drop --no-build",
                 s->rows, s->cols, s->mxus, s->bw, s->act_rows, s->acc_rows, g.dir);
        return NULL;
    }
    static const char *const subs[] = {"locks", "tmp", "failed", "toolchain"};
    for (int i = 0; i < 4; i++) {
        snprintf(sub, sizeof sub, "%s/%s", g.dir, subs[i]);
        if (make_dirs(sub) != 0) {
            snprintf(err, errlen,
                     "model cache %s: cannot create %s: %s (set --model-cache or "
                     "ACCPAR_MODEL_CACHE to a writable folder)",
                     g.dir, sub, strerror(errno));
            return NULL;
        }
    }
    snprintf(lock_path, sizeof lock_path, "%s/locks/%s.lock", g.dir, name);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "model cache %s: cannot create %s: %s", g.dir, lock_path,
                 strerror(errno));
        return NULL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "accpar: waiting for another command building RTL model %dx%dx%d\n",
                s->rows, s->cols, s->mxus);
        flock(fd, LOCK_EX);
    }
    int rc = 0;
    if (!entry_valid(entry, identity)) { /* nobody built it while we waited */
        if (access(entry, F_OK) == 0)
            fprintf(stderr, "accpar: the cached RTL model %s is corrupt; rebuilding it\n", name);
        remove_leftovers(name);
        rc = build_and_install(s, identity, name, entry, err, errlen);
    }
    flock(fd, LOCK_UN);
    close(fd);
    return rc == 0 ? load(entry, err, errlen) : NULL;
}

/* The model's identity and folder name; under g.lock. */
static int identify(const model_spec *s, char identity[2048], char name[160], char *err,
                    size_t errlen) {
    if (!g.have_tools)
        make_dirs(memo_dir()); /* a memo: if the cache is read-only, every command asks */
    int rc = g.have_tools ? 0 : model_toolchain_find(&g.tools, memo_dir(), err, errlen);
    g.have_tools = rc == 0;
    if (rc == 0)
        rc = model_identity(s, &g.tools, model_rtl_dir(), identity, 2048, err, errlen);
    if (rc == 0)
        entry_name(s, identity, name, 160);
    return rc;
}

int model_cache_entry_dir(const accel_preset *p, int fst, char *out, size_t len, char *err,
                          size_t errlen) {
    model_cache_dir();
    pthread_mutex_lock(&g.lock);
    model_spec s = spec_of(p, fst);
    char identity[2048], name[160];
    int rc = identify(&s, identity, name, err, errlen);
    if (rc == 0)
        snprintf(out, len, "%s/%s", g.dir, name);
    pthread_mutex_unlock(&g.lock);
    return rc;
}

int model_cache_get(const accel_preset *p, int fst, const rtl_model_api **api, char *err,
                    size_t errlen) {
    model_cache_dir();
    pthread_mutex_lock(&g.lock);
    model_spec s = spec_of(p, fst);
    char identity[2048], name[160];
    const rtl_model_api *found = NULL;
    int rc = identify(&s, identity, name, err, errlen);
    if (rc == 0) {
        for (size_t i = 0; i < g.n_models && !found; i++)
            if (strcmp(g.models[i].name, name) == 0)
                found = g.models[i].api;
        if (!found && (found = find_or_build(&s, identity, name, err, errlen))) {
            loaded *grown = vec_grow(g.models, &g.cap_models, g.n_models + 1, sizeof *grown);
            if (grown) {
                g.models = grown;
                snprintf(g.models[g.n_models].name, sizeof g.models[0].name, "%s", name);
                g.models[g.n_models++].api = found;
            }
        }
    }
    pthread_mutex_unlock(&g.lock);
    *api = found;
    return found ? 0 : -1;
}

/* The manifest's fields that `list` shows; 0 if it is a model's manifest. */
static int read_entry(const char *dir, const char *name, model_entry *e) {
    char path[1300], *text, why[256];
    size_t n;
    snprintf(path, sizeof path, "%s/%s/manifest", dir, name);
    if (input_file_read(path, 1 << 16, &text, &n, why, sizeof why) != 0)
        return -1;
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    const char *shape = strstr(text, "shape "), *trace = strstr(text, "\ntrace ");
    const char *bytes = strstr(text, "\nso_bytes "), *secs = strstr(text, "\nbuild_seconds ");
    const char *at = strstr(text, "\nbuilt_at ");
    int ok = shape && trace && bytes && secs && at &&
             sscanf(shape, "shape %d %d %d %d %d %d", &e->rows, &e->cols, &e->mxus, &e->act_rows,
                    &e->acc_rows, &e->bw) == 6;
    if (ok) {
        e->fst = strncmp(trace + 7, "fst", 3) == 0;
        e->so_bytes = strtoull(bytes + 10, NULL, 10);
        e->build_s = strtod(secs + 15, NULL);
        sscanf(at + 10, "%31s", e->built_at);
        model_spec s = {e->rows, e->cols, e->mxus, e->act_rows, e->acc_rows, e->bw, e->fst};
        char identity[2048], err[256];
        e->current = g.have_tools &&
                     model_identity(&s, &g.tools, model_rtl_dir(), identity, sizeof identity, err,
                                    sizeof err) == 0 &&
                     strncmp(text, identity, strlen(identity)) == 0;
    }
    free(text);
    return ok ? 0 : -1;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const model_entry *)a)->name, ((const model_entry *)b)->name);
}

int model_cache_list(model_entry **out, int *n, char *err, size_t errlen) {
    *out = NULL;
    *n = 0;
    const char *dir = model_cache_dir();
    if (!g.have_tools)
        g.have_tools = model_toolchain_find(&g.tools, memo_dir(), err, errlen) == 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", dir, strerror(errno)), -1);
    size_t cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        model_entry e;
        if (de->d_name[0] == '.' || read_entry(dir, de->d_name, &e) != 0)
            continue;
        model_entry *grown = vec_grow(*out, &cap, (size_t)*n + 1, sizeof *grown);
        if (!grown)
            break;
        *out = grown;
        (*out)[(*n)++] = e;
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, (size_t)*n, sizeof **out, by_name);
    return 0;
}

int model_cache_clean(int stale_only, int *removed, char *err, size_t errlen) {
    model_entry *e;
    int n;
    *removed = 0;
    if (model_cache_list(&e, &n, err, errlen) != 0)
        return -1;
    const char *dir = model_cache_dir();
    for (int i = 0; i < n; i++) {
        if (stale_only && e[i].current)
            continue;
        char lock_path[1300], path[1300];
        snprintf(lock_path, sizeof lock_path, "%s/locks/%s.lock", dir, e[i].name);
        int fd = open(lock_path, O_RDWR | O_CLOEXEC);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) { /* being rebuilt: leave it */
            close(fd);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e[i].name);
        remove_tree(path);
        (*removed)++;
        if (fd >= 0)
            close(fd);
    }
    free(e);
    /* leftovers of killed builds: temporary folders whose model is not being built */
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    DIR *d = opendir(tmp);
    for (struct dirent *de; d && (de = readdir(d));) {
        char *dot = strrchr(de->d_name, '.'), lock_path[1400], path[1600];
        if (de->d_name[0] == '.' || !dot)
            continue;
        snprintf(lock_path, sizeof lock_path, "%s/locks/%.*s.lock", dir, (int)(dot - de->d_name),
                 de->d_name);
        int fd = open(lock_path, O_RDWR | O_CLOEXEC);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", tmp, de->d_name);
        remove_tree(path);
        if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
    if (!stale_only) {
        char path[1300];
        snprintf(path, sizeof path, "%s/failed", dir);
        remove_tree(path);
        remove_tree(memo_dir());
    }
    return 0;
}
