// The plan and reproduce commands: reference grid, flags, errors, atomic JSON.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int cli_plan(int argc, char **argv);
extern "C" int cli_reproduce(int argc, char **argv);

namespace {

int run(int (*cmd)(int, char **), std::vector<std::string> args) {
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    return cmd((int)argv.size(), argv.data());
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

} // namespace

TEST(Cli, ReferenceGridOfAlexnetDiffsCleanAgainstTheReference) {
    testing::internal::CaptureStdout();
    int rc = run(cli_plan, {"plan", "--net", "Alexnet.txt", "--compat", "reference", "--strategy",
                            "all", "--format", "reference-grid"});
    std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(out, slurp(ACCPAR_TEST_DATA "/accpar-reference-alexnet.txt"));
}

TEST(Cli, BadInputGivesOneLineErrorAndNonZeroExit) {
    std::vector<std::vector<std::string>> cases = {
        {"plan", "--net", "alexnet"},
        {"plan", "--net", "alexnet", "--accels", "4xnope"},
        {"plan", "--net", "alexnet", "--accels", "0xtpu-v2"},
        {"plan", "--net", "alexnet", "--accels", "tpu-v2"},
        {"plan", "--net", "alexnet", "--accels", "2xtpu-v2", "--batch", "-3"},
        {"plan", "--net", "alexnet", "--accels", "2xtpu-v2", "--strategy", "fast"},
        {"plan", "--net", "nosuchnet", "--accels", "2xtpu-v2"},
        {"plan", "--net", "alexnet", "--accels", "2xtpu-v2", "--format", "xml"},
        {"plan", "--net", "Alexnet.txt", "--compat", "reference", "--batch", "64"},
        {"plan", "--bogus"},
        {"reproduce", "--csv"},
    };
    for (auto &c : cases) {
        testing::internal::CaptureStderr();
        int rc = run(c[0] == "plan" ? cli_plan : cli_reproduce, c);
        std::string e = testing::internal::GetCapturedStderr();
        EXPECT_NE(rc, 0) << c.back();
        ASSERT_FALSE(e.empty());
        EXPECT_EQ(e.find('\n'), e.size() - 1) << e;
    }
}

TEST(Cli, JsonIsWrittenAtomicallyWithTheRequiredFields) {
    std::string path = testing::TempDir() + "accpar_plan.json";
    remove(path.c_str());
    testing::internal::CaptureStdout();
    int rc = run(cli_plan, {"plan", "--net", "tiny-resnet", "--accels", "1xtpu-v2,2xtpu-v3",
                            "--batch", "32", "--strategy", "all", "--json", path});
    testing::internal::GetCapturedStdout();
    ASSERT_EQ(rc, 0);
    std::string j = slurp(path);
    for (const char *key :
         {"\"strategy\"", "\"levels\"", "\"alpha\"", "\"types\"", "\"predicted_step_s\"",
          "\"compute_s\"", "\"comm_s\"", "\"comm_bytes\"", "\"speedup_vs_dp\""})
        EXPECT_NE(j.find(key), std::string::npos) << key;
    EXPECT_FALSE(exists(path + ".tmp"));
    std::string bad = testing::TempDir() + "no/such/dir/x.json";
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    EXPECT_NE(run(cli_plan, {"plan", "--net", "mlp", "--accels", "2xtpu-v2", "--json", bad}), 0);
    testing::internal::GetCapturedStdout();
    testing::internal::GetCapturedStderr();
    EXPECT_FALSE(exists(bad));
}

TEST(Cli, HelpOnEachCommand) {
    testing::internal::CaptureStdout();
    EXPECT_EQ(run(cli_plan, {"plan", "--help"}), 0);
    EXPECT_EQ(run(cli_reproduce, {"reproduce", "--help"}), 0);
    std::string out = testing::internal::GetCapturedStdout();
    EXPECT_NE(out.find("usage: accpar plan"), std::string::npos);
    EXPECT_NE(out.find("usage: accpar reproduce"), std::string::npos);
}
