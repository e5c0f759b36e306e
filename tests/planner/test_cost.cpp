// Cost-model pieces against element-by-element counting.
#include "cost.h"
#include "preset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

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

// The limits hold exactly at their boundaries: per-sample tensors and Di up to 2^31-1 elements,
// a sample's GEMM up to 2^48 multiply-accumulates, each blamed on its own field.
TEST(Cost, NodeLimitsHoldAtTheirBoundaries) {
    const char *field = "";
    char why[256];
    net_node in{};
    in.kind = NODE_INPUT;
    in.oc = 2147483647, in.oh = in.ow = 1;
    EXPECT_EQ(net_node_fits(&in, &field, why, sizeof why), 0);
    in.oc = 1 << 20, in.oh = 1 << 11, in.ow = 1; // 2^31
    EXPECT_NE(net_node_fits(&in, &field, why, sizeof why), 0);
    EXPECT_STREQ(field, "c");

    net_node fc{};
    fc.kind = NODE_FC;
    fc.k = 1, fc.hin = fc.win = fc.hout = fc.wout = 1;
    fc.cin = 1 << 28, fc.cout = 1 << 20; // 2^48 MACs: the limit itself
    EXPECT_EQ(net_node_fits(&fc, &field, why, sizeof why), 0);
    fc.cout++;
    EXPECT_NE(net_node_fits(&fc, &field, why, sizeof why), 0);
    EXPECT_STREQ(field, "out");

    net_node cv{};
    cv.kind = NODE_CONV;
    cv.cin = 1 << 15, cv.k = 256, cv.hin = cv.win = 256, cv.hout = cv.wout = 1, cv.cout = 1;
    EXPECT_NE(net_node_fits(&cv, &field, why, sizeof why), 0); // in: 2^31, Di: 2^31
    EXPECT_STREQ(field, "in");
    cv.hin = 255;
    EXPECT_NE(net_node_fits(&cv, &field, why, sizeof why), 0); // Di = 2^15 * 256^2 = 2^31
    EXPECT_STREQ(field, "k");
    cv.k = 255;
    EXPECT_EQ(net_node_fits(&cv, &field, why, sizeof why), 0);
    cv.hout = 1 << 16, cv.wout = 1 << 15, cv.cout = 1; // output 2^31
    EXPECT_NE(net_node_fits(&cv, &field, why, sizeof why), 0);
    EXPECT_STREQ(field, "cout");

    // a single GEMM beyond 2^48 MACs is an error, not a wrapped cycle count
    accel_preset p;
    ASSERT_EQ(preset_find("tpu-v2-full", &p, why, sizeof why), 0) << why;
    gemm_dims g[3] = {{1 << 24, 1 << 23, 1 << 1}, {0, 0, 0}, {0, 0, 0}}; // 2^48
    double sec;
    device_model dm;
    device_model_exact(&p, &dm);
    EXPECT_EQ(cost_gemms_seconds(&p, &dm, g, &sec, why, sizeof why), 0) << why;
    EXPECT_GT(sec, 0.0);
    g[0].k = 1 << 24;
    EXPECT_NE(cost_gemms_seconds(&p, &dm, g, &sec, why, sizeof why), 0);
    EXPECT_NE(std::string(why).find("exceeds 2^48"), std::string::npos) << why;
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
