/* The accpar command line: one function per subcommand, argv[0] being the subcommand name.
 * Each returns the process exit status: 0 success, 1 a check failed, 2 bad usage or input. */
#ifndef ACCPAR_CLI_H
#define ACCPAR_CLI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int cli_gemm(int argc, char **argv);
int cli_plan(int argc, char **argv);
int cli_reproduce(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_calibrate(int argc, char **argv);

enum { EXIT_CHECK_FAILED = 1, EXIT_USAGE = 2 };

/* Prints "accpar CMD: message" on one line to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value after flag argv[*i], advancing *i; NULL (with an error printed) if missing. */
const char *cli_value(const char *cmd, int argc, char **argv, int *i);

/* Integer flag value in [min, max]; -1 with an error printed otherwise. */
int cli_int(const char *cmd, const char *flag, const char *value, int64_t min, int64_t max,
            int64_t *out);

/* A scale factor in (0, 1]; -1 with an error printed otherwise. */
int cli_scale(const char *cmd, const char *flag, const char *value, double *out);

struct json_out;
struct run_options;
/* --strategy or --fidelity of a run into o; -1 with an error printed for a bad value. */
int cli_run_choice(const char *cmd, const char *flag, const char *value, struct run_options *o);

/* Writes a finished JSON report atomically and frees it; prints "--json: why" on failure. */
int cli_write_json(const char *cmd, struct json_out *j, const char *path);

/* A progress bar on stderr: unit is a string naming what is counted ("commands"). Callers
 * install it only when stderr is a terminal. */
void cli_progress(void *unit, int64_t done, int64_t total);

#ifdef __cplusplus
}
#endif

#endif
