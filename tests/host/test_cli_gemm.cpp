// accpar gemm: bad input gets a one-line error and exit status 2; a good run writes a JSON
// report and .npy files that an independent check (OpenBLAS) accepts.
#include "cli.h"
#include "cycle_oracle.h"
#include "rtl_available.h"
#include "test_json.h"
#include "test_vcd.h"
#include "test_support.h"
#include "test_util.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

cli_output run_cli(std::vector<std::string> args) {
    return cli_call(cli_gemm, std::move(args));
}

TEST(CliGemm, BadInputIsOneLineAndStatusTwo) {
    struct Case {
        std::vector<std::string> args;
        const char *must_contain;
    } cases[] = {
        {{"gemm", "--m", "0"}, "--m: '0' is not an integer in [1, 65536]"},
        {{"gemm", "--k", "-3"}, "--k: '-3' is not an integer"},
        {{"gemm", "--n", "99999999999999999999"}, "--n: '99999999999999999999'"},
        {{"gemm", "--m", "12x"}, "--m: '12x'"},
        {{"gemm", "--m"}, "--m: missing value"},
        {{"gemm", "--frobnicate"}, "unknown option '--frobnicate'"},
        {{"gemm", "--backend", "fpga"}, "--backend: 'fpga' is not golden, rtl or replay"},
        {{"gemm", "--accel", "tpu-v9"}, "tpu-v9.acc: cannot open"},
        {{"gemm", "--backend", "golden", "--trace", "x.vcd"},
         "--trace: waveforms need --backend rtl"},
        {{"gemm", "--accel", "tpu-v2-full", "--m", "2", "--k", "2", "--n", "2", "--no-build",
          "--model-cache", test_dir() + "empty-cache"},
         "no RTL model 128x128x2"},
        {{"gemm", "--accel", "tiny", "--accel", "tiny"}, "--accel: given twice"},
    };
    for (const Case &c : cases) {
        cli_output r = run_cli(c.args);
        EXPECT_EQ(r.rc, 2) << c.must_contain;
        EXPECT_NE(r.err.find(c.must_contain), std::string::npos) << "stderr: " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
        EXPECT_EQ(r.err.rfind("accpar gemm: ", 0), 0u) << r.err;
    }
}

TEST(CliGemm, Help) {
    cli_output r = run_cli({"gemm", "--help"});
    EXPECT_EQ(r.rc, 0);
    EXPECT_NE(r.out.find("usage: accpar gemm"), std::string::npos);
}

// Reads a float32 .npy file written by npy_write_f32.
std::vector<float> read_npy(const std::string &path, int64_t rows, int64_t cols) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)), 0);
    size_t hlen = (unsigned char)bytes[8] | (size_t)(unsigned char)bytes[9] << 8;
    std::string header = bytes.substr(10, hlen);
    EXPECT_EQ((10 + hlen) % 64, 0u);
    EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
    std::string shape = "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
    EXPECT_NE(header.find(shape), std::string::npos) << header;
    std::vector<float> data((size_t)(rows * cols));
    EXPECT_EQ(bytes.size(), 10 + hlen + data.size() * sizeof(float));
    if (bytes.size() == 10 + hlen + data.size() * sizeof(float))
        std::memcpy(data.data(), bytes.data() + 10 + hlen, data.size() * sizeof(float));
    return data;
}

TEST(CliGemm, JsonReportAndDumpAreIndependentlyCheckable) {
    REQUIRE_RTL("1xtiny");
    std::string dir = test_dir() + "gemm_dump", json = test_dir() + "g.json";
    cli_output r = run_cli({"gemm", "--accel", "tiny", "--m", "9", "--k", "6", "--n", "5",
                            "--trans-a", "--seed", "4", "--json", json, "--dump", dir});
    ASSERT_EQ(r.rc, 0) << r.err;
    std::ifstream in(json);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char *key :
         {"\"preset\": \"tiny\"", "\"array_rows\": 4", "\"array_cols\": 4", "\"mxus\": 1",
          "\"clock_mhz\": 100", "\"cycles\": ", "\"formula_cycles\": ", "\"macs\": 270",
          "\"utilization\": ", "\"bit_exact\": true",
          "\"max_abs_err\": ", "\"max_bound_ratio\": ", "\"passed\": true"})
        EXPECT_NE(text.find(key), std::string::npos) << key << " not in\n" << text;
    // the values against independent figures: the cycle oracle and the shape
    accel_preset tiny = load_preset("tiny");
    cycle_breakdown o = oracle_gemm_cycles(tiny, 9, 6, 5);
    Json j = parse_json(text);
    EXPECT_EQ(j["cycles"].num, (double)o.total);
    EXPECT_EQ(j["busy_cycles"].num, (double)o.busy);
    EXPECT_EQ(j["stall_cycles"].num, (double)o.stall);
    EXPECT_EQ(j["commands"].num, (double)o.commands);
    EXPECT_EQ(j["pe_macs_issued"].num, (double)o.macs);
    EXPECT_EQ(j["macs"].num, 9.0 * 6 * 5);
    EXPECT_DOUBLE_EQ(j["utilization"].num, 270.0 / ((double)o.total * 16));
    EXPECT_DOUBLE_EQ(j["time_s"].num, (double)o.total / 100e6);
    // a.npy holds A as stored (K x M with --trans-a); OpenBLAS on the dumped inputs must agree.
    std::vector<float> a = read_npy(dir + "/a.npy", 6, 9), b = read_npy(dir + "/b.npy", 6, 5);
    std::vector<float> c = read_npy(dir + "/c.npy", 9, 5);
    gemm_args g = {.m = 9, .k = 6, .n = 5, .trans_a = 1, .a = a.data(), .b = b.data()};
    gemm_check chk;
    ASSERT_EQ(gemm_check_blas(&g, nullptr, c.data(), &chk), 0);
    EXPECT_TRUE(chk.passed) << chk.message;
}

// --trace writes a VCD whose counters end at the cycles the report gives.
TEST(CliGemm, TraceWritesAWaveformOfTheRun) {
    REQUIRE_RTL("1xtiny");
    std::string vcd = test_dir() + "run.vcd", json = test_dir() + "t.json";
    cli_output r = run_cli({"gemm", "--accel", "tiny", "--m", "5", "--k", "7", "--n", "6",
                            "--trace", vcd, "--json", json});
    ASSERT_EQ(r.rc, 0) << r.err;
    std::string w = slurp(vcd);
    EXPECT_NE(w.find("$timescale"), std::string::npos) << "not a VCD";
    ASSERT_NE(w.find("$enddefinitions"), std::string::npos);
    for (const char *signal : {"cmd_valid", "cmd_ready", "mem_rd", "mem_wr"})
        EXPECT_NE(w.find(std::string(" ") + signal + " "), std::string::npos) << signal;
    Json j = parse_json(slurp(json));
    EXPECT_EQ((double)vcd_last_value(w, "cnt_total"), j["cycles"].num);
    EXPECT_EQ((double)vcd_last_value(w, "cnt_busy"), j["busy_cycles"].num);
    EXPECT_EQ(vcd_last_value(w, "idle"), 1u);
}

} // namespace

extern "C" {
#include "host_memory.h"
}

// Sizes are checked before anything is allocated: a GEMM the device memory cannot hold fails at
// once (status 1, one line with the need and the capacity), and so does one whose host buffers
// exceed this machine, instead of being killed for memory halfway.
TEST(CliGemm, TooLargeFailsBeforeAllocating) {
    cli_output o = cli_call(
        cli_gemm, {"gemm", "--accel", "tiny", "--m", "65536", "--k", "65536", "--n", "65536"});
    EXPECT_TRUE(one_line_error(o, 1, "GEMM 65536x65536x65536 needs ")) << o.err;
    EXPECT_NE(o.err.find("MiB of device memory; preset 'tiny' has 16 MiB"), std::string::npos)
        << o.err;
    // 40000^3 on tpu-v3-full: 12.8 GB of device memory (fits 32 GiB), about 64 GB of host buffers
    if (host_memory_bytes() > 60ull << 30)
        GTEST_SKIP() << "this machine has room for the host-memory case";
    o = cli_call(cli_gemm, {"gemm", "--accel", "tpu-v3-full", "--m", "40000", "--k", "40000", "--n",
                            "40000", "--backend", "golden"});
    EXPECT_TRUE(one_line_error(o, 1, "a 40000x40000x40000 GEMM needs ")) << o.err;
    EXPECT_NE(o.err.find("GiB of host memory, this machine allows "), std::string::npos) << o.err;
}
