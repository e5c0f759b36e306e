// The frontier DP against brute-force enumeration of all state assignments.
#include "accel_array.h"
#include "dag_dp.h"
#include "dag_order.h"
#include "net_find.h"
#include "net_parse.h"
#include "plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

struct Graph {
    std::vector<int> start{0}, pred;
    int n = 0;
    void node(std::vector<int> preds) {
        for (int p : preds)
            pred.push_back(p);
        start.push_back((int)pred.size());
        n++;
    }
};

double brute(const dag_problem &p) {
    std::vector<int> s(p.n, 0);
    double best = INFINITY;
    for (;;) {
        best = std::fmin(best, dag_cost(&p, s.data()));
        int i = 0;
        while (i < p.n && ++s[i] == 3)
            s[i++] = 0;
        if (i == p.n)
            return best;
    }
}

// Chain, residual block with identity and projection shortcuts, two blocks in a row.
std::vector<Graph> shapes() {
    Graph chain, block, two;
    for (int v = 0; v < 6; v++)
        chain.node(v ? std::vector<int>{v - 1} : std::vector<int>{});
    // stem, a, b, add(b, stem), c, proj(add), d(c), add(d, proj), fc
    for (auto *g : {&block, &two}) {
        g->node({});
        g->node({0});
        g->node({1});
        g->node({2, 0});
    }
    block.node({3});
    two.node({3});
    two.node({3});
    two.node({4});
    two.node({6, 5});
    two.node({7});
    return {chain, block, two};
}

} // namespace

TEST(DagDp, MatchesBruteForceOnRandomCostsWithResidualBlocks) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0, 10);
    for (const Graph &g : shapes()) {
        for (int trial = 0; trial < 30; trial++) {
            std::vector<double> unary(g.n * 3), pair(g.pred.size() * 9);
            for (double &x : unary)
                x = rng() % 7 == 0 ? INFINITY : u(rng);
            for (double &x : pair)
                x = u(rng);
            dag_problem p{g.n, g.start.data(), g.pred.data(), unary.data(), pair.data()};
            std::vector<int> s(g.n);
            double cost;
            char err[128];
            ASSERT_EQ(dag_dp_solve(&p, s.data(), &cost, err, sizeof err), 0) << err;
            double b = brute(p);
            EXPECT_DOUBLE_EQ(cost, b);
            if (std::isfinite(b)) {
                EXPECT_DOUBLE_EQ(dag_cost(&p, s.data()), cost);
            }
        }
    }
}

// The planner's level-0 choice on the tiny ResNet (a residual block with an identity and one
// with a projection shortcut) is the minimum over all 3^9 assignments of its own objective.
TEST(DagDp, PlannerRootChoiceIsTheBruteForceMinimumOnTinyResnet) {
    static accel_array arr;
    net g;
    char err[512];
    ASSERT_EQ(accel_array_parse("1xtpu-v2,1xtpu-v3", &arr, err, sizeof err), 0) << err;
    ASSERT_EQ(net_find("tiny-resnet", &g, err, sizeof err), 0) << err;
    plan_options o{STRATEGY_ACCPAR, 64, 0, 0, 0};
    plan p;
    ASSERT_EQ(plan_make(&g, &arr, &o, &p, err, sizeof err), 0) << err;
    ASSERT_EQ(p.n_levels, 1);
    double chosen;
    ASSERT_EQ(plan_root_objective(&g, &arr, &o, p.levels[0].alpha, p.levels[0].state, &chosen, err,
                                  sizeof err),
              0);
    std::vector<int> s(g.n, 0), free_nodes;
    for (int v = 0; v < g.n; v++)
        if (g.nodes[v].kind != NODE_INPUT)
            free_nodes.push_back(v);
    ASSERT_EQ(free_nodes.size(), 9u);
    double best = INFINITY;
    for (int code = 0; code < 19683; code++) {
        for (int k = 0, c = code; k < 9; k++, c /= 3)
            s[free_nodes[k]] = c % 3;
        double x;
        ASSERT_EQ(
            plan_root_objective(&g, &arr, &o, p.levels[0].alpha, s.data(), &x, err, sizeof err), 0);
        best = std::fmin(best, x);
    }
    EXPECT_DOUBLE_EQ(chosen, best);
    plan_free(&p);
    net_free(&g);
}

namespace {

std::string write_net(const std::string &text) {
    char path[] = "/tmp/accpar_dag_XXXXXX.net";
    int fd = mkstemps(path, 4);
    FILE *f = fdopen(fd, "w");
    fputs(text.c_str(), f);
    fclose(f);
    return path;
}

// Ten 1x1 convolutions of one input summed by a chain of adds, their lines in two orders: all
// convolutions first (file order would keep all ten live at once), or each next to its add.
std::string wide_net(bool convs_first) {
    std::string convs, adds = "fc f in=s9 out=10\n";
    for (int i = 1; i <= 10; i++)
        convs += "conv c" + std::to_string(i) + " in=x cout=4 k=1\n";
    for (int i = 9; i >= 1; i--)
        adds = "add s" + std::to_string(i) +
               " in=" + (i == 1 ? "c1" : "s" + std::to_string(i - 1)) + ",c" +
               std::to_string(i + 1) + "\n" + adds;
    return "input x c=3 h=8 w=8\n" + (convs_first ? convs + adds : adds + convs);
}

} // namespace

// The DP's node order comes from the graph, not the lines: both files plan, identically.
TEST(DagDp, WideGraphPlansTheSameWhateverTheLineOrder) {
    static accel_array arr;
    char err[512];
    ASSERT_EQ(accel_array_parse("2xtpu-v2,2xtpu-v3", &arr, err, sizeof err), 0) << err;
    net g[2];
    plan p[2];
    for (int k = 0; k < 2; k++) {
        std::string path = write_net(wide_net(k == 0));
        ASSERT_EQ(net_load_file(path.c_str(), &g[k], err, sizeof err), 0) << err;
        remove(path.c_str());
        std::vector<int> order(g[k].n);
        int widest, m = dag_order(&g[k], order.data());
        EXPECT_LE(dag_order_width(&g[k], order.data(), m, &widest), 2);
        plan_options o{STRATEGY_ACCPAR, 64, 0, 0, 0};
        ASSERT_EQ(plan_make(&g[k], &arr, &o, &p[k], err, sizeof err), 0) << err;
    }
    ASSERT_EQ(p[0].n_levels, p[1].n_levels);
    EXPECT_EQ(p[0].step_s, p[1].step_s);
    EXPECT_EQ(p[0].comm_bytes, p[1].comm_bytes);
    for (int h = 0; h < p[0].n_levels; h++) {
        EXPECT_EQ(p[0].levels[h].alpha, p[1].levels[h].alpha);
        for (int v = 0; v < g[0].n; v++) {
            int w = 0;
            while (w < g[1].n && std::string(g[1].nodes[w].name) != g[0].nodes[v].name)
                w++;
            ASSERT_LT(w, g[1].n);
            EXPECT_EQ(p[0].levels[h].state[v], p[1].levels[h].state[w]) << g[0].nodes[v].name;
        }
    }
    for (int k = 0; k < 2; k++) {
        plan_free(&p[k]);
        net_free(&g[k]);
    }
}

// Twelve convolutions added pairwise in every combination: whatever the order, the first
// convolution to be finished with waits for all the others, so twelve are live at once. The
// error names the file, the line and the node.
TEST(DagDp, TooWideGraphIsAFileLineError) {
    std::string text = "input x c=3 h=8 w=8\n";
    for (int i = 0; i < 12; i++)
        text += "conv c" + std::to_string(i) + " in=x cout=4 k=1\n";
    for (int i = 0; i < 12; i++)
        for (int j = i + 1; j < 12; j++)
            text += "add a" + std::to_string(i) + "_" + std::to_string(j) + " in=c" +
                    std::to_string(i) + ",c" + std::to_string(j) + "\n";
    std::string path = write_net(text);
    static accel_array arr;
    net g;
    char err[512];
    ASSERT_EQ(accel_array_parse("2xtpu-v2", &arr, err, sizeof err), 0) << err;
    ASSERT_EQ(net_load_file(path.c_str(), &g, err, sizeof err), 0) << err;
    remove(path.c_str());
    plan_options o{STRATEGY_ACCPAR, 64, 0, 0, 0};
    plan p;
    ASSERT_NE(plan_make(&g, &arr, &o, &p, err, sizeof err), 0);
    std::string e = err;
    EXPECT_EQ(e.rfind(path + ":", 0), 0u) << e;
    EXPECT_NE(e.find("field 'in': node "), std::string::npos) << e;
    EXPECT_NE(e.find("too wide for the exact search (12 tensors live at once; at most 9)"),
              std::string::npos)
        << e;
    net_free(&g);
}
