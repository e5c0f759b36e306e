#include "net_find.h"

#include "models_dir.h"
#include "net_onnx.h"
#include "net_parse.h"

#include <stdio.h>
#include <string.h>

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* 18, 34 or 50 for "resnetNN-reference", else 0. */
static int reference_resnet(const char *name) {
    int depth = 0, used = 0;
    if (sscanf(name, "resnet%d-reference%n", &depth, &used) == 1 && name[used] == '\0')
        return depth;
    return 0;
}

int ref_net_find(const char *name, ref_net *out, char *err, size_t errlen) {
    int depth = reference_resnet(name);
    if (depth)
        return ref_net_resnet(depth, out, err, errlen);
    if (!ends_with(name, ".txt")) {
        snprintf(err, errlen,
                 "--net: field 'net': '%s': the reference mode takes a reference-format file "
                 "(.txt) or resnet18|34|50-reference",
                 name);
        return -1;
    }
    if (strchr(name, '/'))
        return ref_net_load(name, out, err, errlen);
    char path[1024];
    snprintf(path, sizeof path, "%s/networks/reference/%s", models_dir(), name);
    return ref_net_load(path, out, err, errlen);
}

int net_find(const char *name, net *out, char *err, size_t errlen) {
    if (reference_resnet(name) || ends_with(name, ".txt")) {
        ref_net r;
        if (ref_net_find(name, &r, err, errlen) != 0)
            return -1;
        int rc = ref_net_to_net(&r, out, err, errlen);
        ref_net_free(&r);
        return rc;
    }
    if (ends_with(name, ".onnx"))
        return net_load_onnx(name, out, err, errlen);
    if (strchr(name, '/') || ends_with(name, ".net"))
        return net_load_file(name, out, err, errlen);
    char path[1024];
    snprintf(path, sizeof path, "%s/networks/%s.net", models_dir(), name);
    return net_load_file(path, out, err, errlen);
}
