#include "fuzz_parsers.h"

#include "cal_design.h"
#include "calibration.h"
#include "net_onnx.h"
#include "net_parse.h"
#include "plan_file.h"
#include "preset.h"
#include "ref_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const fuzz_parsers[] = {"net", "ref", "acc", "cal", "shapes", "plan", "onnx", NULL};

static int parse_file(const char *parser, const char *path) {
    char err[2048];
    int rc;
    if (!strcmp(parser, "net")) {
        net g;
        if ((rc = net_load_file(path, &g, err, sizeof err)) == 0)
            net_free(&g);
    } else if (!strcmp(parser, "ref")) {
        ref_net r;
        net g;
        if ((rc = ref_net_load(path, &r, err, sizeof err)) == 0) {
            if (ref_net_to_net(&r, &g, err, sizeof err) == 0)
                net_free(&g);
            ref_net_free(&r);
        }
    } else if (!strcmp(parser, "acc")) {
        accel_preset p;
        rc = preset_load_file(path, &p, err, sizeof err);
    } else if (!strcmp(parser, "cal")) {
        calibration c;
        if ((rc = calibration_load(path, &c, err, sizeof err)) == 0)
            calibration_free(&c);
    } else if (!strcmp(parser, "shapes")) {
        calibration c;
        memset(&c, 0, sizeof c);
        rc = cal_read_shapes(path, &c, err, sizeof err);
        calibration_free(&c);
    } else if (!strcmp(parser, "onnx")) {
        net g;
        if ((rc = net_load_onnx(path, &g, err, sizeof err)) == 0)
            net_free(&g);
    } else if (!strcmp(parser, "plan")) {
        plan_file f;
        if ((rc = plan_file_read(path, &f, err, sizeof err)) == 0)
            plan_file_free(&f);
    } else {
        return -2;
    }
    /* an error is one line naming the file */
    if (rc != 0 && (strchr(err, '\n') || !strstr(err, path)))
        abort();
    return rc;
}

int fuzz_parse(const char *parser, const uint8_t *data, size_t size) {
    char path[256];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/accpar-fuzz-%ld.input", dir && *dir ? dir : "/tmp",
             (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return -2;
    int bad = fwrite(data, 1, size, f) != size;
    if (fclose(f) != 0 || bad)
        return -2;
    int rc = parse_file(parser, path);
    unlink(path);
    return rc;
}

#ifdef FUZZ_PARSER
/* libFuzzer's entry point: one binary per parser (scripts/fuzz). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_parse(FUZZ_PARSER, data, size);
    return 0;
}
#endif
