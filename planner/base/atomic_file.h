/* Reports are written atomically: into PATH.tmp, then renamed over PATH. */
#ifndef ACCPAR_ATOMIC_FILE_H
#define ACCPAR_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calls write(f, ctx) on a temporary file and renames it to path if write returns 0 and every
 * byte reached the disk; otherwise removes the temporary and returns -1 with a message. */
int atomic_write(const char *path, int (*write)(FILE *f, void *ctx), void *ctx, char *err,
                 size_t errlen);

/* Writes len bytes of data to path atomically. Returns 0, or -1 with "path: why" in err. */
int atomic_write_bytes(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Checks early that atomic_write(path) can create its temporary: creates and removes it.
 * Returns 0, or -1 with "PATH.tmp: cannot create: why". */
int atomic_write_check(const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
