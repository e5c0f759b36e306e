// Reference-compatible mode against the reference program's own output, digit for digit.
#include "grid_print.h"
#include "test_support.h"
#include "net_find.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::string grids(const ref_net &r) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    std::vector<int> grid(REF_LEVELS * r.n);
    for (int s = 0; s < STRATEGY_COUNT; s++) {
        EXPECT_EQ(ref_plan(&r, (strategy)s, grid.data()), 0);
        EXPECT_EQ(ref_print_grid(f, &r, (strategy)s, grid.data()), 0);
    }
    fclose(f);
    std::string out(buf, len);
    free(buf);
    return out;
}

TEST(Compat, AlexnetMatchesReferenceOutputExactly) {
    ref_net r;
    char err[512];
    ASSERT_EQ(ref_net_load(ACCPAR_MODELS "/networks/reference/Alexnet.txt", &r, err, sizeof err), 0)
        << err;
    EXPECT_EQ(grids(r), slurp(ACCPAR_TEST_DATA "/accpar-reference-alexnet.txt"));
    ref_net_free(&r);
}

namespace {

// The reference's level objective as docs/cost-model.md states it, written out independently:
// per layer F = B x Cin, W = Cin x Cout, O = B x Cout; intra I = |W| k^2, II = |O| out_fmap,
// III = |F| in_fmap; inter (previous -> this) on this layer's F and E, both |F| in_fmap:
// I->II and III->I 1/4 (F + E), I->III and III->III F/2, II->I and II->II E/2, else 0.
struct Mats {
    double in_r, in_c, w_r, w_c, out_r, out_c;
};

struct Chain {
    const ref_net &r;
    std::vector<Mats> m;
    explicit Chain(const ref_net &net) : r(net) {
        for (int l = 0; l < r.n; l++) {
            const ref_layer &L = r.layers[l];
            m.push_back({REF_BATCH, L.cin, L.cin, L.cout, REF_BATCH, L.cout});
        }
    }
    double intra(int l, int t) const {
        const ref_layer &L = r.layers[l];
        if (t == 0)
            return m[l].w_r * m[l].w_c * L.k * L.k;
        if (t == 1)
            return m[l].out_r * m[l].out_c * L.hout * L.wout;
        return m[l].in_r * m[l].in_c * L.hin * L.win;
    }
    double inter(int l, int p, int t) const {
        static const double share[3][3] = {{0, 0.5, 0.5}, {0.5, 0.5, 0}, {0.5, 0, 0.5}};
        return share[p][t] * m[l].in_r * m[l].in_c * r.layers[l].hin * r.layers[l].win;
    }
    double cost(const int *types) const {
        double c = intra(0, types[0]);
        for (int l = 1; l < r.n; l++)
            c += intra(l, types[l]) + inter(l, types[l - 1], types[l]);
        return c;
    }
    // Minimum over assignments of types 0 .. ntypes-1 (Viterbi: exact on a chain).
    double best(int ntypes) const {
        std::vector<double> c(3);
        for (int t = 0; t < ntypes; t++)
            c[t] = intra(0, t);
        for (int l = 1; l < r.n; l++) {
            std::vector<double> next(3, INFINITY);
            for (int t = 0; t < ntypes; t++)
                for (int p = 0; p < ntypes; p++)
                    next[t] = std::fmin(next[t], c[p] + inter(l, p, t) + intra(l, t));
            c = next;
        }
        return *std::min_element(c.begin(), c.begin() + ntypes);
    }
    // After a level: I halves F and O rows, II F columns and W rows, III W and O columns.
    void halve(const int *types) {
        for (int l = 0; l < r.n; l++) {
            Mats &x = m[l];
            if (types[l] == 0)
                x.in_r /= 2, x.out_r /= 2;
            else if (types[l] == 1)
                x.in_c /= 2, x.w_r /= 2;
            else
                x.w_c /= 2, x.out_c /= 2;
        }
    }
};

std::vector<int> grid_of(const ref_net &r, strategy s) {
    std::vector<int> grid(REF_LEVELS * r.n);
    EXPECT_EQ(ref_plan(&r, s, grid.data()), 0);
    return grid;
}

} // namespace

// Every level of HyPar's grid (no shortcut terms) is an optimum of the documented objective over
// types {I, II}, on every reference network including the ResNets; AccPar's likewise over
// {I, II, III} on the networks without shortcuts, and so never worse than HyPar's. Data
// parallelism is all I, OWT is II on FC layers and I elsewhere.
TEST(Compat, ReferenceGridsAreOptimalForTheDocumentedObjective) {
    for (const char *name : {"Alexnet.txt", "Vgg11.txt", "resnet18-reference", "resnet34-reference",
                             "resnet50-reference"}) {
        ref_net r;
        char err[512];
        ASSERT_EQ(ref_net_find(name, &r, err, sizeof err), 0) << err;
        bool resnet = r.n == 18 || r.n == 34 || r.n == 50;
        std::vector<int> hypar = grid_of(r, STRATEGY_HYPAR), accpar = grid_of(r, STRATEGY_ACCPAR);
        std::vector<int> dp = grid_of(r, STRATEGY_DP), owt = grid_of(r, STRATEGY_OWT);
        Chain h(r), a(r);
        for (int lv = 0; lv < REF_LEVELS; lv++) {
            const int *hrow = &hypar[lv * r.n], *arow = &accpar[lv * r.n];
            for (int l = 0; l < r.n; l++) {
                EXPECT_LT(hrow[l], 2) << name;
                EXPECT_EQ(dp[lv * r.n + l], 0) << name;
                EXPECT_EQ(owt[lv * r.n + l], r.layers[l].is_fc ? 1 : 0) << name;
            }
            EXPECT_DOUBLE_EQ(h.cost(hrow), h.best(2)) << name << " hypar level " << lv;
            if (!resnet) {
                EXPECT_DOUBLE_EQ(a.cost(arow), a.best(3)) << name << " accpar level " << lv;
                if (lv == 0) {
                    EXPECT_LE(a.cost(arow), h.cost(hrow)) << name;
                }
            }
            h.halve(hrow);
            a.halve(arow);
        }
        ref_net_free(&r);
    }
}

// The slip, on a hand-made 18-layer network (any 18-layer network is a ResNet to the reference):
// layers of 64 channels on 1x1 maps (k = 1), except layer 2 (1 channel in and out) and layer 3
// (512 in, 64 out, k = 3), the first with a shortcut term. Level 0, X = 1/2 * 512 * 512 = 131072
// (every non-zero conversion or shortcut amount of layer 3):
//   layer 1: cost I = 8192; II = III = 53248, each from predecessor I
//   layer 2: cost I = 8193, II = III = 8960, each from predecessor I (so the shortcut into
//            layer 3 starts from type I whatever layer 2 is)
//   layer 3, type II: from layer-2 type I: 8193 + X (conversion) + X (shortcut I->II);
//            from III: 8960 + 0 + X; from II: 8960 + X + X.
// The honest minimum is III (8960 + X); the reference starts its running minimum at type I
// *without* the shortcut term (8193 + X) and keeps it, so layer 2 stays I. Layer 3's type II
// (intra 32768) beats I (294912) and III (262144), and layers 4.. are I.
TEST(Compat, InitialisationSlipSkipsTheShortcutOfATypeOnePredecessor) {
    std::vector<ref_layer> layers(18);
    for (int l = 0; l < 18; l++) {
        double cin = l == 2 ? 1 : l == 3 ? 512 : 64, cout = l == 2 ? 1 : 64, k = l == 3 ? 3 : 1;
        layers[l] = ref_layer{};
        snprintf(layers[l].name, sizeof layers[l].name, "l%d", l);
        layers[l].cin = cin, layers[l].cout = cout, layers[l].k = k;
        layers[l].hin = layers[l].win = layers[l].hout = layers[l].wout = 1;
        layers[l].pool = 1;
    }
    ref_net r{};
    r.n = 18;
    r.layers = layers.data();
    std::vector<int> grid = grid_of(r, STRATEGY_ACCPAR);
    std::vector<int> want(18, 0);
    want[3] = 1; // II
    EXPECT_EQ(std::vector<int>(grid.begin(), grid.begin() + 18), want);
    EXPECT_EQ(grid[2], 0) << "an honest minimum would make layer 2 type III";
}

// The generator's layer counts are the depths it is named after, with the reference's names.
TEST(Compat, ReferenceResnetGeneratorShapes) {
    for (int depth : {18, 34, 50}) {
        ref_net r;
        char err[256];
        ASSERT_EQ(ref_net_resnet(depth, &r, err, sizeof err), 0);
        EXPECT_EQ(r.n, depth);
        EXPECT_STREQ(r.layers[0].name, "cv1");
        EXPECT_STREQ(r.layers[1].name, "cv22");
        EXPECT_TRUE(r.layers[depth - 1].is_fc);
        EXPECT_EQ(r.layers[depth - 1].cin, 2048);
        ref_net_free(&r);
    }
    ref_net r;
    char err[256];
    EXPECT_NE(ref_net_resnet(19, &r, err, sizeof err), 0);
}
