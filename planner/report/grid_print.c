#include "grid_print.h"

#include <stdlib.h>

void grid_print(FILE *f, const char *title, int rows, int cols, const char *const *names,
                const int *cells) {
    fprintf(f, "\n######## %s ########\n%4s", title, "h");
    for (int c = 0; c < cols; c++)
        fprintf(f, "%8s", names[c]);
    fprintf(f, "\n");
    for (int r = 0; r < rows; r++) {
        fprintf(f, "%4d", r);
        for (int c = 0; c < cols; c++)
            fprintf(f, "%8d", cells[r * cols + c]);
        fprintf(f, "\n");
    }
}

const char *grid_title(int strategy_index) {
    static const char *const titles[] = {"DATA PAR", "THE TRICK", "HYPAR", "ACCPAR"};
    return titles[strategy_index];
}

int ref_print_grid(FILE *f, const ref_net *r, strategy s, const int *grid) {
    const char **names = malloc(sizeof *names * (size_t)r->n);
    if (!names)
        return -1;
    for (int l = 0; l < r->n; l++)
        names[l] = r->layers[l].name;
    grid_print(f, grid_title(s), REF_LEVELS, r->n, names, grid);
    free(names);
    return 0;
}
