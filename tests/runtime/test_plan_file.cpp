// Saved plans: accpar plan --out writes one, accpar run --plan executes it exactly as planned;
// an edited plan runs if it is valid and is a one-line error naming the field if not; a plan
// made for another network or array is refused.
#include "runtime_test.h"
#include "test_support.h"

extern "C" {
#include "cli.h"
#include "plan_file.h"
}

#include <cmath>

namespace {

// Plans and saves; returns the plan file's path.
std::string save(const std::string &dir, std::vector<std::string> args) {
    std::string path = dir + "plan.json";
    args.insert(args.begin(), "plan");
    args.push_back("--out");
    args.push_back(path);
    cli_output o = cli_call(cli_plan, args);
    EXPECT_EQ(o.rc, 0) << o.err;
    return path;
}

// Runs with a JSON report; returns the report's text (empty if the run failed).
std::string run_json(const std::string &dir, std::vector<std::string> args, int status = 0) {
    std::string json = dir + "run.json";
    std::remove(json.c_str());
    args.insert(args.begin(), "run");
    args.push_back("--json");
    args.push_back(json);
    cli_output o = cli_call(cli_run, args);
    EXPECT_EQ(o.rc, status) << o.err << o.out;
    return exists(json) ? slurp(json) : "";
}

const std::vector<std::string> kCase = {"--net",   "tiny-resnet", "--accels", "1xtpu-v2,2xtpu-v3",
                                        "--batch", "6",           "--scale",  "0.5"};

std::vector<std::string> with(std::vector<std::string> a, std::vector<std::string> more) {
    a.insert(a.end(), more.begin(), more.end());
    return a;
}

// The saved plan runs as the plan a fresh run makes: the same report, byte for byte.
TEST(PlanFile, SavedPlanRunsExactlyAsPlanned) {
    std::string dir = test_dir();
    std::string path = save(dir, with(kCase, {"--strategy", "hypar"}));
    std::string direct =
        run_json(dir, with(kCase, {"--strategy", "hypar", "--fidelity", "golden"}));
    std::string saved = run_json(dir, {"--plan", path, "--fidelity", "golden"});
    ASSERT_FALSE(direct.empty());
    EXPECT_EQ(saved, direct);
    EXPECT_NE(saved.find("\"verified\": true"), std::string::npos) << saved;
    EXPECT_NE(saved.find("\"strategy\": \"hypar\""), std::string::npos) << saved;
}

// Written, read and rebuilt: the same plan in every field the runtime uses.
TEST(PlanFile, RoundTripRebuildsTheSamePlan) {
    step_case k{"tiny-resnet", "2xtpu-v2,2xtpu-v3", STRATEGY_ACCPAR, 8, RUN_FIDELITY_GOLDEN, 1.0};
    step_run s;
    ASSERT_TRUE(prepare_case(k, s));
    plan_file_meta meta{};
    snprintf(meta.net, sizeof meta.net, "tiny-resnet");
    snprintf(meta.accels, sizeof meta.accels, "2xtpu-v2,2xtpu-v3");
    snprintf(meta.compute_model, sizeof meta.compute_model, "exact");
    meta.scale = meta.image_scale = 1;
    json_out j{};
    plan_file_write(&j, &meta, &s.g, &s.a, &s.p);
    std::string path = test_dir() + "p.json";
    char err[1024];
    ASSERT_EQ(write_output(
                  path, [&] { return json_write_file(&j, path.c_str(), err, sizeof err); }, err,
                  sizeof err),
              0)
        << err;
    json_free(&j);
    plan_file f;
    ASSERT_EQ(plan_file_read(path.c_str(), &f, err, sizeof err), 0) << err;
    EXPECT_EQ(f.strat, STRATEGY_ACCPAR);
    EXPECT_EQ(f.batch, 8);
    plan q{};
    ASSERT_EQ(plan_file_plan(&f, &s.g, &s.a, &q, err, sizeof err), 0) << err;
    plan_file_free(&f);
    ASSERT_EQ(q.n_levels, s.p.n_levels);
    for (int h = 0; h < q.n_levels; h++) {
        EXPECT_EQ(q.levels[h].alpha, s.p.levels[h].alpha) << h; // bit for bit (%.17g)
        for (int v = 0; v < s.g.n; v++)
            EXPECT_EQ(q.levels[h].state[v], s.p.levels[h].state[v]) << h << " " << v;
        EXPECT_EQ(q.levels[h].comm_bytes, s.p.levels[h].comm_bytes);
    }
    for (int d = 0; d < s.a.n; d++)
        for (int v = 0; v < s.g.n; v++)
            for (int ph = 0; ph < PHASES; ph++) {
                const gemm_dims *x = plan_gemm(&q, d, v, (gemm_phase)ph);
                const gemm_dims *y = plan_gemm(&s.p, d, v, (gemm_phase)ph);
                EXPECT_TRUE(x->m == y->m && x->k == y->k && x->n == y->n) << d << " " << v;
            }
    EXPECT_EQ(q.step_s, s.p.step_s);
    EXPECT_EQ(q.comm_bytes, s.p.comm_bytes);
    plan_free(&q);
}

// The plan file without its "predicted" block: a hand-edited plan.
std::string without_prediction(const std::string &text) {
    size_t from = text.find(",\n  \"predicted\"");
    size_t to = text.find("\n  }", from);
    EXPECT_NE(from, std::string::npos);
    EXPECT_NE(to, std::string::npos);
    return text.substr(0, from) + text.substr(to + 4);
}

// A hand edit that keeps the plan valid runs as edited: verified, and the bytes moved are the
// edited plan's own prediction, not the original's.
TEST(PlanFile, ValidEditRunsAsEdited) {
    std::string dir = test_dir();
    std::string path = save(dir, with(kCase, {"--strategy", "accpar"}));
    std::string text = slurp(path);
    std::string before = run_json(dir, {"--plan", path, "--fidelity", "golden"});
    // the first level's b1_b takes another type (accpar allows all three)
    size_t at = text.find("\"b1_b\": \"") + 9;
    std::string type = text.substr(at, text.find('"', at) - at);
    std::string other = type == "II" ? "III" : "II";
    std::string edited = without_prediction(text);
    edited.replace(edited.find("\"b1_b\": \"" + type + "\""), 10 + type.size(),
                   "\"b1_b\": \"" + other + "\"");
    write_text(path, edited);
    std::string after = run_json(dir, {"--plan", path, "--fidelity", "golden"});
    ASSERT_FALSE(after.empty());
    EXPECT_NE(after.find("\"verified\": true"), std::string::npos) << after;
    auto number = [](const std::string &j, const std::string &key) {
        size_t k = j.find("\"" + key + "\": ");
        return k == std::string::npos ? -1.0 : std::stod(j.substr(k + key.size() + 4));
    };
    EXPECT_EQ(number(after, "bytes_moved"), number(after, "predicted_bytes"));
    EXPECT_NE(number(after, "predicted_bytes"), number(before, "predicted_bytes"));
    // with the stale prediction kept, the edit is caught
    write_text(path, replaced(text, "\"b1_b\": \"" + type + "\"", "\"b1_b\": \"" + other + "\""));
    cli_output o = cli_call(cli_run, {"run", "--plan", path, "--fidelity", "golden"});
    EXPECT_TRUE(one_line_error(o, 2, "field 'predicted.step_s'"));
}

// Mismatches and invalid edits: each a one-line error naming the file, line and field.
TEST(PlanFile, BadPlansAreOneLineErrors) {
    std::string dir = test_dir();
    std::string path = save(dir, with(kCase, {"--strategy", "hypar"}));
    std::string text = slurp(path), bad = dir + "bad.json";
    struct Case {
        std::string text;
        std::vector<std::string> extra;
        std::string needle;
    } cases[] = {
        {text, {"--net", "tiny-cnn"}, "field 'network_digest': the network differs"},
        {text, {"--accels", "1xtpu-v2,2xtpu-v2"}, "field 'array_digest': the array differs"},
        {text, {"--batch", "4"}, "--batch: comes from the plan file"},
        {replaced(text, "\"b1_a\": \"I", "\"b1_a\": \"IV"),
         {},
         "field 'states.b1_a': must be I, II or III"},
        {replaced(text, "\"b1_a\": \"I", "\"b1_a\": \"III"),
         {},
         "node b1_a: state III: not allowed"},
        {replaced(text, "\"b1_a\": ", "\"nosuch\": "), {}, "field 'states.nosuch': no such layer"},
        {replaced(text, "\"format\": \"accpar-plan\"", "\"format\": \"other\""),
         {},
         "field 'format'"},
        {replaced(text, "\"strategy\": \"hypar\"", "\"strategy\": \"best\""),
         {},
         "field 'strategy'"},
        {replaced(text, "\"alpha\": ", "\"alpha\": 7"), {}, "field 'levels[0].alpha'"},
        {replaced(text, "\"batch\": 6", "\"batch\": 6.5"), {}, "field 'batch'"},
        {text.substr(0, text.size() / 2), {}, "malformed JSON"},
        {"[]", {}, "field 'format'"},
    };
    for (const Case &c : cases) {
        write_text(bad, c.text);
        std::vector<std::string> args = {"run",    "--plan",          bad, "--fidelity", "golden",
                                         "--json", dir + "never.json"};
        args.insert(args.end(), c.extra.begin(), c.extra.end());
        cli_output o = cli_call(cli_run, args);
        EXPECT_TRUE(one_line_error(o, 2, c.needle)) << c.needle;
        EXPECT_FALSE(exists(dir + "never.json"));
    }
    // the line of the offending value is named
    write_text(bad, replaced(text, "\"b1_a\": \"I", "\"b1_a\": \"IV"));
    cli_output o = cli_call(cli_run, {"run", "--plan", bad});
    size_t line =
        1 + (size_t)std::count(text.begin(), text.begin() + (long)text.find("\"b1_a\""), '\n');
    EXPECT_NE(o.err.find(bad + ":" + std::to_string(line) + ":"), std::string::npos) << o.err;
}

TEST(PlanFile, OutNeedsOneStrategy) {
    cli_output o = cli_call(cli_plan, {"plan", "--net", "mlp", "--accels", "2xtpu-v2", "--strategy",
                                       "all", "--out", test_dir() + "x.json"});
    EXPECT_TRUE(one_line_error(o, 2, "--out"));
}

} // namespace
