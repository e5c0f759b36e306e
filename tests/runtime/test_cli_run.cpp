// accpar run: flags, one-line errors, the JSON report and its atomicity.
#include "runtime_test.h"
#include "rtl_available.h"
#include "test_json.h"
#include "test_support.h"
#include "test_vcd.h"

extern "C" {
#include "array_model.h"
}

#include <algorithm>
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

// Runs a bad command line: exit `status` (2: bad usage or input, 1: the run failed), exactly one
// line on stderr containing `needle`, no JSON, nothing on stdout.
void expect_usage_error(std::vector<std::string> args, const std::string &needle, int status = 2) {
    std::string json = test_dir() + "bad-run.json";
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
    expect_usage_error({"--net", "Alexnet.txt", "--batch", "4"}, "reference format");
    expect_usage_error({"--trace", "/proc"},
                       "--trace: /proc/timeline.csv: cannot create a file in '/proc'");
}

// A preset like tpu-v2 with 1 MiB of device memory: mlp at batch 256 runs out of it.
std::string small_memory_preset() {
    std::string preset = test_dir() + "small-memory.acc";
    std::string text = slurp(std::string(ACCPAR_MODELS) + "/accelerators/tpu-v2.acc");
    size_t at = text.find("mem_mib");
    EXPECT_NE(at, std::string::npos);
    text.replace(at, text.find('\n', at) - at, "mem_mib 1");
    write_text(preset, text);
    return preset;
}

// An unwritable --json fails before planning: status 2 and the --json error, where the plan
// would have failed (status 1, out of device memory); nothing written.
TEST(CliRun, UnwritableJsonFailsBeforeTheRun) {
    cli_output o = cli_call(cli_run, {"run", "--net", "mlp", "--accels",
                                      "1x" + small_memory_preset() + ",1xtpu-v3", "--batch", "256",
                                      "--fidelity", "golden", "--json", "/no/such/folder/r.json"});
    EXPECT_EQ(o.rc, 2);
    EXPECT_EQ(o.err, "accpar run: --json: /no/such/folder/r.json: cannot create a file in "
                     "'/no/such/folder': No such file or directory\n");
    EXPECT_EQ(o.out, "");
}

// An array whose memory the plan does not fit is a failed run, found before anything runs:
// status 1, one line naming the device, its need, the layer and the capacity.
TEST(CliRun, ArrayWithoutRoomIsStatusOneBeforeTheRun) {
    std::string preset = small_memory_preset();
    for (const char *part : {"accpar run: device 0 (tpu-v2) needs ", "MiB of device memory",
                             " at layer fc1 ", "preset 'tpu-v2' has 1 MiB"})
        expect_usage_error({"--net", "mlp", "--accels", "1x" + preset + ",1xtpu-v3", "--batch",
                            "256", "--fidelity", "golden"},
                           part, 1);
}

// Devices too small for the fastest plan but not for a slower one: run takes the slower plan
// (the planner's memory-seeking search), says so, and the emulated devices' peaks fit.
TEST(CliRun, PlanThatFitsIsRunWhenTheFastestDoesNot) {
    std::string json = test_dir() + "fits.json";
    cli_output fast = cli_call(cli_run, {"run", "--fidelity", "golden", "--json", json});
    ASSERT_EQ(fast.rc, 0) << fast.err;
    Json f = parse_json(slurp(json));
    double need = 0; // the fastest plan's largest device peak
    for (const Json &dev : f["devices"].items)
        need = std::max(need, dev["memory_peak_bytes"].num);
    int mib = (int)std::ceil(need / 1048576.0) - 1; // one MiB short of it
    cli_output o = cli_call(cli_run, {"run", "--fidelity", "golden", "--device-mib",
                                      std::to_string(mib), "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_NE(o.out.find("memory: the fastest plan"), std::string::npos) << o.out;
    Json j = parse_json(slurp(json));
    EXPECT_TRUE(j["verified"].boolean);
    EXPECT_EQ(j["fastest_step_s"].num, f["predicted_step_s"].num);
    EXPECT_GT(j["predicted_step_s"].num, f["predicted_step_s"].num);
    for (const Json &dev : j["devices"].items)
        EXPECT_LE(dev["memory_peak_bytes"].num, (double)mib * 1048576.0);
}

// The case a test runs, planned here the way run plans it.
struct planned {
    step_run s;
    testing::AssertionResult ok = testing::AssertionSuccess();
    planned(const char *network, const char *accels, int64_t batch, double scale, double images) {
        char err[1024];
        net_free(&s.g);
        net raw{};
        if (accel_array_parse(accels, &s.a, err, sizeof err) != 0 ||
            array_model_select(&s.a, nullptr, nullptr, err, sizeof err) != 0 ||
            net_find(network, &raw, err, sizeof err) != 0 ||
            net_scale(&raw, scale, images, &s.g, err, sizeof err) != 0) {
            ok = testing::AssertionFailure() << err;
        } else {
            plan_options po{STRATEGY_ACCPAR, batch, 0, 0, 0};
            if (plan_make(&s.g, &s.a, &po, &s.p, err, sizeof err) != 0)
                ok = testing::AssertionFailure() << err;
        }
        net_free(&raw);
    }
};

// The report's values against figures computed here: per-device cycles by the cycle oracle on
// the plan's shapes, the plan's prediction, bytes summed over the layers, states by name.
TEST(CliRun, JsonReportHoldsTheResult) {
    std::string json = test_dir() + "run.json";
    cli_output o = cli_call(cli_run, {"run", "--net", "tiny-resnet", "--accels",
                                      "1xtpu-v2,2xtpu-v3", "--batch", "4", "--scale", "0.5",
                                      "--fidelity", "golden", "--json", json});
    EXPECT_EQ(o.rc, 0) << o.out << o.err;
    EXPECT_NE(o.out.find("verification: passed"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("cycles: contract (golden))"), std::string::npos) << o.out;
    Json j = parse_json(slurp(json));
    planned c("tiny-resnet", "1xtpu-v2,2xtpu-v3", 4, 0.5, 0.5);
    ASSERT_TRUE(c.ok);
    const plan &p = c.s.p;
    EXPECT_TRUE(j["verified"].boolean);
    EXPECT_EQ(j["failure"].str, "");
    EXPECT_EQ(j["cycles_check"].str, "contract (golden)");
    EXPECT_EQ(j["batch"].num, 4);
    EXPECT_EQ(j["strategy"].str, "accpar");
    EXPECT_EQ(j["scale"].num, 0.5);
    EXPECT_EQ(j["image_scale"].num, 0.5);
    EXPECT_EQ(j["predicted_step_s"].num, p.step_s);
    EXPECT_EQ(j["predicted_bytes"].num, (double)p.comm_bytes);
    EXPECT_EQ(j["bytes_moved"].num, (double)p.comm_bytes);
    EXPECT_EQ(j["link_bytes"].num, (double)p.comm_bytes);
    EXPECT_GE(j["simulated_step_s"].num, j["simulated_compute_s"].num);
    EXPECT_NEAR(j["simulated_step_s"].num, j["simulated_compute_s"].num + j["simulated_comm_s"].num,
                1e-15);
    const Json &devices = j["devices"];
    ASSERT_EQ(devices.items.size(), 3u);
    for (int d = 0; d < 3; d++) {
        const Json &dev = devices.items[(size_t)d];
        double want = (double)planned_cycles(p, c.s.a, d, -1);
        EXPECT_GT(want, 0);
        EXPECT_EQ(dev["index"].num, d);
        EXPECT_EQ(dev["preset"].str, d == 0 ? "tpu-v2" : "tpu-v3");
        EXPECT_EQ(dev["cycles"].num, want) << "device " << d;
        EXPECT_EQ(dev["contract_cycles"].num, want) << "device " << d;
        EXPECT_NEAR(dev["model_residual"].num,
                    (dev["cycles"].num - dev["model_cycles"].num) / dev["model_cycles"].num, 1e-12);
    }
    // layers: one per non-input node, states by name as in the plan, bytes that sum up
    const Json &layers = j["layers"];
    double bytes = 0;
    size_t k = 0;
    for (int v = 0; v < c.s.g.n; v++) {
        if (c.s.g.nodes[v].kind == NODE_INPUT)
            continue;
        ASSERT_LT(k, layers.items.size());
        const Json &l = layers.items[k++];
        EXPECT_EQ(l["name"].str, c.s.g.nodes[v].name);
        ASSERT_EQ(l["states"].items.size(), (size_t)p.n_levels);
        for (int h = 0; h < p.n_levels; h++) {
            EXPECT_EQ(l["states"].items[(size_t)h].str,
                      node_state_name(c.s.g.nodes[v].kind, p.levels[h].state[v]));
            EXPECT_EQ(l["bytes"].items[(size_t)h].num, l["predicted_bytes"].items[(size_t)h].num);
            bytes += l["bytes"].items[(size_t)h].num;
        }
    }
    EXPECT_EQ(k, layers.items.size());
    EXPECT_EQ(bytes, j["bytes_moved"].num);
}

// --image-scale shrinks the images only: the devices' cycles are those of the network with its
// channels whole and its images halved, and differ from --scale 0.5's.
TEST(CliRun, ImageScaleShrinksOnlyTheImages) {
    std::string json = test_dir() + "img.json";
    cli_output o =
        cli_call(cli_run, {"run", "--net", "tiny-cnn", "--accels", "1xtpu-v2,1xtpu-v3", "--batch",
                           "2", "--image-scale", "0.5", "--fidelity", "golden", "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    Json j = parse_json(slurp(json));
    EXPECT_EQ(j["scale"].num, 1.0);
    EXPECT_EQ(j["image_scale"].num, 0.5);
    planned images("tiny-cnn", "1xtpu-v2,1xtpu-v3", 2, 1.0, 0.5);
    planned both("tiny-cnn", "1xtpu-v2,1xtpu-v3", 2, 0.5, 0.5);
    ASSERT_TRUE(images.ok);
    ASSERT_TRUE(both.ok);
    for (int d = 0; d < 2; d++) {
        double got = j["devices"].items[(size_t)d]["cycles"].num;
        EXPECT_EQ(got, (double)planned_cycles(images.s.p, images.s.a, d, -1)) << d;
        EXPECT_NE(got, (double)planned_cycles(both.s.p, both.s.a, d, -1)) << d;
    }
}

// --trace under rtl: a waveform per device whose counters end at the device's reported cycles,
// and the platform's timeline.
TEST(CliRun, TraceWritesWaveformsPerDevice) {
    REQUIRE_RTL("1xtiny");
    std::string dir = test_dir(), json = dir + "r.json";
    cli_output o =
        cli_call(cli_run, {"run", "--net", "mlp", "--accels", "2xtiny", "--batch", "2", "--scale",
                           "0.05", "--fidelity", "rtl", "--trace", dir, "--json", json});
    ASSERT_EQ(o.rc, 0) << o.out << o.err;
    Json j = parse_json(slurp(json));
    for (int d = 0; d < 2; d++) {
        std::string vcd = slurp(dir + "device" + std::to_string(d) + "-tiny.vcd");
        ASSERT_FALSE(vcd.empty()) << d;
        EXPECT_EQ((double)vcd_last_value(vcd, "cnt_total"),
                  j["devices"].items[(size_t)d]["cycles"].num)
            << d;
    }
    EXPECT_EQ(slurp(dir + "timeline.csv").rfind("what,", 0), 0u);
}

// The planner's selected model against the counters: with the peak model its per-device
// residual is large and shown, while numerics, bytes and the cycle contract still verify.
TEST(CliRun, PeakModelShowsItsResidualAndStillVerifies) {
    REQUIRE_RTL("1xtpu-v2,1xtpu-v3");
    std::string json = test_dir() + "peak.json";
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

// The step's timeline in the Chrome trace-event format (Perfetto): metadata names a track per
// device and per link; every span is a complete event at ts >= 0; a device's spans do not overlap
// and add up to its cycles at its clock, their cycles to its counter; the links' bytes add up to
// what the report says they carried. timeline.csv holds the same spans, one row each.
TEST(CliRun, TraceEventsAddUpToTheReport) {
    std::string dir = test_dir(), json = dir + "r.json", events = dir + "events.json";
    cli_output o =
        cli_call(cli_run, {"run", "--net", "tiny-resnet", "--accels", "1xtpu-v2,2xtpu-v3",
                           "--batch", "8", "--scale", "0.25", "--fidelity", "golden", "--trace",
                           dir, "--trace-events", events, "--json", json});
    ASSERT_EQ(o.rc, 0) << o.err;
    Json r = parse_json(slurp(json)), t = parse_json(slurp(events));
    ASSERT_EQ(t.kind, Json::Obj);
    const size_t devices = r["devices"].items.size();
    std::vector<double> busy_us(devices, 0), cycles(devices, 0), last_end(devices, 0);
    std::vector<bool> named(devices, false);
    double bytes = 0;
    int spans = 0;
    for (const Json &e : t["traceEvents"].items) {
        ASSERT_EQ(e["name"].kind, Json::Str);
        const std::string ph = e["ph"].str;
        ASSERT_TRUE(ph == "X" || ph == "M") << ph;
        if (ph == "M") {
            if (e["name"].str == "thread_name" && e["pid"].num == 1)
                named[(size_t)e["tid"].num] = true;
            continue;
        }
        spans++;
        EXPECT_GE(e["ts"].num, 0);
        EXPECT_GE(e["dur"].num, 0);
        EXPECT_EQ(e["args"]["layer"].kind, Json::Str);
        if (e["pid"].num == 1) {
            size_t d = (size_t)e["tid"].num;
            ASSERT_LT(d, devices);
            EXPECT_GE(e["ts"].num, last_end[d] * (1 - 1e-9)) << "spans of a device overlap";
            last_end[d] = e["ts"].num + e["dur"].num;
            busy_us[d] += e["dur"].num;
            cycles[d] += e["args"]["cycles"].num;
        } else {
            EXPECT_EQ(e["pid"].num, 2);
            bytes += e["args"]["bytes"].num;
        }
    }
    for (size_t d = 0; d < devices; d++) {
        const Json &dev = r["devices"].items[d];
        EXPECT_TRUE(named[d]) << d;
        EXPECT_EQ(cycles[d], dev["cycles"].num) << d;
        double mhz = dev["preset"].str == "tpu-v2" ? 700 : 940;
        EXPECT_NEAR(busy_us[d], dev["cycles"].num / mhz, 1e-9 * busy_us[d]) << d;
    }
    EXPECT_EQ(bytes, r["link_bytes"].num);
    std::vector<std::string> rows;
    std::istringstream csv(slurp(dir + "timeline.csv"));
    for (std::string line; std::getline(csv, line);)
        rows.push_back(line);
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(rows[0], "what,node,level,device,link,start_s,end_s,bytes,cycles");
    EXPECT_EQ((int)rows.size() - 1, spans);
}

TEST(CliRun, HelpExitsZero) {
    testing::internal::CaptureStdout();
    EXPECT_EQ(run({"run", "--help"}), 0);
    EXPECT_NE(testing::internal::GetCapturedStdout().find("--fidelity"), std::string::npos);
}

} // namespace

namespace {

// text without its lines that hold `key`
std::string without_line(const std::string &text, const std::string &key) {
    std::istringstream in(text);
    std::string out;
    for (std::string line; std::getline(in, line);)
        if (line.find(key) == std::string::npos)
            out += line + "\n";
    return out;
}

// docs/runtime.md: the number of threads changes the wall time (and the host-memory account,
// which grows with the devices running at once) only. The reports (every result
// hash, cycle counter, byte, simulated time and model residual) and the timelines of --jobs 1, 2
// and 3 are the same bytes, at every fidelity (timelines without RTL waveforms, which are slow).
void expect_same_report_for_any_jobs(const std::string &net, const std::string &fidelity) {
    std::string report[3], timeline[3];
    for (int jobs = 1; jobs <= 3; jobs++) {
        std::string json = test_dir() + "jobs.json", trace = test_dir();
        std::vector<std::string> args = {"run",
                                         "--net",
                                         net,
                                         "--accels",
                                         "1xtpu-v2,2xtpu-v3",
                                         "--batch",
                                         "6",
                                         "--scale",
                                         "0.5",
                                         "--fidelity",
                                         fidelity,
                                         "--jobs",
                                         std::to_string(jobs),
                                         "--json",
                                         json};
        if (fidelity != "rtl")
            args.insert(args.end(), {"--trace", trace});
        cli_output o = cli_call(cli_run, args);
        ASSERT_EQ(o.rc, 0) << o.out << o.err;
        report[jobs - 1] = without_line(slurp(json), "\"host_memory_bytes\"");
        timeline[jobs - 1] = fidelity != "rtl" ? slurp(trace + "timeline.csv") : "";
    }
    EXPECT_NE(report[0].find("\"verified\": true"), std::string::npos);
    for (int i = 1; i < 3; i++) {
        EXPECT_EQ(report[0], report[i]) << net << " " << fidelity << " --jobs " << i + 1;
        EXPECT_EQ(timeline[0], timeline[i]) << net << " " << fidelity << " --jobs " << i + 1;
    }
}

TEST(CliRun, SameReportForAnyNumberOfJobs) {
    for (const char *net : {"mlp", "tiny-cnn", "tiny-resnet"})
        for (const char *fidelity : {"golden", "replay"})
            expect_same_report_for_any_jobs(net, fidelity);
}

TEST(CliRun, SameReportForAnyNumberOfJobsOnRtl) {
    REQUIRE_RTL("1xtpu-v2,2xtpu-v3");
    for (const char *net : {"mlp", "tiny-cnn", "tiny-resnet"})
        expect_same_report_for_any_jobs(net, "rtl");
}

} // namespace

extern "C" {
#include "host_memory.h"
}

namespace {

// A step whose host memory (the account taken before anything is allocated) exceeds the
// machine's is refused at once, status 1, instead of being killed for memory halfway: VGG-16 at
// 224 x 224, batch 256, needs about 60 GiB.
TEST(CliRun, StepBeyondTheHostsMemoryIsRefusedAtOnce) {
    if (host_memory_bytes() > 80ull << 30)
        GTEST_SKIP() << "this machine has room for the step";
    for (const char *part : {"accpar run: the step of vgg16 at batch 256 needs ",
                             "GiB of host memory, this machine allows "})
        expect_usage_error({"--net", "vgg16", "--batch", "256", "--accels",
                            "4xtpu-v2-full,4xtpu-v3-full", "--fidelity", "golden"},
                           part, 1);
}

} // namespace
