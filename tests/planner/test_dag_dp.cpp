// The frontier DP against brute-force enumeration of all state assignments.
#include "accel_array.h"
#include "dag_dp.h"
#include "net_find.h"
#include "plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
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
    plan_options o{STRATEGY_ACCPAR, 64, 0};
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
