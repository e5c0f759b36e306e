#include "strategy.h"

#include <string.h>

static const char *const names[STRATEGY_COUNT] = {"dp", "owt", "hypar", "accpar"};

const char *strategy_name(strategy s) {
    return names[s];
}

int strategy_parse(const char *name, strategy *out) {
    for (int i = 0; i < STRATEGY_COUNT; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (strategy)i;
            return 0;
        }
    }
    return -1;
}
