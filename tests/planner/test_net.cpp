// Network files: shapes against the convolution arithmetic, malformed input against the
// one-line file:line:field contract.
#include "net_find.h"
#include "net_parse.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

std::string write_tmp(const std::string &text) {
    char path[] = "/tmp/accpar_net_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs(text.c_str(), f);
    fclose(f);
    return path;
}

std::string load_error(const std::string &text) {
    std::string path = write_tmp(text);
    net g;
    char err[512] = "";
    int rc = net_load_file(path.c_str(), &g, err, sizeof err);
    remove(path.c_str());
    if (rc == 0) {
        net_free(&g);
        return "";
    }
    return std::string(err).substr(path.size());
}

const net_node *find(const net &g, const char *name) {
    for (int v = 0; v < g.n; v++)
        if (std::string(g.nodes[v].name) == name)
            return &g.nodes[v];
    return nullptr;
}

} // namespace

TEST(Net, AlexnetShapesFollowConvolutionArithmetic) {
    net g;
    char err[512];
    ASSERT_EQ(net_find("alexnet", &g, err, sizeof err), 0) << err;
    // out = floor((in + 2 pad - k) / stride) + 1, computed here independently
    auto out = [](int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; };
    const net_node *c1 = find(g, "conv1"), *c2 = find(g, "conv2"), *f1 = find(g, "fc1");
    EXPECT_EQ(c1->hout, out(224, 11, 4, 2));
    EXPECT_EQ(c2->hin, out(224, 11, 4, 2) / 2);
    EXPECT_EQ(f1->cin, 256 * 6 * 6);
    EXPECT_EQ(net_di(c2), 64 * 5 * 5);
    EXPECT_EQ(net_rows(c1, 512), 512 * 55 * 55);
    net_free(&g);
}

TEST(Net, ResnetsHaveStrideTwoEntriesProjectionsAndFcInput) {
    struct Case {
        const char *name;
        int weighted, adds, projections, fc_in;
    } cases[] = {
        {"resnet18", 21, 8, 3, 512}, {"resnet34", 37, 16, 3, 512}, {"resnet50", 54, 16, 4, 2048}};
    for (const Case &c : cases) {
        net g;
        char err[512];
        ASSERT_EQ(net_find(c.name, &g, err, sizeof err), 0) << err;
        int weighted = 0, adds = 0, proj = 0;
        for (int v = 0; v < g.n; v++) {
            const net_node &nd = g.nodes[v];
            weighted += net_is_weighted(&nd);
            adds += nd.kind == NODE_ADD;
            proj += std::string(nd.name).find("_proj") != std::string::npos;
            for (int e = 0; e < nd.n_in; e++)
                EXPECT_LT(nd.in[e], v); // topological order
        }
        EXPECT_EQ(weighted, c.weighted) << c.name;
        EXPECT_EQ(adds, c.adds) << c.name;
        EXPECT_EQ(proj, c.projections) << c.name;
        EXPECT_EQ(g.nodes[g.n - 1].cin, c.fc_in) << c.name;
        EXPECT_EQ(find(g, "s3b1_add")->hout, 28) << c.name; // stride-2 stage entry: 56 -> 28
        net_free(&g);
    }
}

TEST(Net, OutOfOrderLinesAreSortedTopologically) {
    std::string path = write_tmp("fc b in=a out=3\nfc a in=x out=4\ninput x c=2 h=1 w=1\n");
    net g;
    char err[512];
    ASSERT_EQ(net_load_file(path.c_str(), &g, err, sizeof err), 0) << err;
    EXPECT_STREQ(g.nodes[0].name, "x");
    EXPECT_STREQ(g.nodes[2].name, "b");
    net_free(&g);
    remove(path.c_str());
}

TEST(Net, MalformedFilesGiveFileLineFieldErrors) {
    const std::string in = "input x c=3 h=8 w=8\n";
    struct Case {
        std::string text, where;
    } cases[] = {
        {in + "conv c in=x cout=4 k=3 pad=1\nconv d in=c cout=-4 k=3\n", ":3: field 'cout'"},
        {in + "conv c in=x cout=4 k=", ":2: field 'k'"},
        {in + "conv c in=x cout=4\n", ":2: field 'k': missing"},
        {in + "pool p in=x\n", ":2: field 'kind'"},
        {in + "fc a in=b out=2\nfc b in=a out=2\n", "field 'in': the graph has a cycle"},
        {in + "fc a in=a out=2\n", ":2: field 'in': the graph has a cycle"},
        {in + "fc a in=nope out=2\n", ":2: field 'in': unknown node nope"},
        {in + "fc a in=x out=99999999999999999999\n", ":2: field 'out'"},
        {in + "conv c in=x cout=4 k=9\n", ":2: field 'k': kernel larger"},
        {in + "conv c in=x cout=4 k=3 pool=9\n", ":2: field 'pool'"},
        {in + "conv c in=x cout=4 k=1\nconv d in=x cout=5 k=1\nadd s in=c,d\n",
         ":4: field 'in': shapes differ"},
        {in + "fc a in=x out=2 colour=red\n", ":2: field 'colour': unknown field"},
        {in + "fc a in=x out=2\nfc a in=x out=2\n", ":3: field 'name': duplicate"},
        {"fc a in=x out=2\n", "field 'input': no input node"},
        {in, "field 'conv': no CONV or FC layer"},
        {in + "add s in=x\n", ":2: field 'in': expected 2 input(s), got 1"},
    };
    for (const Case &c : cases) {
        std::string e = load_error(c.text);
        EXPECT_EQ(e.rfind(c.where, 0) == 0 || e.find(c.where) != std::string::npos, true)
            << "input:\n"
            << c.text << "error: " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos);
    }
}

TEST(Net, ReferenceFormatErrorsAndTruncation) {
    std::string ok = "num_layers 1\nfc FC\nin_ch 4\nout_ch 2\n";
    struct Case {
        std::string text, where;
    } cases[] = {{"num_layers 2\nfc FC\nin_ch 4\nout_ch 2\n", ":4: field 'name': missing"},
                 {"num_layers 1\nfc FC\nin_ch 4\n", "field 'out_ch': missing"},
                 {"num_layers 1\nfc POOL\n", ":2: field 'fc'"},
                 {"num_layers 1\nfc FC\nin_ch -4\nout_ch 2\n", ":3: field 'in_ch'"},
                 {ok + "extra FC\n", "field 'num_layers': more layers"}};
    for (const Case &c : cases) {
        std::string path = write_tmp(c.text);
        ref_net r;
        char err[512];
        EXPECT_NE(ref_net_load(path.c_str(), &r, err, sizeof err), 0) << c.text;
        EXPECT_NE(std::string(err).find(c.where), std::string::npos) << err;
        remove(path.c_str());
    }
}
