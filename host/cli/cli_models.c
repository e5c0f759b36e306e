/* accpar models: the cache of verilated accelerator models (docs/accelerator.md, "RTL
 * models"): list them, build them ahead of use, clean them out. */
#include "cli.h"
#include "cli_args.h"
#include "model_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CMD = "models";
static const char *const ACTIONS[] = {"list", "build", "clean", NULL};
enum { LIST, BUILD, CLEAN };
enum { MAX_PRESETS = 64 };

static int list(void) {
    model_entry *e;
    int n;
    char err[1024];
    if (model_cache_list(&e, &n, err, sizeof err) != 0) {
        cli_error(CMD, "%s", err);
        return EXIT_USAGE;
    }
    printf("model cache: %s (%d model%s)\n", model_cache_dir(), n, n == 1 ? "" : "s");
    if (n > 0)
        printf("%-12s %6s %12s %5s %10s %8s %-20s %s\n", "shape", "port", "buffers", "wave", "size",
               "built in", "built at", "state");
    for (int i = 0; i < n; i++) {
        char shape[48], buffers[48];
        snprintf(shape, sizeof shape, "%dx%dx%d", e[i].rows, e[i].cols, e[i].mxus);
        snprintf(buffers, sizeof buffers, "%d/%d", e[i].act_rows, e[i].acc_rows);
        printf("%-12s %5dB %12s %5s %8.1fMB %7.0fs %-20s %s\n", shape, e[i].bw, buffers,
               e[i].fst ? "fst" : "vcd", (double)e[i].so_bytes / 1e6, e[i].build_s, e[i].built_at,
               e[i].current ? "current" : "stale (other RTL or tools)");
    }
    free(e);
    return 0;
}

static int build(const char **presets, int n) {
    if (n == 0) {
        cli_error(CMD, "build: name the presets to build (accpar models --help)");
        return EXIT_USAGE;
    }
    for (int i = 0; i < n; i++) {
        accel_preset p;
        const rtl_model_api *api;
        char err[1400];
        if (preset_find(presets[i], &p, err, sizeof err) != 0 ||
            model_cache_get(&p, 0, &api, err, sizeof err) != 0) {
            cli_error(CMD, "%s", err);
            return EXIT_USAGE;
        }
        printf("%s: %dx%dx%d model ready\n", p.name, p.array_rows, p.array_cols, p.mxus);
    }
    return 0;
}

static int clean(int stale_only) {
    int removed;
    char err[1024];
    if (model_cache_clean(stale_only, &removed, err, sizeof err) != 0) {
        cli_error(CMD, "%s", err);
        return EXIT_USAGE;
    }
    printf("removed %d model%s from %s\n", removed, removed == 1 ? "" : "s", model_cache_dir());
    return 0;
}

int cli_models(int argc, char **argv) {
    const char *operands[MAX_PRESETS + 1], *cache = NULL;
    int n_operands = 0, stale = 0;
    const cli_opt opts[] = {
        CLI_STRING("--model-cache", &cache, "DIR",
                   "the cache folder [$ACCPAR_MODEL_CACHE, else ~/.cache/accpar/models]"),
        CLI_FLAG("--stale", &stale, "clean: only models of other RTL sources or tools"),
        CLI_END,
    };
    const cli_command cmd = {
        CMD,
        "list|build PRESET...|clean [--stale] [--model-cache DIR]",
        "The verilated accelerator models, one per accelerator shape, are built on first use and\n"
        "kept in a cache folder, named by everything that changes them (RTL sources,\n"
        "parameters, tool versions and flags). list shows them; build builds the presets'\n"
        "models now (as accpar gemm, run or calibrate would on first use); clean removes them,\n"
        "with --stale only those an RTL edit or another Verilator left behind.",
        opts,
        NULL,
        operands,
        MAX_PRESETS + 1,
        &n_operands};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_RUN)
        return rc == CLI_DONE ? 0 : EXIT_USAGE;
    int action = n_operands > 0 ? cli_choice_index(ACTIONS, operands[0]) : -1;
    if (action < 0) {
        cli_error(CMD, "%s: expected list, build or clean (accpar models --help)",
                  n_operands > 0 ? operands[0] : "no action");
        return EXIT_USAGE;
    }
    if ((action != BUILD && n_operands > 1) || (action != CLEAN && stale)) {
        cli_error(CMD, "%s: %s", operands[0],
                  stale ? "--stale goes with clean" : "takes no preset names");
        return EXIT_USAGE;
    }
    model_cache_configure(cache, 0);
    return action == LIST    ? list()
           : action == BUILD ? build(operands + 1, n_operands - 1)
                             : clean(stale);
}
