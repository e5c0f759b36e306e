// Cost-model pieces against element-by-element counting.
#include "cost.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

// Does a group that owns batch rows [0, b_own) or channels [0, c_own) hold element (b, c) in
// layout l?
bool holds(layout l, int b, int c, int b_own, int c_own) {
    return l == LAYOUT_REP || (l == LAYOUT_B ? b < b_own : c < c_own);
}

} // namespace

TEST(Cost, ConversionElementsEqualCountedMissingElements) {
    const layout all[] = {LAYOUT_B, LAYOUT_C, LAYOUT_REP};
    for (int bt : {1, 3, 8})
        for (int ct : {1, 5})
            for (int hw : {1, 4})
                for (int bo = 0; bo <= bt; bo++)
                    for (int co = 0; co <= ct; co++)
                        for (layout from : all)
                            for (layout to : all) {
                                int64_t missing = 0;
                                for (int b = 0; b < bt; b++)
                                    for (int c = 0; c < ct; c++)
                                        missing +=
                                            holds(to, b, c, bo, co) && !holds(from, b, c, bo, co);
                                EXPECT_EQ(cost_convert_elems(from, to, bt, ct, hw, bo, co),
                                          missing * hw);
                            }
}

// The design table's entries for group i (alpha, beta = 1 - alpha) on exact splits.
TEST(Cost, LayerToLayerConversionMatchesDesignTable) {
    const int B = 8, C = 4, hw = 1, bi = 6, ci = 3; // alpha = 3/4 on both
    const double a = 0.75, b = 0.25, A = B * C;
    const double table[3][3] = {
        {0, a * b * 2 * A, b * A}, {b * A, b * A, 0}, {a * b * 2 * A, 0, b * A}};
    for (int p = 0; p < 3; p++)
        for (int t = 0; t < 3; t++) {
            node_layouts lp = cost_layouts(NODE_CONV, p), lt = cost_layouts(NODE_CONV, t);
            int64_t e = cost_convert_elems(lp.produce_f, lt.require_f, B, C, hw, bi, ci) +
                        cost_convert_elems(lt.produce_e, lp.require_e, B, C, hw, bi, ci);
            EXPECT_DOUBLE_EQ((double)e, table[p][t]) << p << "->" << t;
        }
}

TEST(Cost, SplitRoundsAndRejectsEmptyParts) {
    int64_t i, j;
    EXPECT_EQ(cost_split(10, 0.25, &i, &j), 0);
    EXPECT_EQ(i, 3); // round(2.5) away from zero
    EXPECT_EQ(i + j, 10);
    EXPECT_NE(cost_split(1, 0.5, &i, &j), 0);
    EXPECT_NE(cost_split(3, 0.1, &i, &j), 0);
}

TEST(Cost, ElementSizesAreBf16AndFp32) {
    EXPECT_EQ(COST_ACT_BYTES, 2);
    EXPECT_EQ(COST_PSUM_BYTES, 4);
}

TEST(Cost, TransferTimeIsBytesOverBandwidthPlusLatency) {
    EXPECT_EQ(cost_transfer_s(0, 1e9, 1e-6), 0.0);
    EXPECT_DOUBLE_EQ(cost_transfer_s(2000, 1e9, 1e-6), 2e-6 + 1e-6);
}

// The GEMM phases cover the index space of the layer: forward M*K*N = backward = gradient.
TEST(Cost, ThreeGemmsHaveEqualWork) {
    net_node nd{};
    nd.kind = NODE_CONV;
    nd.k = 3;
    nd.hin = nd.win = 9;
    nd.hout = nd.wout = 7;
    gemm_dims g[3];
    cost_layer_gemms(&nd, 1, 5, 6, 7, g);
    for (int p = 1; p < 3; p++)
        EXPECT_EQ(g[p].m * g[p].k * g[p].n, g[0].m * g[0].k * g[0].n);
    EXPECT_EQ(g[0].m, 5 * 7 * 7);
    EXPECT_EQ(g[0].k, 6 * 9);
    cost_layer_gemms(&nd, 0, 5, 6, 7, g);
    EXPECT_EQ(g[1].m, 0);
}
