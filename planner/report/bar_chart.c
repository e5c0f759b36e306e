#include "bar_chart.h"

#include "svg.h"

enum { W = 900, H = 420, LEFT = 60, BOTTOM = 60, TOP = 40 };

int bar_chart_svg(FILE *f, const bar_chart *c) {
    double top = 1.0;
    for (int i = 0; i < c->rows * c->series; i++)
        top = c->values[i] > top ? c->values[i] : top;
    for (int s = 0; c->reference && s < c->series; s++)
        top = c->reference[s] > top ? c->reference[s] : top;
    top *= 1.1;
    double plot_w = W - LEFT - 20, plot_h = H - TOP - BOTTOM;
    double group_w = plot_w / c->rows, bar_w = group_w * 0.8 / c->series;
    svg_begin(f, W, H, LEFT, c->title, c->y_label);
    for (int t = 0; t <= (int)top; t++) {
        double y = TOP + plot_h * (1 - t / top);
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>\n",
                LEFT, y, W - 20, y, LEFT - 4, y + 4, t);
    }
    for (int r = 0; r < c->rows; r++) {
        double x0 = LEFT + r * group_w + group_w * 0.1;
        for (int s = 0; s < c->series; s++) {
            double v = c->values[r * c->series + s], h = plot_h * v / top;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\"/>\n",
                    x0 + s * bar_w, TOP + plot_h - h, bar_w, h, svg_colour(s));
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x0 + 0.4 * group_w,
                H - BOTTOM + 16);
        svg_text(f, c->row_names[r]);
        fprintf(f, "</text>\n");
    }
    for (int s = 0; s < c->series; s++) {
        svg_legend(f, s, LEFT + 150 * s, H - 24, c->series_names[s]);
        if (c->reference)
            svg_reference(f, s, LEFT, W - 20, TOP + plot_h * (1 - c->reference[s] / top));
    }
    svg_end(f);
    return 0;
}
