#include "line_chart.h"

#include "svg.h"

#include <math.h>

enum { W = 760, H = 460, LEFT = 60, RIGHT = 20, TOP = 40, BOTTOM = 90 };

typedef struct frame {
    double x_lo, x_hi, y_top;
} frame;

static double px(const frame *fr, double x) {
    return LEFT + (W - LEFT - RIGHT) * (log2(x) - fr->x_lo) / (fr->x_hi - fr->x_lo);
}

static double py(const frame *fr, double y) {
    return TOP + (H - TOP - BOTTOM) * (1 - y / fr->y_top);
}

int line_chart_svg(FILE *f, const line_chart *c) {
    frame fr = {log2(c->x[0]), log2(c->x[c->points - 1]), 1.0};
    if (fr.x_hi <= fr.x_lo)
        fr.x_hi = fr.x_lo + 1;
    for (int i = 0; i < c->points * c->series; i++)
        fr.y_top = fmax(fr.y_top, c->y[i]);
    for (int s = 0; c->reference && s < c->series; s++)
        fr.y_top = fmax(fr.y_top, c->reference[s]);
    fr.y_top = ceil(fr.y_top * 1.1);
    svg_begin(f, W, H, LEFT, c->title, c->y_label);
    for (int t = 0; t <= (int)fr.y_top; t++)
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>\n",
                LEFT, py(&fr, t), W - RIGHT, py(&fr, t), LEFT - 4, py(&fr, t) + 4, t);
    for (int i = 0; i < c->points; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", px(&fr, c->x[i]),
                H - BOTTOM + 16, c->x[i]);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", LEFT + (W - LEFT - RIGHT) / 2.0,
            H - BOTTOM + 36);
    svg_text(f, c->x_label);
    fprintf(f, "</text>\n");
    for (int s = 0; s < c->series; s++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                svg_colour(s));
        for (int i = 0; i < c->points; i++)
            fprintf(f, "%s%.1f,%.1f", i ? " " : "", px(&fr, c->x[i]),
                    py(&fr, c->y[i * c->series + s]));
        fprintf(f, "\"/>\n");
        if (c->reference)
            svg_reference(f, s, LEFT, W - RIGHT, py(&fr, c->reference[s]));
        svg_legend(f, s, LEFT + 150 * s, H - 30, c->series_names[s]);
    }
    svg_end(f);
    return 0;
}
