#include "partition.h"

#include <string.h>

static const char *const PHASE_NAMES[PHASES] = {"forward", "backward", "gradient"};
static const char *const TYPE_NAMES[NODE_STATES] = {"I", "II", "III"};
static const char *const LAYOUT_NAMES[NODE_STATES] = {"B", "C", "R"};

const char *phase_name(gemm_phase ph) {
    return (unsigned)ph < PHASES ? PHASE_NAMES[ph] : "?";
}

const char *node_state_name(node_kind kind, int state) {
    if (state < 0 || state >= NODE_STATES)
        return "-";
    return kind == NODE_ADD ? LAYOUT_NAMES[state] : TYPE_NAMES[state];
}

int node_state_parse(node_kind kind, const char *name, int *state) {
    const char *const *names = kind == NODE_ADD ? LAYOUT_NAMES : TYPE_NAMES;
    for (int s = 0; s < NODE_STATES; s++)
        if (strcmp(name, names[s]) == 0) {
            *state = s;
            return 0;
        }
    return -1;
}

node_layouts cost_layouts(node_kind kind, int state) {
    static const node_layouts layer[NODE_STATES] = {
        [TYPE_I] = {LAYOUT_B, LAYOUT_B, LAYOUT_B, LAYOUT_B},      /* everything batch-split */
        [TYPE_II] = {LAYOUT_REP, LAYOUT_C, LAYOUT_C, LAYOUT_REP}, /* F(l+1) reduced, E(l+1) whole */
        [TYPE_III] = {LAYOUT_C, LAYOUT_REP, LAYOUT_REP, LAYOUT_C}, /* F(l) whole, E(l) reduced */
    };
    if (kind == NODE_ADD) {
        layout l = (layout)state;
        return (node_layouts){l, l, l, l};
    }
    return layer[state];
}
