/* The command line's side of a run spread over MPI ranks (cli_ranks.h). */
#include "cli_ranks.h"

#include "cli.h"
#include "parallel.h"
#include "run.h"
#include "text_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cluster *the_cluster;
static char last_error[1024];

void cli_cluster_set(cluster *c) {
    the_cluster = c;
}

cluster *cli_cluster(void) {
    return the_cluster;
}

int cli_rank(void) {
    return cluster_rank(the_cluster);
}

const char *cli_last_error(void) {
    return last_error;
}

void cli_record_error(const char *text) {
    snprintf(last_error, sizeof last_error, "%s", text);
}

int cli_ranks_agree(const char *cmd, int rc) {
    if (!the_cluster)
        return rc;
    char err[1200];
    const char *why = rc == 0 ? NULL : last_error[0] ? last_error : "failed";
    if (cluster_agree(the_cluster, why, err, sizeof err) == 0)
        return 0;
    /* rank 0 printed its own error when it happened */
    if (cli_rank() == 0 && rc == 0)
        cli_error(cmd, "%s", err);
    return -1;
}

int cli_ranks_same(const char *cmd, uint64_t inputs) {
    char err[512];
    if (!the_cluster ||
        cluster_same(the_cluster, "inputs (network, array, plan, fidelity, seed, placement)",
                     inputs, err, sizeof err) == 0)
        return 0;
    cli_error(cmd, "%s", err);
    return -1;
}

int cli_ranks_same_build(void) {
    char err[512];
    if (!the_cluster || cluster_same(the_cluster, "build (the accpar program)",
                                     cluster_build_digest(), err, sizeof err) == 0)
        return 0;
    if (cli_rank() == 0)
        fprintf(stderr, "accpar: %s\n", err);
    return -1;
}

int cli_default_jobs(void) {
    int jobs = parallel_cores() / cluster_local_size(the_cluster);
    return jobs > 1 ? jobs : 1;
}

int cli_placement(const char *cmd, const char *text, int n, int *rank_of) {
    int ranks = cluster_size(the_cluster);
    if (!text) {
        run_placement(n, ranks, rank_of);
        return 0;
    }
    if (!the_cluster) {
        cli_error(cmd, "--placement: only under mpirun (docs/scale-out.md)");
        return -1;
    }
    const char *s = text;
    for (int d = 0; d < n; d++) {
        char *end;
        long r = strtol(s, &end, 10);
        if (end == s || r < 0 || r >= ranks || (*end != ',' && *end != '\0') ||
            (*end == '\0' && d != n - 1) || (*end == ',' && d == n - 1)) {
            cli_error(cmd,
                      "--placement: '%s': a rank in 0..%d for each of the %d devices, separated "
                      "by commas (device %d's is missing or wrong)",
                      text, ranks - 1, n, d);
            return -1;
        }
        rank_of[d] = (int)r;
        s = end + 1;
    }
    return 0;
}
