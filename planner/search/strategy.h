/* The four partitioning strategies: data parallelism, "one weird trick", HyPar, AccPar. */
#ifndef ACCPAR_STRATEGY_H
#define ACCPAR_STRATEGY_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { STRATEGY_DP, STRATEGY_OWT, STRATEGY_HYPAR, STRATEGY_ACCPAR } strategy;
enum { STRATEGY_COUNT = 4 };

/* "dp", "owt", "hypar", "accpar" in enum order, then NULL. */
extern const char *const strategy_names[STRATEGY_COUNT + 1];

/* strategy_names[s]. */
const char *strategy_name(strategy s);

/* Parses a name above; returns -1 if unknown. */
int strategy_parse(const char *name, strategy *out);

#ifdef __cplusplus
}
#endif

#endif
