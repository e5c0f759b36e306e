/* The layout conversions between layers: per level and split, each group's leader holds its
 * piece in the producer's layout, receives the elements of the consumer's piece it lacks from
 * the other leader, and assembles the consumer's piece from the two. Internal to the runtime. */
#ifndef ACCPAR_RUN_CONVERT_H
#define ACCPAR_RUN_CONVERT_H

#include "run_ctx.h"

/* What a conversion carries: the activations F forward, or the errors E backward. */
typedef enum { CONVERT_F, CONVERT_E } run_convert_kind;

/* Converts the layout of node v's in-edge e, level by level: its input F or the error E flowing
 * back along it; tensor is the whole [B][C][H*W] tensor (bf16 values). Each group's leader
 * assembles the piece its consumer layout needs from what it held and what it received, which
 * is checked element by element against tensor. held: NULL, or [device] pieces that carry the
 * assembled pieces from level to level and keep each device's last one (the caller frees the
 * data). */
int run_convert(run_ctx *c, int v, int e, run_convert_kind kind, const float *tensor,
                run_piece *held);

#endif
