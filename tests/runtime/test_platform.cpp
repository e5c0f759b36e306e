// The SystemC platform (sim/platform/platform.cpp) through sim/platform/platform.h: clock domains
// with edge alignment, the v3/v2 clock ratio, links carrying one transfer at a time per direction
// for latency + bytes / bandwidth, and its errors. Expected times are computed here by hand.
#include <gtest/gtest.h>

extern "C" {
#include "platform.h"
#include "preset.h"
}

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace {

constexpr double FS = 2e-15; // SystemC time resolution is 1 fs

struct plat {
    platform *p = nullptr;
    char err[256] = "";
    explicit plat(std::initializer_list<double> mhz) {
        std::vector<double> m(mhz);
        EXPECT_EQ(platform_open((int)m.size(), m.data(), &p, err, sizeof err), 0) << err;
    }
    ~plat() {
        platform_close(p);
    }
    void compute(std::initializer_list<uint64_t> cycles) {
        std::vector<uint64_t> c(cycles);
        ASSERT_EQ(platform_compute(p, c.data(), err, sizeof err), 0) << err;
    }
    void transfer(std::initializer_list<platform_xfer> x) {
        std::vector<platform_xfer> v(x);
        ASSERT_EQ(platform_transfer(p, v.data(), (int)v.size(), err, sizeof err), 0) << err;
    }
};

double clock_mhz(const char *preset) {
    accel_preset p;
    char err[512];
    EXPECT_EQ(preset_find(preset, &p, err, sizeof err), 0) << err;
    return p.clock_mhz;
}

TEST(Platform, AV3FinishesTheSameCycles134TimesSooner) {
    double v2 = clock_mhz("tpu-v2"), v3 = clock_mhz("tpu-v3");
    const uint64_t n = 1000000;
    double t2, t3; // one platform at a time: they share the process's simulated clock
    {
        plat a{v2};
        a.compute({n});
        t2 = platform_now_s(a.p);
    }
    {
        plat b{v3};
        b.compute({n});
        t3 = platform_now_s(b.p);
    }
    EXPECT_NEAR(t2, (double)n / (v2 * 1e6), FS);
    EXPECT_NEAR(t3, (double)n / (v3 * 1e6), FS);
    EXPECT_NEAR(t2 / t3, 1.34, 0.005);
    // together: the phase is a barrier, ending with the slower device
    plat both{v2, v3};
    both.compute({n, n});
    EXPECT_NEAR(platform_now_s(both.p), t2, FS);
}

TEST(Platform, EachDeviceStartsAtItsNextClockEdge) {
    plat p{700, 940};
    p.compute({7, 0}); // 7 periods of 700 MHz: exactly 10 ns
    EXPECT_NEAR(platform_now_s(p.p), 10e-9, FS);
    // 940 MHz edges fall at k / 940 MHz: the first at or after 10 ns is k = 10, then one cycle
    p.compute({0, 1});
    EXPECT_NEAR(platform_now_s(p.p), 11 / 940e6, FS);
    // a 700 MHz device is not on an edge now either: its next is k = 9 (12.857 ns)
    p.compute({1, 0});
    EXPECT_NEAR(platform_now_s(p.p), 10 / 700e6, FS);
    // on an edge already: no wait
    plat q{700};
    q.compute({7});
    q.compute({7});
    EXPECT_NEAR(platform_now_s(q.p), 20e-9, FS);
}

TEST(Platform, ALinkCarriesOneTransferAtATimePerDirection) {
    const double bw = 1e9, lat = 1e-6;
    {
        plat p{700};
        int link = platform_add_link(p.p, bw, lat, p.err, sizeof p.err);
        ASSERT_EQ(link, 0) << p.err;
        p.transfer({{link, 0, 1000}});
        EXPECT_NEAR(platform_now_s(p.p), lat + 1000 / bw, FS); // latency + bytes / bandwidth
        EXPECT_EQ(platform_link_bytes(p.p, link), 1000u);
    }
    {
        plat p{700}; // one direction: the second waits for the first
        int link = platform_add_link(p.p, bw, lat, p.err, sizeof p.err);
        p.transfer({{link, 0, 1000}, {link, 0, 3000}});
        EXPECT_NEAR(platform_now_s(p.p), (lat + 1000 / bw) + (lat + 3000 / bw), FS);
        EXPECT_EQ(platform_link_bytes(p.p, link), 4000u);
    }
    {
        plat p{700}; // full duplex: the two directions overlap
        int link = platform_add_link(p.p, bw, lat, p.err, sizeof p.err);
        p.transfer({{link, 0, 1000}, {link, 1, 3000}});
        EXPECT_NEAR(platform_now_s(p.p), lat + 3000 / bw, FS);
    }
    {
        plat p{700}; // separate links overlap too
        int l0 = platform_add_link(p.p, bw, lat, p.err, sizeof p.err);
        int l1 = platform_add_link(p.p, 2 * bw, lat, p.err, sizeof p.err);
        ASSERT_EQ(l1, 1);
        p.transfer({{l0, 0, 2000}, {l1, 0, 2000}});
        EXPECT_NEAR(platform_now_s(p.p), lat + 2000 / bw, FS);
        EXPECT_EQ(platform_link_bytes(p.p, l1), 2000u);
    }
}

TEST(Platform, ErrorsAreOneLineAndNothingAborts) {
    char err[256];
    platform *p = nullptr;
    double mhz[2] = {700, 0};
    EXPECT_EQ(platform_open(0, mhz, &p, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find("0 devices"), std::string::npos) << err;
    EXPECT_EQ(platform_open(2, mhz, &p, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find("device 1: clock 0 MHz"), std::string::npos) << err;
    plat q{700};
    EXPECT_EQ(platform_add_link(q.p, 0, 1e-6, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find("link of 0 bytes/s"), std::string::npos) << err;
    platform_xfer bad{3, 0, 10};
    EXPECT_EQ(platform_transfer(q.p, &bad, 1, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find("link 3"), std::string::npos) << err;
    uint64_t forever = UINT64_C(1) << 62;
    EXPECT_EQ(platform_compute(q.p, &forever, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find("beyond simulated time's range"), std::string::npos) << err;
    EXPECT_EQ(platform_now_s(q.p), 0.0);
}

} // namespace
