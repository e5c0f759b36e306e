/* A line chart as standalone SVG: series over a log2 x axis (e.g. a sweep of scales), plus dashed
 * reference lines. */
#ifndef ACCPAR_LINE_CHART_H
#define ACCPAR_LINE_CHART_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct line_chart {
    const char *title, *x_label, *y_label;
    int points, series;
    const char *const *series_names; /* [series] */
    const double *x;                 /* [points], ascending, > 0 (log2 axis) */
    const double *y;                 /* [point * series + s] */
    const double *reference;         /* [series] horizontal lines, or NULL */
} line_chart;

/* Returns 0 (the caller checks the stream for write errors). */
int line_chart_svg(FILE *f, const line_chart *c);

#ifdef __cplusplus
}
#endif

#endif
