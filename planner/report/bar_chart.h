/* A grouped bar chart as standalone SVG (no dependencies): one group per row label, one bar per
 * series, plus dashed reference lines. */
#ifndef ACCPAR_BAR_CHART_H
#define ACCPAR_BAR_CHART_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bar_chart {
    const char *title, *y_label;
    int rows, series;
    const char *const *row_names;    /* [rows] */
    const char *const *series_names; /* [series] */
    const double *values;            /* [row * series + s] */
    const double *reference;         /* [series] horizontal lines (e.g. paper figures) or NULL */
} bar_chart;

/* Returns 0 (the caller checks the stream for write errors). */
int bar_chart_svg(FILE *f, const bar_chart *c);

#ifdef __cplusplus
}
#endif

#endif
