// accpar calibrate: the files it writes, its one-line errors, the plan and run commands' model
// flags and labels, and the --compare mode.
#include <gtest/gtest.h>

extern "C" {
#include "calibration.h"
#include "cli.h"
}

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

struct Output {
    int rc;
    std::string out, err;
};

Output call(int (*fn)(int, char **), std::vector<std::string> args) {
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int rc = fn((int)argv.size(), argv.data());
    Output o{rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
    return o;
}

std::string slurp(const std::string &path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool exists(const std::string &path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

TEST(CliCalibrate, WritesTheCalibrationJsonCsvAndPlot) {
    std::string d = testing::TempDir();
    std::string cal = d + "cli-tiny.cal", json = d + "cli.json", csv = d + "cli.csv",
                svg = d + "cli.svg";
    Output o = call(cli_calibrate, {"calibrate", "--accel", "tiny", "--sweep", "--out", cal,
                                    "--json", json, "--csv", csv, "--plot", svg});
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_NE(o.out.find("held-out absolute percentage error"), std::string::npos) << o.out;
    calibration c;
    char err[512];
    ASSERT_EQ(calibration_load(cal.c_str(), &c, err, sizeof err), 0) << err;
    std::string j = slurp(json);
    for (const char *key : {"\"fit_points\": ", "\"heldout_points\": ", "\"heldout_mean_ape\": ",
                            "\"heldout_max_ape\": ", "\"comm_heldout_mean_ape\": ",
                            "\"comm_heldout_max_ape\": ", "\"within_target\": true"})
        EXPECT_NE(j.find(key), std::string::npos) << key << "\n" << j;
    EXPECT_NE(j.find("\"fit_points\": " + std::to_string(c.compute.fit_points)), std::string::npos);
    std::string rows = slurp(csv);
    int lines = 0;
    for (char ch : rows)
        lines += ch == '\n';
    EXPECT_EQ(lines, 1 + c.n_gemm + c.n_xfer);
    std::string plot = slurp(svg);
    EXPECT_EQ(plot.rfind("<svg", 0), 0u);
    EXPECT_NE(plot.find("</svg>"), std::string::npos);
    calibration_free(&c);
}

void expect_usage_error(int (*fn)(int, char **), std::vector<std::string> args,
                        const std::string &needle, const std::string &out_file) {
    std::remove(out_file.c_str());
    Output o = call(fn, args);
    EXPECT_EQ(o.rc, 2) << o.err;
    EXPECT_NE(o.err.find(needle), std::string::npos) << o.err;
    EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;
    EXPECT_FALSE(exists(out_file)) << out_file;
}

TEST(CliCalibrate, BadInputIsAOneLineErrorAndWritesNothing) {
    std::string d = testing::TempDir(), out = d + "never.cal";
    std::string shapes = d + "cli-bad.shapes";
    std::ofstream(shapes) << "8 8 8\n8 x 8\n";
    std::string bad_cal = d + "cli-bad.cal";
    std::ofstream(bad_cal) << "format 1\npreset tpu-v2\nbackend rtl\ntheta rows x fitted\n";
    expect_usage_error(cli_calibrate, {"calibrate", "--sweep", "--out", out}, "--accel", out);
    expect_usage_error(cli_calibrate, {"calibrate", "--accel", "tpu-v9", "--out", out}, "tpu-v9",
                       out);
    expect_usage_error(cli_calibrate,
                       {"calibrate", "--accel", "tiny", "--shapes", shapes, "--out", out},
                       shapes + ":2: field 'K'", out);
    expect_usage_error(cli_calibrate,
                       {"calibrate", "--accel", "tiny", "--backend", "golden", "--out", out},
                       "--backend", out);
    expect_usage_error(cli_calibrate,
                       {"calibrate", "--accel", "tiny", "--batch", "3", "--out", out},
                       "go with --compare", out);
    expect_usage_error(
        cli_plan,
        {"plan", "--net", "mlp", "--accels", "2xtpu-v2", "--calibration", bad_cal, "--json", out},
        bad_cal + ":4: field 'rows'", out);
    expect_usage_error(
        cli_plan,
        {"plan", "--net", "mlp", "--accels", "2xtpu-v2", "--compute-model", "fast", "--json", out},
        "field 'compute-model'", out);
    expect_usage_error(
        cli_run,
        {"run", "--net", "mlp", "--fidelity", "golden", "--calibration", bad_cal, "--json", out},
        bad_cal + ":4: field 'rows'", out);
    Output h = call(cli_calibrate, {"calibrate", "--help"});
    EXPECT_EQ(h.rc, 0);
    EXPECT_NE(h.out.find("--compare NET"), std::string::npos);
}

TEST(CliCalibrate, PlanAndRunReportTheirModel) {
    std::string json = testing::TempDir() + "plan-model.json";
    Output o = call(cli_plan, {"plan", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3", "--batch",
                               "16", "--compute-model", "peak", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_NE(o.out.find("compute model: peak\n"), std::string::npos) << o.out;
    EXPECT_NE(slurp(json).find("\"model\": \"peak\""), std::string::npos);
    o = call(cli_plan, {"plan", "--net", "mlp", "--accels", "2xtpu-v2", "--batch", "16",
                        "--compute-model", "exact"});
    EXPECT_NE(o.out.find("compute model: exact\n"), std::string::npos) << o.out;
    o = call(cli_run, {"run", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3", "--batch", "8",
                       "--fidelity", "golden", "--compute-model", "peak", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err; // the cycle check uses the contract, whatever the model
    EXPECT_NE(o.out.find("compute model of the plan and prediction: peak"), std::string::npos);
    EXPECT_NE(slurp(json).find("\"model\": \"peak\""), std::string::npos);
}

TEST(CliCalibrate, CompareReportsWhichPlanRunsFaster) {
    std::string json = testing::TempDir() + "compare.json";
    Output o =
        call(cli_calibrate, {"calibrate", "--compare", "mlp", "--accels", "1xtpu-v2,1xtpu-v3",
                             "--batch", "16", "--fidelity", "golden", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_NE(o.out.find("plan is faster"), std::string::npos) << o.out;
    std::string j = slurp(json);
    EXPECT_NE(j.find("\"speedup_calibrated_over_peak\": "), std::string::npos) << j;
    EXPECT_NE(j.find("\"model\": \"peak\""), std::string::npos) << j;
}

} // namespace
