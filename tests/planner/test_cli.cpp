// The plan and reproduce commands: reference grid, flags, errors, atomic JSON.
#include "compat_ref.h"
#include "test_json.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" {
#include "models_dir.h"
}

extern "C" int cli_plan(int argc, char **argv);
extern "C" int cli_reproduce(int argc, char **argv);
extern "C" int cli_net(int argc, char **argv);

namespace {

int run(int (*cmd)(int, char **), std::vector<std::string> args) {
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    return cmd((int)argv.size(), argv.data());
}

std::string write_file(const std::string &name, const std::string &text) {
    std::string path = test_dir() + name;
    FILE *f = fopen(path.c_str(), "wb");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
    return path;
}

std::vector<std::string> lines(const std::string &text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string line; std::getline(ss, line);)
        out.push_back(line);
    return out;
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
        {"plan", "--net", "alexnet", "--accels", "2xtpu-v2", "--batch", "1e3"},
        {"plan", "--net", "alexnet", "--accels", "2xtpu-v2", "--strategy", "fast"},
        {"plan", "--net", "nosuchnet", "--accels", "2xtpu-v2"},
        {"plan", "--net", "alexnet", "--accels", "2xtpu-v2", "--format", "xml"},
        {"plan", "--net", "alexnet", "--accels", "64xtpu-v2", "--batch", "8"},
        {"plan", "--net", "Alexnet.txt", "--compat", "reference", "--batch", "64"},
        {"plan", "--net", "Alexnet.txt", "--compat", "reference", "--accels", "2xtpu-v2"},
        {"plan", "--net", "Alexnet.txt", "--compat", "other"},
        {"plan", "--net", "alexnet", "--compat", "reference"},
        {"plan", "--bogus"},
        {"reproduce", "--csv"},
    };
    for (auto &c : cases) {
        cli_output o = cli_call(c[0] == "plan" ? cli_plan : cli_reproduce, c);
        EXPECT_EQ(o.rc, 2) << c.back();
        EXPECT_EQ(o.out, "") << c.back();
        ASSERT_FALSE(o.err.empty());
        EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;
    }
}

// Malformed network files, through the command: exit status 2, one line on stderr naming the
// file, nothing on stdout, in both modes.
TEST(Cli, MalformedFilesExitWithStatusTwoAndOneLine) {
    const std::string in = "input x c=3 h=8 w=8\n";
    std::string twelve = in;
    for (int i = 0; i < 12; i++)
        twelve += "conv c" + std::to_string(i) + " in=x cout=4 k=1\n";
    for (int i = 0; i < 12; i++)
        for (int j = i + 1; j < 12; j++)
            twelve += "add a" + std::to_string(i) + "_" + std::to_string(j) + " in=c" +
                      std::to_string(i) + ",c" + std::to_string(j) + "\n";
    struct Case {
        std::string name, text;
    } cases[] = {
        {"bad_empty.net", ""},
        {"bad_trunc.net", in + "conv c in=x cout=4 k="},
        {"bad_neg.net", in + "conv c in=x cout=-4 k=3\nfc f in=c out=2\n"},
        {"bad_cycle.net", in + "fc a in=b out=2\nfc b in=a out=2\n"},
        {"bad_kind.net", in + "pool p in=x\n"},
        {"bad_huge.net", in + "fc a in=x out=99999999999999999999\n"},
        {"bad_pad.net", in + "conv c in=x cout=4 k=3 pad=1024\n"},
        {"bad_nul.net", in + std::string("fc a in=x out=2\0\n", 17)},
        {"bad_wide.net", twelve},
        {"bad_empty.txt", ""},
        {"bad_trunc.txt", "num_layers 1\nfc FC\nin_ch 4\n"},
        {"bad_expo.txt", "num_layers 1\nfc FC\nin_ch 1e3\nout_ch 2\n"},
        {"bad_mac.txt", "num_layers 1\nf FC\nin_ch 2147483647\nout_ch 1048576\n"},
    };
    for (const Case &c : cases) {
        std::string path = write_file(c.name, c.text);
        bool txt = c.name.find(".txt") != std::string::npos;
        std::vector<std::vector<std::string>> modes = {
            {"plan", "--net", path, "--accels", "2xtpu-v2"}};
        if (txt)
            modes.push_back({"plan", "--net", path, "--compat", "reference"});
        for (auto &args : modes) {
            cli_output o = cli_call(cli_plan, args);
            EXPECT_EQ(o.rc, 2) << c.name << ": " << o.err;
            EXPECT_EQ(o.out, "") << c.name;
            EXPECT_EQ(o.err.rfind("accpar plan: " + path + ":", 0), 0u) << o.err;
            EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << o.err;
        }
        remove(path.c_str());
    }
}

// Rows are levels and columns layers; wide networks wrap into blocks of at most 100 characters.
TEST(Cli, TableHasOneRowPerLevelAndWraps) {
    cli_output o = cli_call(cli_plan, {"plan", "--net", "tiny-resnet", "--accels",
                                       "1xtpu-v2,2xtpu-v3", "--batch", "32"});
    ASSERT_EQ(o.rc, 0) << o.err;
    std::vector<std::string> l = lines(o.out);
    ASSERT_GE(l.size(), 5u);
    EXPECT_EQ(l[0], "strategy accpar, 3 devices, batch 32, 2 levels");
    EXPECT_EQ(l[1].substr(0, 33), "level  alpha  stem  b1_a  b1_b  b");
    EXPECT_EQ(l[2].substr(0, 5), "0    ");
    EXPECT_EQ(l[3].substr(0, 5), "1    ");
    EXPECT_EQ(l[4].substr(0, 8), "compute ");

    o = cli_call(cli_plan,
                 {"plan", "--net", "resnet50", "--accels", "2xtpu-v2-full,2xtpu-v3-full"});
    ASSERT_EQ(o.rc, 0) << o.err;
    int headers = 0;
    std::string names;
    for (const std::string &line : lines(o.out)) {
        if (line.rfind("compute ", 0) == 0)
            continue;
        EXPECT_LE(line.size(), 100u) << line;
        if (line.rfind("level  alpha", 0) == 0) {
            headers++;
            names += line.substr(12);
        }
    }
    EXPECT_GT(headers, 1);
    for (const char *layer : {"conv1", "s2b1_a", "s5b3_add", "fc"})
        EXPECT_NE(names.find(std::string("  ") + layer), std::string::npos) << layer;
}

// The reference mode honours --format table: its grids as levels x layers tables.
TEST(Cli, ReferenceModeTable) {
    cli_output o = cli_call(cli_plan, {"plan", "--net", "Alexnet.txt", "--compat", "reference",
                                       "--strategy", "accpar"});
    ASSERT_EQ(o.rc, 0) << o.err;
    std::vector<std::string> l = lines(o.out);
    ASSERT_EQ(l.size(), 2u + REF_LEVELS);
    EXPECT_EQ(l[1], "level  alpha  conv1  conv2  conv3  conv4  conv5  fc1  fc2  fc3");
    // the reference's own level-0 row for AccPar, as types
    EXPECT_EQ(l[2], "0      0.500  I      I      I      I      I      II   III  II");
}

// Names from files (a reference file's name is its file name) are escaped in JSON.
TEST(Cli, JsonEscapesNames) {
    std::string alex = slurp(ACCPAR_MODELS "/networks/reference/Alexnet.txt");
    std::string path = write_file("q\"x\\y.txt", alex);
    std::string json = test_dir() + "accpar_escape.json";
    for (auto args : std::vector<std::vector<std::string>>{
             {"plan", "--net", path, "--accels", "2xtpu-v2-full", "--json", json},
             {"plan", "--net", path, "--compat", "reference", "--json", json}}) {
        cli_output o = cli_call(cli_plan, args);
        ASSERT_EQ(o.rc, 0) << o.err;
        Json j = parse_json(slurp(json));
        EXPECT_EQ(j["network"].str, "q\"x\\y.txt");
        EXPECT_EQ(j["plans"].items.size(), 1u);
    }
    remove(path.c_str());
    remove(json.c_str());
}
TEST(Cli, JsonIsWrittenAtomicallyWithTheRequiredFields) {
    std::string path = test_dir() + "accpar_plan.json";
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
    EXPECT_TRUE(partials_in(test_dir()).empty());
    std::string bad = test_dir() + "no/such/dir/x.json";
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    EXPECT_NE(run(cli_plan, {"plan", "--net", "mlp", "--accels", "2xtpu-v2", "--json", bad}), 0);
    testing::internal::GetCapturedStdout();
    testing::internal::GetCapturedStderr();
    EXPECT_FALSE(exists(bad));
}

// accpar reproduce: the CSV has its header and a row per network, the SVG is well formed, the
// JSON's averages are the means of its rows, and the report and JSON name the compute model.
TEST(Cli, ReproduceWritesConsistentCsvSvgAndJson) {
    std::string dir = test_dir(), csv = dir + "accpar_r.csv", svg = dir + "accpar_r.svg",
                json = dir + "accpar_r.json";
    cli_output o =
        cli_call(cli_reproduce, {"reproduce", "--csv", csv, "--plot", svg, "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    const char *nets[] = {"alexnet", "vgg11",    "vgg13",    "vgg16",
                          "vgg19",   "resnet18", "resnet34", "resnet50"};

    std::vector<std::string> rows = lines(slurp(csv));
    ASSERT_EQ(rows.size(), 9u);
    EXPECT_EQ(rows[0], "network,dp_step_s,owt_speedup,hypar_speedup,accpar_speedup,"
                       "owt_compute_s,owt_comm_s,hypar_compute_s,hypar_comm_s,accpar_compute_s,"
                       "accpar_comm_s,dp_compute_s,dp_comm_s");
    for (int k = 0; k < 8; k++) {
        EXPECT_EQ(rows[k + 1].substr(0, rows[k + 1].find(',')), nets[k]);
        EXPECT_EQ(std::count(rows[k + 1].begin(), rows[k + 1].end(), ','), 12) << rows[k + 1];
    }

    // SVG: one root, every element closed in order, 8 networks x 3 bars
    std::string s = slurp(svg);
    std::vector<std::string> open;
    int rects = 0, roots = 0;
    for (size_t i = s.find('<'); i != std::string::npos; i = s.find('<', i + 1)) {
        size_t end = s.find('>', i);
        ASSERT_NE(end, std::string::npos);
        std::string tag = s.substr(i + 1, end - i - 1);
        std::string name = tag.substr(tag[0] == '/', tag.find_first_of(" />", 1) - (tag[0] == '/'));
        if (tag[0] == '/') {
            ASSERT_FALSE(open.empty()) << tag;
            EXPECT_EQ(open.back(), name);
            open.pop_back();
        } else if (tag.back() != '/') {
            roots += open.empty();
            open.push_back(name);
        } else {
            rects += name == "rect";
        }
    }
    EXPECT_TRUE(open.empty());
    EXPECT_EQ(roots, 1);
    EXPECT_EQ(s.rfind("<svg ", 0), 0u);
    EXPECT_EQ(rects, 8 * 3 + 3); // bars and legend swatches

    // the full-size presets' calibration files set the plans' compute model, and it is named
    std::string cal = std::string(models_dir()) + "/calibration/";
    std::string model = "tpu-v2-full: calibrated (" + cal +
                        "tpu-v2-full.cal); tpu-v3-full: " + "calibrated (" + cal +
                        "tpu-v3-full.cal)";
    EXPECT_NE(o.out.find("\ncompute model: " + model + "\n"), std::string::npos) << o.out;
    Json j = parse_json(slurp(json));
    EXPECT_EQ(j["model"].str, model);
    ASSERT_EQ(j["rows"].items.size(), 8u);
    for (const char *strat : {"owt", "hypar", "accpar"}) {
        double sum = 0;
        for (int k = 0; k < 8; k++) {
            EXPECT_EQ(j["rows"].items[k]["network"].str, nets[k]);
            sum += j["rows"].items[k][strat].num;
        }
        EXPECT_NEAR(j["averages"][strat].num, sum / 8, 2e-6) << strat;
        EXPECT_GT(j["averages"][strat].num, 1.0) << strat;
    }
    // the breakdown: every strategy's step is its compute plus its communication, and the
    // speedup is data parallelism's step over the strategy's
    for (int k = 0; k < 8; k++) {
        const Json &row = j["rows"].items[k];
        EXPECT_EQ(row["protocol"].str, "testbed");
        for (const char *strat : {"dp", "owt", "hypar", "accpar"}) {
            const Json &b = row["steps"][strat];
            EXPECT_NEAR(b["step_s"].num, b["compute_s"].num + b["comm_s"].num,
                        1e-9 * b["step_s"].num)
                << strat;
            if (std::string(strat) != "dp") {
                EXPECT_NEAR(row[strat].num, row["steps"]["dp"]["step_s"].num / b["step_s"].num,
                            1e-6);
            }
        }
    }
    int inferred = 0;
    for (const Json &a : j["assumptions"].items)
        inferred += a["source"].str == "inferred";
    EXPECT_GE(inferred, 3) << "the testbed's modelling choices are said to be ours";
    for (const std::string &p : {csv, svg, json})
        remove(p.c_str());
}

// The regime map: a row per scale in the CSV and the JSON, averages that grow as the links slow,
// the reaching scales inside the swept range where the averages cross the paper's, a line per
// strategy and a dashed line per paper average in the SVG.
TEST(Cli, ReproduceSweepWritesTheRegimeMap) {
    std::string dir = test_dir(), csv = dir + "sweep.csv", svg = dir + "sweep.svg",
                json = dir + "sweep.json";
    cli_output o =
        cli_call(cli_reproduce, {"reproduce", "--protocol", "paper", "--sweep", "link-scale",
                                 "--csv", csv, "--plot", svg, "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    std::vector<std::string> rows = lines(slurp(csv));
    ASSERT_EQ(rows.size(), 10u);
    EXPECT_EQ(rows[0], "link_scale,owt_average,hypar_average,accpar_average");
    Json j = parse_json(slurp(json));
    EXPECT_EQ(j["protocol"].str, "paper");
    ASSERT_EQ(j["sweep"].items.size(), 9u);
    for (const char *strat : {"owt", "hypar", "accpar"}) {
        const auto &s = j["sweep"].items;
        EXPECT_GT(s.front()[strat].num, s.back()[strat].num) << strat;
        double reached = j["scale_reaching_paper"][strat].num;
        EXPECT_GT(reached, s.front()["link_scale"].num) << strat;
        EXPECT_LT(reached, s.back()["link_scale"].num) << strat;
        EXPECT_NE(o.out.find(std::string(strat) + " reaches the paper's"), std::string::npos);
    }
    std::string s = slurp(svg);
    auto count = [&](const std::string &what) {
        int n = 0;
        for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1))
            n++;
        return n;
    };
    EXPECT_EQ(count("<polyline"), 3);
    EXPECT_EQ(count("stroke-dasharray"), 3);
    EXPECT_EQ(s.rfind("<svg ", 0), 0u);
    EXPECT_NE(s.find("</svg>"), std::string::npos);
}

// net show: the MLP's parameters and MACs are its closed form (784-512-256-10, no biases); the
// CNN's shapes follow the convolution arithmetic ((h + 2 pad - k) / stride + 1) / pool.
TEST(NetShow, FiguresFollowClosedForms) {
    std::string json = test_dir() + "mlp.json";
    cli_output o = cli_call(cli_net, {"net", "show", "mlp", "--batch", "4", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    Json j = parse_json(slurp(json));
    const int64_t w1 = 784 * 512, w2 = 512 * 256, w3 = 256 * 10;
    EXPECT_EQ(j["totals"]["params"].num, (double)(w1 + w2 + w3));
    EXPECT_EQ(j["totals"]["macs"].num, 4.0 * (w1 + w2 + w3));
    // the first layer reads the input: no error backward for it
    EXPECT_EQ(j["totals"]["step_macs"].num, 4.0 * (2 * w1 + 3 * (w2 + w3)));
    EXPECT_NE(o.out.find("total: 4 nodes, 535040 parameters"), std::string::npos) << o.out;
    o = cli_call(cli_net, {"net", "show", "tiny-cnn", "--batch", "2", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    j = parse_json(slurp(json));
    int64_t c = 3, h = 32;
    for (const Json &nd : j["nodes"].items) {
        if (nd["kind"].str != "conv")
            continue;
        int64_t k = (int64_t)nd["k"].num, s = (int64_t)nd["stride"].num, p = (int64_t)nd["pad"].num,
                pool = (int64_t)nd["pool"].num;
        int64_t conv = (h + 2 * p - k) / s + 1, cout = (int64_t)nd["output"].items[0].num;
        EXPECT_EQ(nd["gemm"]["m"].num, (double)(2 * conv * conv)) << nd["name"].str;
        EXPECT_EQ(nd["gemm"]["k"].num, (double)(c * k * k)) << nd["name"].str;
        EXPECT_EQ(nd["params"].num, (double)(c * k * k * cout)) << nd["name"].str;
        h = conv / pool;
        c = cout;
        EXPECT_EQ(nd["output"].items[1].num, (double)h) << nd["name"].str;
    }
    EXPECT_EQ(c, 32);
    EXPECT_TRUE(one_line_error(cli_call(cli_net, {"net", "show"}), 2, "NET: missing"));
    EXPECT_TRUE(one_line_error(cli_call(cli_net, {"net", "list", "mlp"}), 2, "'list': expected"));
    EXPECT_TRUE(
        one_line_error(cli_call(cli_net, {"net", "show", "no-such-net"}), 2, "no-such-net"));
}

TEST(Cli, HelpOnEachCommand) {
    testing::internal::CaptureStdout();
    EXPECT_EQ(run(cli_plan, {"plan", "--help"}), 0);
    EXPECT_EQ(run(cli_reproduce, {"reproduce", "--help"}), 0);
    std::string out = testing::internal::GetCapturedStdout();
    EXPECT_NE(out.find("usage: accpar plan"), std::string::npos);
    EXPECT_NE(out.find("usage: accpar reproduce"), std::string::npos);
}

namespace {

// --levels L: the levels below L are data parallel in the printed plan and its JSON; without it
// the same case uses other types there.
TEST(Cli, LevelsLimitsTheSearchedLevels) {
    std::string json = test_dir() + "levels.json";
    for (int limit : {0, 1}) {
        std::vector<std::string> args = {"plan",    "--net", "mlp",    "--accels", "8xtpu-v3",
                                         "--batch", "64",    "--json", json};
        if (limit) {
            args.push_back("--levels");
            args.push_back(std::to_string(limit));
        }
        cli_output o = cli_call(cli_plan, args);
        ASSERT_EQ(o.rc, 0) << o.err;
        Json j = parse_json(slurp(json));
        const Json &levels = j["plans"].items.at(0)["levels"];
        ASSERT_EQ(levels.items.size(), 3u);
        int deep_other_than_i = 0;
        for (size_t h = 1; h < 3; h++)
            for (const Json &t : levels.items[h]["types"].items)
                deep_other_than_i += t.str != "I";
        if (limit)
            EXPECT_EQ(deep_other_than_i, 0) << o.out;
        else
            EXPECT_GT(deep_other_than_i, 0) << o.out;
        // the table says the same as the JSON
        std::vector<std::string> rows = lines(o.out);
        ASSERT_GE(rows.size(), 5u);
        EXPECT_EQ(rows[3].find("II") == std::string::npos, limit == 1) << rows[3];
    }
    cli_output bad =
        cli_call(cli_plan, {"plan", "--net", "mlp", "--accels", "2xtpu-v3", "--levels", "0"});
    EXPECT_TRUE(one_line_error(bad, 2, "--levels: '0' is not an integer in [1, 32]"));
}

} // namespace

// The scaled presets keep their 256 MiB unless --device-mib says otherwise: VGG-16 at batch 32
// does not fit them, and fits with a full chip's 16 GiB per device; a memory beyond what a
// command can address is a one-line error naming the flag.
TEST(Cli, DeviceMibGivesEveryDeviceItsMemory) {
    std::vector<std::string> args = {"plan",    "--net", "vgg16", "--accels", "4xtpu-v2,4xtpu-v3",
                                     "--batch", "32"};
    cli_output o = cli_call(cli_plan, args);
    EXPECT_TRUE(one_line_error(o, 1, "preset 'tpu-v2' has 256 MiB")) << o.err;
    args.insert(args.end(), {"--device-mib", "16384"});
    o = cli_call(cli_plan, args);
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_NE(o.out.find("   16384.0 "), std::string::npos) << o.out;
    args.back() = "999999999";
    o = cli_call(cli_plan, args);
    EXPECT_TRUE(one_line_error(o, 2, "--device-mib: 999999999 MiB is more than 2^32 port words"))
        << o.err;
}
