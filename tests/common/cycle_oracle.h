// An independent oracle for cycles: the per-command costs of docs/accelerator.md ("The cycle
// window") written out here, and applied to the commands a GEMM really issues (recorded by a
// null backend behind the device API). It shares no code with planner/hw/systolic_model.c, so
// the golden backend's counters and the planner's closed form are both checked against it.
#ifndef ACCPAR_CYCLE_ORACLE_H
#define ACCPAR_CYCLE_ORACLE_H

#include <gtest/gtest.h>

extern "C" {
#include "accel_backend.h"
#include "digest.h"
#include "gemm.h"
}

#include <map>
#include <tuple>
#include <vector>

// Cycles of one command, as docs/accelerator.md states them:
//   LOAD_A, LOAD_W, LOAD_ACC: 1 + W + 1;  STORE: 1 + W;
//   MATMUL: 1 + max(rows + R + C, 1 + W_pf), or 1 + rows + R + C without a prefetch;
// W the words moved (bytes / port width, rounded up). busy = the MATMUL's stream, rows + R + C;
// stall = the rest past the issue cycle; macs = rows * R * C * mxus.
inline void oracle_add(const accel_preset &p, const accel_cmd &c, cycle_breakdown &o) {
    const uint64_t R = (uint64_t)p.array_rows, C = (uint64_t)p.array_cols;
    const uint64_t bw = (uint64_t)p.mem_bytes_per_cycle;
    auto words = [bw](uint64_t bytes) { return (bytes + bw - 1) / bw; };
    uint64_t total = 0, busy = 0;
    switch (c.op) {
    case ACCEL_LOAD_A:
        total = 2 + words(c.rows * 2 * R);
        break;
    case ACCEL_LOAD_W:
        total = 2 + words(c.mxus * 2 * R * C);
        break;
    case ACCEL_LOAD_ACC:
        total = 2 + words(c.rows * 4 * C);
        break;
    case ACCEL_STORE:
        total = 1 + words(c.rows * 4 * C);
        break;
    case ACCEL_MATMUL: {
        busy = c.rows + R + C;
        uint64_t prefetch = c.pf_mxus ? 1 + words(c.pf_mxus * 2 * R * C) : 0;
        total = 1 + (prefetch > busy ? prefetch : busy);
        o.macs += c.rows * R * C * c.mxus;
        break;
    }
    }
    o.total += total;
    o.busy += busy;
    o.commands += 1;
    o.stall += total - busy - 1;
}

// A backend that records the commands it is given and does nothing else.
struct oracle_recorder {
    static std::vector<accel_cmd> &log() {
        static thread_local std::vector<accel_cmd> commands;
        return commands;
    }
    static int open(const accel_preset *, uint8_t *, uint64_t, void **state, char *, size_t) {
        *state = nullptr;
        return 0;
    }
    static void close(void *) {}
    static int execute(void *, const accel_cmd *cmds, size_t n, char *, size_t) {
        log().insert(log().end(), cmds, cmds + n);
        return 0;
    }
    static void counters(void *, cycle_breakdown *out) {
        *out = cycle_breakdown{};
    }
};

inline const accel_backend_ops oracle_recorder_ops = {oracle_recorder::open, oracle_recorder::close,
                                                      oracle_recorder::execute,
                                                      oracle_recorder::counters, nullptr};

// The commands a GEMM of this shape issues on the preset (gemm_run on zero operands).
inline std::vector<accel_cmd> oracle_commands(const accel_preset &p, int64_t m, int64_t k,
                                              int64_t n, int accumulate) {
    oracle_recorder::log().clear();
    accel_dev *dev = nullptr;
    char err[512];
    EXPECT_EQ(
        accel_open_backend(&p, ACCEL_BACKEND_GOLDEN, &oracle_recorder_ops, &dev, err, sizeof err),
        ACCEL_OK)
        << err;
    if (!dev)
        return {};
    std::vector<float> a((size_t)(m * k)), b((size_t)(k * n)), c((size_t)(m * n));
    gemm_args g{};
    g.m = m, g.k = k, g.n = n, g.accumulate = accumulate;
    g.a = a.data(), g.b = b.data(), g.c = c.data();
    gemm_run_stats st;
    EXPECT_EQ(gemm_run(dev, &g, &st, err, sizeof err), 0) << err;
    accel_close(dev);
    return oracle_recorder::log();
}

// The oracle's counters of a GEMM of this shape on the preset (remembered per process: tests
// ask for the same shapes many times).
inline cycle_breakdown oracle_gemm_cycles(const accel_preset &p, int64_t m, int64_t k, int64_t n,
                                          int accumulate = 0) {
    static std::map<std::tuple<uint64_t, int64_t, int64_t, int64_t, int>, cycle_breakdown> seen;
    auto key = std::make_tuple(preset_digest(DIGEST_INIT, &p), m, k, n, accumulate);
    auto it = seen.find(key);
    if (it != seen.end())
        return it->second;
    cycle_breakdown o{};
    for (const accel_cmd &c : oracle_commands(p, m, k, n, accumulate))
        oracle_add(p, c, o);
    return seen[key] = o;
}

#endif
