/* A predicted-vs-measured scatter plot as standalone SVG: log-log axes, one colour per series,
 * and the dashed diagonal where prediction equals measurement. */
#ifndef ACCPAR_SCATTER_PLOT_H
#define ACCPAR_SCATTER_PLOT_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct scatter_plot {
    const char *title, *x_label, *y_label;
    int points, series;
    const char *const *series_names; /* [series] */
    const double *x, *y;             /* [points], > 0 (others are skipped) */
    const int *series_of;            /* [points] */
} scatter_plot;

/* Returns 0 (the caller checks the stream for write errors). */
int scatter_plot_svg(FILE *f, const scatter_plot *p);

#ifdef __cplusplus
}
#endif

#endif
