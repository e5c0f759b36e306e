/* Deterministic pseudo-random numbers (splitmix64), so a seed reproduces a run. */
#ifndef ACCPAR_RNG_H
#define ACCPAR_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The next 64 random bits; advances *state. Inline: tensor generation draws one per value. */
static inline uint64_t rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double rng_unit(uint64_t *state) {
    return (double)(rng_next(state) >> 11) * 0x1p-53;
}

#ifdef __cplusplus
}
#endif

#endif
