// The fit: known parameters recovered from synthetic data, out-of-bounds fits rejected, the
// sweep's shapes distinct, a failed measurement reported, and the emulated device's measured
// cycles (RTL-timed replay; RTL itself on tiny) recovered as the contract's theta = 1 with
// held-out errors within the target.
#include <gtest/gtest.h>

#include "command_features.h"
#include "rtl_available.h"
#include "test_support.h"

extern "C" {
#include "cal_measure.h"
#include "calibration.h"
}

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

namespace {

// Synthetic hardware, built without the fit's feature function: every command of the schedule
// walk costs sum_i theta_i * (what the command adds to feature i), from the per-command contract
// written out in command_features.h. Integer weights keep the cycles exact integers.
struct synthetic_cost {
    const accel_preset *p;
    const double *theta;
    double cycles;
};

int add_command(const gemm_step *st, void *ctx) {
    synthetic_cost *s = (synthetic_cost *)ctx;
    uint64_t f[GEMM_FEATURES];
    command_features(s->p, st, f);
    for (int i = 0; i < GEMM_FEATURES; i++)
        s->cycles += s->theta[i] * (double)f[i];
    return 0;
}

// The sweep's points measured on synthetic hardware with weights theta and a link of the given
// latency and cut bandwidth.
void synthesise(const accel_preset &p, const double theta[GEMM_FEATURES], double latency_s,
                double cut_bytes_per_s, calibration *c) {
    ASSERT_EQ(cal_design_sweep(&p, c), 0);
    ASSERT_EQ(cal_design_transfers(c), 0);
    snprintf(c->backend, sizeof c->backend, "replay"); // as if measured there
    for (int q = 0; q < c->n_gemm; q++) {
        gemm_schedule s;
        char err[256];
        ASSERT_EQ(gemm_schedule_make(&p, c->gemm[q].m, c->gemm[q].k, c->gemm[q].n,
                                     c->gemm[q].accumulate, &s, err, sizeof err),
                  0)
            << err;
        synthetic_cost cost{&p, theta, 0};
        gemm_schedule_walk(&s, add_command, &cost);
        ASSERT_GT(cost.cycles, 0);
        c->gemm[q].measured = (uint64_t)std::llround(cost.cycles);
    }
    for (int q = 0; q < c->n_xfer; q++)
        c->xfer[q].measured_s = latency_s + (double)c->xfer[q].bytes / cut_bytes_per_s;
}

// A two-cycle issue, a three-cycle read latency, a quarter-rate port, a row every five cycles, a
// longer pipeline and a slower prefetch: every weight differs from the contract's 1 and from the
// others, and the link from the preset's.
TEST(Fit, RecoversKnownParametersFromSyntheticData) {
    const double theta[GEMM_FEATURES] = {2, 3, 4, 5, 6, 7};
    for (const char *name : {"tpu-v2", "tpu-v3"}) {
        accel_preset p = preset(name);
        calibration c{};
        synthesise(p, theta, 250e-9, 2.5e9, &c);
        char err[512];
        ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
        for (int i = 0; i < GEMM_FEATURES; i++) {
            EXPECT_NEAR(c.theta[i], theta[i], 1e-9 * theta[i]) << gemm_feature_names[i];
            EXPECT_FALSE(c.nominal[i]) << gemm_feature_names[i];
        }
        EXPECT_NEAR(c.link_latency_ns, 250.0, 1e-6);
        EXPECT_NEAR(c.link_gbytes_per_s * p.links, 2.5, 1e-9);
        EXPECT_LT(c.compute.max_ape, 1e-9);
        EXPECT_LT(c.comm.max_ape, 1e-6);
        EXPECT_EQ(c.compute.fit_points + c.compute.heldout_points, c.n_gemm);
        EXPECT_GT(c.compute.heldout_points, 10);
        // the contract's weights miss this hardware: the fit is what closes the gap
        const double ones[GEMM_FEATURES] = {1, 1, 1, 1, 1, 1};
        double worst = 0;
        for (int q = 0; q < c.n_gemm; q++) {
            gemm_schedule s;
            gemm_features f;
            gemm_schedule_make(&p, c.gemm[q].m, c.gemm[q].k, c.gemm[q].n, c.gemm[q].accumulate, &s,
                               err, sizeof err);
            gemm_features_closed_form(&s, &f);
            double m = (double)c.gemm[q].measured;
            worst = std::fmax(worst, std::fabs(gemm_features_weighted(&f, ones) - m) / m);
        }
        EXPECT_GT(worst, 0.2);
        // what the fit produces, the loader reads back
        std::string path = test_dir() + name + "-synthetic.cal";
        ASSERT_EQ(write_output(
                      path,
                      [&] { return calibration_write(path.c_str(), &c, nullptr, err, sizeof err); },
                      err, sizeof err),
                  0)
            << err;
        calibration d;
        ASSERT_EQ(calibration_load(path.c_str(), &d, err, sizeof err), 0) << err;
        for (int i = 0; i < GEMM_FEATURES; i++)
            EXPECT_NEAR(d.theta[i], theta[i], 1e-9 * theta[i]) << gemm_feature_names[i];
        calibration_free(&d);
        calibration_free(&c);
    }
}

// Data the model cannot describe within the file's bounds is an error, never a file the loader
// would reject: a huge weight names the feature, an absurd bandwidth the link figure; a link
// without latency fits as 0 (rounding stays >= 0). Data that want a negative weight or latency get
// the best fit with it at 0, which misses them: the held-out error says so (calibrate exits 1).
TEST(Fit, WeightsAndLinkFiguresOutsideTheBoundsAreErrors) {
    accel_preset p = preset("tpu-v2");
    const double good[GEMM_FEATURES] = {2, 3, 4, 5, 6, 7};
    struct bad_case {
        int feature;
        double theta, latency_s, cut;
        const char *expect;
    };
    const bad_case cases[] = {
        {FEAT_ROWS, 2e6, 250e-9, 2.5e9, "feature 'rows' fitted at 2e+06 cycles per unit, above"},
        {FEAT_FILL, 6, 1e-3, 1e-4, "link bandwidth fitted at 2.5e-14 GB/s, outside [1e-09,"},
    };
    for (const bad_case &k : cases) {
        double theta[GEMM_FEATURES];
        std::copy(good, good + GEMM_FEATURES, theta);
        theta[k.feature] = k.theta;
        calibration c{};
        synthesise(p, theta, k.latency_s, k.cut, &c);
        char err[512];
        EXPECT_NE(calibration_fit(&c, &p, err, sizeof err), 0) << k.expect;
        EXPECT_NE(std::string(err).find(k.expect), std::string::npos) << err;
        EXPECT_NE(std::string(err).find("tpu-v2"), std::string::npos) << err;
        calibration_free(&c);
    }
    calibration c{};
    synthesise(p, good, 0, 2.5e9, &c);
    char err[512];
    ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
    EXPECT_GE(c.link_latency_ns, 0);
    EXPECT_LT(c.link_latency_ns, 1e-6);
    calibration_free(&c);
    double negative[GEMM_FEATURES];
    std::copy(good, good + GEMM_FEATURES, negative);
    negative[FEAT_LOADS] = -1;
    synthesise(p, negative, -50e-9, 2.5e9, &c);
    ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
    EXPECT_EQ(c.theta[FEAT_LOADS], 0.0);
    EXPECT_EQ(c.link_latency_ns, 0.0);
    EXPECT_GT(c.compute.max_ape, 1e-3) << "the fit misses data no non-negative weights describe";
    EXPECT_GT(c.comm.max_ape, 1e-3);
    calibration_free(&c);
}

// An accelerator variant whose weight loads cost nothing (a feature made free, as an RTL change
// that overlaps them would): the fit puts that weight at exactly 0 and recovers the others.
TEST(Fit, FreeFeatureFitsAtZero) {
    for (int free_feature : {FEAT_LOADS, FEAT_FILL}) {
        double theta[GEMM_FEATURES] = {2, 3, 4, 5, 6, 7};
        theta[free_feature] = 0;
        accel_preset p = preset("tpu-v3");
        calibration c{};
        synthesise(p, theta, 250e-9, 2.5e9, &c);
        char err[512];
        ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
        for (int i = 0; i < GEMM_FEATURES; i++)
            EXPECT_NEAR(c.theta[i], theta[i], 1e-9 * std::fmax(theta[i], 1.0))
                << gemm_feature_names[i];
        EXPECT_GE(c.theta[free_feature], 0.0) << "never a negative rounding residue";
        EXPECT_LT(c.compute.max_ape, 1e-9);
        calibration_free(&c);
    }
}

// A fit on too little variety (one shape: every feature proportional) reports rank deficiency.
TEST(Fit, PoorDataIsRankDeficient) {
    accel_preset p = preset("tpu-v2");
    calibration c{};
    for (int q = 0; q < 12; q++) { // one shape only: every feature proportional
        c.gemm = (cal_gemm *)realloc(c.gemm, sizeof(cal_gemm) * (size_t)(q + 1));
        c.gemm[q] = cal_gemm{64, 64, 64, 0, CAL_FIT, 1000, 0};
        c.n_gemm++;
    }
    ASSERT_EQ(cal_design_transfers(&c), 0);
    for (int q = 0; q < c.n_xfer; q++)
        c.xfer[q].measured_s = 1e-6 + (double)c.xfer[q].bytes * 1e-9;
    char err[512];
    EXPECT_NE(calibration_fit(&c, &p, err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("rank deficient"), std::string::npos) << err;
    EXPECT_NE(std::string(err).find("tpu-v2"), std::string::npos) << err;
    calibration_free(&c);
}

void fit_measured(const char *name, accel_backend backend) {
    accel_preset p = preset(name);
    calibration c{};
    ASSERT_EQ(cal_design_sweep(&p, &c), 0);
    ASSERT_EQ(cal_design_transfers(&c), 0);
    char err[1024];
    ASSERT_EQ(cal_measure_gemms(&p, backend, 1, 0, 1, &c, nullptr, err, sizeof err), 0) << err;
    ASSERT_EQ(cal_measure_transfers(&p, &c, err, sizeof err), 0) << err;
    ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
    for (int i = 0; i < GEMM_FEATURES; i++)
        EXPECT_NEAR(c.theta[i], (double)gemm_contract_cycles[i], 1e-6)
            << name << " " << gemm_feature_names[i];
    EXPECT_NEAR(c.link_latency_ns, p.link_latency_ns, 1e-6 * p.link_latency_ns);
    EXPECT_NEAR(c.link_gbytes_per_s, p.link_gbytes_per_s, 1e-6 * p.link_gbytes_per_s);
    EXPECT_LE(c.compute.mean_ape, 1.0);
    EXPECT_LE(c.compute.max_ape, 3.0);
    EXPECT_LE(c.comm.mean_ape, 1.0);
    EXPECT_LE(c.comm.max_ape, 3.0);
    EXPECT_GE(c.compute.heldout_points, 20);
    EXPECT_GE(c.comm.heldout_points, 8);
    calibration_free(&c);
}

TEST(Fit, ReplayMeasurementsRecoverTheContractWithinTarget) {
    REQUIRE_RTL("1xtiny,1xtpu-v2,1xtpu-v3");
    for (const char *name : {"tiny", "tpu-v2", "tpu-v3"})
        fit_measured(name, ACCEL_BACKEND_REPLAY);
}

TEST(Fit, RtlMeasurementsRecoverTheContractWithinTarget) {
    REQUIRE_RTL("1xtiny");
    fit_measured("tiny", ACCEL_BACKEND_RTL);
}

// tiny's single MXU prefetches one 32-byte tile, never longer than a stream: that weight cannot be
// fitted and keeps the contract's, marked nominal.
TEST(Fit, UnexercisedFeatureStaysNominal) {
    accel_preset p = preset("tiny");
    calibration c{};
    ASSERT_EQ(cal_design_sweep(&p, &c), 0);
    ASSERT_EQ(cal_design_transfers(&c), 0);
    char err[1024];
    ASSERT_EQ(cal_measure_gemms(&p, ACCEL_BACKEND_REPLAY, 2, 0, 1, &c, nullptr, err, sizeof err),
              0);
    ASSERT_EQ(cal_measure_transfers(&p, &c, err, sizeof err), 0) << err;
    ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
    EXPECT_TRUE(c.nominal[FEAT_PREFETCH]);
    EXPECT_EQ(c.theta[FEAT_PREFETCH], (double)gemm_contract_cycles[FEAT_PREFETCH]);
    EXPECT_FALSE(c.nominal[FEAT_ROWS]);
    calibration_free(&c);
}

// Every preset's sweep measures each shape once, also where levels coincide on a small array
// (R - 1 = 1 on a 2x2 array), so the held-out points are never fitted points too.
TEST(Sweep, ShapesAreDistinct) {
    std::string small = test_dir() + "small2.acc";
    std::ofstream(small) << "name small2\narray_rows 2\narray_cols 2\nmxus 1\nclock_mhz 100\n"
                            "mem_bytes_per_cycle 4\nact_buffer_rows 8\nacc_buffer_rows 16\n"
                            "mem_mib 16\nlinks 1\nlink_gbytes_per_s 1\nlink_latency_ns 10\n";
    for (const std::string &name :
         {std::string("tiny"), std::string("tpu-v2"), std::string("tpu-v3-full"), small}) {
        accel_preset p = preset(name.c_str());
        calibration c{};
        ASSERT_EQ(cal_design_sweep(&p, &c), 0);
        EXPECT_GE(c.n_gemm, 30) << name;
        for (int q = 0; q < c.n_gemm; q++)
            for (int r = 0; r < q; r++)
                EXPECT_FALSE(c.gemm[q].m == c.gemm[r].m && c.gemm[q].k == c.gemm[r].k &&
                             c.gemm[q].n == c.gemm[r].n &&
                             c.gemm[q].accumulate == c.gemm[r].accumulate)
                    << name << ": points " << r << " and " << q;
        calibration_free(&c);
    }
}

// A GEMM the device cannot run (beyond tiny's 16 MiB) is an error naming it; it stays
// unmeasured rather than take another run's counters, and so do the points after it when one
// worker runs them all. With several workers the error is still the first failing GEMM's.
TEST(Measure, FailedGemmIsAnErrorAndStaysUnmeasured) {
    accel_preset p = preset("tiny");
    for (int jobs : {1, 2, 3}) {
        calibration c{};
        c.gemm = (cal_gemm *)calloc(4, sizeof(cal_gemm));
        c.gemm[0] = cal_gemm{8, 8, 8, 0, CAL_FIT, 0, 0};
        c.gemm[1] = cal_gemm{2048, 2048, 2048, 0, CAL_FIT, 0, 0};
        c.gemm[2] = cal_gemm{4, 4, 4, 0, CAL_HELDOUT, 0, 0};
        c.gemm[3] = cal_gemm{2048, 2048, 1024, 0, CAL_FIT, 0, 0};
        c.n_gemm = 4;
        char err[1024];
        EXPECT_NE(
            cal_measure_gemms(&p, ACCEL_BACKEND_REPLAY, jobs, 0, 1, &c, nullptr, err, sizeof err),
            0);
        EXPECT_NE(std::string(err).find("2048x2048x2048"), std::string::npos) << jobs << err;
        EXPECT_GT(c.gemm[0].measured, 0u);
        EXPECT_EQ(c.gemm[1].measured, 0u);
        EXPECT_EQ(c.gemm[3].measured, 0u);
        if (jobs == 1) {
            EXPECT_EQ(c.gemm[2].measured, 0u);
        }
        calibration_free(&c);
    }
}

// The measured cycles are the same whatever the number of workers.
TEST(Measure, SameCyclesForAnyNumberOfJobs) {
    REQUIRE_RTL("1xtpu-v2");
    accel_preset p = preset("tpu-v2");
    std::vector<uint64_t> first;
    for (int jobs : {1, 2, 3}) {
        calibration c{};
        ASSERT_EQ(cal_design_sweep(&p, &c), 0);
        char err[1024];
        ASSERT_EQ(
            cal_measure_gemms(&p, ACCEL_BACKEND_REPLAY, jobs, 0, 1, &c, nullptr, err, sizeof err),
            0)
            << err;
        std::vector<uint64_t> cycles;
        for (int q = 0; q < c.n_gemm; q++)
            cycles.push_back(c.gemm[q].measured);
        if (first.empty())
            first = cycles;
        EXPECT_EQ(cycles, first) << jobs << " jobs";
        calibration_free(&c);
    }
    // in parts, as ranks measure them (docs/scale-out.md): each part only its own GEMMs
    for (int parts : {2, 3}) {
        calibration c{};
        ASSERT_EQ(cal_design_sweep(&p, &c), 0);
        std::vector<uint64_t> cycles(c.n_gemm, 0);
        for (int part = 0; part < parts; part++) {
            for (int q = 0; q < c.n_gemm; q++)
                c.gemm[q].measured = 0;
            char err[1024];
            ASSERT_EQ(cal_measure_gemms(&p, ACCEL_BACKEND_REPLAY, 2, part, parts, &c, nullptr, err,
                                        sizeof err),
                      0)
                << err;
            for (int q = 0; q < c.n_gemm; q++) {
                EXPECT_EQ(c.gemm[q].measured != 0, q % parts == part) << q;
                cycles[q] += c.gemm[q].measured;
            }
        }
        EXPECT_EQ(cycles, first) << parts << " parts";
        calibration_free(&c);
    }
}

} // namespace
