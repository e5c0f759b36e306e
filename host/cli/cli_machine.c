/* accpar machine: the facts of this machine that figures are quoted with: processors, memory and
 * the measured fp32 FMA peak. */
#include "cli.h"
#include "cli_args.h"
#include "fma_peak.h"
#include "gemm.h"
#include "host_memory.h"
#include "json.h"
#include "parallel.h"

#include <stdio.h>

static const char *const CMD = "machine";

int cli_machine(int argc, char **argv) {
    int64_t jobs = parallel_cores();
    double seconds = 0.5;
    const char *json = NULL;
    const cli_opt opts[] = {
        CLI_INT("--jobs", &jobs, "N",
                "threads measuring the peak [the processors this process "
                "may use]",
                1, PARALLEL_MAX_JOBS),
        CLI_REAL("--seconds", &seconds, "S", "how long each thread measures [0.5]", 0.01, 60),
        CLI_STRING("--json", &json, "PATH",
                   "also write the figures as JSON (atomically, docs/cli.md)"),
        CLI_END,
    };
    const cli_command cmd = {
        CMD,
        "[--jobs N] [--seconds S] [--json PATH]",
        "Prints the processors this process may use, the memory it may use, and the fp32\n"
        "multiply-add peak measured with N threads each running independent FMA chains in the\n"
        "widest vector unit (an FMA counts 2 flops), and the OpenBLAS kernels the checks run on.\n"
        "scripts/bench-run divides the emulation's arithmetic by this peak.",
        opts,
        NULL,
        NULL,
        0,
        NULL};
    int rc = cli_parse(&cmd, argc, argv, NULL);
    if (rc != CLI_RUN)
        return rc == CLI_DONE ? 0 : EXIT_USAGE;
    if (json && cli_declare_output(CMD, "--json", json) != 0)
        return cli_finish(CMD, EXIT_USAGE);
    const char *isa;
    double peak = fma_peak_flops((int)jobs, seconds, &isa);
    printf("processors: %d\nhost memory: %.1f GiB\nfp32 FMA peak: %.1f GFLOP/s with %lld "
           "thread%s (%s)\nOpenBLAS kernels of the checks: %s\n",
           parallel_cores(), (double)host_memory_bytes() / (1u << 30), peak / 1e9, (long long)jobs,
           jobs == 1 ? "" : "s", isa, gemm_check_blas_kernels());
    if (!json)
        return cli_finish(CMD, 0);
    json_out j = {0};
    json_begin_object(&j, NULL);
    json_int(&j, "processors", parallel_cores());
    json_uint(&j, "host_memory_bytes", host_memory_bytes());
    json_int(&j, "threads", jobs);
    json_str(&j, "vector_unit", isa);
    json_num(&j, "fp32_fma_peak_flops", peak);
    json_str(&j, "blas_kernels", gemm_check_blas_kernels());
    json_end_object(&j);
    return cli_finish(CMD, cli_write_json(CMD, &j, json) != 0 ? EXIT_USAGE : 0);
}
