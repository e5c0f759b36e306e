#include "svg.h"

static const char *const colours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f"};

void svg_text(FILE *f, const char *s) {
    for (; *s; s++) {
        const char *e = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&apos;"
                                     : NULL;
        if (e)
            fputs(e, f);
        else
            fputc(*s, f);
    }
}

void svg_begin(FILE *f, int width, int height, int left, const char *title, const char *y_label) {
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height);
    fprintf(f, "<text x=\"%d\" y=\"20\" font-size=\"15\">", left);
    svg_text(f, title);
    fprintf(f, "</text>\n<text x=\"12\" y=\"%d\" transform=\"rotate(-90 12 %d)\">", height / 2,
            height / 2);
    svg_text(f, y_label);
    fprintf(f, "</text>\n");
}

void svg_end(FILE *f) {
    fprintf(f, "</svg>\n");
}

const char *svg_colour(int i) {
    return colours[i % 5];
}

void svg_legend(FILE *f, int i, int x, int y, const char *name) {
    fprintf(
        f,
        "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
        x, y, svg_colour(i), x + 14, y + 9);
    svg_text(f, name);
    fprintf(f, "</text>\n");
}

void svg_reference(FILE *f, int i, int x0, int x1, double y) {
    fprintf(f,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-dasharray=\"6 4\"/>\n",
            x0, y, x1, y, svg_colour(i));
}
