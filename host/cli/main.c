/* accpar: emulate heterogeneous DNN-training accelerators. Dispatches to subcommands. */
#include "cli.h"
#include "cli_ranks.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int ranks; /* runs under mpirun, its devices spread over the ranks */
} subcommand;

static const subcommand commands[] = {
    {"gemm", cli_gemm, "run one GEMM on an emulated accelerator and check it", 0},
    {"plan", cli_plan, "partition a network's training step over an accelerator array", 0},
    {"run", cli_run, "emulate one partitioned training step on an accelerator array", 1},
    {"calibrate", cli_calibrate, "fit the cost model to emulated cycles and bytes; compare plans",
     1},
    {"reproduce", cli_reproduce, "the AccPar paper's experiment: speedups over data parallelism",
     0},
    {"net", cli_net, "show a network's nodes, shapes, GEMMs, MACs and parameters", 0},
    {"models", cli_models, "list, build or clean the cached RTL models of accelerator shapes", 0},
    {"machine", cli_machine, "this machine's processors, memory and measured fp32 FMA peak", 0},
};

static void usage(FILE *out) {
    fprintf(out, "usage: accpar COMMAND [options]   (accpar COMMAND --help for its options)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nDocumentation: docs/cli.md\n");
}

/* A full-size step allocates and frees buffers of hundreds of MB per layer. By default glibc
 * maps each from the kernel and unmaps it on free, so every layer pays page faults and zeroing
 * again (a quarter of a VGG-16 run); kept in the heap they are reused. One heap for all
 * threads: a worker thread's own heaps (64 MiB each) are unmapped whenever they empty and
 * faulted in again by the next layer (a fifth of a VGG-16 run at 112x112). Peak memory is the
 * same. */
static void keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    mallopt(M_ARENA_MAX, 1);
#endif
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        if (cli_cluster() && !commands[i].ranks) {
            cli_error(argv[1], "runs as one process: under mpirun only run and calibrate "
                               "(docs/scale-out.md)");
            return EXIT_USAGE;
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    if (cli_rank() == 0)
        fprintf(stderr, "accpar: unknown command '%s' (accpar --help lists them)\n", argv[1]);
    return EXIT_USAGE;
}

int main(int argc, char **argv) {
    keep_freed_memory();
    cluster *c;
    char err[256];
    if (cluster_start(&argc, &argv, &c, err, sizeof err) != 0) {
        fprintf(stderr, "accpar: %s\n", err);
        return EXIT_USAGE;
    }
    cli_cluster_set(c);
    if (cli_rank() != 0 && !freopen("/dev/null", "w", stdout)) /* rank 0 reports */
        return EXIT_USAGE;
    int status = cli_ranks_same_build() != 0 ? EXIT_USAGE : dispatch(argc, argv);
    cluster_end(c);
    return status;
}
