// Reference-compatible mode against the reference program's own output, digit for digit.
#include "compat_ref.h"
#include "net_find.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::string slurp(const std::string &path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

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

// HyPar's search is AccPar's restricted to types {I, II}: it never chooses III, and on a chain
// AccPar's level-0 choice is at least as cheap. Checked on every reference network.
TEST(Compat, HyparNeverUsesTypeThreeOnAnyReferenceNetwork) {
    for (const char *name : {"Alexnet.txt", "Vgg11.txt", "resnet18-reference", "resnet34-reference",
                             "resnet50-reference"}) {
        ref_net r;
        char err[512];
        ASSERT_EQ(ref_net_find(name, &r, err, sizeof err), 0) << err;
        std::vector<int> grid(REF_LEVELS * r.n);
        ASSERT_EQ(ref_plan(&r, STRATEGY_HYPAR, grid.data()), 0);
        for (int t : grid)
            EXPECT_LT(t, 2) << name;
        ref_net_free(&r);
    }
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
