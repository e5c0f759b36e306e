// ONNX import against the .net files: models built by the onnx package (tests/planner/
// make_onnx.py, the layout an exporter writes: batch norms, ReLUs, dropouts, flattens, bias adds,
// a symbolic batch) must read as the same networks node for node; malformed ones are one-line
// errors naming the node and operator, or what is wrong with the file.
#include "test_support.h"

extern "C" {
#include "net_find.h"
int cli_plan(int argc, char **argv);
}

#include <cstdlib>
#include <string>

namespace {

// The models, written into the running test's own folder (tests run in parallel).
std::string onnx_dir() {
    static std::string dir, for_test;
    std::string here = test_dir();
    if (for_test != here) {
        for_test = here;
        dir = here + "models/";
        std::string cmd =
            "'" ACCPAR_ONNX_PYTHON "' '" ACCPAR_SOURCE "/tests/planner/make_onnx.py' '" + dir + "'";
        EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    return dir;
}

net load(const std::string &name) {
    net g{};
    char err[1024];
    EXPECT_EQ(net_find(name.c_str(), &g, err, sizeof err), 0) << err;
    return g;
}

void expect_same(const net &a, const net &b) {
    ASSERT_EQ(a.n, b.n);
    for (int v = 0; v < a.n; v++) {
        const net_node &x = a.nodes[v], &y = b.nodes[v];
        SCOPED_TRACE(x.name);
        EXPECT_STREQ(x.name, y.name);
        EXPECT_EQ(x.kind, y.kind);
        EXPECT_EQ(x.n_in, y.n_in);
        for (int e = 0; e < x.n_in; e++)
            EXPECT_EQ(x.in[e], y.in[e]);
        const int64_t fx[] = {x.cin,  x.hin,  x.win,  x.k,  x.stride, x.pad, x.pool,
                              x.cout, x.hout, x.wout, x.oc, x.oh,     x.ow};
        const int64_t fy[] = {y.cin,  y.hin,  y.win,  y.k,  y.stride, y.pad, y.pool,
                              y.cout, y.hout, y.wout, y.oc, y.oh,     y.ow};
        for (size_t f = 0; f < sizeof fx / sizeof *fx; f++)
            EXPECT_EQ(fx[f], fy[f]) << "field " << f;
    }
    EXPECT_EQ(net_digest(&a), net_digest(&b));
}

TEST(Onnx, ImportEqualsTheNetFilesNodeForNode) {
    for (const char *name : {"resnet18", "vgg16", "mlp", "tiny-cnn"}) {
        SCOPED_TRACE(name);
        net onnx = load(onnx_dir() + name + ".onnx"), text = load(name);
        expect_same(onnx, text);
        EXPECT_STREQ(onnx.name, text.name);
        net_free(&onnx);
        net_free(&text);
    }
}

// A residual block with a projection and a global average pool: shapes from the graph.
TEST(Onnx, ResidualBlockShapes) {
    net g = load(onnx_dir() + "residual-block.onnx");
    ASSERT_EQ(g.n, 9);
    const net_node &add = g.nodes[7], &fc = g.nodes[8];
    EXPECT_STREQ(add.name, "b2_add");
    EXPECT_EQ(add.kind, NODE_ADD);
    EXPECT_EQ(add.cout, 32);
    EXPECT_EQ(add.hout, 4); // (8 + 2 - 3) / 2 + 1
    EXPECT_EQ(add.pool, 4); // the global average pool
    EXPECT_EQ(fc.cin, 32);
    EXPECT_EQ(fc.cout, 10);
    EXPECT_STREQ(g.nodes[g.nodes[7].in[1]].name, "b2_proj");
    net_free(&g);
}

TEST(Onnx, MalformedModelsAreOneLineErrors) {
    const std::pair<const char *, const char *> cases[] = {
        {"unsupported", "node norm (op LRN): unsupported operator"},
        {"dynamic", "graph input data: dimension 2 is dynamic"},
        {"grouped", "node gconv (op Conv): only square kernels"},
        {"truncated", "not an ONNX model"},
        {"garbage", "not an ONNX model"},
        {"deep", "messages nested more than 64 deep"},
    };
    for (const auto &c : cases) {
        std::string path = onnx_dir() + c.first + ".onnx";
        net g{};
        char err[1024];
        EXPECT_NE(net_find(path.c_str(), &g, err, sizeof err), 0) << c.first;
        std::string e = err;
        EXPECT_EQ(e.rfind(path + ": ", 0), 0u) << e;
        EXPECT_NE(e.find(c.second), std::string::npos) << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
}

// --net model.onnx plans as its .net twin does.
TEST(Onnx, PlanAcceptsAModel) {
    std::string a = test_dir() + "a.json", b = test_dir() + "b.json";
    for (const auto &[net_arg, json] :
         {std::pair{onnx_dir() + "resnet18.onnx", a}, std::pair{std::string("resnet18"), b}}) {
        cli_output o = cli_call(cli_plan, {"plan", "--net", net_arg, "--accels",
                                           "2xtpu-v2,2xtpu-v3", "--batch", "32", "--json", json});
        ASSERT_EQ(o.rc, 0) << o.err;
    }
    std::string ja = slurp(a), jb = slurp(b);
    EXPECT_EQ(ja.substr(ja.find("\"plans\"")), jb.substr(jb.find("\"plans\"")));
}

} // namespace
