/* The common frame of the project's standalone SVG charts: header, title, axis label, palette. */
#ifndef ACCPAR_SVG_H
#define ACCPAR_SVG_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes s as XML text: &, <, >, " and ' escaped, every other byte as it is. */
void svg_text(FILE *f, const char *s);

/* Opens a width x height SVG with the title at the top left (x = left) and the y-axis label
 * rotated along the left edge (both escaped). */
void svg_begin(FILE *f, int width, int height, int left, const char *title, const char *y_label);
void svg_end(FILE *f);

/* A legend entry: a swatch of the i-th colour at (x, y) and the name beside it. */
void svg_legend(FILE *f, int i, int x, int y, const char *name);

/* A dashed horizontal reference line from x0 to x1 at y in the i-th colour. */
void svg_reference(FILE *f, int i, int x0, int x1, double y);

/* The i-th colour of the palette (cycles after five). */
const char *svg_colour(int i);

#ifdef __cplusplus
}
#endif

#endif
