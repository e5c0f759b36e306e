/* The reference program's grid layout: a "######## TITLE ########" line, a header of "h" and
 * the column names, then one row per level (widths 4 and 8). */
#ifndef ACCPAR_GRID_PRINT_H
#define ACCPAR_GRID_PRINT_H

#include "compat_ref.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cells[r * cols + c]; names[c] is column c's header. */
void grid_print(FILE *f, const char *title, int rows, int cols, const char *const *names,
                const int *cells);

/* The title the reference prints for a strategy (strategy.h order). */
const char *grid_title(int strategy_index);

/* Prints one strategy's section exactly as the reference program does ("\n######## HYPAR
 * ########\n", then the h/layer header and one row per level). -1 when out of memory. */
int ref_print_grid(FILE *f, const ref_net *r, strategy s, const int *grid);

#ifdef __cplusplus
}
#endif

#endif
