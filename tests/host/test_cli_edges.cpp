// The command line at its edges, as a careless user meets it: inputs that are not files, outputs
// that are inputs, sets of outputs that cannot all be written, a killed command, odd paths, a
// copied tree, oversized waveforms. Every case is refused at once or leaves all or nothing.
#include "cli.h"
#include "rtl_available.h"
#include "test_support.h"

extern "C" {
#include "calibration.h"
#include "models_dir.h"
}

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

extern "C" int cli_reproduce(int argc, char **argv);

std::string model_file(const std::string &sub) {
    return std::string(models_dir()) + "/" + sub;
}

// A copy of a shipped file in the test's folder.
std::string copy_of(const std::string &sub, const std::string &name) {
    std::string path = test_dir() + name;
    write_text(path, slurp(model_file(sub)));
    return path;
}

// Status, stdout and stderr of the accpar program run by a shell (args quoted by the caller).
struct proc_output {
    int status;
    std::string out, err;
};

proc_output accpar_program(const std::string &program, const std::string &args,
                           const std::string &env = "") {
    std::string dir = test_dir(), out = dir + "stdout.txt", err = dir + "stderr.txt";
    std::string cmd = env + " '" + program + "' " + args + " >'" + out + "' 2>'" + err + "'";
    int rc = std::system(cmd.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
}

// A shapes file for calibrate with enough points for its fit (a third is held out).
void write_shapes(const std::string &path) {
    std::string text;
    for (int m : {3, 8, 17})
        for (int k : {4, 9})
            for (int n : {2, 5})
                text += std::to_string(m) + " " + std::to_string(k) + " " + std::to_string(n) +
                        (m == 8 ? " accumulate\n" : "\n");
    write_text(path, text);
}

TEST(Edges, FifoInputsAreRefusedAtOnce) {
    std::string fifo = test_dir() + "fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    const struct {
        int (*fn)(int, char **);
        std::vector<std::string> args;
    } cases[] = {
        {cli_gemm, {"gemm", "--accel", fifo}},
        {cli_plan, {"plan", "--net", fifo, "--accels", "1xtpu-v2,1xtpu-v3"}},
        {cli_plan, {"plan", "--net", "mlp", "--accels", "1xtpu-v2", "--calibration", fifo}},
        {cli_calibrate, {"calibrate", "--accel", "tiny", "--shapes", fifo}},
        {cli_run, {"run", "--plan", fifo}},
        {cli_run, {"run", "--net", fifo, "--fidelity", "golden"}},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.args[0] + " " + c.args[1]);
        EXPECT_TRUE(one_line_error(cli_call(c.fn, c.args), 2, fifo + ": not a regular file"));
    }
}

// An output naming an input file is refused before the work, and the input stays as it was.
TEST(Edges, OutputOnAnInputIsRefused) {
    std::string acc = copy_of("accelerators/tiny.acc", "mine.acc");
    std::string net = copy_of("networks/mlp.net", "mine.net");
    std::string acc_text = slurp(acc), net_text = slurp(net);
    const struct {
        int (*fn)(int, char **);
        std::vector<std::string> args;
        std::string victim;
    } cases[] = {
        {cli_gemm, {"gemm", "--accel", acc, "--backend", "golden", "--json", acc}, acc},
        {cli_plan, {"plan", "--net", net, "--accels", "1xtpu-v2,1xtpu-v3", "--json", net}, net},
        {cli_plan, {"plan", "--net", net, "--accels", "1xtpu-v2,1xtpu-v3", "--out", net}, net},
        {cli_calibrate, {"calibrate", "--accel", acc, "--out", acc}, acc},
        {cli_run, {"run", "--net", net, "--fidelity", "golden", "--json", net}, net},
        // the same file by another name
        {cli_gemm,
         {"gemm", "--accel", acc, "--backend", "golden", "--json", test_dir() + "./mine.acc"},
         acc},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.args[0] + " ... " + c.args.back());
        cli_output o = cli_call(c.fn, c.args);
        EXPECT_TRUE(one_line_error(o, 2, "refusing to overwrite it"));
        EXPECT_EQ(o.out, "") << "refused before the work";
    }
    EXPECT_EQ(slurp(acc), acc_text);
    EXPECT_EQ(slurp(net), net_text);
    EXPECT_TRUE(partials_in(test_dir()).empty());
}

TEST(Edges, UsersOwnTemporaryNamesAreUntouched) {
    std::string json = test_dir() + "out.json";
    write_text(json + ".tmp", "mine");
    write_text(test_dir() + ".partial-XXXXXX-out.json", "mine too");
    cli_output o = cli_call(cli_gemm, {"gemm", "--accel", "tiny", "--backend", "golden", "--m", "4",
                                       "--k", "4", "--n", "4", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_NE(slurp(json).find("\"preset\""), std::string::npos);
    EXPECT_EQ(slurp(json + ".tmp"), "mine");
    EXPECT_EQ(slurp(test_dir() + ".partial-XXXXXX-out.json"), "mine too");
}

// One output that cannot be written fails the command before the work, and none is written.
TEST(Edges, UnwritableOutputInASetWritesNothing) {
    std::string d = test_dir();
    std::string shapes = d + "few.shapes";
    write_shapes(shapes);
    const struct {
        int (*fn)(int, char **);
        std::vector<std::string> args;
        std::string needle;
    } cases[] = {
        {cli_reproduce,
         {"reproduce", "--csv", d + "ok.csv", "--json", "/nonexistent/x.json", "--plot",
          d + "ok.svg"},
         "--json: /nonexistent/x.json: cannot create a file in '/nonexistent'"},
        {cli_calibrate,
         {"calibrate", "--accel", "tiny", "--shapes", shapes, "--out", d + "ok.cal", "--json",
          "/nonexistent/x.json"},
         "--json: /nonexistent/x.json: cannot create"},
        {cli_plan,
         {"plan", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3", "--out", d + "ok.plan", "--json",
          "/nonexistent/x.json"},
         "--json: /nonexistent/x.json"},
        {cli_gemm, {"gemm", "--accel", "tiny", "--json", ""}, "--json: '': not a file name"},
        {cli_gemm, {"gemm", "--accel", "tiny", "--json", "."}, "--json: .: is a folder"},
        {cli_gemm, {"gemm", "--accel", "tiny", "--json", d}, "is a folder"},
        {cli_calibrate,
         {"calibrate", "--accel", "tiny", "--shapes", shapes, "--out", d},
         "--out: " + d + ": is a folder"},
        {cli_gemm,
         {"gemm", "--accel", "tiny", "--json", d + "same", "--trace", d + "same"},
         "--trace: " + d + "same: is also the output " + d + "same"},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.args[0] + " " + c.needle);
        cli_output o = cli_call(c.fn, c.args);
        EXPECT_TRUE(one_line_error(o, 2, c.needle));
        EXPECT_EQ(o.out, "") << "failed before the work";
    }
    for (const char *name : {"ok.csv", "ok.svg", "ok.cal", "ok.plan", "same"})
        EXPECT_FALSE(exists(d + name)) << name;
    EXPECT_TRUE(partials_in(d).empty());
}

// SIGTERM while a run writes its waveforms: the process ends by the signal and leaves neither
// temporaries nor a partial output set.
TEST(Edges, TerminatedRunLeavesNoTemporaries) {
    REQUIRE_RTL("1xtpu-v2,1xtpu-v3");
    std::string dir = test_dir() + "trace", json = test_dir() + "r.json";
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execl(ACCPAR_BINARY, ACCPAR_BINARY, "run", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3",
              "--batch", "64", "--trace", dir.c_str(), "--json", json.c_str(), (char *)nullptr);
        _exit(127);
    }
    bool seen = false; // the temporaries exist while the run is under way
    for (int i = 0; i < 3000 && !seen; i++) {
        seen = partials_in(dir).size() >= 2;
        if (!seen)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // into the emulation
    kill(pid, SIGTERM);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(seen) << "the run never created its temporaries";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
    EXPECT_TRUE(partials_in(dir).empty());
    EXPECT_TRUE(partials_in(test_dir()).empty());
    EXPECT_FALSE(exists(json));
    EXPECT_FALSE(exists(dir + "/timeline.csv"));
}

// A newline (or any control byte) in a path given to calibrate is escaped in the header it writes:
// the file stays one comment line per header line and loads.
TEST(Edges, NewlineInAPathIsEscapedInTheCalibration) {
    std::string odd = test_dir() + "a\nb";
    fs::create_directories(odd);
    std::string acc = odd + "/tiny.acc";
    write_text(acc, slurp(model_file("accelerators/tiny.acc")));
    std::string shapes = test_dir() + "few.shapes", out = test_dir() + "odd.cal";
    write_shapes(shapes);
    REQUIRE_RTL("1xtiny");
    cli_output o = cli_call(cli_calibrate, {"calibrate", "--accel", acc, "--shapes", shapes,
                                            "--backend", "replay", "--out", out});
    ASSERT_NE(o.rc, 2) << o.err;
    std::string text = slurp(out);
    EXPECT_NE(text.find("a\\x0Ab/tiny.acc"), std::string::npos) << text;
    calibration c;
    char err[1024];
    EXPECT_EQ(calibration_load(out.c_str(), &c, err, sizeof err), 0) << err;
    calibration_free(&c);
}

// The default --out of calibrate is PRESET.cal in the current folder, never a tracked file.
TEST(Edges, CalibrateDefaultsToTheCurrentFolder) {
    std::string shapes = test_dir() + "few.shapes";
    write_shapes(shapes);
    std::string shipped = model_file("calibration/tiny.cal"), before = slurp(shipped);
    REQUIRE_RTL("1xtiny");
    std::string here = fs::current_path();
    fs::current_path(test_dir());
    cli_output o = cli_call(
        cli_calibrate, {"calibrate", "--accel", "tiny", "--shapes", shapes, "--backend", "replay"});
    fs::current_path(here);
    EXPECT_NE(o.rc, 2) << o.err;
    EXPECT_TRUE(exists(test_dir() + "tiny.cal"));
    EXPECT_EQ(slurp(shipped), before);
}

// A copied checkout (build/accpar beside models/) and an installed tree (bin/, share/accpar/)
// read their own models folder, not the one the program was built from.
TEST(Edges, CopiedAndInstalledTreesReadTheirOwnModels) {
    const struct {
        const char *bin, *models;
    } layouts[] = {{"checkout/build", "checkout/models"},
                   {"prefix/bin", "prefix/share/accpar/models"}};
    for (const auto &l : layouts) {
        SCOPED_TRACE(l.bin);
        std::string bin = test_dir() + l.bin, models = test_dir() + l.models;
        fs::create_directories(bin);
        fs::create_directories(fs::path(models).parent_path());
        fs::copy(models_dir(), models, fs::copy_options::recursive);
        fs::copy_file(ACCPAR_BINARY, bin + "/accpar");
        // a preset only the copy has
        write_text(models + "/accelerators/only-here.acc",
                   replaced(slurp(models + "/accelerators/tiny.acc"), "tiny\n", "only-here\n"));
        const std::string gemm = "gemm --accel only-here --backend golden --m 4 --k 4 --n 4";
        proc_output copy = accpar_program(bin + "/accpar", gemm, "env -u ACCPAR_MODELS_DIR");
        EXPECT_EQ(copy.status, 0) << copy.err;
        proc_output original = accpar_program(ACCPAR_BINARY, gemm, "env -u ACCPAR_MODELS_DIR");
        EXPECT_EQ(original.status, 2);
        EXPECT_NE(original.err.find("only-here.acc: cannot open"), std::string::npos)
            << original.err;
        // the variable still overrides
        proc_output over = accpar_program(bin + "/accpar", gemm,
                                          "ACCPAR_MODELS_DIR='" + std::string(models_dir()) + "'");
        EXPECT_EQ(over.status, 2);
    }
}

// --trace refuses waveforms estimated above --trace-limit-mib before the run; under it, the
// estimate is an upper estimate of the bytes written, within 4x.
TEST(Edges, TraceSizeIsEstimatedAndLimited) {
    REQUIRE_RTL("1xtpu-v2,1xtpu-v3");
    std::string dir = test_dir() + "new/", json = test_dir() + "r.json";
    std::vector<std::string> args = {"run",     "--net", "mlp",     "--accels", "1xtpu-v2,1xtpu-v3",
                                     "--batch", "8",     "--trace", dir};
    std::vector<std::string> limited = args;
    limited.insert(limited.end(), {"--trace-limit-mib", "1"});
    cli_output o = cli_call(cli_run, limited);
    EXPECT_TRUE(one_line_error(o, 2, "--trace: the waveforms would take about"));
    EXPECT_NE(o.err.find("above the limit of 1 MiB (--trace-limit-mib)"), std::string::npos);
    EXPECT_EQ(o.out, "");
    args.insert(args.end(), {"--json", json});
    o = cli_call(cli_run, args);
    ASSERT_EQ(o.rc, 0) << o.err;
    uint64_t written = 0;
    for (const auto &e : fs::directory_iterator(dir))
        if (e.path().extension() == ".vcd")
            written += fs::file_size(e.path());
    std::string j = slurp(json);
    size_t at = j.find("\"trace_estimate_bytes\":");
    ASSERT_NE(at, std::string::npos);
    double estimate = std::stod(j.substr(at + 23));
    EXPECT_GE(estimate, (double)written);
    EXPECT_LE(estimate, 4.0 * (double)written);
    // a single GEMM on the smallest array, where the estimate is tightest
    std::string vcd = test_dir() + "g.vcd";
    o = cli_call(cli_gemm, {"gemm", "--accel", "tiny", "--m", "40", "--k", "24", "--n", "16",
                            "--trace", vcd});
    ASSERT_EQ(o.rc, 0) << o.err;
    size_t c = o.out.find("cycles");
    ASSERT_NE(c, std::string::npos);
    double cycles = std::stod(o.out.substr(c + 6));
    EXPECT_GE(cycles * (1024 + 16 * 8), (double)fs::file_size(vcd)) << "tiny: 8-byte port";
    o = cli_call(cli_gemm, {"gemm", "--accel", "tiny", "--m", "40", "--k", "24", "--n", "16",
                            "--trace", vcd + "2.vcd", "--trace-limit-mib", "0"});
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_EQ(fs::file_size(vcd), fs::file_size(vcd + "2.vcd")) << "0: no limit";
}

} // namespace
