// RTL models built on demand (sim/rtl/model_cache.c): a shape never seen before runs on the RTL
// bit-exact to golden with the contract's cycles; the cache hits, misses after an RTL edit,
// builds once for concurrent commands, rebuilds a corrupt entry, refuses a folder it cannot
// write, honours --no-build, and reports a failed build's first error and log. Each test uses a
// cache folder of its own, through the accpar program (a new process sees only the disk).
#include "cycle_oracle.h"
#include "test_json.h"
#include "test_support.h"
#include "test_util.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct proc_output {
    int status;
    std::string out, err;
};

// Runs the accpar program with args (shell words, quoted here) and the environment given.
proc_output accpar(const std::string &args, const std::string &env = "") {
    std::string dir = test_dir(), out = dir + "stdout.txt", err = dir + "stderr.txt";
    std::string cmd = env + " '" ACCPAR_BINARY "' " + args + " >'" + out + "' 2>'" + err + "'";
    int rc = std::system(cmd.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
}

int count(const std::string &text, const std::string &what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        n++;
    return n;
}

// The model folders in a cache.
int models_in(const std::string &cache) {
    int n = 0;
    for (const auto &e : fs::directory_iterator(cache))
        n += e.is_directory() && fs::exists(e.path() / "manifest");
    return n;
}

// These tests build models in caches of their own; with ACCPAR_NO_BUILD=1 (a run that must not
// build) they skip.
#define REQUIRE_BUILDS()                                                                           \
    do {                                                                                           \
        const char *nb = std::getenv("ACCPAR_NO_BUILD");                                           \
        if (nb && std::string(nb) == "1")                                                          \
            GTEST_SKIP() << "ACCPAR_NO_BUILD=1: this test builds RTL models";                      \
    } while (0)

// A preset that no configuration ever built: odd array, three MXUs, a 12-byte port.
TEST(ModelCache, NewShapeRunsOnTheRtlBitExactWithTheContract) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), preset = dir + "odd.acc", json = dir + "g.json";
    write_text(preset, "name odd\narray_rows 12\narray_cols 20\nmxus 3\nclock_mhz 500\n"
                       "mem_bytes_per_cycle 12\nact_buffer_rows 40\nacc_buffer_rows 96\n"
                       "mem_mib 64\nlinks 1\nlink_gbytes_per_s 1\nlink_latency_ns 10\n");
    for (const char *shape : {"--m 50 --k 30 --n 70", "--m 7 --k 45 --n 130 --accumulate",
                              "--m 97 --k 13 --n 21 --trans-a --trans-b"}) {
        proc_output o = accpar("gemm --accel " + preset + " " + shape + " --model-cache " + dir +
                               "cache --json " + json);
        ASSERT_EQ(o.status, 0) << o.out << o.err;
        Json j = parse_json(slurp(json));
        EXPECT_TRUE(j["bit_exact"].boolean) << shape;
        EXPECT_TRUE(j["cycles_match"].boolean) << shape;
        EXPECT_TRUE(j["blas_within_bound"].boolean) << shape;
        accel_preset p = load_preset(preset);
        std::istringstream in(shape);
        std::string flag;
        int64_t m = 0, k = 0, n = 0;
        in >> flag >> m >> flag >> k >> flag >> n;
        EXPECT_EQ(j["cycles"].num,
                  (double)oracle_gemm_cycles(p, m, k, n,
                                             std::string(shape).find("acc") != std::string::npos)
                      .total)
            << shape;
    }
    EXPECT_EQ(models_in(dir + "cache"), 1);
}

TEST(ModelCache, HitsThenMissesAfterAnRtlEdit) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), cache = dir + "cache", rtl = dir + "rtl";
    proc_output first = accpar("models build tiny --model-cache " + cache);
    ASSERT_EQ(first.status, 0) << first.err;
    EXPECT_EQ(count(first.err, "accpar: building RTL model 4x4x1"), 1) << first.err;
    proc_output again = accpar("gemm --accel tiny --m 5 --k 5 --n 5 --model-cache " + cache);
    ASSERT_EQ(again.status, 0) << again.err;
    EXPECT_EQ(count(again.err, "building"), 0) << "a hit builds nothing: " << again.err;
    // a copy of the RTL whose STORE takes one cycle more: a new model, and the contract fails
    fs::copy(ACCPAR_SOURCE_DIR "/rtl", rtl);
    std::string top = slurp(rtl + "/accel_top.sv");
    write_text(rtl + "/accel_top.sv",
               replaced(top, "else if (op == accel_pkg::OP_STORE) last_cyc = words;",
                        "else if (op == accel_pkg::OP_STORE) last_cyc = words + 1;"));
    proc_output edited = accpar("gemm --accel tiny --m 5 --k 5 --n 5 --model-cache " + cache,
                                "ACCPAR_RTL_DIR='" + rtl + "'");
    EXPECT_EQ(count(edited.err, "accpar: building RTL model 4x4x1"), 1) << edited.err;
    EXPECT_EQ(edited.status, 1) << "the edited RTL breaks the cycle contract: " << edited.out;
    EXPECT_NE(edited.out.find("cycles"), std::string::npos) << edited.out;
    EXPECT_EQ(models_in(cache), 2);
    proc_output list = accpar("models list --model-cache " + cache);
    EXPECT_EQ(count(list.out, "4x4x1"), 2) << list.out;
    EXPECT_EQ(count(list.out, "stale (other RTL or tools)"), 1) << list.out;
    proc_output clean = accpar("models clean --stale --model-cache " + cache);
    EXPECT_EQ(clean.status, 0) << clean.err;
    EXPECT_EQ(models_in(cache), 1);
}

TEST(ModelCache, ConcurrentCommandsBuildOnce) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), cache = dir + "cache";
    std::string cmd = "'" ACCPAR_BINARY "' models build tiny --model-cache '" + cache + "'";
    std::string both =
        "(" + cmd + " 2>'" + dir + "a.txt' & " + cmd + " 2>'" + dir + "b.txt' & wait) >/dev/null";
    ASSERT_EQ(std::system(both.c_str()), 0);
    std::string err = slurp(dir + "a.txt") + slurp(dir + "b.txt");
    EXPECT_EQ(count(err, "accpar: building RTL model 4x4x1"), 1) << err;
    EXPECT_EQ(models_in(cache), 1);
    EXPECT_TRUE(fs::is_empty(cache + "/tmp")) << "no build leftovers";
}

TEST(ModelCache, KilledBuildLeavesNothingToLoad) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), cache = dir + "cache";
    std::string cmd = "'" ACCPAR_BINARY "' models build tiny --model-cache '" + cache + "'";
    std::string killed = "(" + cmd + " 2>/dev/null & pid=$!; sleep 3; kill -9 $pid; wait $pid)";
    std::system(killed.c_str());
    EXPECT_EQ(models_in(cache), 0);
    EXPECT_FALSE(fs::is_empty(cache + "/tmp")) << "the build was under way when killed";
    proc_output o = accpar("gemm --accel tiny --m 3 --k 3 --n 3 --no-build --model-cache " + cache);
    EXPECT_EQ(o.status, 2) << "a killed build leaves no model: " << o.err;
    ASSERT_EQ(accpar("models clean --model-cache " + cache).status, 0);
    EXPECT_TRUE(fs::is_empty(cache + "/tmp")) << "clean removes what the killed build left";
}

// The model's identity covers the Verilator version: a Verilator that answers differently
// (here a wrapper whose --version changes) makes the cached model stale, though Verilator's
// answers are remembered between commands.
TEST(ModelCache, OtherVerilatorIsAMiss) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), cache = dir + "cache", wrapper = dir + "verilator";
    auto write_wrapper = [&](const std::string &version) {
        write_text(wrapper, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo '" + version +
                                "'; else exec verilator \"$@\"; fi\n");
        fs::permissions(wrapper, fs::perms::owner_all);
    };
    write_wrapper("Verilator 5.006 as tested");
    std::string env = "ACCPAR_VERILATOR='" + wrapper + "'";
    ASSERT_EQ(accpar("models build tiny --model-cache " + cache, env).status, 0);
    EXPECT_EQ(count(accpar("models list --model-cache " + cache, env).out, "current"), 1);
    write_wrapper("Verilator 5.006 as upgraded");
    proc_output list = accpar("models list --model-cache " + cache, env);
    EXPECT_EQ(count(list.out, "stale (other RTL or tools)"), 1) << list.out;
    EXPECT_EQ(count(list.out, "current"), 0) << list.out;
}

TEST(ModelCache, CorruptEntryIsDetectedAndRebuilt) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), cache = dir + "cache";
    ASSERT_EQ(accpar("models build tiny --model-cache " + cache).status, 0);
    for (const auto &e : fs::directory_iterator(cache))
        if (fs::exists(e.path() / "model.so"))
            fs::resize_file(e.path() / "model.so", fs::file_size(e.path() / "model.so") / 2);
    proc_output o = accpar("gemm --accel tiny --m 3 --k 3 --n 3 --model-cache " + cache);
    EXPECT_EQ(o.status, 0) << o.out << o.err;
    EXPECT_EQ(count(o.err, "is corrupt; rebuilding it"), 1) << o.err;
    EXPECT_EQ(count(o.err, "accpar: building RTL model 4x4x1"), 1) << o.err;
}

TEST(ModelCache, UnwritableCacheIsAClearError) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), file = dir + "not-a-folder";
    write_text(file, "x");
    for (const std::string &cache : {file + "/cache", std::string("/proc/accpar-cache")}) {
        proc_output o = accpar("gemm --accel tiny --m 3 --k 3 --n 3 --model-cache " + cache);
        EXPECT_EQ(o.status, 2) << o.err;
        EXPECT_NE(o.err.find("model cache " + cache + ": cannot create"), std::string::npos)
            << o.err;
        EXPECT_EQ(count(o.err, "\n"), 1) << o.err;
    }
}

TEST(ModelCache, NoBuildRefusesAMissingModel) {
    std::string cache = test_dir() + "cache";
    proc_output o = accpar("gemm --accel tiny --m 3 --k 3 --n 3 --no-build --model-cache " + cache);
    EXPECT_EQ(o.status, 2);
    EXPECT_NE(o.err.find("no RTL model 4x4x1"), std::string::npos) << o.err;
    EXPECT_EQ(count(o.err, "building"), 0) << o.err;
    proc_output env =
        accpar("gemm --accel tiny --m 3 --k 3 --n 3 --model-cache " + cache, "ACCPAR_NO_BUILD=1");
    EXPECT_EQ(env.status, 2) << env.err;
}

TEST(ModelCache, FailedBuildNamesItsFirstErrorAndLog) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), cache = dir + "cache", rtl = dir + "rtl";
    fs::copy(ACCPAR_SOURCE_DIR "/rtl", rtl);
    std::string top = slurp(rtl + "/accel_top.sv");
    write_text(rtl + "/accel_top.sv", replaced(top, "assign idle = !active;", "assign idle = ;"));
    proc_output o = accpar("gemm --accel tiny --m 3 --k 3 --n 3 --model-cache " + cache,
                           "ACCPAR_RTL_DIR='" + rtl + "'");
    EXPECT_EQ(o.status, 2);
    std::string last = o.err.substr(o.err.rfind("accpar gemm: "));
    EXPECT_NE(last.find("building RTL model 4x4x1: Verilator failed: %Error"), std::string::npos)
        << last;
    size_t log = last.find("(log: ");
    ASSERT_NE(log, std::string::npos) << last;
    std::string path = last.substr(log + 6, last.find(')', log) - log - 6);
    EXPECT_NE(slurp(path).find("%Error"), std::string::npos) << path;
    EXPECT_EQ(models_in(cache), 0);
    EXPECT_TRUE(fs::is_empty(cache + "/tmp"));
}

} // namespace

namespace {

// The model folders' replay-timings files in a cache.
std::vector<std::string> timing_files(const std::string &cache) {
    std::vector<std::string> out;
    for (const auto &e : fs::directory_iterator(cache))
        if (fs::exists(e.path() / "replay-timings"))
            out.push_back((e.path() / "replay-timings").string());
    return out;
}

// Replay timings are kept with the model they were measured on: the first replay command
// measures and writes them; a later process replays from the file (a timing edited there shows
// in its cycles, once per command); a damaged file is ignored, measured anew and rewritten.
TEST(ModelCache, ReplayTimingsAreKeptWithTheModel) {
    REQUIRE_BUILDS();
    std::string dir = test_dir(), cache = dir + "cache", json = dir + "g.json";
    std::string gemm = "gemm --accel tiny --m 40 --k 30 --n 20 --backend replay --model-cache " +
                       cache + " --json " + json;
    proc_output first = accpar(gemm);
    ASSERT_EQ(first.status, 0) << first.out << first.err;
    Json j = parse_json(slurp(json));
    const double cycles = j["cycles"].num, commands = j["commands"].num;
    EXPECT_TRUE(j["cycles_match"].boolean);
    std::vector<std::string> files = timing_files(cache);
    ASSERT_EQ(files.size(), 1u);
    const std::string measured = slurp(files[0]);
    std::istringstream lines(measured);
    std::string line, edited;
    std::getline(lines, line);
    edited = line + "\n";
    int shapes = 0;
    for (; std::getline(lines, line); shapes++) {
        std::istringstream f(line);
        unsigned long long v[9];
        for (auto &x : v)
            f >> x;
        EXPECT_EQ(v[4], v[5] + v[6] + v[7]) << line;
        v[4] += 7;
        v[5] += 7;
        for (int i = 0; i < 9; i++)
            edited += std::to_string(v[i]) + (i < 8 ? " " : "\n");
    }
    EXPECT_GE(shapes, 4) << measured;
    write_text(files[0], edited);
    proc_output replayed = accpar(gemm);
    EXPECT_EQ(replayed.status, 1) << "edited timings break the contract: " << replayed.out;
    EXPECT_EQ(parse_json(slurp(json))["cycles"].num, cycles + 7 * commands);
    write_text(files[0], "not a timings file\n");
    proc_output remeasured = accpar(gemm);
    EXPECT_EQ(remeasured.status, 0) << remeasured.out << remeasured.err;
    EXPECT_EQ(parse_json(slurp(json))["cycles"].num, cycles);
    EXPECT_EQ(slurp(files[0]), measured);
}

} // namespace
