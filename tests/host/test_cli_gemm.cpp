// accpar gemm: bad input gets a one-line error and exit status 2; a good run writes a JSON
// report and .npy files that an independent check (OpenBLAS) accepts.
#include "cli.h"
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

struct CliResult {
    int status;
    std::string out, err;
};

CliResult run_cli(std::initializer_list<std::string> args) {
    std::vector<std::string> store(args);
    std::vector<char *> argv;
    for (auto &s : store)
        argv.push_back(s.data());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int status = cli_gemm((int)argv.size(), argv.data());
    CliResult r{status, ::testing::internal::GetCapturedStdout(),
                ::testing::internal::GetCapturedStderr()};
    return r;
}

TEST(CliGemm, BadInputIsOneLineAndStatusTwo) {
    struct Case {
        std::initializer_list<std::string> args;
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
        {{"gemm", "--accel", "tpu-v2-full", "--m", "2", "--k", "2", "--n", "2"},
         "no verilated model"},
    };
    for (const Case &c : cases) {
        CliResult r = run_cli(c.args);
        EXPECT_EQ(r.status, 2) << c.must_contain;
        EXPECT_NE(r.err.find(c.must_contain), std::string::npos) << "stderr: " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
        EXPECT_EQ(r.err.rfind("accpar gemm: ", 0), 0u) << r.err;
    }
}

TEST(CliGemm, Help) {
    CliResult r = run_cli({"gemm", "--help"});
    EXPECT_EQ(r.status, 0);
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
    std::string dir = ::testing::TempDir() + "gemm_dump", json = ::testing::TempDir() + "g.json";
    CliResult r = run_cli({"gemm", "--accel", "tiny", "--m", "9", "--k", "6", "--n", "5",
                           "--trans-a", "--seed", "4", "--json", json, "--dump", dir});
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(json);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char *key :
         {"\"preset\": \"tiny\"", "\"array_rows\": 4", "\"array_cols\": 4", "\"mxus\": 1",
          "\"clock_mhz\": 100", "\"cycles\": ", "\"formula_cycles\": ", "\"macs\": 270",
          "\"utilization\": ", "\"bit_exact\": true",
          "\"max_abs_err\": ", "\"max_bound_ratio\": ", "\"passed\": true"})
        EXPECT_NE(text.find(key), std::string::npos) << key << " not in\n" << text;
    // a.npy holds A as stored (K x M with --trans-a); OpenBLAS on the dumped inputs must agree.
    std::vector<float> a = read_npy(dir + "/a.npy", 6, 9), b = read_npy(dir + "/b.npy", 6, 5);
    std::vector<float> c = read_npy(dir + "/c.npy", 9, 5);
    gemm_args g = {.m = 9, .k = 6, .n = 5, .trans_a = 1, .a = a.data(), .b = b.data()};
    gemm_check chk;
    ASSERT_EQ(gemm_check_blas(&g, nullptr, c.data(), &chk), 0);
    EXPECT_TRUE(chk.passed) << chk.message;
}

} // namespace
