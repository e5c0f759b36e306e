/* The accpar command line: one function per subcommand, argv[0] being the subcommand name.
 * Each returns the process exit status: 0 success, 1 a check failed, 2 bad usage or input. */
#ifndef ACCPAR_CLI_H
#define ACCPAR_CLI_H

#include "accel_array.h"
#include "json.h"
#include "net.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int cli_gemm(int argc, char **argv);
int cli_plan(int argc, char **argv);
int cli_reproduce(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_calibrate(int argc, char **argv);
int cli_models(int argc, char **argv);
int cli_net(int argc, char **argv);
int cli_machine(int argc, char **argv);

enum { EXIT_CHECK_FAILED = 1, EXIT_USAGE = 2 };

/* Prints "accpar CMD: message" on one line to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes a finished JSON report to the declared output path and frees it; prints "--json: why"
 * on failure. */
int cli_write_json(const char *cmd, json_out *j, const char *path);

/* Declares path, given with flag, an output of the command (output_set.h: checked now, written
 * as a set at the end). Prints "FLAG: why" and returns -1 if it cannot be. */
int cli_declare_output(const char *cmd, const char *flag, const char *path);

/* Every command ends here: status 0 or 1 (the work was done, a check may have failed) commits
 * the outputs written, anything else discards them. Returns status, or 2 if the commit failed. */
int cli_finish(const char *cmd, int status);

/* A progress bar on stderr: unit is a string naming what is counted ("commands"). Callers
 * install it only when stderr is a terminal. */
void cli_progress(void *unit, int64_t done, int64_t total);

/* --compute-model's choices, in array_model_select's terms, then NULL. */
extern const char *const cli_compute_models[];

/* The network of --net with its channels scaled by `scale` and its images by `image_scale`
 * (net_scale, which needs a .net network; at 1 and 1 the network as read). Prints the error and
 * returns -1 on failure. */
int cli_load_net(const char *cmd, const char *name, double scale, double image_scale, net *out);

/* The array of --accels with the planner's models (--compute-model, --calibration; NULL for
 * the defaults), every device with device_mib MiB of memory (--device-mib; 0: its preset's).
 * Prints the error and returns -1 on failure. */
int cli_load_array(const char *cmd, const char *accels, const char *model, const char *calibration,
                   int64_t device_mib, accel_array *out);

#ifdef __cplusplus
}
#endif

#endif
