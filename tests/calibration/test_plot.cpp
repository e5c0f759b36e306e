// The SVG charts escape their text: titles, axis labels and series or row names holding XML's
// special characters come out as character references, and the markup stays well formed.
#include <gtest/gtest.h>

extern "C" {
#include "bar_chart.h"
#include "scatter_plot.h"
}

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

const char *NASTY = "a<b> & \"c\" 'd'";
const char *ESCAPED = "a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;";

template <typename Chart> std::string render(int (*draw)(FILE *, const Chart *), const Chart &c) {
    FILE *f = tmpfile();
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(draw(f, &c), 0);
    std::string out((size_t)ftell(f), '\0');
    rewind(f);
    EXPECT_EQ(fread(&out[0], 1, out.size(), f), out.size());
    fclose(f);
    return out;
}

// Every '<' opens a tag and every '&' starts one of the five entities.
void expect_well_formed(const std::string &svg) {
    for (size_t i = 0; i < svg.size(); i++) {
        if (svg[i] == '<') {
            EXPECT_TRUE(isalpha((unsigned char)svg[i + 1]) || svg[i + 1] == '/') << svg.substr(i);
        }
        if (svg[i] == '&') {
            bool entity = false;
            for (const char *e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
                entity |= svg.compare(i, strlen(e), e) == 0;
            EXPECT_TRUE(entity) << svg.substr(i, 12);
        }
    }
}

size_t count(const std::string &s, const std::string &needle) {
    size_t n = 0;
    for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1))
        n++;
    return n;
}

TEST(Svg, ScatterPlotEscapesItsText) {
    const double x[2] = {1, 10}, y[2] = {2, 20};
    const int series_of[2] = {0, 1};
    const char *names[2] = {NASTY, "plain"};
    scatter_plot sp = {NASTY, NASTY, NASTY, 2, 2, names, x, y, series_of};
    std::string svg = render(scatter_plot_svg, sp);
    EXPECT_EQ(count(svg, ESCAPED), 4u) << svg; // title, two axis labels, one series
    EXPECT_EQ(svg.find(NASTY), std::string::npos);
    expect_well_formed(svg);
}

TEST(Svg, BarChartEscapesItsText) {
    const char *rows[2] = {NASTY, "x"}, *series[1] = {NASTY};
    const double values[2] = {1, 2};
    bar_chart bc = {NASTY, NASTY, 2, 1, rows, series, values, nullptr};
    std::string svg = render(bar_chart_svg, bc);
    EXPECT_EQ(count(svg, ESCAPED), 4u) << svg; // title, y label, one row, one series
    EXPECT_EQ(svg.find(NASTY), std::string::npos);
    expect_well_formed(svg);
}

} // namespace
