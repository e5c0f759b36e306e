// The planner's models: the exact contract, a calibration, and the peak rate; and a calibrated
// prediction against emulation on a network the calibration never saw.
#include "rtl_available.h"
#include "test_support.h"

#include <gtest/gtest.h>

extern "C" {
#include "array_model.h"
#include "models_dir.h"
#include "cal_measure.h"
#include "net_find.h"
#include "run.h"
}

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

// Calibrates a preset on the replay backend into a temporary file; returns its path.
std::string calibrate(const char *name) {
    accel_preset p{};
    char err[1024];
    EXPECT_EQ(preset_find(name, &p, err, sizeof err), 0) << err;
    calibration c{};
    EXPECT_EQ(cal_design_sweep(&p, &c), 0);
    EXPECT_EQ(cal_design_transfers(&c), 0);
    EXPECT_EQ(cal_measure_gemms(&p, ACCEL_BACKEND_REPLAY, 2, 0, 1, &c, nullptr, err, sizeof err), 0)
        << err;
    EXPECT_EQ(cal_measure_transfers(&p, &c, err, sizeof err), 0) << err;
    EXPECT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
    std::string path = test_dir() + name + "-test.cal";
    EXPECT_EQ(write_output(
                  path,
                  [&] { return calibration_write(path.c_str(), &c, nullptr, err, sizeof err); },
                  err, sizeof err),
              0)
        << err;
    calibration_free(&c);
    return path;
}

TEST(Models, PeakIsALowerBoundAndExactIsTheClosedForm) {
    accel_preset p{};
    char err[512];
    ASSERT_EQ(preset_find("tpu-v3", &p, err, sizeof err), 0) << err;
    device_model exact, peak;
    device_model_exact(&p, &exact);
    device_model_peak(&p, &peak);
    for (int64_t m : {1, 17, 300, 1500})
        for (int64_t n : {1, 64, 129}) {
            double ce, cp;
            ASSERT_EQ(device_model_cycles(&p, &exact, m, 40, n, &ce, err, sizeof err), 0);
            ASSERT_EQ(device_model_cycles(&p, &peak, m, 40, n, &cp, err, sizeof err), 0);
            gemm_schedule s;
            cycle_breakdown cb;
            gemm_schedule_make(&p, m, 40, n, 0, &s, err, sizeof err);
            gemm_cycles_closed_form(&s, &cb);
            EXPECT_EQ(ce, (double)cb.total);
            EXPECT_EQ(cp, (double)(m * 40 * n) / 1024.0);
            EXPECT_LT(cp, ce);
        }
    char label[600];
    device_model_label(&peak, label, sizeof label);
    EXPECT_STREQ(label, "peak");
    device_model_label(&exact, label, sizeof label);
    EXPECT_STREQ(label, "exact");
}

TEST(Models, SelectionLabelsAndErrors) {
    REQUIRE_RTL("1xtpu-v2"); // calibrated on replay
    static accel_array a;
    char err[1024], label[2048];
    std::string v2 = calibrate("tpu-v2");
    ASSERT_EQ(accel_array_parse("1xtpu-v2,1xtpu-v3", &a, err, sizeof err), 0) << err;
    ASSERT_EQ(array_model_select(&a, "exact", nullptr, err, sizeof err), 0) << err;
    array_model_label(&a, label, sizeof label);
    EXPECT_STREQ(label, "exact");
    ASSERT_EQ(array_model_select(&a, "peak", nullptr, err, sizeof err), 0) << err;
    array_model_label(&a, label, sizeof label);
    EXPECT_STREQ(label, "peak");
    ASSERT_EQ(array_model_select(&a, "calibrated", v2.c_str(), err, sizeof err), 0) << err;
    EXPECT_EQ(a.models[0].kind, MODEL_CALIBRATED);
    array_model_label(&a, label, sizeof label);
    std::string v3_default = std::string(models_dir()) + "/calibration/tpu-v3.cal";
    EXPECT_EQ(std::string(label),
              "tpu-v2: calibrated (" + v2 + "); tpu-v3: calibrated (" + v3_default + ")");
    EXPECT_NE(array_model_select(&a, "calibrated", (v2 + "," + v2).c_str(), err, sizeof err), 0);
    EXPECT_NE(std::string(err).find(v2 + ": field 'preset': 'tpu-v2' already has a calibration"),
              std::string::npos)
        << err;

    EXPECT_NE(array_model_select(&a, "fast", nullptr, err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("field 'compute-model'"), std::string::npos) << err;
    EXPECT_NE(array_model_select(&a, "peak", v2.c_str(), err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("field 'calibration'"), std::string::npos) << err;
    static accel_array b;
    ASSERT_EQ(accel_array_parse("2xtiny", &b, err, sizeof err), 0) << err;
    EXPECT_NE(array_model_select(&b, "calibrated", v2.c_str(), err, sizeof err), 0);
    EXPECT_NE(std::string(err).find(v2 + ": field 'preset': 'tpu-v2' is not a preset"),
              std::string::npos)
        << err;
    // a preset without a calibration file falls back to the contract, and says so
    std::string mine = test_dir() + "my-chip.acc";
    write_text(mine, replaced(slurp(std::string(models_dir()) + "/accelerators/tpu-v3.acc"),
                              "name                tpu-v3", "name my-chip"));
    ASSERT_EQ(accel_array_parse(("1x" + mine).c_str(), &b, err, sizeof err), 0) << err;
    ASSERT_EQ(array_model_select(&b, nullptr, nullptr, err, sizeof err), 0) << err;
    array_model_label(&b, label, sizeof label);
    EXPECT_STREQ(label, "exact (no calibration file)");
    ASSERT_EQ(accel_array_parse(("1xtpu-v2,1x" + mine).c_str(), &b, err, sizeof err), 0) << err;
    ASSERT_EQ(array_model_select(&b, "calibrated", v2.c_str(), err, sizeof err), 0) << err;
    array_model_label(&b, label, sizeof label);
    EXPECT_EQ(std::string(label),
              "tpu-v2: calibrated (" + v2 + "); my-chip: exact (no calibration file)");
}

// A preset given a file with --calibration never reads its default file: a corrupt default
// blocks only the selection that would use it.
TEST(Models, GivenFileReplacesACorruptDefault) {
    REQUIRE_RTL("1xtpu-v2"); // calibrated on replay
    std::string v2 = calibrate("tpu-v2");
    std::string dir = test_dir() + "models-corrupt-default";
    std::string preset_file = std::string(models_dir()) + "/accelerators/tpu-v2.acc";
    std::filesystem::create_directories(dir + "/accelerators");
    std::filesystem::create_directories(dir + "/calibration");
    std::filesystem::copy_file(preset_file, dir + "/accelerators/tpu-v2.acc",
                               std::filesystem::copy_options::overwrite_existing);
    std::string corrupt = dir + "/calibration/tpu-v2.cal";
    std::ofstream(corrupt) << "format 2\npreset tpu-v2\ngarbage\n";
    ASSERT_EQ(setenv("ACCPAR_MODELS_DIR", dir.c_str(), 1), 0);
    static accel_array a;
    char err[1024], label[2048];
    ASSERT_EQ(accel_array_parse("2xtpu-v2", &a, err, sizeof err), 0) << err;
    EXPECT_NE(array_model_select(&a, "calibrated", nullptr, err, sizeof err), 0);
    EXPECT_NE(std::string(err).find(corrupt + ":3: field 'garbage': unknown field"),
              std::string::npos)
        << err;
    EXPECT_EQ(array_model_select(&a, "calibrated", v2.c_str(), err, sizeof err), 0) << err;
    array_model_label(&a, label, sizeof label);
    EXPECT_EQ(std::string(label), "calibrated (" + v2 + ")");
    unsetenv("ACCPAR_MODELS_DIR");
}

double model_cycles(const accel_array *a, const plan *p, int d) {
    double sum = 0, one;
    char err[256];
    int kind = a->kind_of[d];
    for (int v = 0; v < p->n_nodes; v++)
        for (int ph = 0; ph < 3; ph++) {
            const gemm_dims &g = *plan_gemm(p, d, v, (gemm_phase)ph);
            if (g.m == 0)
                continue;
            EXPECT_EQ(device_model_cycles(&a->kinds[kind], &a->models[kind], g.m, g.k, g.n, &one,
                                          err, sizeof err),
                      0);
            sum += one;
        }
    return sum;
}

// tiny-resnet (residual DAG, never part of a calibration) on a mixed array, emulated with
// RTL-timed replay: the calibrated per-device cycles and the step time match emulation within
// the target, while the peak model misses by far.
TEST(Models, CalibratedPredictionMatchesEmulationOnAHeldOutNetwork) {
    REQUIRE_RTL("1xtpu-v2,1xtpu-v3");
    std::string files = calibrate("tpu-v2") + "," + calibrate("tpu-v3");
    static accel_array a;
    char err[1024];
    net g{};
    ASSERT_EQ(net_find("tiny-resnet", &g, err, sizeof err), 0) << err;
    run_options o{};
    o.fidelity = RUN_FIDELITY_REPLAY;
    o.seed = 3;
    for (const char *model : {"calibrated", "peak"}) {
        int calibrated = std::string(model) == "calibrated";
        ASSERT_EQ(accel_array_parse("1xtpu-v2,2xtpu-v3", &a, err, sizeof err), 0) << err;
        ASSERT_EQ(
            array_model_select(&a, model, calibrated ? files.c_str() : nullptr, err, sizeof err), 0)
            << err;
        plan_options po{STRATEGY_ACCPAR, 8, 0, 0, 0};
        plan p{};
        ASSERT_EQ(plan_make(&g, &a, &po, &p, err, sizeof err), 0) << err;
        run_result r;
        ASSERT_EQ(run_step(&g, &a, &p, &o, &r, err, sizeof err), 0) << err;
        EXPECT_TRUE(r.verified) << r.failure;
        double sum = 0, worst = 0;
        for (int d = 0; d < r.n_devices; d++) {
            double ape = 100 * std::fabs(model_cycles(&a, r.plan, d) - (double)r.device_cycles[d]) /
                         (double)r.device_cycles[d];
            sum += ape / r.n_devices;
            worst = std::fmax(worst, ape);
        }
        double step_ape =
            100 * std::fabs(r.predicted_step_s - r.simulated_step_s) / r.simulated_step_s;
        if (calibrated) {
            EXPECT_LE(sum, 1.0);
            EXPECT_LE(worst, 3.0);
            EXPECT_LE(step_ape, 3.0);
            EXPECT_EQ(std::string(r.plan->model).find("tpu-v2: calibrated ("), 0u) << r.plan->model;
        } else {
            EXPECT_GT(sum, 10.0); // the peak rate ignores fill, drain and memory stalls
            EXPECT_GT(step_ape, 10.0);
            EXPECT_STREQ(r.plan->model, "peak");
        }
        run_result_free(&r);
        plan_free(&p);
    }
    net_free(&g);
}

} // namespace
