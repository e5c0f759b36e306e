// The GEMM schedule and its closed-form cycle count (planner/hw/systolic_model.h): the O(1)
// closed form must equal the command-by-command sum over the schedule and the independent
// oracle's cycles of the commands really issued (tests/common/cycle_oracle.h), the golden
// backend's counters must equal the oracle's, and the schedule must cover every tile exactly
// once with the prefetch chain intact.
#include "cycle_oracle.h"
#include "test_util.h"

#include "systolic_model.h"

#include <map>
#include <tuple>
#include <vector>

namespace {

accel_preset custom(int rows, int cols, int mxus, int act, int acc, int bw) {
    accel_preset p = load_preset("tiny");
    p.array_rows = rows;
    p.array_cols = cols;
    p.mxus = mxus;
    p.act_buffer_rows = act;
    p.acc_buffer_rows = acc;
    p.mem_bytes_per_cycle = bw;
    return p;
}

struct Walk {
    gemm_schedule s;
    cycle_breakdown sum{};
    std::vector<gemm_step> steps;
};

int record(const gemm_step *st, void *ctx) {
    Walk *w = static_cast<Walk *>(ctx);
    model_add_step(&w->s, st, &w->sum);
    w->steps.push_back(*st);
    return 0;
}

void check_shape(const accel_preset &p, int64_t m, int64_t k, int64_t n, int accumulate) {
    SCOPED_TRACE(testing::Message() << p.name << " " << p.array_rows << "x" << p.array_cols << "x"
                                    << p.mxus << " acc " << p.acc_buffer_rows << ": " << m << "x"
                                    << k << "x" << n << (accumulate ? " +C" : ""));
    Walk w;
    char err[256];
    ASSERT_EQ(gemm_schedule_make(&p, m, k, n, accumulate, &w.s, err, sizeof err), 0) << err;
    ASSERT_EQ(gemm_schedule_walk(&w.s, record, &w), 0);
    cycle_breakdown closed;
    gemm_cycles_closed_form(&w.s, &closed);
    EXPECT_EQ(closed.total, w.sum.total);
    EXPECT_EQ(closed.busy, w.sum.busy);
    EXPECT_EQ(closed.stall, w.sum.stall);
    EXPECT_EQ(closed.commands, w.sum.commands);
    EXPECT_EQ(closed.macs, w.sum.macs);
    EXPECT_EQ(closed.total, closed.busy + closed.stall + closed.commands);
    // the oracle needs a device that runs the GEMM: its port must divide the rows of a tile
    if ((2 * p.array_rows) % p.mem_bytes_per_cycle == 0 &&
        (2 * p.array_cols) % p.mem_bytes_per_cycle == 0) {
        cycle_breakdown oracle = oracle_gemm_cycles(p, m, k, n, accumulate);
        EXPECT_EQ(closed.total, oracle.total);
        EXPECT_EQ(closed.busy, oracle.busy);
        EXPECT_EQ(closed.stall, oracle.stall);
        EXPECT_EQ(closed.commands, oracle.commands);
        EXPECT_EQ(closed.macs, oracle.macs);
    }

    // Coverage: each (row, kt, n-tile) is multiplied exactly once; padded MACs add up.
    const int64_t R = p.array_rows, C = p.array_cols;
    int64_t kt_count = (k + R - 1) / R, nt_count = (n + C - 1) / C;
    std::map<std::tuple<int64_t, int64_t, int64_t>, int> seen; // (chunk, kt, tile)
    const gemm_step *prev = nullptr;
    bool weights_ready = false;
    for (const gemm_step &st : w.steps) {
        if (st.kind == STEP_LOAD_W)
            weights_ready = true;
        if (st.kind != STEP_MATMUL)
            continue;
        EXPECT_TRUE(weights_ready) << "MATMUL before its weights were loaded";
        if (prev) { // the previous MATMUL prefetched exactly these weights
            EXPECT_EQ(prev->pf_kt, st.kt);
            EXPECT_EQ(prev->pf_group, st.group);
            EXPECT_EQ(prev->pf_tiles, st.tiles);
        }
        EXPECT_EQ(st.accumulate, st.kt > 0 || accumulate);
        EXPECT_LE(st.acc_off + st.rows, p.acc_buffer_rows);
        EXPECT_LE(st.rows, p.act_buffer_rows);
        for (int x = 0; x < st.tiles; x++)
            seen[{st.chunk, st.kt, st.group * p.mxus + x}]++;
        prev = &st;
    }
    ASSERT_NE(prev, nullptr);
    EXPECT_EQ(prev->pf_tiles, 0) << "the last MATMUL prefetches nothing";
    EXPECT_EQ((int64_t)seen.size(), w.s.m_chunks * kt_count * nt_count);
    for (const auto &kv : seen)
        EXPECT_EQ(kv.second, 1);
    EXPECT_EQ(closed.macs, (uint64_t)(m * kt_count * R * nt_count * C));
}

TEST(TimingModel, ClosedFormEqualsScheduleSum) {
    const accel_preset presets[] = {
        load_preset("tiny"),
        load_preset("tpu-v2"),
        load_preset("tpu-v3"),
        load_preset("tpu-v2-full"),
        load_preset("tpu-v3-full"),
        custom(4, 4, 3, 5, 7, 8),  // tiny buffers: many chunks and blocks, ragged groups
        custom(8, 4, 2, 3, 16, 4), // non-square array
        custom(3, 5, 5, 64, 9, 2), // odd sizes, narrow port
    };
    const int64_t shapes[][3] = {{1, 1, 1},    {1, 7, 3},      {5, 1, 9},    {13, 17, 19},
                                 {64, 64, 64}, {65, 33, 129},  {200, 3, 2},  {3, 200, 50},
                                 {2, 2, 300},  {129, 257, 31}, {31, 16, 48}, {1000, 40, 70}};
    for (const accel_preset &p : presets)
        for (const auto &s : shapes)
            for (int acc = 0; acc < 2; acc++)
                check_shape(p, s[0], s[1], s[2], acc);
}

// The golden backend counts each command as the oracle does, on random operands.
TEST(TimingModel, GoldenCountersEqualTheOracle) {
    const accel_preset presets[] = {load_preset("tiny"), load_preset("tpu-v3"),
                                    custom(4, 4, 3, 5, 7, 8), custom(3, 5, 5, 64, 9, 2)};
    const int64_t shapes[][3] = {{1, 1, 1}, {13, 17, 19}, {65, 33, 129}, {200, 3, 2}, {2, 2, 300}};
    for (const accel_preset &p : presets)
        for (const auto &s : shapes)
            for (int acc = 0; acc < 2; acc++) {
                SCOPED_TRACE(testing::Message()
                             << p.name << " " << p.array_rows << "x" << p.array_cols << ": " << s[0]
                             << "x" << s[1] << "x" << s[2] << (acc ? " +C" : ""));
                std::vector<float> a = random_bf16((size_t)(s[0] * s[1]), 1);
                std::vector<float> b = random_bf16((size_t)(s[1] * s[2]), 2);
                std::vector<float> c = random_bf16((size_t)(s[0] * s[2]), 3);
                gemm_args g{.m = s[0],
                            .k = s[1],
                            .n = s[2],
                            .accumulate = acc,
                            .a = a.data(),
                            .b = b.data()};
                GemmOutcome gold = run_gemm(p, ACCEL_BACKEND_GOLDEN, g, acc ? &c : nullptr);
                cycle_breakdown o = oracle_gemm_cycles(p, s[0], s[1], s[2], acc);
                EXPECT_EQ(gold.stats.cycles.total, o.total);
                EXPECT_EQ(gold.stats.cycles.busy, o.busy);
                EXPECT_EQ(gold.stats.cycles.stall, o.stall);
                EXPECT_EQ(gold.stats.cycles.commands, o.commands);
                EXPECT_EQ(gold.stats.cycles.macs, o.macs);
            }
}

TEST(TimingModel, RejectsBadShapes) {
    accel_preset p = load_preset("tiny");
    gemm_schedule s;
    char err[256];
    EXPECT_NE(gemm_schedule_make(&p, 0, 4, 4, 0, &s, err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("must be in 1.."), std::string::npos) << err;
    EXPECT_NE(gemm_schedule_make(&p, 4, -1, 4, 0, &s, err, sizeof err), 0);
    EXPECT_NE(gemm_schedule_make(&p, 4, 4, (int64_t)1 << 40, 0, &s, err, sizeof err), 0);
}

TEST(TimingModel, PerCommandCosts) {
    // The command costs of docs/accelerator.md, spelled out for the tiny preset
    // (R = C = 4, port 8 bytes/cycle).
    accel_preset p = load_preset("tiny");
    cycle_breakdown cb{};
    model_add_load(&p, 3 * 8, 1, &cb); // LOAD_A of 3 rows: 3 words + issue + latency
    EXPECT_EQ(cb.total, 1u + 3u + 1u);
    cb = {};
    model_add_store(&p, 3 * 16, 1, &cb); // STORE of 3 rows of 4 fp32: 6 words + issue
    EXPECT_EQ(cb.total, 1u + 6u);
    cb = {};
    model_add_matmul(&p, 10, 1, 0, 1, &cb); // 10 rows streamed through 4 + 4 of fill and drain
    EXPECT_EQ(cb.total, 1u + 10u + 4u + 4u);
    EXPECT_EQ(cb.busy, 10u + 4u + 4u);
    cb = {};
    model_add_matmul(&p, 1, 1, 1, 1, &cb); // stream 9 < prefetch of 4 words + 1: no stall
    EXPECT_EQ(cb.stall, 0u);
    cb = {};
    accel_preset slow = p;
    slow.mem_bytes_per_cycle = 1; // prefetch 32 words + 1 > stream 9: 24 cycles of stall
    model_add_matmul(&slow, 1, 1, 1, 1, &cb);
    EXPECT_EQ(cb.stall, 33u - 9u);
    EXPECT_EQ(cb.total, 1u + 33u);
}

} // namespace
