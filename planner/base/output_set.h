/* A command's outputs, written as a set: all of them complete, or none new.
 *
 *   1. output_declare() each output before the work starts: the path is checked (not empty, not a
 *      folder or other non-regular file, not a file this process reads as an input, not declared
 *      twice) and a unique temporary ".partial-XXXXXX-NAME" is created beside it, which proves
 *      the folder writable;
 *   2. output_write() fills an output's temporary (flushed and fsynced before it returns), or a
 *      writer that needs a path (a waveform) writes output_temp();
 *   3. output_commit() renames every written temporary over its final name once all are complete
 *      (checking again that none replaces an input); output_discard() removes the temporaries.
 *
 * SIGINT, SIGTERM and SIGHUP remove the temporaries before the process ends (when the signal had
 * its default action as the first output was declared; a handler of the caller's is kept). The set
 * belongs to the process, as signals do; a command uses it from one thread. */
#ifndef ACCPAR_OUTPUT_SET_H
#define ACCPAR_OUTPUT_SET_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* At most this many outputs are declared at once. */
#define OUTPUT_SET_MAX 256

/* Declares path an output. Returns 0, or -1 with "path: why" in err. */
int output_declare(const char *path, char *err, size_t errlen);

/* The temporary of a declared output, marked written (the caller writes it by name); NULL if
 * path was not declared. */
const char *output_temp(const char *path);

/* Fills the temporary of the declared output path with write(f, ctx), which returns 0 on
 * success. Returns 0, or -1 with "path: why" in err. */
int output_write(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                 size_t errlen);

/* output_write of len bytes of data. */
int output_write_bytes(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Renames the written outputs into place and removes the unwritten ones' temporaries; the set is
 * empty afterwards. Returns 0, or -1 with "path: why" in err after removing every temporary
 * (outputs already renamed stay: a rename in a checked folder fails only if the folder changed
 * under the command). */
int output_commit(char *err, size_t errlen);

/* Removes every temporary; the set is empty afterwards. */
void output_discard(void);

/* For a file that is no command's output (a cache entry shared between processes and threads):
 * writes it with write(f, ctx) into a unique temporary beside it and renames that over path.
 * Returns 0, or -1 with "path: why" in err (the temporary removed). */
int file_replace(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                 size_t errlen);

/* file_replace of len bytes of data. */
int file_replace_bytes(const char *path, const void *data, size_t len, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
