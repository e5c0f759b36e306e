// The calibration file and the shapes file: round trip, and every malformed line rejected with
// "file:line: field 'x': why".
#include <gtest/gtest.h>

#include "cycle_oracle.h"
#include "test_support.h"

extern "C" {
#include "cal_measure.h"
#include "calibration.h"
#include "models_dir.h"
}

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

// Every calibration file shipped was measured on an RTL that keeps the cycle contract: each
// GEMM point's measured cycles equal the independent cycle oracle's for its preset today.
TEST(CalFile, ShippedFilesMatchTheCycleContract) {
    int files = 0;
    for (const auto &e :
         std::filesystem::directory_iterator(std::string(models_dir()) + "/calibration")) {
        if (e.path().extension() != ".cal")
            continue;
        SCOPED_TRACE(e.path().string());
        std::istringstream in(slurp(e.path().string()));
        accel_preset p{};
        int points = 0;
        for (std::string line; std::getline(in, line);) {
            std::istringstream words(line);
            std::string key, role, name;
            if (line.rfind("preset ", 0) == 0) {
                words >> key >> name;
                char err[512];
                ASSERT_EQ(preset_find(name.c_str(), &p, err, sizeof err), 0) << err;
                EXPECT_EQ(name + ".cal", e.path().filename().string());
            } else if (line.rfind("gemm ", 0) == 0) {
                int64_t m, k, n;
                int acc;
                double measured;
                ASSERT_TRUE(words >> key >> role >> m >> k >> n >> acc >> measured) << line;
                EXPECT_EQ(measured, (double)oracle_gemm_cycles(p, m, k, n, acc).total) << line;
                points++;
            }
        }
        EXPECT_GE(points, 10);
        files++;
    }
    EXPECT_GE(files, 5) << "tiny, tpu-v2, tpu-v3 and the two full-size chips";
}

const char *GOOD = "# a comment\n"
                   "format 2\n"
                   "preset tpu-v2\n"
                   "backend replay\n"
                   "theta commands 1.5 fitted\n"
                   "theta loads    2 fitted\n"
                   "theta words    1 fitted\n"
                   "theta rows     1 fitted\n"
                   "theta fill     0.5 fitted\n"
                   "theta prefetch 1 nominal\n"
                   "link_latency_ns 900\n"
                   "link_gbytes_per_s 1.25\n"
                   "points 2 2\n"
                   "gemm fit 16 32 48 0 1000 999.5 0.5\n"
                   "gemm heldout 3 4 5 1 200 202 -2\n"
                   "xfer fit 1024 2e-06 2e-06 0\n"
                   "xfer heldout 10 1.1e-06 1.089e-06 1.1e-08\n";

std::string write(const std::string &name, const std::string &text) {
    std::string path = test_dir() + name;
    std::ofstream(path) << text;
    return path;
}

TEST(CalFile, ReadsEveryFieldAndScoresTheHeldOutPoints) {
    std::string path = write("good.cal", GOOD);
    calibration c;
    char err[512];
    ASSERT_EQ(calibration_load(path.c_str(), &c, err, sizeof err), 0) << err;
    EXPECT_STREQ(c.preset, "tpu-v2");
    EXPECT_STREQ(c.backend, "replay");
    EXPECT_EQ(c.theta[FEAT_COMMANDS], 1.5);
    EXPECT_EQ(c.theta[FEAT_FILL], 0.5);
    EXPECT_TRUE(c.nominal[FEAT_PREFETCH]);
    EXPECT_FALSE(c.nominal[FEAT_LOADS]);
    EXPECT_EQ(c.link_latency_ns, 900);
    EXPECT_EQ(c.link_gbytes_per_s, 1.25);
    ASSERT_EQ(c.n_gemm, 2);
    EXPECT_EQ(c.gemm[1].m, 3);
    EXPECT_EQ(c.gemm[1].accumulate, 1);
    EXPECT_EQ(c.gemm[1].role, CAL_HELDOUT);
    ASSERT_EQ(c.n_xfer, 2);
    EXPECT_EQ(c.compute.fit_points, 1);
    EXPECT_NEAR(c.compute.mean_ape, 1.0, 1e-12); // |202 - 200| / 200
    EXPECT_NEAR(c.comm.max_ape, 1.0, 1e-9);      // 0.011 / 1.1
    calibration_free(&c);
}

TEST(CalFile, WriteThenReadGivesTheSameCalibration) {
    std::string path = write("good2.cal", GOOD);
    calibration c, d;
    char err[512];
    ASSERT_EQ(calibration_load(path.c_str(), &c, err, sizeof err), 0) << err;
    std::string out = test_dir() + "rewritten.cal";
    ASSERT_EQ(write_output(
                  out,
                  [&] { return calibration_write(out.c_str(), &c, "# header\n", err, sizeof err); },
                  err, sizeof err),
              0)
        << err;
    ASSERT_EQ(calibration_load(out.c_str(), &d, err, sizeof err), 0) << err;
    for (int i = 0; i < GEMM_FEATURES; i++) {
        EXPECT_EQ(c.theta[i], d.theta[i]);
        EXPECT_EQ(c.nominal[i], d.nominal[i]);
    }
    ASSERT_EQ(c.n_gemm, d.n_gemm);
    ASSERT_EQ(c.n_xfer, d.n_xfer);
    for (int q = 0; q < c.n_gemm; q++) {
        EXPECT_EQ(c.gemm[q].measured, d.gemm[q].measured);
        EXPECT_EQ(c.gemm[q].predicted, d.gemm[q].predicted);
    }
    for (int q = 0; q < c.n_xfer; q++)
        EXPECT_EQ(c.xfer[q].measured_s, d.xfer[q].measured_s);
    calibration_free(&c);
    calibration_free(&d);
}

struct bad_case {
    const char *from, *to; // replace the first `from` in GOOD by `to` ("" appends `to`)
    const char *expect;    // ":LINE: field 'X'" and part of the reason
};

TEST(CalFile, MalformedFilesAreOneLineErrorsNamingLineAndField) {
    const bad_case cases[] = {
        {"format 2", "format 1", ":2: field 'format': version '1'"},
        {"points 2 2", "points 2 3",
         ":17: field 'points': 2 gemm and 2 xfer lines, not the 2 and 3"},
        {"points 2 2", "points 2", ":13: field 'points': expected"},
        {"points 2 2", "points 2 2\npoints 2 2", ":14: field 'points': repeated"},
        {"points 2 2\n", "", ":16: field 'points': missing"},
        {"preset tpu-v2\n", "", ":16: field 'preset': missing"},
        {"backend replay", "backend magic", ":4: field 'backend': 'magic' is not"},
        {"theta loads    2 fitted", "theta loads two fitted", ":6: field 'loads': 'two' is not"},
        {"theta rows     1 fitted", "theta rows 1 fitted\ntheta rows 1 fitted",
         ":9: field 'rows': repeated"},
        {"theta fill     0.5 fitted\n", "", ":16: field 'fill': missing (the file ends"},
        {"theta fill     0.5 fitted", "theta speed 1 fitted", ":9: field 'theta': unknown feature"},
        {"theta prefetch 1 nominal", "theta prefetch 2 nominal",
         ":10: field 'prefetch': a nominal"},
        {"theta words    1 fitted", "theta words 1 guessed", ":7: field 'words': 'guessed'"},
        {"theta words    1 fitted", "theta words 1", ":7: field 'theta': expected"},
        {"link_latency_ns 900", "link_latency_ns -1",
         ":11: field 'link_latency_ns': '-1' is below"},
        {"link_gbytes_per_s 1.25", "link_gbytes_per_s 0", ":12: field 'link_gbytes_per_s'"},
        {"link_gbytes_per_s 1.25", "link_gbytes_per_s inf", ":12: field 'link_gbytes_per_s'"},
        {"gemm fit 16 32 48", "gemm fit 0 32 48", ":14: field 'm':"},
        {"gemm fit 16 32 48 0", "gemm fit 16 32 48 2", ":14: field 'accumulate':"},
        {"gemm fit 16", "gemm test 16", ":14: field 'role': 'test'"},
        {"1000 999.5 0.5", "1000 999.5 7", ":14: field 'residual': '7' is not measured - pred"},
        {"gemm heldout 3 4 5 1 200 202 -2", "gemm heldout 3 4 5 1 200 202",
         ":15: field 'gemm': expected"},
        {"xfer fit 1024", "xfer fit -5", ":16: field 'bytes':"},
        {"xfer heldout 10 1.1e-06", "xfer heldout 10 x", ":17: field 'measured':"},
        {"# a comment", "speed 3", ":1: field 'speed': unknown field"},
        {"# a comment", "garbage", ":1: field 'garbage': unknown field"},
        {"theta loads    2 fitted", "theta loads nan fitted", ":6: field 'loads': 'nan' is not a"},
        {"theta loads    2 fitted", "theta loads -0.5 fitted",
         ":6: field 'loads': '-0.5' is below 0"},
        {"theta loads    2 fitted", "theta loads 1e308 fitted",
         ":6: field 'loads': '1e308' is above 1e+06"},
        {"theta loads    2 fitted", "theta loads 1e400 fitted",
         ":6: field 'loads': '1e400' is not"},
        {"link_latency_ns 900", "link_latency_ns 1e12",
         ":11: field 'link_latency_ns': '1e12' is above 1e+09"},
        {"link_latency_ns 900", "link_latency_ns nan",
         ":11: field 'link_latency_ns': 'nan' is not"},
        {"link_gbytes_per_s 1.25", "link_gbytes_per_s 1e-12",
         ":12: field 'link_gbytes_per_s': '1e-12' is below 1e-09"},
        {"link_gbytes_per_s 1.25", "link_gbytes_per_s 2e6",
         ":12: field 'link_gbytes_per_s': '2e6' is above 1e+06"},
        {"link_gbytes_per_s 1.25", "link_gbytes_per_s", ":12: field 'link_gbytes_per_s': expected"},
        {"xfer heldout 10 1.1e-06", "xfer heldout 10 nan", ":17: field 'measured': 'nan' is not"},
    };
    int n = 0;
    for (const bad_case &k : cases) {
        std::string text = GOOD;
        size_t at = text.find(k.from);
        ASSERT_NE(at, std::string::npos) << k.from;
        text.replace(at, std::string(k.from).size(), k.to);
        std::string path = write("bad" + std::to_string(n++) + ".cal", text);
        calibration c;
        char err[512];
        EXPECT_NE(calibration_load(path.c_str(), &c, err, sizeof err), 0) << k.expect;
        std::string e = err;
        EXPECT_EQ(e.rfind(path, 0), 0u) << e;
        EXPECT_NE(e.find(k.expect), std::string::npos) << "want " << k.expect << "\ngot  " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
    calibration c;
    char err[512];
    EXPECT_NE(calibration_load("/no/such.cal", &c, err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("/no/such.cal"), std::string::npos) << err;
}

// A file cut anywhere is an error: inside a line, its last line lacks the newline every written
// line ends with (the cut inside "1.25" would otherwise read a bandwidth of 1.2); at a line end,
// a field is missing or the points line counts more points than are left.
TEST(CalFile, TruncatedAnywhereIsAnError) {
    const std::string good = GOOD;
    int cuts = 0, at_line_end = 0;
    for (size_t len = 1; len < good.size(); len++) {
        at_line_end += good[len - 1] == '\n';
        std::string path = write("cut.cal", good.substr(0, len));
        calibration c;
        char err[512];
        ASSERT_NE(calibration_load(path.c_str(), &c, err, sizeof err), 0) << good.substr(0, len);
        EXPECT_EQ(std::string(err).rfind(path + ":", 0), 0u) << err;
        cuts++;
    }
    EXPECT_GT(cuts, 300);
    EXPECT_EQ(at_line_end, 16);
    std::string cut_point = write("cut-point.cal", good.substr(0, good.rfind("xfer heldout")));
    calibration d;
    char why[512];
    EXPECT_NE(calibration_load(cut_point.c_str(), &d, why, sizeof why), 0);
    EXPECT_NE(
        std::string(why).find(":16: field 'points': 2 gemm and 1 xfer lines, not the 2 and 2"),
        std::string::npos)
        << why;
    size_t at = good.find("link_gbytes_per_s 1.2") + std::string("link_gbytes_per_s 1.2").size();
    std::string path = write("cut-bandwidth.cal", good.substr(0, at));
    calibration c;
    char err[512];
    EXPECT_NE(calibration_load(path.c_str(), &c, err, sizeof err), 0);
    EXPECT_EQ(std::string(err), path + ":12: field 'link_gbytes_per_s': no newline: the file is "
                                       "truncated");
}

TEST(ShapesFile, ReadsShapesAndRejectsMalformedLines) {
    std::string path = write("ok.shapes", "# M K N\n64 64 64\n1 2 3 accumulate\n\n5 6 7\n1 2 3\n");
    calibration c{};
    char err[512];
    ASSERT_EQ(cal_read_shapes(path.c_str(), &c, err, sizeof err), 0) << err;
    ASSERT_EQ(c.n_gemm, 4); // "1 2 3" and "1 2 3 accumulate" are different shapes
    EXPECT_EQ(c.gemm[1].accumulate, 1);
    EXPECT_EQ(c.gemm[2].role, CAL_HELDOUT);
    calibration_free(&c);
    const std::pair<const char *, const char *> bad[] = {
        {"64 64\n", ":1: field 'shape': expected M K N"},
        {"64 0 64\n", ":1: field 'K':"},
        {"1 1 1\n64 64 -1\n", ":2: field 'N':"},
        {"64 64 64 acc\n", ":1: field 'accumulate': 'acc'"},
        {"# nothing\n", ":1: field 'shape': no shapes"},
        {"1 2 3\n4 5 6\n# again\n1 2 3\n", ":4: field 'shape': '1 2 3' repeats line 1"},
        {"9 9 9\n1 2 3 accumulate\n9 9 9 accumulate\n1 2 3\n7 7 7\n1 2 3 accumulate\n9 9 9\n",
         ":6: field 'shape': '1 2 3 accumulate' repeats line 2"},
    };
    for (const auto &b : bad) {
        std::string p = write("bad.shapes", b.first);
        calibration d{};
        EXPECT_NE(cal_read_shapes(p.c_str(), &d, err, sizeof err), 0) << b.first;
        EXPECT_NE(std::string(err).find(p + b.second), std::string::npos) << err;
        calibration_free(&d);
    }
}

} // namespace
