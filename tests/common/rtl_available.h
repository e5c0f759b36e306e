// Tests that need a preset's RTL model skip, saying why, when it cannot be had: GTEST_SKIP in the
// test body, never a failure or a crash further on.
#ifndef ACCPAR_RTL_AVAILABLE_H
#define ACCPAR_RTL_AVAILABLE_H

#include <gtest/gtest.h>

extern "C" {
#include "accel_api.h"
#include "accel_array.h"
}

#include <string>

// "" if a device of the preset opens on the RTL backend, else why not.
inline std::string rtl_missing(const accel_preset &p) {
    accel_dev *dev = nullptr;
    char err[1024];
    if (accel_open(&p, ACCEL_BACKEND_RTL, &dev, err, sizeof err) == ACCEL_OK) {
        accel_close(dev);
        return "";
    }
    return err;
}

// "" if every kind of the array (COUNTxPRESET[,...]) has an RTL model, else why not.
inline std::string rtl_missing(const std::string &accels) {
    static accel_array a;
    char err[1024];
    if (accel_array_parse(accels.c_str(), &a, err, sizeof err) != 0)
        return err;
    for (int k = 0; k < a.n_kinds; k++) {
        std::string why = rtl_missing(a.kinds[k]);
        if (!why.empty())
            return why;
    }
    return "";
}

// In a test body: skip unless every preset of the array (or the preset) has an RTL model.
#define REQUIRE_RTL(what)                                                                          \
    do {                                                                                           \
        std::string why_missing = rtl_missing(what);                                               \
        if (!why_missing.empty())                                                                  \
            GTEST_SKIP() << "no RTL model: " << why_missing;                                       \
    } while (0)

#endif
