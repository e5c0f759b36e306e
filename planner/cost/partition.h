/* The vocabulary of a partition (docs/design.md): the three GEMMs of a training step's layer,
 * the layer types a two-way split can choose, the layouts of tensors between two groups, and the
 * state of a node at one level of a plan. */
#ifndef ACCPAR_PARTITION_H
#define ACCPAR_PARTITION_H

#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The three GEMMs of a weighted layer: F(l+1) = F(l) W, E(l) = E(l+1) W^T, dW = F(l)^T E(l+1). */
typedef enum gemm_phase { PHASE_FORWARD, PHASE_BACKWARD, PHASE_GRADIENT } gemm_phase;
enum { PHASES = 3 };

/* A set of phases, one bit per phase. */
typedef unsigned phase_set;
#define PHASE_BIT(ph) (1u << (ph))

/* "forward", "backward", "gradient". */
const char *phase_name(gemm_phase ph);

/* A layer's type at a split: which index of its GEMMs the split cuts. */
typedef enum layer_type {
    TYPE_I,  /* the batch B: W replicated, dW reduced */
    TYPE_II, /* the input channels Di: F(l+1) reduced */
    TYPE_III /* the output channels Do: E(l) reduced */
} layer_type;

/* Layout of a tensor between two groups: split along the batch, split along the channels, or
 * whole in both. */
typedef enum { LAYOUT_B, LAYOUT_C, LAYOUT_REP } layout;

/* A node's state at one level: a layer's layer_type, an add's layout (the add's output and
 * inputs all share it); inputs have none. */
enum { NODE_STATES = 3, STATE_NONE = -1 };

/* "I", "II", "III" for a layer; "B", "C", "R" for an add. */
const char *node_state_name(node_kind kind, int state);

/* The state a name above stands for; -1 if it is not one of the kind's names. */
int node_state_parse(node_kind kind, const char *name, int *state);

/* Layouts a node in `state` produces for its output F, requires for its input F, produces for
 * its input error E and requires for its output error E. */
typedef struct node_layouts {
    layout produce_f, require_f, produce_e, require_e;
} node_layouts;

node_layouts cost_layouts(node_kind kind, int state);

#ifdef __cplusplus
}
#endif

#endif
