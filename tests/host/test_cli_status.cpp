// Exit status 1 of the commands, end to end: a GEMM that fails its check, a run that fails
// verification. The product has no fault injection, so
// this program replaces the device API's accel_open (defined by the product in
// sim/rtl/backends.c; a definition here wins at link time) with one whose devices misbehave as
// the test asks, and runs the real subcommands on them.
#include "rtl_backends.h"
#include "test_support.h"

extern "C" {
#include "cli.h"
}

#include <cstring>
#include <vector>

namespace {

enum class fault { none, wrong_result, extra_cycle };
fault g_fault = fault::none;

// A device that forwards to a real backend and misbehaves as g_fault says.
struct faulty {
    const accel_backend_ops *inner;
    void *state;
    uint8_t *memory;
    accel_preset preset;
    uint64_t extra = 0; /* cycles added */
};

const accel_backend_ops *inner_ops(accel_backend b) {
    return b == ACCEL_BACKEND_RTL      ? &accel_rtl_ops
           : b == ACCEL_BACKEND_REPLAY ? &accel_replay_ops
                                       : &accel_golden_ops;
}

accel_backend g_opening;

int f_open(const accel_preset *p, uint8_t *memory, uint64_t bytes, void **state, char *err,
           size_t errlen) {
    faulty *f = new faulty{inner_ops(g_opening), nullptr, memory, *p};
    if (f->inner->open(p, memory, bytes, &f->state, err, errlen) != 0) {
        delete f;
        return -1;
    }
    *state = f;
    return 0;
}

void f_close(void *state) {
    faulty *f = static_cast<faulty *>(state);
    f->inner->close(f->state);
    delete f;
}

int f_execute(void *state, const accel_cmd *cmds, size_t n, char *err, size_t errlen) {
    faulty *f = static_cast<faulty *>(state);
    if (f->inner->execute(f->state, cmds, n, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const accel_cmd &c = cmds[i];
        if (g_fault == fault::wrong_result && c.op == ACCEL_STORE)
            f->memory[c.addr + 3] ^= 0x40; // the first fp32's exponent: a large error
        if (g_fault == fault::extra_cycle && c.op == ACCEL_MATMUL)
            f->extra += 1;
    }
    return 0;
}

void f_counters(void *state, cycle_breakdown *out) {
    faulty *f = static_cast<faulty *>(state);
    f->inner->counters(f->state, out);
    out->total += f->extra;
    out->stall += f->extra;
}

const accel_backend_ops faulty_ops = {f_open, f_close, f_execute, f_counters, nullptr};

} // namespace

extern "C" accel_status accel_open(const accel_preset *preset, accel_backend backend,
                                   accel_dev **out, char *err, size_t errlen) {
    g_opening = backend;
    return accel_open_backend(preset, backend, &faulty_ops, out, err, errlen);
}

namespace {

struct with_fault {
    explicit with_fault(fault f) {
        g_fault = f;
    }
    ~with_fault() {
        g_fault = fault::none;
    }
};

TEST(ExitStatus, GemmFailingItsCheckIsOne) {
    with_fault f(fault::wrong_result);
    cli_output o = cli_call(cli_gemm, {"gemm", "--accel", "tiny", "--backend", "golden", "--m", "9",
                                       "--k", "8", "--n", "7"});
    EXPECT_EQ(o.rc, 1) << o.out << o.err;
    EXPECT_NE(o.out.find("exceeds bound"), std::string::npos) << o.out;
}

TEST(ExitStatus, GemmWithWrongCyclesIsOne) {
    with_fault f(fault::extra_cycle);
    cli_output o = cli_call(cli_gemm, {"gemm", "--accel", "tiny", "--backend", "golden", "--m", "9",
                                       "--k", "8", "--n", "7"});
    EXPECT_EQ(o.rc, 1) << o.out << o.err;
}

TEST(ExitStatus, RunFailingVerificationIsOne) {
    std::string json = test_dir() + "run.json";
    for (fault kind : {fault::wrong_result, fault::extra_cycle}) {
        with_fault f(kind);
        cli_output o =
            cli_call(cli_run, {"run", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3", "--batch",
                               "4", "--scale", "0.25", "--fidelity", "golden", "--json", json});
        EXPECT_EQ(o.rc, 1) << o.err;
        EXPECT_NE(o.out.find("verification: FAILED: "), std::string::npos) << o.out;
        EXPECT_NE(slurp(json).find("\"verified\": false"), std::string::npos);
        if (kind == fault::extra_cycle) {
            EXPECT_NE(o.out.find("cycles, the contract (closed form)"), std::string::npos) << o.out;
        }
    }
    with_fault none(fault::none);
    cli_output o = cli_call(cli_run, {"run", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3",
                                      "--batch", "4", "--scale", "0.25", "--fidelity", "golden"});
    EXPECT_EQ(o.rc, 0) << o.out << o.err; // the wrapper itself changes nothing
}

} // namespace
