/* The command line's side of a run spread over MPI ranks (docs/scale-out.md): the job's
 * cluster, errors that rank 0 reports for every rank, the ranks' agreement on build and inputs,
 * and the --placement and --rank-timeout options of run and calibrate. */
#ifndef ACCPAR_CLI_RANKS_H
#define ACCPAR_CLI_RANKS_H

#include "cluster.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The job's cluster (main.c sets it; NULL without mpirun) and this process's rank (0 without). */
void cli_cluster_set(cluster *c);
cluster *cli_cluster(void);
int cli_rank(void);

/* The last error cli_error recorded: ranks other than 0 do not print theirs, rank 0 reports them
 * (cli_ranks_agree). */
const char *cli_last_error(void);
void cli_record_error(const char *text);

/* Collective (with a cluster, else returns rc): every rank says whether its step so far
 * succeeded (rc 0). If one did not, rank 0 prints "accpar CMD: rank R: its error" (its own
 * error was printed already) and every rank returns -1. */
int cli_ranks_agree(const char *cmd, int rc);

/* Collective: the same digest of the inputs on every rank (run.h's run_inputs_digest, or the
 * command's own); else rank 0 prints which rank differs and every rank returns -1. */
int cli_ranks_same(const char *cmd, uint64_t inputs);

/* Collective, at the start of the program: the same build on every rank (a digest of the
 * program file); else rank 0 prints which rank differs and every rank returns -1. */
int cli_ranks_same_build(void);

/* --placement's text, a rank for each of n devices ("0,0,1,1"), into rank_of, checked against
 * the job's ranks. NULL text: run_placement's default. Prints the error and returns -1. */
int cli_placement(const char *cmd, const char *text, int n, int *rank_of);

/* --jobs' default: the processors this process may use, shared among the ranks on this machine. */
int cli_default_jobs(void);

/* The options of the commands that run devices on ranks. */
#define CLI_RANK_OPTS(placement, timeout)                                                          \
    CLI_STRING("--placement", (placement), "R,R,..",                                               \
               "under mpirun: each device's rank, in device order\n"                               \
               "[contiguous blocks of devices per rank]"),                                         \
        CLI_REAL("--rank-timeout", (timeout), "S",                                                 \
                 "under mpirun: give up on a rank silent for S seconds [60]", 3, 86400)
#define CLI_RANK_TIMEOUT_DEFAULT_S 60.0

#ifdef __cplusplus
}
#endif

#endif
