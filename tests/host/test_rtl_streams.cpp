// A second simulator and the gate level: command streams run on the verilated RTL (the product's
// model) and, with the same inputs, on Icarus Verilog with the RTL in both forms of the array
// (simulation loops and synthesis instances) and with the tiny preset's synthesized netlist:
// random streams, and the streams the product's GEMM driver issues. Final device memory, every
// counter and the error code must be identical.
#include "rtl_available.h"
#include "test_support.h"
#include "test_util.h"

extern "C" {
#include "accel_backend.h"
#include "bf16.h"
#include "gemm.h"
#include "rtl_backends.h"
}

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace {

const std::string kRtl = ACCPAR_SOURCE_DIR "/rtl";
const std::string kTb = ACCPAR_SOURCE_DIR "/tests/rtl/stream_tb.sv";
constexpr uint64_t kWords = 4096;    // the stream's memory, in port words
constexpr size_t kMaxCmds = 4096;    // the test bench's command memory (MAX_CMDS)
constexpr uint64_t kOutWords = 1024; // the last of them take the STOREs

struct Stream {
    std::vector<accel_cmd> cmds;
    std::vector<uint8_t> mem_in, mem_out; // `words` port words
    uint64_t words = kWords;
    cycle_breakdown counters{};
    uint64_t base_word = 0;
};

bool tool_present(const char *tool) {
    return std::system(("command -v " + std::string(tool) + " > /dev/null 2>&1").c_str()) == 0;
}

// Random valid commands over every opcode, field range and flag; every buffer row is loaded
// before the stream reads it (an unloaded row is X in a four-state simulator).
std::vector<accel_cmd> random_commands(const accel_preset &p, uint64_t base, int n,
                                       uint64_t *seed) {
    const uint64_t bw = (uint64_t)p.mem_bytes_per_cycle, R = (uint64_t)p.array_rows,
                   C = (uint64_t)p.array_cols, X = (uint64_t)p.mxus;
    const uint64_t act = (uint64_t)p.act_buffer_rows, acc = (uint64_t)p.acc_buffer_rows;
    auto pick = [seed](uint64_t lo, uint64_t hi) { return lo + rng_next(seed) % (hi - lo + 1); };
    auto words = [bw](uint64_t bytes) { return (bytes + bw - 1) / bw; };
    auto in_addr = [&](uint64_t bytes) {
        return (base + pick(0, kWords - kOutWords - words(bytes))) * bw;
    };
    std::vector<accel_cmd> v;
    uint32_t valid = 0; // MXUs whose buffered weights are loaded and unused
    v.push_back({.op = ACCEL_LOAD_A, .rows = (uint32_t)act, .addr = in_addr(act * R * 2)});
    for (uint32_t x = 0; x < X; x++)
        v.push_back(
            {.op = ACCEL_LOAD_ACC, .mxu = x, .rows = (uint32_t)acc, .addr = in_addr(acc * C * 4)});
    for (int i = 0; i < n; i++) {
        accel_cmd c{};
        switch (pick(0, 5)) {
        case 0:
            c.op = ACCEL_LOAD_A;
            c.rows = (uint32_t)pick(1, act);
            c.act_off = (uint32_t)pick(0, act - c.rows);
            c.addr = in_addr(c.rows * R * 2);
            break;
        case 1:
            c.op = ACCEL_LOAD_W;
            c.mxus = (uint32_t)pick(1, X);
            c.addr = in_addr(c.mxus * R * C * 2);
            valid |= (1u << c.mxus) - 1;
            break;
        case 2:
            c.op = ACCEL_LOAD_ACC;
            c.mxu = (uint32_t)pick(0, X - 1);
            c.rows = (uint32_t)pick(1, acc);
            c.acc_off = (uint32_t)pick(0, acc - c.rows);
            c.addr = in_addr(c.rows * C * 4);
            break;
        case 3:
            c.op = ACCEL_STORE;
            c.mxu = (uint32_t)pick(0, X - 1);
            c.rows = (uint32_t)pick(1, std::min(acc, kOutWords * bw / (C * 4)));
            c.acc_off = (uint32_t)pick(0, acc - c.rows);
            c.addr = (base + kWords - kOutWords + pick(0, kOutWords - words(c.rows * C * 4))) * bw;
            break;
        default:
            if ((valid & 1) == 0) {
                v.push_back(
                    {.op = ACCEL_LOAD_W, .mxus = (uint32_t)X, .addr = in_addr(X * R * C * 2)});
                valid = (1u << X) - 1;
            }
            c.op = ACCEL_MATMUL;
            c.mxus = 1;
            while (c.mxus < X && (valid >> c.mxus & 1) && pick(0, 1))
                c.mxus++;
            c.rows = (uint32_t)pick(1, std::min(act, acc));
            c.act_off = (uint32_t)pick(0, act - c.rows);
            c.acc_off = (uint32_t)pick(0, acc - c.rows);
            c.accumulate = (int)pick(0, 1);
            c.pf_mxus = (uint32_t)pick(0, X);
            if (c.pf_mxus)
                c.pf_addr = in_addr(c.pf_mxus * R * C * 2);
            valid = (valid & ~((1u << c.mxus) - 1)) | ((1u << c.pf_mxus) - 1);
        }
        v.push_back(c);
    }
    return v;
}

// Runs n random commands (after loading every buffer row) on the product's RTL model, through
// the device API.
::testing::AssertionResult run_on_verilator(const accel_preset &p, uint64_t seed, int n,
                                            Stream &s) {
    accel_dev *dev = nullptr;
    char err[1024];
    if (accel_open(&p, ACCEL_BACKEND_RTL, &dev, err, sizeof err) != ACCEL_OK)
        return ::testing::AssertionFailure() << err;
    const uint64_t bw = (uint64_t)p.mem_bytes_per_cycle, bytes = kWords * bw;
    uint64_t addr = 0;
    bool ok = accel_alloc(dev, bytes, &addr) == ACCEL_OK && addr % bw == 0;
    s.base_word = addr / bw;
    s.mem_in.resize(bytes);
    for (size_t i = 0; i < bytes; i += 2) { // bf16 values near 1, and any bits (NaN, Inf, tiny)
        uint16_t h =
            rng_next(&seed) % 4 ? bf16_from_float(bf16_random(&seed)) : (uint16_t)rng_next(&seed);
        std::memcpy(&s.mem_in[i], &h, 2);
    }
    s.cmds = random_commands(p, s.base_word, n, &seed);
    ok = ok && accel_copy_in(dev, addr, s.mem_in.data(), bytes) == ACCEL_OK;
    for (const accel_cmd &c : s.cmds)
        ok = ok && accel_issue(dev, &c) == ACCEL_OK;
    ok = ok && accel_wait(dev) == ACCEL_OK;
    s.mem_out.resize(bytes);
    ok = ok && accel_copy_out(dev, addr, s.mem_out.data(), bytes) == ACCEL_OK &&
         accel_read_counters(dev, &s.counters) == ACCEL_OK;
    std::string why = ok ? "" : accel_last_error(dev);
    accel_close(dev);
    if (!ok)
        return ::testing::AssertionFailure() << why;
    return ::testing::AssertionSuccess();
}

std::string hex_word(const uint8_t *bytes, size_t n) { // little-endian bytes, MSB first
    std::string s;
    char b[3];
    for (size_t i = n; i-- > 0;) {
        std::snprintf(b, sizeof b, "%02x", bytes[i]);
        s += b;
    }
    return s;
}

// Writes the stream's inputs for stream_tb and returns its plusargs.
std::string write_inputs(const accel_preset &p, const Stream &s, const std::string &dir) {
    const size_t bw = (size_t)p.mem_bytes_per_cycle;
    std::ofstream cmds(dir + "cmds.hex"), mem(dir + "mem.hex");
    for (const accel_cmd &c : s.cmds) {
        uint32_t w[ACCEL_CMD_WORDS];
        accel_cmd_pack(&c, (uint32_t)bw, w);
        uint8_t bytes[ACCEL_CMD_WORDS * 4];
        std::memcpy(bytes, w, sizeof bytes);
        cmds << hex_word(bytes, (ACCEL_CMD_BITS + 7) / 8) << "\n";
    }
    for (uint64_t i = 0; i < s.words; i++)
        mem << hex_word(&s.mem_in[i * bw], bw) << "\n";
    return " +cmds=" + dir + "cmds.hex +n=" + std::to_string(s.cmds.size()) + " +mem=" + dir +
           "mem.hex +base=" + std::to_string(s.base_word) + " +out=" + dir + "out.txt";
}

// Runs a compiled stream_tb and compares its memory and counters with the Verilator run.
::testing::AssertionResult same_as_verilator(const accel_preset &p, const Stream &s,
                                             const std::string &vvp, const std::string &dir,
                                             const std::string &what) {
    std::string cmd = "vvp -n " + vvp + write_inputs(p, s, dir) + " > " + dir + "vvp.log 2>&1";
    if (std::system(cmd.c_str()) != 0)
        return ::testing::AssertionFailure() << what << ": vvp failed: " << slurp(dir + "vvp.log");
    std::ifstream out(dir + "out.txt");
    const size_t bw = (size_t)p.mem_bytes_per_cycle;
    std::string line;
    for (uint64_t i = 0; i < s.words; i++) {
        if (!std::getline(out, line))
            return ::testing::AssertionFailure() << what << ": output cut at word " << i;
        std::string want = hex_word(&s.mem_out[i * bw], bw);
        if (line != want)
            return ::testing::AssertionFailure() << what << ": memory word " << s.base_word + i
                                                 << " is " << line << ", Verilator wrote " << want;
    }
    uint64_t total, busy, stall, commands, macs, err;
    std::getline(out, line);
    std::istringstream in(line);
    if (!(in >> total >> busy >> stall >> commands >> macs >> err))
        return ::testing::AssertionFailure() << what << ": no counters in " << line;
    const cycle_breakdown &c = s.counters;
    if (total != c.total || busy != c.busy || stall != c.stall || commands != c.commands ||
        macs != c.macs || err != 0)
        return ::testing::AssertionFailure()
               << what << ": counters " << line << ", Verilator " << c.total << " " << c.busy << " "
               << c.stall << " " << c.commands << " " << c.macs << " 0";
    return ::testing::AssertionSuccess();
}

std::string icarus_params(const accel_preset &p) {
    std::ostringstream o;
    o << " -P stream_tb.ROWS=" << p.array_rows << " -P stream_tb.COLS=" << p.array_cols
      << " -P stream_tb.MXUS=" << p.mxus << " -P stream_tb.ACT_ROWS=" << p.act_buffer_rows
      << " -P stream_tb.ACC_ROWS=" << p.acc_buffer_rows
      << " -P stream_tb.BW=" << p.mem_bytes_per_cycle << " -P stream_tb.MAX_CMDS=" << kMaxCmds;
    return o.str();
}

std::string rtl_sources(bool with_package_only) {
    std::ifstream f(kRtl + "/accel.f");
    std::string name, all;
    while (std::getline(f, name))
        if (name.size() > 3 && name.substr(name.size() - 3) == ".sv" &&
            (!with_package_only || name == "accel_pkg.sv"))
            all += " " + kRtl + "/" + name;
    return all;
}

// Compiles stream_tb with the RTL (INSTANCES 0 or 1) for the preset, with memory of `words`
// port words.
::testing::AssertionResult compile_rtl(const accel_preset &p, int instances, const std::string &vvp,
                                       uint64_t words = kWords) {
    std::string cmd = "iverilog -g2012 -I" + kRtl + " -s stream_tb" + icarus_params(p) +
                      " -P stream_tb.INSTANCES=" + std::to_string(instances) +
                      " -P stream_tb.MEM_WORDS=" + std::to_string(words) + " -o " + vvp +
                      rtl_sources(false) + " " + kTb + " > " + vvp + ".log 2>&1";
    if (std::system(cmd.c_str()) != 0)
        return ::testing::AssertionFailure() << "iverilog failed: " << slurp(vvp + ".log");
    return ::testing::AssertionSuccess();
}

accel_preset odd_preset(const std::string &dir) {
    // MXUs of 4x2 behind a 36-byte port: a word spans 5 rows of an activation or accumulator
    // column, so each column is 5 RAMs (docs/fpga.md).
    write_text(dir + "odd.acc", "name odd\narray_rows 4\narray_cols 2\nmxus 2\nclock_mhz 100\n"
                                "mem_bytes_per_cycle 36\nact_buffer_rows 23\nacc_buffer_rows 37\n"
                                "mem_mib 4\nlinks 1\nlink_gbytes_per_s 1\nlink_latency_ns 0\n");
    accel_preset p{};
    char err[1024];
    EXPECT_EQ(preset_load_file((dir + "odd.acc").c_str(), &p, err, sizeof err), 0) << err;
    return p;
}

// A device on the verilated model that records the command stream it executes and the memory
// it starts from (test-only: wraps the product's RTL backend).
struct Recorder {
    void *rtl = nullptr;
    const uint8_t *memory = nullptr;
    uint64_t mem_bytes = 0;
    std::vector<uint8_t> mem_in; // device memory when the first command ran
    std::vector<accel_cmd> cmds;
};
Recorder *recorded; // the device last opened on rec_ops

int rec_open(const accel_preset *p, uint8_t *memory, uint64_t mem_bytes, void **state, char *err,
             size_t errlen) {
    auto *r = new Recorder{nullptr, memory, mem_bytes, {}, {}};
    if (accel_rtl_ops.open(p, memory, mem_bytes, &r->rtl, err, errlen) != 0)
        return delete r, -1;
    *state = recorded = r;
    return 0;
}
void rec_close(void *state) {
    auto *r = (Recorder *)state;
    accel_rtl_ops.close(r->rtl);
    if (recorded == r)
        recorded = nullptr;
    delete r;
}
int rec_execute(void *state, const accel_cmd *cmds, size_t n, char *err, size_t errlen) {
    auto *r = (Recorder *)state;
    if (r->cmds.empty())
        r->mem_in.assign(r->memory, r->memory + r->mem_bytes);
    r->cmds.insert(r->cmds.end(), cmds, cmds + n);
    return accel_rtl_ops.execute(r->rtl, cmds, n, err, errlen);
}
void rec_counters(void *state, cycle_breakdown *out) {
    accel_rtl_ops.counters(((Recorder *)state)->rtl, out);
}
const accel_backend_ops rec_ops = {rec_open, rec_close, rec_execute, rec_counters, nullptr};

// Runs an M x K x N GEMM (random bf16 operands; accumulating into a random C when asked) through
// the product's driver on the verilated model and returns its command stream with the first
// `words` port words of device memory before and after.
::testing::AssertionResult gemm_on_verilator(const accel_preset &p, int64_t m, int64_t k, int64_t n,
                                             int accumulate, uint64_t words, uint64_t seed,
                                             Stream &s) {
    accel_dev *dev = nullptr;
    char err[1024];
    if (accel_open_backend(&p, ACCEL_BACKEND_RTL, &rec_ops, &dev, err, sizeof err) != ACCEL_OK)
        return ::testing::AssertionFailure() << err;
    std::vector<float> a(m * k), b(k * n), c(m * n);
    for (float &v : a)
        v = bf16_random(&seed);
    for (float &v : b)
        v = bf16_random(&seed);
    for (float &v : c)
        v = bf16_random(&seed);
    gemm_args g{.m = m,
                .k = k,
                .n = n,
                .accumulate = accumulate,
                .a = a.data(),
                .b = b.data(),
                .c = c.data()};
    gemm_run_stats stats;
    bool ok = gemm_run(dev, &g, &stats, err, sizeof err) == 0;
    std::string why = ok ? "" : err;
    const uint64_t bytes = words * (uint64_t)p.mem_bytes_per_cycle;
    Recorder *r = recorded;
    // A fresh device allocates from address 0 upwards, so its peak is the highest address used.
    if (ok && (accel_mem_peak(dev) > bytes || bytes > r->mem_bytes || r->cmds.size() > kMaxCmds)) {
        ok = false;
        why = "the GEMM needs more than the test bench holds";
    }
    if (ok) {
        s.cmds = r->cmds;
        s.words = words;
        s.base_word = 0;
        s.mem_in.assign(r->mem_in.begin(), r->mem_in.begin() + (ptrdiff_t)bytes);
        s.mem_out.assign(r->memory, r->memory + bytes);
        ok = accel_read_counters(dev, &s.counters) == ACCEL_OK;
    }
    accel_close(dev);
    if (!ok)
        return ::testing::AssertionFailure() << why;
    return ::testing::AssertionSuccess();
}

#define REQUIRE_ICARUS()                                                                           \
    do {                                                                                           \
        if (!tool_present("iverilog") || !tool_present("vvp"))                                     \
            GTEST_SKIP() << "Icarus Verilog (iverilog, vvp) is not installed";                     \
    } while (0)

} // namespace

TEST(Icarus, RtlInBothFormsMatchesVerilator) {
    REQUIRE_ICARUS();
    std::string dir = test_dir();
    for (const accel_preset &p : {load_preset("tiny"), odd_preset(dir)}) {
        REQUIRE_RTL(p);
        for (int instances : {0, 1}) {
            std::string vvp = dir + p.name + "-" + std::to_string(instances) + ".vvp";
            ASSERT_TRUE(compile_rtl(p, instances, vvp));
            for (uint64_t seed = 1; seed <= 3; seed++) {
                Stream s;
                ASSERT_TRUE(run_on_verilator(p, seed * 7919 + (uint64_t)instances, 60, s));
                EXPECT_TRUE(same_as_verilator(p, s, vvp, dir,
                                              std::string(p.name) +
                                                  " INSTANCES=" + std::to_string(instances) +
                                                  " seed " + std::to_string(seed)));
            }
        }
    }
}

// The product's GEMM driver (host/gemm: tiling, weight prefetch, accumulation over K, chunks of
// M beyond the activation buffer) on tiny: the command streams it issues run on Icarus with
// the RTL in both forms, with the same memory (so the same C) and counters as Verilator.
TEST(Icarus, GemmDriverStreamsMatchVerilator) {
    REQUIRE_ICARUS();
    accel_preset p = load_preset("tiny");
    REQUIRE_RTL(p);
    std::string dir = test_dir();
    const uint64_t words = 8192;
    struct Shape {
        int64_t m, k, n;
        int accumulate;
    };
    // one tile; ragged edges; M over the 64-row activation buffer, K over 4 rows (accumulation)
    // and N over one MXU's 4 columns (weight prefetch); accumulating into C
    const Shape shapes[] = {
        {1, 1, 1, 0}, {7, 5, 3, 0}, {70, 13, 9, 0}, {9, 6, 11, 1}, {130, 21, 17, 1}};
    for (int instances : {0, 1}) {
        std::string vvp = dir + "tiny-" + std::to_string(instances) + ".vvp";
        ASSERT_TRUE(compile_rtl(p, instances, vvp, words));
        for (const Shape &sh : shapes) {
            Stream s;
            ASSERT_TRUE(gemm_on_verilator(p, sh.m, sh.k, sh.n, sh.accumulate, words,
                                          (uint64_t)(sh.m * 131 + sh.k * 17 + sh.n), s));
            EXPECT_TRUE(same_as_verilator(p, s, vvp, dir,
                                          "GEMM " + std::to_string(sh.m) + "x" +
                                              std::to_string(sh.k) + "x" + std::to_string(sh.n) +
                                              (sh.accumulate ? " accumulating" : "") +
                                              " INSTANCES=" + std::to_string(instances)));
        }
    }
}

// The tiny preset synthesized by Yosys (scripts/synth --gate-level: 7-series cells, buffers in
// LUT RAM, the cells Yosys ships simulation models of) runs the streams like the RTL.
TEST(GateLevel, TinyNetlistMatchesVerilator) {
    REQUIRE_ICARUS();
    if (!tool_present("yosys"))
        GTEST_SKIP() << "Yosys is not installed";
    accel_preset p = load_preset("tiny");
    REQUIRE_RTL(p);
    std::string dir = test_dir(), netlist = dir + "tiny-netlist.v";
    std::string synth = ACCPAR_SOURCE_DIR "/scripts/synth tiny --gate-level " + netlist + " > " +
                        dir + "synth.log 2>&1";
    ASSERT_EQ(std::system(synth.c_str()), 0) << slurp(dir + "synth.log");
    std::string cells = slurp(netlist + ".cells");
    while (!cells.empty() && cells.back() == '\n')
        cells.pop_back();
    std::string vvp = dir + "gate.vvp";
    std::string cmd = "iverilog -g2012 -DNETLIST -I" + kRtl + " -s stream_tb" + icarus_params(p) +
                      " -o " + vvp + rtl_sources(true) + " " + kTb + " " + netlist + " " + cells +
                      " > " + vvp + ".log 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(vvp + ".log");
    // one short stream: Icarus runs the netlist at a few dozen cycles a second
    Stream s;
    ASSERT_TRUE(run_on_verilator(p, 104729, 8, s));
    EXPECT_TRUE(same_as_verilator(p, s, vvp, dir, "netlist"));
}
