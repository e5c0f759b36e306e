// The FPGA resource report (scripts/synth, docs/fpga.md): what the tiny preset's parts map to,
// counted from the cells Yosys reports, against what the RTL holds; and the report's refusals.
#include "test_json.h"
#include "test_support.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace {

bool have_yosys() {
    return std::system("command -v yosys > /dev/null 2>&1") == 0;
}

int synth(const std::string &args, const std::string &log) {
    std::string cmd = ACCPAR_SOURCE_DIR "/scripts/synth " + args + " > " + log + " 2>&1";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

} // namespace

// tiny: 4x4 PEs of one MXU, a 64-row activation buffer (4 RAMs of 64 x 16 bits, one per PE
// row) and 128-row accumulators (4 RAMs of 128 x 32 bits, one per column).
TEST(Synth, ModulesMapToTheCellsTheRtlImplies) {
    if (!have_yosys())
        GTEST_SKIP() << "Yosys is not installed";
    std::string dir = test_dir();
    ASSERT_EQ(
        synth("tiny --modules --json " + dir + "tiny.json --log " + dir + "yosys.log", dir + "log"),
        0)
        << slurp(dir + "log");
    Json r = parse_json(slurp(dir + "tiny.json"));
    ASSERT_EQ(r.kind, Json::Obj);
    const Json &pe = r["per_pe"], &all = r["resources"];
    // A PE's state is its weight buffer, its weight in use (bf16 each) and its fp32 partial
    // sum: 64 flip-flops; its bf16 significand product is one DSP slice.
    EXPECT_EQ(pe["ff"].num, 64);
    EXPECT_EQ(pe["dsp"].num, 1);
    EXPECT_GT(pe["lut"].num, 0);
    // No other part multiplies; each accumulator RAM (4 Kb) is one RAMB18, half a BRAM36.
    EXPECT_EQ(all["dsp"].num, 16);
    EXPECT_EQ(all["bram"].num, 4 * 0.5);
    EXPECT_GT(r["logic_depth"]["accel_pe"].num, 0);
    // nextpnr places and routes a PE on an iCE40 (make installs it): its three seeds' clocks,
    // the median reported
    if (std::system("command -v nextpnr-ice40 > /dev/null 2>&1") == 0) {
        const Json &pnr = r["pe_place_and_route"];
        ASSERT_EQ(pnr["fmax_mhz_seeds"].items.size(), 3u);
        std::vector<double> f;
        for (const Json &x : pnr["fmax_mhz_seeds"].items)
            f.push_back(x.num);
        std::sort(f.begin(), f.end());
        EXPECT_GT(f[0], 1);
        EXPECT_EQ(pnr["fmax_mhz"].num, f[1]);
    }
    // The largest array is at least the preset's own where the preset fits (the U250 holds it)
    EXPECT_GE(r["parts"]["Alveo U250"]["largest_square_array"].num, 4);
}

// Whole-design synthesis of a full-size preset would run for days: refused at once, one line.
TEST(Synth, RefusesWholeFullSizeDesignsAndBadOptions) {
    std::string dir = test_dir();
    EXPECT_EQ(synth("tpu-v3-full", dir + "full"), 1);
    std::string err = slurp(dir + "full");
    ASSERT_FALSE(err.empty());
    EXPECT_NE(err.find("--modules"), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << err; // one line
    EXPECT_EQ(synth("tpu-v3-full --gate-level " + dir + "net.v", dir + "gate"), 1);
    EXPECT_NE(slurp(dir + "gate").find("65536"), std::string::npos) << slurp(dir + "gate");
    EXPECT_EQ(synth("tiny --jsn x", dir + "opt"), 1);
    EXPECT_NE(slurp(dir + "opt").find("--jsn"), std::string::npos);
    EXPECT_EQ(synth("no-such-preset", dir + "preset"), 1);
    EXPECT_NE(slurp(dir + "preset").find("no-such-preset"), std::string::npos);
}
