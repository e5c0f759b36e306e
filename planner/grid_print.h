/* The reference program's grid layout: a "######## TITLE ########" line, a header of "h" and
 * the column names, then one row per level (widths 4 and 8). */
#ifndef ACCPAR_GRID_PRINT_H
#define ACCPAR_GRID_PRINT_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cells[r * cols + c]; names[c] is column c's header. */
void grid_print(FILE *f, const char *title, int rows, int cols, const char *const *names,
                const int *cells);

/* The title the reference prints for a strategy (strategy.h order). */
const char *grid_title(int strategy_index);

#ifdef __cplusplus
}
#endif

#endif
