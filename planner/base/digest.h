/* Content digests (64-bit FNV-1a): cache keys and the identity checks of saved files. Not
 * cryptographic: they catch changes and mix-ups, not forgery. */
#ifndef ACCPAR_DIGEST_H
#define ACCPAR_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { DIGEST_HEX = 17 }; /* 16 hex digits and a NUL */
#define DIGEST_INIT 0xcbf29ce484222325ull

/* h extended by n bytes of data. */
uint64_t digest_bytes(uint64_t h, const void *data, size_t n);
/* The same step on 8-byte words (host byte order; a tail shorter than a word bytewise): 8 times
 * fewer multiplies, for large buffers compared on one machine, e.g. a run's results. Like
 * digest_bytes, any one changed word changes the digest (each step is a bijection of h). */
uint64_t digest_words(uint64_t h, const void *data, size_t n);
/* digest_words of large data on up to `jobs` threads: the data cut into at most 64 parts of at
 * least 1 MiB (a cut fixed by n alone), each part's digest_words from DIGEST_INIT, then
 * digest_words(h, the parts' digests). The same value for any jobs; data of one part gives
 * digest_words(h, data, n) itself. Any one changed word still changes the digest. */
uint64_t digest_words_parallel(uint64_t h, const void *data, size_t n, int jobs);
/* h extended by a string and its terminating NUL (so "ab","c" differs from "a","bc"). */
uint64_t digest_str(uint64_t h, const char *s);
/* h extended by the decimal text of x (platform independent). */
uint64_t digest_int(uint64_t h, int64_t x);
/* h extended by x printed exactly ("%.17g"). */
uint64_t digest_real(uint64_t h, double x);

/* h as 16 lower-case hex digits. */
void digest_hex(uint64_t h, char out[DIGEST_HEX]);

#ifdef __cplusplus
}
#endif

#endif
