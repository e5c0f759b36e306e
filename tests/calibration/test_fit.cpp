// The fit: known parameters recovered from synthetic data, and the emulated device's measured
// cycles (RTL-timed replay; RTL itself on tiny) recovered as the contract's theta = 1 with
// held-out errors within the target.
#include <gtest/gtest.h>

extern "C" {
#include "cal_measure.h"
#include "calibration.h"
}

#include <cmath>
#include <string>

namespace {

accel_preset preset(const char *name) {
    accel_preset p{};
    char err[512];
    EXPECT_EQ(preset_find(name, &p, err, sizeof err), 0) << err;
    return p;
}

// Synthetic hardware: integer weights (so measured cycles are exact integers) unlike the
// contract's, and a link with another latency and bandwidth.
TEST(Fit, RecoversKnownParametersFromSyntheticData) {
    for (const char *name : {"tpu-v2", "tpu-v3"}) {
        accel_preset p = preset(name);
        calibration c{};
        ASSERT_EQ(cal_design_sweep(&p, &c), 0);
        ASSERT_EQ(cal_design_transfers(&c), 0);
        const double theta[GEMM_FEATURES] = {3, 2, 1, 1, 2, 4};
        for (int q = 0; q < c.n_gemm; q++) {
            gemm_schedule s;
            gemm_features f;
            char err[256];
            ASSERT_EQ(gemm_schedule_make(&p, c.gemm[q].m, c.gemm[q].k, c.gemm[q].n,
                                         c.gemm[q].accumulate, &s, err, sizeof err),
                      0);
            gemm_features_closed_form(&s, &f);
            c.gemm[q].measured = (uint64_t)gemm_features_weighted(&f, theta);
        }
        const double latency = 250e-9, cut = 2.5e9; // seconds, bytes/s
        for (int q = 0; q < c.n_xfer; q++)
            c.xfer[q].measured_s = latency + (double)c.xfer[q].bytes / cut;
        char err[512];
        ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
        for (int i = 0; i < GEMM_FEATURES; i++) {
            EXPECT_NEAR(c.theta[i], theta[i], 1e-9 * theta[i]) << gemm_feature_names[i];
            EXPECT_FALSE(c.nominal[i]) << gemm_feature_names[i];
        }
        EXPECT_NEAR(c.link_latency_ns, 250.0, 1e-6);
        EXPECT_NEAR(c.link_gbytes_per_s * p.links, 2.5, 1e-9);
        EXPECT_LT(c.compute.max_ape, 1e-9);
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
        EXPECT_LT(c.comm.max_ape, 1e-6);
        EXPECT_EQ(c.compute.fit_points + c.compute.heldout_points, c.n_gemm);
        EXPECT_GT(c.compute.heldout_points, 10);
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
    ASSERT_EQ(cal_measure_gemms(&p, backend, &c, nullptr, err, sizeof err), 0) << err;
    ASSERT_EQ(cal_measure_transfers(&p, &c, err, sizeof err), 0) << err;
    ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
    for (int i = 0; i < GEMM_FEATURES; i++)
        EXPECT_NEAR(c.theta[i], 1.0, 1e-6) << name << " " << gemm_feature_names[i];
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
    for (const char *name : {"tiny", "tpu-v2", "tpu-v3"})
        fit_measured(name, ACCEL_BACKEND_REPLAY);
}

TEST(Fit, RtlMeasurementsRecoverTheContractWithinTarget) {
    fit_measured("tiny", ACCEL_BACKEND_RTL);
}

// tiny's single MXU prefetches one 32-byte tile, never longer than a stream: that weight cannot be
// fitted and keeps the contract's 1, marked nominal.
TEST(Fit, UnexercisedFeatureStaysNominal) {
    accel_preset p = preset("tiny");
    calibration c{};
    ASSERT_EQ(cal_design_sweep(&p, &c), 0);
    ASSERT_EQ(cal_design_transfers(&c), 0);
    char err[1024];
    ASSERT_EQ(cal_measure_gemms(&p, ACCEL_BACKEND_REPLAY, &c, nullptr, err, sizeof err), 0);
    ASSERT_EQ(cal_measure_transfers(&p, &c, err, sizeof err), 0) << err;
    ASSERT_EQ(calibration_fit(&c, &p, err, sizeof err), 0) << err;
    EXPECT_TRUE(c.nominal[FEAT_PREFETCH]);
    EXPECT_EQ(c.theta[FEAT_PREFETCH], 1.0);
    EXPECT_FALSE(c.nominal[FEAT_ROWS]);
    calibration_free(&c);
}

} // namespace
