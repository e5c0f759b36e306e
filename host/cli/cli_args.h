/* The one argument parser of the accpar subcommands: each command describes its options in a
 * table, and cli_parse reads argv against it, prints --help from it, and rejects what does not
 * fit with a one-line error: an unknown option, a missing or malformed value (numbers in the
 * one syntax of the file formats, text_file.h), an option given twice. */
#ifndef ACCPAR_CLI_ARGS_H
#define ACCPAR_CLI_ARGS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    OPT_STRING, /* const char **: the value as given */
    OPT_INT,    /* int64_t *: a decimal integer in [lo, hi] */
    OPT_REAL,   /* double *: a decimal real in [min, max] */
    OPT_FLAG,   /* int *: set to 1; the option takes no value */
    OPT_CHOICE  /* int *: the index of the value in choices */
} cli_opt_kind;

typedef struct cli_opt {
    const char *name; /* "--net" */
    cli_opt_kind kind;
    void *out;
    const char *arg;            /* the value's name in --help ("N", "FILE"); NULL for OPT_FLAG */
    const char *help;           /* its description, default in [brackets]; '\n' starts a new line */
    int64_t lo, hi;             /* OPT_INT */
    double min, max;            /* OPT_REAL */
    const char *const *choices; /* OPT_CHOICE: NULL-terminated */
} cli_opt;

/* Table entries. */
#define CLI_STRING(n, p, a, h)                                                                     \
    { .name = (n), .kind = OPT_STRING, .out = (p), .arg = (a), .help = (h) }
#define CLI_INT(n, p, a, h, low, high)                                                             \
    { .name = (n), .kind = OPT_INT, .out = (p), .arg = (a), .help = (h), .lo = (low), .hi = (high) }
#define CLI_REAL(n, p, a, h, low, high)                                                            \
    {                                                                                              \
        .name = (n), .kind = OPT_REAL, .out = (p), .arg = (a), .help = (h), .min = (low),          \
        .max = (high)                                                                              \
    }
#define CLI_FLAG(n, p, h)                                                                          \
    { .name = (n), .kind = OPT_FLAG, .out = (p), .help = (h) }
#define CLI_CHOICE(n, p, a, h, list)                                                               \
    { .name = (n), .kind = OPT_CHOICE, .out = (p), .arg = (a), .help = (h), .choices = (list) }
/* The options of every command that may build an RTL model (model_cache.h). */
#define CLI_MODEL_OPTS(cache, no_build)                                                            \
    CLI_STRING("--model-cache", (cache), "DIR",                                                    \
               "RTL model cache [$ACCPAR_MODEL_CACHE, else ~/.cache/accpar/models]"),              \
        CLI_FLAG("--no-build", (no_build), "fail instead of building a missing RTL model")
/* The option of every command that emulates several devices or GEMMs at once (parallel.h);
 * the caller sets the default, parallel_cores(), before parsing. */
#define CLI_JOBS(jobs)                                                                             \
    CLI_INT("--jobs", (jobs), "N",                                                                 \
            "devices emulated at once, and threads of the OpenBLAS checks\n"                       \
            "[the processors this process may use, shared among the\n"                             \
            "ranks on this machine]; results do not depend on it",                                 \
            1, 256)
/* The option of the commands that plan: every device's memory instead of its preset's. */
#define CLI_DEVICE_MIB(mib)                                                                        \
    CLI_INT("--device-mib", (mib), "MIB",                                                          \
            "every device's memory in MiB instead of its preset's mem_mib\n"                       \
            "(e.g. 16384: a full chip's HBM for the scaled presets)",                              \
            1, 1 << 30)
/* The option of the commands that write waveforms: the estimated size they may reach. */
#define CLI_TRACE_LIMIT_DEFAULT_MIB 1024
#define CLI_TRACE_LIMIT(mib)                                                                       \
    CLI_INT("--trace-limit-mib", (mib), "MIB",                                                     \
            "refuse --trace before the run if the waveforms are estimated\n"                       \
            "larger (docs/runtime.md, \"Waveforms\") [1024]; 0: no limit",                         \
            0, INT64_MAX >> 20)
#define CLI_END                                                                                    \
    { .name = NULL }

typedef struct cli_command {
    const char *name;     /* "run" */
    const char *synopsis; /* the usage line after "accpar NAME" (NULL: generated from opts) */
    const char *about;    /* what the command does */
    const cli_opt *opts;  /* ends with an entry whose name is NULL */
    const char *epilog;   /* printed after the options (exit status, ...); may be NULL */
    /* Arguments that are not options (NULL: none allowed): up to max_operands of them. */
    const char **operands;
    int max_operands, *n_operands;
} cli_command;

enum { CLI_RUN = 0, CLI_DONE = 1, CLI_BAD = -1 };

/* Parses argv[1 .. argc) (argv[0] is the subcommand's name); an argument that is not an option
 * is an operand where the command takes them. Returns CLI_RUN, CLI_DONE after
 * printing --help, or CLI_BAD after printing "accpar NAME: why" on stderr. given (may be NULL)
 * receives, per option, whether it was given. */
int cli_parse(const cli_command *cmd, int argc, char **argv, int *given);

/* The index of name in a NULL-terminated list, or -1. */
int cli_choice_index(const char *const *choices, const char *name);

#ifdef __cplusplus
}
#endif

#endif
