#include "scatter_plot.h"

#include "svg.h"

#include <math.h>

enum { W = 640, H = 560, LEFT = 70, RIGHT = 20, TOP = 40, BOTTOM = 90 };

int scatter_plot_svg(FILE *f, const scatter_plot *p) {
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < p->points; i++)
        if (p->x[i] > 0 && p->y[i] > 0) {
            lo = fmin(lo, fmin(log10(p->x[i]), log10(p->y[i])));
            hi = fmax(hi, fmax(log10(p->x[i]), log10(p->y[i])));
        }
    if (!(lo <= hi))
        lo = 0, hi = 1;
    lo = floor(lo), hi = ceil(hi) > floor(lo) ? ceil(hi) : floor(lo) + 1;
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PX(v) (LEFT + pw * (log10(v) - lo) / (hi - lo))
#define PY(v) (TOP + ph * (1 - (log10(v) - lo) / (hi - lo)))
    svg_begin(f, W, H, LEFT, p->title, p->y_label);
    for (int d = (int)lo; d <= (int)hi; d++) {
        double v = pow(10, d);
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">1e%d</text>"
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">1e%d</text>\n",
                LEFT, PY(v), W - RIGHT, PY(v), PX(v), TOP, PX(v), H - BOTTOM, LEFT - 4, PY(v) + 4,
                d, PX(v), H - BOTTOM + 16, d);
    }
    fprintf(f,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\" "
            "stroke-dasharray=\"6 4\"/>\n",
            LEFT, H - BOTTOM, W - RIGHT, TOP);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", LEFT + pw / 2, H - BOTTOM + 36);
    svg_text(f, p->x_label);
    fprintf(f, "</text>\n");
    for (int i = 0; i < p->points; i++)
        if (p->x[i] > 0 && p->y[i] > 0)
            fprintf(f,
                    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" fill-opacity=\"0.7\"/>\n",
                    PX(p->x[i]), PY(p->y[i]), svg_colour(p->series_of[i]));
#undef PX
#undef PY
    for (int s = 0; s < p->series; s++) {
        fprintf(f,
                "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\">",
                LEFT + 280 * (s % 2), H - 40 + 18 * (s / 2), svg_colour(s),
                LEFT + 280 * (s % 2) + 14, H - 31 + 18 * (s / 2));
        svg_text(f, p->series_names[s]);
        fprintf(f, "</text>\n");
    }
    svg_end(f);
    return 0;
}
