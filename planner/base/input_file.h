/* Opening input files: only regular files are read (a FIFO, device or folder given as an input
 * is an error at once, never a hang). */
#ifndef ACCPAR_INPUT_FILE_H
#define ACCPAR_INPUT_FILE_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opens path for reading in binary mode. NULL with "path: cannot open: why" or "path: not a
 * regular file" in err. */
FILE *input_file_open(const char *path, char *err, size_t errlen);

/* If path is a file this process opened with input_file_open, the path it was opened by (the
 * first 64 inputs are remembered); else NULL. */
const char *input_file_read_as(const char *path);

/* 1 if something exists at path (of any type), else 0. */
int input_file_exists(const char *path);

/* Reads a whole file of at most max bytes into a NUL-terminated buffer (*text, freed by the
 * caller; *len bytes without the NUL). -1 with "path: why" in err. */
int input_file_read(const char *path, size_t max, char **text, size_t *len, char *err,
                    size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
