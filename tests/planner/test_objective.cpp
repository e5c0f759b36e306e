// The planner's time objective against values derived here by hand from docs/design.md and
// docs/cost-model.md: compute from the cycle oracle (tests/common/cycle_oracle.h), reductions
// and conversions from element sets counted one by one, on a hand-built three-layer network and
// a heterogeneous array whose second group has two devices (so its batch share is rounded up).
// Every state pair of both edges, at ratios that split the dimensions unevenly.
#include "cycle_oracle.h"
#include "test_support.h"

extern "C" {
#include "accel_array.h"
#include "array_model.h"
#include "net_find.h"
#include "plan.h"
}

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace {

const char *const kNet = "network hand\n"
                         "input x c=3 h=5 w=5\n"
                         "conv a in=x cout=4 k=3 pad=1\n"
                         "conv b in=a cout=6 k=3 pad=1\n"
                         "fc c in=b out=5\n";

// Two kinds with different arrays, clocks and links: P (one fast device) splits from 2 x Q (slow
// devices), so either group can be the slower one and the objective sees both groups' times.
const char *const kP = "name P\narray_rows 8\narray_cols 4\nmxus 2\nclock_mhz 900\n"
                       "mem_bytes_per_cycle 8\nact_buffer_rows 16\nacc_buffer_rows 32\n"
                       "mem_mib 16\nlinks 2\nlink_gbytes_per_s 0.5\nlink_latency_ns 300\n";
const char *const kQ = "name Q\narray_rows 4\narray_cols 4\nmxus 1\nclock_mhz 700\n"
                       "mem_bytes_per_cycle 8\nact_buffer_rows 32\nacc_buffer_rows 64\n"
                       "mem_mib 16\nlinks 1\nlink_gbytes_per_s 0.8\nlink_latency_ns 100\n";

struct dims {
    int64_t b, ci, co;
};

// i's share round(alpha d), half away from zero (docs/design.md); j the rest.
int64_t share_i(int64_t d, double alpha) {
    return (int64_t)std::llround(alpha * (double)d);
}

struct hand {
    net g{};
    std::unique_ptr<accel_array> a = std::make_unique<accel_array>();
    accel_preset P{}, Q{};
    double cut_bw = 0, cut_lat = 0; // the root cut: min of the groups' link sums, max latency
    ~hand() {
        net_free(&g);
    }

    // Seconds of a node's three GEMMs on one device of preset p for sub-problem d.
    double device_s(const accel_preset &p, const net_node &nd, dims d, bool backward) const {
        int64_t rows = d.b * nd.hout * nd.wout, di = d.ci * nd.k * nd.k;
        uint64_t cycles = oracle_gemm_cycles(p, rows, di, d.co).total +
                          oracle_gemm_cycles(p, di, rows, d.co).total;
        if (backward)
            cycles += oracle_gemm_cycles(p, rows, d.co, di).total;
        return (double)cycles / (p.clock_mhz * 1e6);
    }

    double transfer_s(uint64_t bytes) const {
        return bytes ? (double)bytes / cut_bw + cut_lat : 0.0;
    }

    // A node's compute (the slower group) plus its reduction, at the root split.
    double unary(int v, int state, double alpha, int64_t batch) const {
        const net_node &nd = g.nodes[v];
        bool backward = g.nodes[nd.in[0]].kind != NODE_INPUT;
        dims d{batch, nd.cin, nd.cout}, di = d, dj = d;
        int64_t *part[3] = {&di.b, &di.ci, &di.co}, *rest[3] = {&dj.b, &dj.ci, &dj.co};
        int64_t whole = state == 0 ? d.b : state == 1 ? d.ci : d.co;
        *part[state] = share_i(whole, alpha);
        *rest[state] = whole - *part[state];
        if (*part[state] < 1 || *rest[state] < 1)
            return INFINITY;
        dims dq = dj;
        dq.b = (dj.b + 1) / 2; // two Q devices share j's batch evenly, rounded up
        double t = std::max(device_s(P, nd, di, backward), device_s(Q, nd, dq, backward));
        // each group receives the whole reduced tensor in fp32: dW (I), F(l+1) (II), E(l) (III)
        int64_t elems = state == 0   ? d.ci * nd.k * nd.k * d.co
                        : state == 1 ? d.b * d.co * nd.hout * nd.wout
                        : backward   ? d.b * d.ci * nd.hin * nd.win
                                     : 0;
        return t + transfer_s((uint64_t)elems * 4);
    }

    // Elements of [bt][ct] group g needs for layout `to` that layout `from` did not give it.
    static int64_t missing(char from, char to, int64_t bt, int64_t ct, int64_t b_own, int64_t c_own,
                           int g) {
        auto holds = [&](char l, int64_t b, int64_t c) {
            bool in_b = g == 0 ? b < b_own : b >= b_own;
            bool in_c = g == 0 ? c < c_own : c >= c_own;
            return l == 'R' || (l == 'B' && in_b) || (l == 'C' && in_c);
        };
        int64_t n = 0;
        for (int64_t b = 0; b < bt; b++)
            for (int64_t c = 0; c < ct; c++)
                n += holds(to, b, c) && !holds(from, b, c);
        return n;
    }

    // The conversion of v's input edge, from the producer's state su to v's sv: F forward and E
    // backward, the slower group.
    double pair(int v, int su, int sv, double alpha, int64_t batch) const {
        static const char produce_f[] = "BRC", require_f[] = "BCR", produce_e[] = "BCR",
                          require_e[] = "BRC";
        const net_node &nv = g.nodes[v];
        int64_t bt = batch, ct = nv.cin, hw = nv.hin * nv.win;
        int64_t b_own = share_i(bt, alpha), c_own = share_i(ct, alpha);
        double worst = 0;
        for (int grp = 0; grp < 2; grp++) {
            int64_t f = missing(produce_f[su], require_f[sv], bt, ct, b_own, c_own, grp) * hw;
            int64_t e = missing(produce_e[sv], require_e[su], bt, ct, b_own, c_own, grp) * hw;
            worst = std::max(worst, transfer_s((uint64_t)f * 2) + transfer_s((uint64_t)e * 2));
        }
        return worst;
    }
};

TEST(Objective, EqualsTheHandDerivedSumOnEveryStateAssignment) {
    std::string dir = test_dir();
    write_text(dir + "hand.net", kNet);
    write_text(dir + "P.acc", kP);
    write_text(dir + "Q.acc", kQ);
    hand h;
    char err[1024];
    std::string spec = "1x" + dir + "P.acc,2x" + dir + "Q.acc";
    ASSERT_EQ(accel_array_parse(spec.c_str(), h.a.get(), err, sizeof err), 0) << err;
    ASSERT_EQ(array_model_select(h.a.get(), "exact", nullptr, err, sizeof err), 0) << err;
    ASSERT_EQ(net_find((dir + "hand.net").c_str(), &h.g, err, sizeof err), 0) << err;
    h.P = h.a->kinds[0];
    h.Q = h.a->kinds[1];
    // the cut: P's 2 links of 0.5 GB/s against the two Qs' 1 link of 0.8 GB/s each
    h.cut_bw = std::min(2 * 0.5e9, 2 * 0.8e9);
    h.cut_lat = 300e-9;
    const int a = 1, b = 2, c = 3;
    int checked = 0;
    for (int64_t batch : {7, 10})
        for (double alpha : {0.3, 0.5, 0.62, 0.8})
            for (int code = 0; code < 27; code++) {
                int s[4] = {-1, code % 3, code / 3 % 3, code / 9};
                double want = h.unary(a, s[a], alpha, batch) + h.unary(b, s[b], alpha, batch) +
                              h.unary(c, s[c], alpha, batch) + h.pair(b, s[a], s[b], alpha, batch) +
                              h.pair(c, s[b], s[c], alpha, batch);
                plan_options o{STRATEGY_ACCPAR, batch, 0, 0, 0};
                double got;
                ASSERT_EQ(plan_root_objective(&h.g, h.a.get(), &o, alpha, s, &got, err, sizeof err),
                          0)
                    << err;
                SCOPED_TRACE(testing::Message() << "batch " << batch << " alpha " << alpha
                                                << " states " << s[1] << s[2] << s[3]);
                if (std::isinf(want)) {
                    EXPECT_TRUE(std::isinf(got));
                } else {
                    EXPECT_NEAR(got, want, 1e-12 * want);
                    checked++;
                }
            }
    EXPECT_GT(checked, 100);
}

// The same hand-built case has both groups set the pace somewhere (so the objective's max and
// the slow group's rounded-up batch share are both exercised above).
TEST(Objective, EachGroupIsTheSlowerOneSomewhere) {
    std::string dir = test_dir();
    write_text(dir + "hand.net", kNet);
    write_text(dir + "P.acc", kP);
    write_text(dir + "Q.acc", kQ);
    hand h;
    char err[1024];
    std::string spec = "1x" + dir + "P.acc,2x" + dir + "Q.acc";
    ASSERT_EQ(accel_array_parse(spec.c_str(), h.a.get(), err, sizeof err), 0) << err;
    ASSERT_EQ(net_find((dir + "hand.net").c_str(), &h.g, err, sizeof err), 0) << err;
    h.P = h.a->kinds[0];
    h.Q = h.a->kinds[1];
    int i_slower = 0, j_slower = 0;
    for (double alpha : {0.3, 0.5, 0.62, 0.8}) {
        const net_node &nd = h.g.nodes[2]; // conv b, type I at batch 7
        int64_t bi = share_i(7, alpha), bj = 7 - bi;
        double ti = h.device_s(h.P, nd, dims{bi, nd.cin, nd.cout}, true);
        double tj = h.device_s(h.Q, nd, dims{(bj + 1) / 2, nd.cin, nd.cout}, true);
        i_slower += ti > tj;
        j_slower += tj > ti;
    }
    EXPECT_GT(i_slower, 0);
    EXPECT_GT(j_slower, 0);
}

} // namespace
