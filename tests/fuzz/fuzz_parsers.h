/* Every parser of a user-supplied file, behind one call, for fuzzing (scripts/fuzz) and for
 * replaying the fuzzing corpus in the tests (test_corpus.cpp). */
#ifndef ACCPAR_FUZZ_PARSERS_H
#define ACCPAR_FUZZ_PARSERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The parsers' names, then NULL: net (.net), ref (the reference format), acc (presets), cal
 * (calibrations), shapes (calibrate --shapes), plan (saved plans), onnx (ONNX models). */
extern const char *const fuzz_parsers[];

/* Writes data to a temporary file of this process and parses it with the named parser, freeing
 * what it built. Returns the parser's status (0 or -1), or -2 for an unknown parser name or a
 * temporary file that cannot be written. */
int fuzz_parse(const char *parser, const uint8_t *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
