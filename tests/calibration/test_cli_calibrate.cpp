// accpar calibrate: the files it writes, its one-line errors, the plan and run commands' model
// flags and labels, and the --compare mode.
#include <gtest/gtest.h>

#include "rtl_available.h"
#include "test_support.h"

extern "C" {
#include "calibration.h"
#include "models_dir.h"
#include "cli.h"
}

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace {

// The number after "key": in a JSON text (NAN if absent).
double json_number(const std::string &j, const std::string &key) {
    size_t at = j.find("\"" + key + "\": ");
    return at == std::string::npos ? NAN : std::strtod(j.c_str() + at + key.size() + 4, nullptr);
}

std::vector<std::string> split(const std::string &text, char sep) {
    std::vector<std::string> out(1);
    for (char ch : text) {
        if (ch == sep)
            out.emplace_back();
        else
            out.back() += ch;
    }
    return out;
}

TEST(CliCalibrate, WritesTheCalibrationJsonCsvAndPlot) {
    std::string d = test_dir();
    std::string cal = d + "cli-tiny.cal", json = d + "cli.json", csv = d + "cli.csv",
                svg = d + "cli.svg";
    cli_output o = cli_call(cli_calibrate, {"calibrate", "--accel", "tiny", "--sweep", "--out", cal,
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
    std::vector<std::string> rows = split(slurp(csv), '\n');
    ASSERT_EQ(rows.size(), (size_t)(2 + c.n_gemm + c.n_xfer)); // header, points, final newline
    EXPECT_EQ(rows.back(), "");
    // every APE column is 100 |predicted - measured| / measured of its own row, and the JSON's
    // peak-model errors are the held-out rows' mean and max
    double peak_sum = 0, peak_max = 0;
    int peak_n = 0;
    for (size_t r = 1; r + 1 < rows.size(); r++) {
        std::vector<std::string> f = split(rows[r], ',');
        ASSERT_EQ(f.size(), 13u) << rows[r];
        double measured = std::stod(f[8]), predicted = std::stod(f[9]);
        EXPECT_NEAR(std::stod(f[11]), 100 * std::fabs(predicted - measured) / measured,
                    1e-5 * (1 + std::stod(f[11])))
            << rows[r];
        if (f[0] == "gemm" && f[1] == "heldout") {
            double ape = 100 * std::fabs(std::stod(f[10]) - measured) / measured;
            EXPECT_NEAR(std::stod(f[12]), ape, 1e-5 * ape) << rows[r];
            peak_sum += ape;
            peak_max = std::fmax(peak_max, ape);
            peak_n++;
        }
    }
    ASSERT_EQ(peak_n, c.compute.heldout_points);
    EXPECT_NEAR(json_number(j, "peak_heldout_mean_ape"), peak_sum / peak_n, 1e-9 * peak_max);
    EXPECT_NEAR(json_number(j, "peak_heldout_max_ape"), peak_max, 1e-9 * peak_max);
    std::string plot = slurp(svg);
    EXPECT_EQ(plot.rfind("<svg", 0), 0u);
    EXPECT_NE(plot.find("</svg>"), std::string::npos);
    calibration_free(&c);
}

void expect_usage_error(int (*fn)(int, char **), std::vector<std::string> args,
                        const std::string &needle, const std::string &out_file) {
    std::remove(out_file.c_str());
    cli_output o = cli_call(fn, args);
    EXPECT_EQ(o.rc, 2) << o.err;
    EXPECT_NE(o.err.find(needle), std::string::npos) << o.err;
    EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;
    EXPECT_FALSE(exists(out_file)) << out_file;
}

TEST(CliCalibrate, BadInputIsAOneLineErrorAndWritesNothing) {
    std::string d = test_dir(), out = d + "never.cal";
    std::string shapes = d + "cli-bad.shapes";
    std::ofstream(shapes) << "8 8 8\n8 x 8\n";
    std::string repeated = d + "cli-repeated.shapes";
    std::ofstream(repeated) << "8 8 8\n4 4 4\n8 8 8\n";
    std::string bad_cal = d + "cli-bad.cal";
    std::ofstream(bad_cal) << "format 2\npreset tpu-v2\nbackend rtl\ntheta rows x fitted\n";
    expect_usage_error(cli_calibrate, {"calibrate", "--sweep", "--out", out}, "--accel", out);
    expect_usage_error(cli_calibrate, {"calibrate", "--accel", "tpu-v9", "--out", out}, "tpu-v9",
                       out);
    expect_usage_error(cli_calibrate,
                       {"calibrate", "--accel", "tiny", "--shapes", shapes, "--out", out},
                       shapes + ":2: field 'K'", out);
    expect_usage_error(cli_calibrate,
                       {"calibrate", "--accel", "tiny", "--shapes", repeated, "--out", out},
                       repeated + ":3: field 'shape': '8 8 8' repeats line 1", out);
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
        "--compute-model: 'fast'", out);
    expect_usage_error(
        cli_run,
        {"run", "--net", "mlp", "--fidelity", "golden", "--calibration", bad_cal, "--json", out},
        bad_cal + ":4: field 'rows'", out);
    cli_output h = cli_call(cli_calibrate, {"calibrate", "--help"});
    EXPECT_EQ(h.rc, 0);
    EXPECT_NE(h.out.find("--compare NET"), std::string::npos);
}

TEST(CliCalibrate, PlanAndRunReportTheirModel) {
    std::string json = test_dir() + "plan-model.json";
    cli_output o = cli_call(cli_plan, {"plan", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3",
                                       "--batch", "16", "--compute-model", "peak", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_NE(o.out.find("compute model: peak\n"), std::string::npos) << o.out;
    EXPECT_NE(slurp(json).find("\"model\": \"peak\""), std::string::npos);
    o = cli_call(cli_plan, {"plan", "--net", "mlp", "--accels", "2xtpu-v2", "--batch", "16",
                            "--compute-model", "exact"});
    EXPECT_NE(o.out.find("compute model: exact\n"), std::string::npos) << o.out;
    o = cli_call(cli_run, {"run", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3", "--batch", "8",
                           "--fidelity", "golden", "--compute-model", "peak", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err; // the cycle check uses the contract, whatever the model
    EXPECT_NE(o.out.find("compute model of the plan and prediction: peak"), std::string::npos);
    EXPECT_NE(slurp(json).find("\"model\": \"peak\""), std::string::npos);
}

// The row of the table planned by `model`: its last column is the model it used.
std::string row_of(const std::string &out, const std::string &model) {
    for (const std::string &line : split(out, '\n'))
        if (line.rfind(model + " ", 0) == 0)
            return line;
    return "";
}

// Each row names the model it used exactly: the calibrated one, the file given for tpu-v2 and
// tpu-v3's default file.
TEST(CliCalibrate, CompareNamesTheCalibrationEachRowUsed) {
    REQUIRE_RTL("1xtpu-v2,1xtpu-v3");
    std::string d = test_dir(), v2 = d + "cmp-tpu-v2.cal", json = d + "compare.json";
    cli_output c =
        cli_call(cli_calibrate, {"calibrate", "--accel", "tpu-v2", "--sweep", "--out", v2});
    ASSERT_EQ(c.rc, 0) << c.err;
    cli_output o = cli_call(cli_calibrate, {"calibrate", "--compare", "mlp", "--accels",
                                            "1xtpu-v2,1xtpu-v3", "--batch", "16", "--fidelity",
                                            "golden", "--calibration", v2, "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    std::string v3 = std::string(models_dir()) + "/calibration/tpu-v3.cal";
    std::string used = "tpu-v2: calibrated (" + v2 + "); tpu-v3: calibrated (" + v3 + ")";
    std::string row = row_of(o.out, "calibrated");
    ASSERT_GE(row.size(), used.size()) << o.out;
    EXPECT_EQ(row.substr(row.size() - used.size()), used) << row;
    row = row_of(o.out, "peak");
    EXPECT_EQ(row.substr(row.size() - 6), "  peak") << row;
    EXPECT_NE(o.out.find("in emulation the calibrated model's plan is faster: "), std::string::npos)
        << o.out;
    std::string j = slurp(json);
    EXPECT_NE(j.find("\"model\": \"" + used + "\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"model\": \"peak\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"identical_plans\": false"), std::string::npos) << j;
    EXPECT_GT(json_number(j, "speedup_calibrated_over_peak"), 1.0) << j;
}

// Data parallelism on alike devices splits in half whatever the model: the two plans are the same,
// and the report says so rather than call one faster.
TEST(CliCalibrate, CompareSaysWhenThePlansAreIdentical) {
    std::string json = test_dir() + "compare-dp.json";
    cli_output o =
        cli_call(cli_calibrate, {"calibrate", "--compare", "mlp", "--accels", "2xtpu-v3", "--batch",
                                 "16", "--strategy", "dp", "--fidelity", "golden", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_NE(o.out.find("the two models give the same plan"), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("faster"), std::string::npos) << o.out;
    EXPECT_NE(slurp(json).find("\"identical_plans\": true"), std::string::npos);
}

} // namespace
