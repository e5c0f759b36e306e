// Network files: shapes against the convolution arithmetic, malformed input against the
// one-line file:line:field contract.
#include "net_find.h"
#include "net_parse.h"
#include "plan.h"
#include "text_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

using namespace std::string_literals;

namespace {

// Writes text (which may hold NUL bytes) to a new file named like name (its suffix kept).
std::string write_tmp(const std::string &text, const std::string &suffix = "") {
    std::string path = "/tmp/accpar_net_XXXXXX" + suffix;
    int fd = mkstemps(path.data(), (int)suffix.size());
    FILE *f = fdopen(fd, "wb");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
    return path;
}

// The error of loading text as a .net file with the file name removed from its front (an
// error that does not start with the file name fails the test); "" if it loads.
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
    std::string e = err;
    EXPECT_EQ(e.rfind(path, 0), 0u) << "error does not start with the file name: " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    return e.rfind(path, 0) == 0 ? e.substr(path.size()) : e;
}

// The same for the reference format.
std::string ref_error(const std::string &text) {
    std::string path = write_tmp(text, ".txt");
    ref_net r;
    char err[512] = "";
    int rc = ref_net_load(path.c_str(), &r, err, sizeof err);
    remove(path.c_str());
    if (rc == 0) {
        ref_net_free(&r);
        return "";
    }
    std::string e = err;
    EXPECT_EQ(e.rfind(path, 0), 0u) << "error does not start with the file name: " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    return e.rfind(path, 0) == 0 ? e.substr(path.size()) : e;
}

// A reference-format CONV layer.
std::string ref_conv(const char *name, int64_t cin, int64_t fmap, int64_t k, int64_t cout,
                     int64_t out_fmap, int64_t pool) {
    return std::string(name) + " CONV\nin_ch " + std::to_string(cin) + "\nin_fmap_h " +
           std::to_string(fmap) + "\nin_fmap_w " + std::to_string(fmap) + "\nkernel " +
           std::to_string(k) + "\nout_ch " + std::to_string(cout) + "\nout_fmap_h " +
           std::to_string(out_fmap) + "\nout_fmap_w " + std::to_string(out_fmap) + "\npool " +
           std::to_string(pool) + "\n";
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
        {"fc a in=x out=2\n", ":1: field 'input': no input node"},
        {in, ":1: field 'conv': no CONV or FC layer"},
        {in + "add s in=x\n", ":2: field 'in': expected 2 input(s), got 1"},
        // one strict integer syntax: no exponent, base prefix, sign or blank
        {in + "fc a in=x out=1e3\n", ":2: field 'out': '1e3' is not an integer"},
        {in + "fc a in=x out=0x10\n", ":2: field 'out': '0x10' is not an integer"},
        {in + "fc a in=x out=+5\n", ":2: field 'out': '+5' is not an integer"},
        {in + "conv c in=x cout=4 k=3 stride=0\n", ":2: field 'stride': '0' is not an integer"},
        // padding at most k/2
        {in + "conv c in=x cout=4 k=3 pad=1024\n", ":2: field 'pad': 1024 exceeds k/2 = 1"},
        {in + "conv c in=x cout=4 k=3 pad=2\n", ":2: field 'pad': 2 exceeds k/2 = 1"},
        // sizes the cost model cannot hold, as file:line:field errors
        {"input x c=1024 h=4096 w=4096\nfc f in=x out=2\n", ":1: field 'c': c*h*w exceeds 2^31-1"},
        {"input x c=1048576 h=64 w=64\nconv c in=x cout=1 k=1 stride=64\n",
         ":1: field 'c': c*h*w exceeds"},
        {"input x c=2 h=4096 w=4096\nconv c in=x cout=1024 k=1 pool=1024\nfc f in=c out=2\n",
         ":2: field 'cout': the output tensor"},
        {"input x c=2047 h=1024 w=1024\nfc f in=x out=1048576\n",
         ":2: field 'out': one sample's GEMM exceeds 2^48"},
        // empty and comment-only files: line 1 or the last line, never line 0
        {"", ":1: field 'input': no nodes: the file is empty"},
        {"# nothing\n\n# here\n", ":3: field 'input': no nodes: only comments"},
        // a NUL byte is an error, not the end of the line
        {in + "fc a in=x out=2\0 colour=red\n"s, ":2: NUL byte"},
    };
    for (const Case &c : cases) {
        std::string e = load_error(c.text);
        EXPECT_EQ(e.rfind(c.where, 0) == 0 || e.find(c.where) != std::string::npos, true)
            << "input:\n"
            << c.text << "error: " << e;
    }
}

TEST(Net, ValidEdgeCasesLoad) {
    // the largest padding (k/2), a file without a final newline, CRLF line ends
    EXPECT_EQ(load_error("input x c=3 h=8 w=8\nconv c in=x cout=4 k=5 pad=2\nfc f in=c out=2"), "");
    EXPECT_EQ(load_error("input x c=3 h=8 w=8\r\nfc f in=x out=2\r\n"), "");
}

TEST(Net, StrictIntegerSyntax) {
    int64_t v = -1;
    char why[128];
    struct Case {
        const char *s;
        int64_t min, max, want; // want -1: rejected
    } cases[] = {
        {"0", 0, 5, 0},
        {"007", 1, 9, 7},
        {"2147483647", 1, 2147483647, 2147483647},
        {"9", 0, 9, 9},
        {"10", 0, 9, -1},
        {"6", 7, 9, -1},
        {"8", 0, 7, -1},
        {"2147483648", 1, 2147483647, -1},
        {"99999999999999999999999999", 1, 2147483647, -1},
    };
    for (const Case &c : cases) {
        int rc = text_parse_int(c.s, c.min, c.max, &v, why, sizeof why);
        EXPECT_EQ(rc == 0 ? v : -1, c.want) << c.s;
    }
    for (const char *bad : {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "1.0", "inf", "nan"})
        EXPECT_NE(text_parse_int(bad, 0, 2147483647, &v, why, sizeof why), 0) << bad;
    EXPECT_STREQ(why, "'nan' is not an integer in [0, 2147483647]");
}

TEST(Net, ReferenceFormatErrorsAndTruncation) {
    std::string ok = "num_layers 1\nfc FC\nin_ch 4\nout_ch 2\n";
    std::string c1 = ref_conv("c1", 3, 8, 3, 4, 8, 1);
    struct Case {
        std::string text, where;
    } cases[] = {
        {"num_layers 2\nfc FC\nin_ch 4\nout_ch 2\n", ":4: field 'name': missing (the file ends)"},
        {"num_layers 1\nfc FC\nin_ch 4\n", ":3: field 'out_ch': missing (the file ends)"},
        {"", ":1: field 'num_layers': missing (the file is empty)"},
        {"num_layers 1\nfc POOL\n", ":2: field 'fc'"},
        {"num_layers 1\nfc FC\nin_ch -4\nout_ch 2\n", ":3: field 'in_ch'"},
        {ok + "extra FC\n", "field 'num_layers': more layers"},
        // the .net format's integer syntax and bounds
        {"num_layers 1\nfc FC\nin_ch 1e3\nout_ch 2\n", ":3: field 'in_ch': '1e3' is not an"},
        {"num_layers 1\nfc FC\nin_ch 0x10\nout_ch 2\n", ":3: field 'in_ch': '0x10' is not an"},
        {"num_layers 1\nfc FC\nin_ch 4\nout_ch 2147483647\n",
         ":4: field 'out_ch': '2147483647' is not an integer in [1, 1048576]"},
        {"num_layers 1\n" + ref_conv("c", 2147483647, 8, 3, 4, 8, 1), ":3: field 'in_ch'"},
        {"num_layers 1\n" + ref_conv("c", 3, 65536, 70000, 4, 8, 1), ":6: field 'kernel'"},
        {"num_layers 1\n" + ref_conv("c", 3, 8, 3, 4, 8, 65536), ":10: field 'pool'"},
        // products beyond the cost model: file:line of the field to change
        {"num_layers 1\nf FC\nin_ch 2147483647\nout_ch 1048576\n",
         ":4: field 'out_ch': one sample's GEMM exceeds 2^48"},
        {"num_layers 1\n" + ref_conv("c", 1048576, 8, 1024, 64, 8, 1),
         ":6: field 'kernel': Di = cin*k*k exceeds 2^31-1"},
        {"num_layers 1\n" + ref_conv("c", 1048576, 65536, 1, 1, 65536, 1),
         ":3: field 'in_ch': the input tensor exceeds"},
        // inconsistent shapes: each input is the previous output; maps cannot grow
        {"num_layers 2\n" + c1 + ref_conv("c2", 5, 8, 3, 4, 8, 1),
         ":12: field 'in_ch': does not match the output of c1 (4x8x8)"},
        {"num_layers 2\n" + c1 + ref_conv("c2", 4, 7, 3, 4, 7, 1), ":13: field 'in_fmap_h'"},
        {"num_layers 2\n" + c1 + "f FC\nin_ch 255\nout_ch 2\n",
         ":12: field 'in_ch': does not match the output of c1"},
        {"num_layers 1\n" + ref_conv("c", 3, 8, 3, 4, 8, 2),
         ":8: field 'out_fmap_h': out_fmap * pool exceeds the input map + 1"},
        {"num_layers 1\n" + ref_conv("c", 3, 8, 3, 4, 65536, 1024), ":8: field 'out_fmap_h'"},
        {"num_layers 1\nfc FC\nin_ch 4\0\nout_ch 2\n"s, ":3: NUL byte"},
    };
    for (const Case &c : cases) {
        std::string e = ref_error(c.text);
        EXPECT_NE(e.find(c.where), std::string::npos) << "input:\n" << c.text << "error: " << e;
    }
    EXPECT_EQ(ref_error("num_layers 2\n" + c1 + "f FC\nin_ch 256\nout_ch 2\n"), "");
}

// A network read from a reference-format file keeps its path: plan errors name it.
TEST(Net, ReferenceNetworksKeepTheirPathForMessages) {
    std::string path = write_tmp("num_layers 1\n" + ref_conv("c", 3, 256, 1, 8, 256, 1), ".txt");
    net g;
    char err[512];
    ASSERT_EQ(net_find(path.c_str(), &g, err, sizeof err), 0) << err;
    EXPECT_EQ(std::string(g.path), path);
    static accel_array arr;
    ASSERT_EQ(accel_array_parse("2xtpu-v2", &arr, err, sizeof err), 0) << err;
    plan_options o{STRATEGY_DP, 1 << 16, 0, 0, 0};
    plan p;
    ASSERT_NE(plan_make(&g, &arr, &o, &p, err, sizeof err), 0);
    EXPECT_EQ(std::string(err).rfind(path + ":2: field 'batch': 65536 is too large for layer c", 0),
              0u)
        << err;
    net_free(&g);
    remove(path.c_str());
}
