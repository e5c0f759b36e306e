// accpar run: flags, one-line errors, the JSON report and its atomicity.
#include <gtest/gtest.h>

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

// Runs a bad command line: exit 2, exactly one line on stderr containing `needle`, no JSON.
void expect_usage_error(std::vector<std::string> args, const std::string &needle) {
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
    EXPECT_EQ(rc, 2) << err;
    EXPECT_NE(err.find(needle), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
    EXPECT_FALSE(exists(json));
    EXPECT_EQ(out, "");
}

TEST(CliRun, BadSpecsAreOneLineErrors) {
    expect_usage_error({"--accels", "2xtpu-v9"}, "tpu-v9");
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
    std::string j = slurp(json);
    for (const char *key :
         {"\"verified\": true", "\"simulated_step_s\"", "\"predicted_step_s\"", "\"bytes_moved\"",
          "\"predicted_bytes\"", "\"devices\"", "\"cycles\"", "\"layers\""})
        EXPECT_NE(j.find(key), std::string::npos) << key << "\n" << j;
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
