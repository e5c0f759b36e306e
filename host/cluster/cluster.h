/* The ranks of a run spread over several processes or machines (docs/scale-out.md): started by
 * mpirun, joined by MPI. A small message layer on top of it: every message is framed, numbered
 * per sender and receiver, and checksummed, so a lost or damaged message is caught and named
 * rather than read as data; waits give up after a timeout instead of hanging. Only the main
 * thread of a process calls these functions. */
#ifndef ACCPAR_CLUSTER_H
#define ACCPAR_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cluster cluster;

/* Joins the job when the process was started by mpirun (Open MPI's environment says so): *out
 * receives the cluster. Without mpirun, *out is NULL and nothing is initialised: the program
 * runs as one process. Returns 0, or -1 with err set. */
int cluster_start(int *argc, char ***argv, cluster **out, char *err, size_t errlen);

/* Leaves the job (MPI_Finalize) and frees c; NULL is allowed. After a lost or damaged message
 * (or cluster_fail), ends every rank instead (cluster_abort, status 1): the others may be stuck
 * sending to this one, or silent, and would never finish. */
void cluster_end(cluster *c);

/* Marks the ranks' messages as no longer to be trusted (another rank reported a lost or damaged
 * one): cluster_end then ends every rank. */
void cluster_fail(cluster *c);

/* Ends every rank of the job at once with this status (MPI_Abort): for a rank that cannot
 * reach the others any more. */
void cluster_abort(cluster *c, int status) __attribute__((noreturn));

int cluster_rank(const cluster *c);
int cluster_size(const cluster *c);
/* The ranks on this machine (mpirun's count), for sharing its cores among them. */
int cluster_local_size(const cluster *c);

/* The collectives below wait without spinning a core, as cluster_recv does.
 *
 * Collective: each rank passes NULL if it is ready, else why not. Returns 0 on every rank if all
 * are ready; else -1 on every rank with err "rank R: why" for the lowest rank that is not. */
int cluster_agree(cluster *c, const char *why, char *err, size_t errlen);

/* Collective: every rank's digest of `what` (its build, its inputs) must equal rank 0's. Returns
 * 0, or -1 on every rank with err naming the first rank that differs. */
int cluster_same(cluster *c, const char *what, uint64_t digest, char *err, size_t errlen);

/* A message: a kind and a few numbers of the protocol that uses it, and a payload. */
typedef struct cluster_msg {
    uint32_t kind;
    int32_t device;
    int64_t arg[4];
    void *payload; /* send: `bytes` bytes; receive: malloc'd by cluster_recv, caller frees */
    uint64_t bytes;
} cluster_msg;

/* Names of the message kinds of the protocol in use ([kind], NULL: unnamed), for errors about a
 * message; names must outlive their use. */
void cluster_name_kinds(cluster *c, const char *const *names, uint32_t n);

/* Sends m to rank `to` (blocking until its buffers may be reused). Returns 0 or -1 with err. */
int cluster_send(cluster *c, int to, const cluster_msg *m, char *err, size_t errlen);

/* Receives the next message from rank `from` into *m. timeout_s > 0: gives up after that long
 * without a message from it (-1, err names the rank and what was awaited via `awaiting`);
 * timeout_s <= 0 waits for ever. A message whose checksum does not match is an error (-1)
 * naming its number, sender and kind. A sound message that comes after a lost one is delivered
 * in *m, but the call returns CLUSTER_GAP with err naming the lost one. Waits without spinning a
 * core. */
enum { CLUSTER_GAP = 1 };
int cluster_recv(cluster *c, int from, cluster_msg *m, double timeout_s, const char *awaiting,
                 char *err, size_t errlen);

/* Payload bytes and messages this rank has sent and received. */
uint64_t cluster_bytes(const cluster *c);
uint64_t cluster_messages(const cluster *c);

/* A digest of the running program's file (/proc/self/exe): the same build on every rank. 0 if it
 * cannot be read. */
uint64_t cluster_build_digest(void);

#ifdef ACCPAR_TEST_HOOKS
/* Test-only faults, read from the environment variable ACCPAR_TEST_CLUSTER_FAULT when the
 * cluster starts: "drop:R:N" (rank R never sends its message number N), "corrupt:R:N" (a bit of its
 * payload, or of its frame if it has none, flipped after the checksum is taken), "flip:R:N" (a bit
 * of its payload flipped before the checksum is taken: wrong data, as a faulty device would send),
 * "kill:R:N" (rank R is killed by SIGKILL instead of sending message N). Messages are numbered from
 * 1 per rank in the order it sends; "kK" for N names instead the rank's first message of kind K. */
#endif

#ifdef __cplusplus
}
#endif

#endif
