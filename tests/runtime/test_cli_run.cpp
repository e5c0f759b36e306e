// accpar run: flags, one-line errors, the JSON report and its atomicity.
#include "runtime_test.h"

extern "C" {
#include "array_model.h"
}

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int cli_run(int argc, char **argv);

namespace {

int run(std::vector<std::string> args) {
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    return cli_run((int)argv.size(), argv.data());
}

bool exists(const std::string &path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

std::string slurp(const std::string &path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs a bad command line: exit `status` (2: bad usage or input, 1: the run failed), exactly one
// line on stderr containing `needle`, no JSON, nothing on stdout.
void expect_usage_error(std::vector<std::string> args, const std::string &needle, int status = 2) {
    std::string json = testing::TempDir() + "bad-run.json";
    std::remove(json.c_str());
    args.insert(args.begin(), "run");
    args.push_back("--json");
    args.push_back(json);
    testing::internal::CaptureStderr();
    testing::internal::CaptureStdout();
    int rc = run(args);
    std::string out = testing::internal::GetCapturedStdout();
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(rc, status) << err;
    EXPECT_NE(err.find(needle), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
    EXPECT_FALSE(exists(json));
    EXPECT_EQ(out, "");
}

// The numbers after each "key": inside [from, to) of a JSON text.
std::vector<double> values(const std::string &j, const std::string &key, size_t from, size_t to) {
    std::vector<double> out;
    std::string k = "\"" + key + "\": ";
    for (size_t at = j.find(k, from); at < to; at = j.find(k, at + 1))
        out.push_back(std::strtod(j.c_str() + at + k.size(), nullptr));
    return out;
}

TEST(CliRun, BadSpecsAreOneLineErrors) {
    expect_usage_error({"--accels", "2xtpu-v9"}, "accpar run: --accels: unknown preset 'tpu-v9' (");
    expect_usage_error({"--accels", "2xtpu-v9"}, "tpu-v9.acc: cannot open");
    {
        // a name is looked up in the models folder only, never as a file in the working folder
        std::ofstream("tpu-v2-here")
            << slurp(std::string(ACCPAR_MODELS) + "/accelerators/tpu-v2.acc");
        expect_usage_error({"--accels", "1xtpu-v2-here"}, "unknown preset 'tpu-v2-here'");
        std::remove("tpu-v2-here");
    }
    expect_usage_error({"--accels", "0xtpu-v2"}, "--accels");
    expect_usage_error({"--accels", "4xtpu-v2", "--strategy", "dp", "--batch", "2"},
                       "field 'batch'");
    expect_usage_error({"--net", "no-such-net"}, "no-such-net");
    expect_usage_error({"--strategy", "best"}, "--strategy");
    expect_usage_error({"--fidelity", "fast"}, "--fidelity");
    expect_usage_error({"--scale", "0"}, "--scale");
    expect_usage_error({"--scale", "half"}, "--scale");
    expect_usage_error({"--batch", "0"}, "--batch");
    expect_usage_error({"--trace", "/no/such/folder"}, "--trace");
    expect_usage_error({"--net", "Alexnet.txt"}, "reference format");
    expect_usage_error({"--trace", "/proc"}, "--trace: /proc/timeline.csv.tmp: cannot create");
}

// An unwritable --json fails before the run: status 2 at once, nothing written.
TEST(CliRun, UnwritableJsonFailsFast) {
    auto t0 = std::chrono::steady_clock::now();
    testing::internal::CaptureStderr();
    testing::internal::CaptureStdout();
    int rc = run({"run", "--json", "/no/such/folder/r.json"}); // the default run (RTL) otherwise
    std::string out = testing::internal::GetCapturedStdout();
    std::string err = testing::internal::GetCapturedStderr();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(rc, 2);
    EXPECT_EQ(err, "accpar run: --json: /no/such/folder/r.json.tmp: cannot create: No such file "
                   "or directory\n");
    EXPECT_EQ(out, "");
    EXPECT_LT(s, 2.0);
}

// A device failure (out of device memory) is a failed run: status 1, one line naming the layer,
// the device and the reason.
TEST(CliRun, DeviceFailureIsStatusOne) {
    std::string preset = testing::TempDir() + "small-memory.acc";
    std::string text = slurp(std::string(ACCPAR_MODELS) + "/accelerators/tpu-v2.acc");
    size_t at = text.find("mem_mib");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, text.find('\n', at) - at, "mem_mib 1");
    std::ofstream(preset) << text;
    expect_usage_error({"--net", "mlp", "--accels", "1x" + preset + ",1xtpu-v3", "--batch", "256",
                        "--fidelity", "golden"},
                       "of device memory", 1);
    expect_usage_error({"--net", "mlp", "--accels", "1x" + preset + ",1xtpu-v3", "--batch", "256",
                        "--fidelity", "golden"},
                       "accpar run: layer fc1 ", 1);
}

TEST(CliRun, JsonReportHoldsTheResult) {
    std::string json = testing::TempDir() + "run.json";
    std::remove(json.c_str());
    testing::internal::CaptureStdout();
    int rc = run({"run", "--net", "tiny-resnet", "--accels", "1xtpu-v2,2xtpu-v3", "--batch", "4",
                  "--scale", "0.5", "--fidelity", "golden", "--json", json});
    std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("verification: passed"), std::string::npos) << out;
    EXPECT_NE(out.find("cycles: contract (golden))"), std::string::npos) << out;
    std::string j = slurp(json);
    for (const char *key :
         {"\"verified\": true", "\"simulated_step_s\"", "\"predicted_step_s\"", "\"bytes_moved\"",
          "\"predicted_bytes\"", "\"link_bytes\"", "\"devices\"", "\"model_residual\"",
          "\"cycles_check\": \"contract (golden)\"", "\"layers\""})
        EXPECT_NE(j.find(key), std::string::npos) << key << "\n" << j;
    // per-device cycles: the closed form of the plan's shapes, planned here the way run plans
    static accel_array a;
    char err[1024];
    net raw{}, g{};
    plan p{};
    ASSERT_EQ(accel_array_parse("1xtpu-v2,2xtpu-v3", &a, err, sizeof err), 0) << err;
    ASSERT_EQ(array_model_select(&a, nullptr, nullptr, err, sizeof err), 0) << err;
    ASSERT_EQ(net_find("tiny-resnet", &raw, err, sizeof err), 0) << err;
    ASSERT_EQ(net_scale(&raw, 0.5, 0.5, &g, err, sizeof err), 0) << err;
    plan_options po{STRATEGY_ACCPAR, 4, 0};
    ASSERT_EQ(plan_make(&g, &a, &po, &p, err, sizeof err), 0) << err;
    size_t devices = j.find("\"devices\""), layers = j.find("\"layers\"");
    std::vector<double> cycles = values(j, "cycles", devices, layers);
    std::vector<double> contract = values(j, "contract_cycles", devices, layers);
    ASSERT_EQ(cycles.size(), 3u) << j;
    ASSERT_EQ(contract.size(), 3u) << j;
    for (int d = 0; d < 3; d++) {
        uint64_t want = planned_cycles(p, a, d, -1);
        EXPECT_GT(want, 0u);
        EXPECT_EQ((uint64_t)cycles[(size_t)d], want) << "device " << d;
        EXPECT_EQ((uint64_t)contract[(size_t)d], want) << "device " << d;
    }
    plan_free(&p);
    net_free(&raw);
    net_free(&g);
}

// The planner's selected model against the counters: with the peak model its per-device
// residual is large and shown, while numerics, bytes and the cycle contract still verify.
TEST(CliRun, PeakModelShowsItsResidualAndStillVerifies) {
    std::string json = testing::TempDir() + "peak.json";
    testing::internal::CaptureStdout();
    int rc = run({"run", "--net", "mlp", "--accels", "1xtpu-v2,1xtpu-v3", "--batch", "8", "--scale",
                  "0.25", "--fidelity", "replay", "--compute-model", "peak", "--json", json});
    std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("cycles: counters = contract)"), std::string::npos) << out;
    EXPECT_NE(out.find("compute model of the plan and prediction: peak"), std::string::npos) << out;
    std::string j = slurp(json);
    EXPECT_NE(j.find("\"cycles_check\": \"counters = contract\""), std::string::npos) << j;
    std::vector<double> cycles = values(j, "cycles", 0, j.find("\"layers\""));
    std::vector<double> model = values(j, "model_cycles", 0, std::string::npos);
    std::vector<double> residual = values(j, "model_residual", 0, std::string::npos);
    ASSERT_EQ(residual.size(), 2u) << j;
    for (size_t d = 0; d < 2; d++) {
        EXPECT_GT(residual[d], 0.2) << j; // the peak rate ignores fill, drain and stalls
        EXPECT_NEAR(residual[d], (cycles[d] - model[d]) / model[d], 1e-9);
    }
}

TEST(CliRun, TraceWritesATimeline) {
    std::string dir = testing::TempDir();
    std::remove((dir + "timeline.csv").c_str());
    testing::internal::CaptureStdout();
    int rc = run({"run", "--net", "mlp", "--accels", "2xtpu-v3", "--batch", "4", "--scale", "0.25",
                  "--fidelity", "golden", "--trace", dir});
    testing::internal::GetCapturedStdout();
    EXPECT_EQ(rc, 0);
    std::string csv = slurp(dir + "timeline.csv");
    EXPECT_EQ(csv.rfind("what,node,level,start_s,end_s,bytes\n", 0), 0u);
    EXPECT_NE(csv.find("forward,fc1,"), std::string::npos) << csv;
}

TEST(CliRun, HelpExitsZero) {
    testing::internal::CaptureStdout();
    EXPECT_EQ(run({"run", "--help"}), 0);
    EXPECT_NE(testing::internal::GetCapturedStdout().find("--fidelity"), std::string::npos);
}

} // namespace
