#include "strategy.h"

#include <string.h>

const char *const strategy_names[STRATEGY_COUNT + 1] = {"dp", "owt", "hypar", "accpar", NULL};

const char *strategy_name(strategy s) {
    return strategy_names[s];
}

int strategy_parse(const char *name, strategy *out) {
    for (int i = 0; i < STRATEGY_COUNT; i++) {
        if (strcmp(name, strategy_names[i]) == 0) {
            *out = (strategy)i;
            return 0;
        }
    }
    return -1;
}
