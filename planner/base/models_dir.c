#define _DEFAULT_SOURCE /* readlink */
#include "models_dir.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the models folder may be, relative to the program's folder: an installed tree
 * (PREFIX/bin/accpar, PREFIX/share/accpar/models), a build folder inside a checkout
 * (build/accpar, models), the program beside its models. */
static const char *const BESIDE_PROGRAM[] = {"../share/accpar/models", "../models", "models"};

static char found[PATH_MAX + 64];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int has_presets(const char *dir) {
    char sub[PATH_MAX + 80];
    struct stat st;
    snprintf(sub, sizeof sub, "%s/accelerators", dir);
    return stat(sub, &st) == 0 && S_ISDIR(st.st_mode);
}

static void find(void) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(found, sizeof found, "models");
        return;
    }
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0'; /* the program's folder */
    size_t count = sizeof BESIDE_PROGRAM / sizeof *BESIDE_PROGRAM;
    for (size_t i = 0; i < count; i++) {
        snprintf(found, sizeof found, "%s/%s", exe, BESIDE_PROGRAM[i]);
        if (has_presets(found))
            return;
    }
    snprintf(found, sizeof found, "%s/../models", exe); /* absent: errors name where it looked */
}

const char *models_dir(void) {
    const char *env = getenv("ACCPAR_MODELS_DIR");
    if (env && *env)
        return env;
    pthread_once(&once, find);
    return found;
}
