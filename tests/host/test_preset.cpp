// Accelerator presets: the shipped files keep the public TPU-v2/v3 figures' ratios, and a
// malformed file is rejected with file:line and the field's name.
#include "test_util.h"
#include "test_support.h"

#include <cstdio>
#include <fstream>
#include <string>

namespace {

// Public per-chip figures (docs/design.md): peak bf16 FLOP/s, HBM bytes/s, one ICI link's bytes/s.
constexpr double v2_peak = 46e12, v2_hbm = 700e9, v2_link = 496e9 / 8;
constexpr double v3_peak = 123e12, v3_hbm = 900e9, v3_link = 656e9 / 8;

double peak_flops(const accel_preset &p) {
    return 2.0 * (double)preset_macs_per_cycle(&p) * p.clock_mhz * 1e6;
}

double mem_bytes_per_s(const accel_preset &p) {
    return p.mem_bytes_per_cycle * p.clock_mhz * 1e6;
}

TEST(Preset, EmulatedChipsKeepThePublicRatios) {
    accel_preset v2 = load_preset("tpu-v2"), v3 = load_preset("tpu-v3");
    EXPECT_NEAR(v3.clock_mhz / v2.clock_mhz, 940.0 / 700.0, 1e-9);
    EXPECT_EQ(v3.mxus, 2 * v2.mxus);
    EXPECT_NEAR(peak_flops(v3) / peak_flops(v2), v3_peak / v2_peak, 0.02 * v3_peak / v2_peak);
    EXPECT_NEAR(v3.link_gbytes_per_s / v2.link_gbytes_per_s, v3_link / v2_link, 1e-6);
    // memory: the 16-byte port rounds both chips, so the ratio is within 5 %
    EXPECT_NEAR(mem_bytes_per_s(v3) / mem_bytes_per_s(v2), v3_hbm / v2_hbm, 0.05 * v3_hbm / v2_hbm);
    // each chip's compute-to-memory balance (FLOP per byte) within 10 % of the public chip's
    EXPECT_NEAR(peak_flops(v2) / mem_bytes_per_s(v2), v2_peak / v2_hbm, 0.1 * v2_peak / v2_hbm);
    EXPECT_NEAR(peak_flops(v3) / mem_bytes_per_s(v3), v3_peak / v3_hbm, 0.1 * v3_peak / v3_hbm);
}

TEST(Preset, FullSizeChipsMatchThePublicFigures) {
    accel_preset v2 = load_preset("tpu-v2-full"), v3 = load_preset("tpu-v3-full");
    EXPECT_EQ(v2.array_rows, 128);
    EXPECT_EQ(v3.array_cols, 128);
    EXPECT_NEAR(peak_flops(v2), v2_peak, 0.01 * v2_peak);
    EXPECT_NEAR(peak_flops(v3), v3_peak, 0.01 * v3_peak);
    EXPECT_NEAR(mem_bytes_per_s(v2), v2_hbm, 0.01 * v2_hbm);
    EXPECT_NEAR(mem_bytes_per_s(v3), v3_hbm, 0.01 * v3_hbm);
    EXPECT_NEAR(v2.link_gbytes_per_s * 1e9, v2_link, 1e-3 * v2_link);
    EXPECT_NEAR(v3.link_gbytes_per_s * 1e9, v3_link, 1e-3 * v3_link);
}

std::string good_preset() {
    return "name t\narray_rows 4\narray_cols 4\nmxus 1\nclock_mhz 100\nmem_bytes_per_cycle 8\n"
           "act_buffer_rows 8\nacc_buffer_rows 8\nmem_mib 1\nlinks 1\nlink_gbytes_per_s 1\n"
           "link_latency_ns 0\n";
}

// Loads text as a preset file; returns the error message ("" when it loaded).
std::string load_text(const std::string &text) {
    // one file per test: ctest runs tests in parallel
    std::string path = test_dir() +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                       "_preset_test.acc";
    std::ofstream(path) << text;
    accel_preset p;
    char err[1024] = "";
    int rc = preset_load_file(path.c_str(), &p, err, sizeof err);
    std::remove(path.c_str());
    return rc == 0 ? "" : err;
}

std::string replace_line(std::string text, const std::string &key, const std::string &line) {
    size_t at = text.find(key + " ");
    size_t end = text.find('\n', at);
    return text.replace(at, end - at, line);
}

TEST(Preset, WellFormedFileLoads) {
    EXPECT_EQ(load_text(good_preset()), "");
    EXPECT_EQ(load_text("# comment\n\n" + good_preset() + "  # trailing comment\n"), "");
}

TEST(Preset, MalformedFilesNameLineAndField) {
    struct Case {
        std::string text, must_contain;
    } cases[] = {
        {good_preset() + "colour 3\n", ":13: field 'colour': unknown field"},
        {replace_line(good_preset(), "links", ""), "field 'links': missing"},
        {replace_line(good_preset(), "array_rows", "array_rows abc"),
         ":2: field 'array_rows': 'abc'"},
        {replace_line(good_preset(), "array_rows", "array_rows 0"), ":2: field 'array_rows'"},
        {replace_line(good_preset(), "mxus", "mxus 1.5"), ":4: field 'mxus': '1.5'"},
        {replace_line(good_preset(), "mem_mib", "mem_mib 1e30"), ":9: field 'mem_mib'"},
        {replace_line(good_preset(), "clock_mhz", "clock_mhz -5"), ":5: field 'clock_mhz'"},
        {replace_line(good_preset(), "mxus", "mxus 1 2"), ":4: field 'mxus': expected 'key value'"},
        {good_preset() + "mxus 2\n", ":13: field 'mxus': given twice"},
        {replace_line(good_preset(), "clock_mhz", "clock_mhz nan"), ":5: field 'clock_mhz'"},
        {"", "field 'name': missing"},
    };
    for (const Case &c : cases) {
        std::string err = load_text(c.text);
        EXPECT_NE(err.find("preset_test.acc"), std::string::npos) << err;
        EXPECT_NE(err.find(c.must_contain), std::string::npos)
            << "got: " << err << "\nwanted: " << c.must_contain;
    }
}

// Every rule the RTL needs is a file:line: field error naming it, one test per rule.
TEST(Preset, PortWidthMustBeAMultipleOfFour) {
    std::string err =
        load_text(replace_line(good_preset(), "mem_bytes_per_cycle", "mem_bytes_per_cycle 6"));
    EXPECT_NE(err.find(":6: field 'mem_bytes_per_cycle': must be a multiple of 4: a port word "
                       "carries whole fp32 accumulator values"),
              std::string::npos)
        << err;
    EXPECT_EQ(
        load_text(replace_line(good_preset(), "mem_bytes_per_cycle", "mem_bytes_per_cycle 12")), "")
        << "any multiple of 4, not only powers of two";
}

TEST(Preset, DeviceMemoryMustFitThirtyTwoBitWordAddresses) {
    std::string text = replace_line(good_preset(), "mem_bytes_per_cycle", "mem_bytes_per_cycle 4");
    std::string err = load_text(replace_line(text, "mem_mib", "mem_mib 16385"));
    EXPECT_NE(err.find(":9: field 'mem_mib': more than 2^32 port words"), std::string::npos) << err;
    EXPECT_EQ(load_text(replace_line(text, "mem_mib", "mem_mib 16384")), "") << "exactly 2^32";
}

TEST(Preset, OnChipStorageIsBounded) {
    // 4 MXUs x 128 columns x 2^17 rows x 4 B = 256 MiB of accumulators, plus the rest
    std::string text = replace_line(good_preset(), "array_cols", "array_cols 128");
    text = replace_line(text, "mxus", "mxus 4");
    std::string err = load_text(replace_line(text, "acc_buffer_rows", "acc_buffer_rows 131072"));
    EXPECT_NE(err.find(":8: field 'acc_buffer_rows': on-chip storage of 256 MiB (activations 0, "
                       "accumulators 256, arrays 0) is more than the 256 MiB"),
              std::string::npos)
        << err;
    EXPECT_EQ(load_text(replace_line(text, "acc_buffer_rows", "acc_buffer_rows 131000")), "");
    err = load_text(replace_line(good_preset(), "act_buffer_rows", "act_buffer_rows 1048576"));
    EXPECT_EQ(err, "") << "4 x 2 B x 2^20 rows = 8 MiB";
    std::string wide = replace_line(good_preset(), "array_rows", "array_rows 4096");
    wide = replace_line(replace_line(wide, "array_cols", "array_cols 4096"), "mxus", "mxus 2");
    err = load_text(wide);
    EXPECT_NE(err.find(":2: field 'array_rows': on-chip storage"), std::string::npos) << err;
}

TEST(Preset, AtMostThirtyTwoMxus) {
    EXPECT_EQ(load_text(replace_line(good_preset(), "mxus", "mxus 32")), "");
    std::string err = load_text(replace_line(good_preset(), "mxus", "mxus 33"));
    EXPECT_NE(err.find(":4: field 'mxus': '33' is not an integer in [1, 32]"), std::string::npos)
        << err;
}

TEST(Preset, MissingFileAndUnknownName) {
    accel_preset p;
    char err[1024];
    EXPECT_NE(preset_find("no-such-chip", &p, err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("no-such-chip.acc: cannot open"), std::string::npos) << err;
}

} // namespace
