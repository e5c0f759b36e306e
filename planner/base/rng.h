/* Deterministic pseudo-random numbers (splitmix64), so a seed reproduces a run. */
#ifndef ACCPAR_RNG_H
#define ACCPAR_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The next 64 random bits; advances *state. */
uint64_t rng_next(uint64_t *state);

/* Uniform in [0, 1) with 53 random bits. */
double rng_unit(uint64_t *state);

#ifdef __cplusplus
}
#endif

#endif
