// The emulated platform (sim/platform/platform.h) on SystemC: one kernel per process, each
// platform a set of clock domains and links whose activity runs as dynamic processes.
// Devices in their own clock domain wait cycles x period from their next clock edge (the
// instant an sc_clock edge counter would reach, without one event per cycle); a link
// direction carries one transfer at a time. docs/runtime.md describes the time model.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "platform.h"

#include <systemc>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

namespace {

struct link_state {
    double bytes_per_s, latency_s;
    sc_core::sc_time free_at[2];
    uint64_t bytes;
};

// The kernel is shared by every platform of the process: set it up once, at femtoseconds.
void kernel_init() {
    static bool done = false;
    if (done)
        return;
    done = true;
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
}

sc_core::sc_time seconds(double s) {
    return sc_core::sc_time(s, sc_core::SC_SEC);
}

// An instant t0 + s that SystemC time (64-bit femtoseconds, about 5 hours) can hold.
bool representable(sc_core::sc_time t0, double s) {
    return s >= 0.0 && t0.to_seconds() + s < 0.5 * sc_core::sc_max_time().to_seconds();
}

} // namespace

struct platform {
    std::vector<double> hz;
    std::vector<link_state> links;
    sc_core::sc_time t0;
};

extern "C" {

int platform_open(int n, const double *clock_mhz, platform **out, char *err, size_t errlen) {
    *out = nullptr;
    if (n < 1) {
        std::snprintf(err, errlen, "platform: %d devices (need at least 1)", n);
        return -1;
    }
    kernel_init();
    platform *p = new (std::nothrow) platform;
    if (!p) {
        std::snprintf(err, errlen, "platform: out of memory");
        return -1;
    }
    for (int d = 0; d < n; d++) {
        if (!(clock_mhz[d] > 0.0)) {
            std::snprintf(err, errlen, "platform: device %d: clock %g MHz", d, clock_mhz[d]);
            delete p;
            return -1;
        }
        p->hz.push_back(clock_mhz[d] * 1e6);
    }
    p->t0 = sc_core::sc_time_stamp();
    *out = p;
    return 0;
}

void platform_close(platform *p) {
    delete p;
}

int platform_add_link(platform *p, double bytes_per_s, double latency_s, char *err, size_t errlen) {
    if (!(bytes_per_s > 0.0) || !(latency_s >= 0.0)) {
        std::snprintf(err, errlen, "platform: link of %g bytes/s, latency %g s", bytes_per_s,
                      latency_s);
        return -1;
    }
    sc_core::sc_time now = sc_core::sc_time_stamp();
    p->links.push_back(link_state{bytes_per_s, latency_s, {now, now}, 0});
    return (int)p->links.size() - 1;
}

int platform_compute(platform *p, const uint64_t *cycles, char *err, size_t errlen) {
    sc_core::sc_time now = sc_core::sc_time_stamp();
    double rel = (now - p->t0).to_seconds();
    std::vector<sc_core::sc_time> ends;
    for (size_t d = 0; d < p->hz.size(); d++) {
        if (cycles[d] == 0)
            continue;
        double f = p->hz[d];
        // next edge of this device's clock (edges at t0 + k / f), then cycles periods
        double edge = std::ceil(rel * f - 1e-6), end_s = (edge + (double)cycles[d]) / f;
        if (!representable(p->t0, end_s)) {
            std::snprintf(err, errlen,
                          "platform: device %zu: %llu cycles at %g MHz end beyond simulated "
                          "time's range",
                          d, (unsigned long long)cycles[d], f * 1e-6);
            return -1;
        }
        ends.push_back(p->t0 + seconds(end_s));
    }
    for (sc_core::sc_time end : ends)
        sc_core::sc_spawn([end]() { sc_core::wait(end - sc_core::sc_time_stamp()); });
    sc_core::sc_start();
    return 0;
}

int platform_transfer(platform *p, const platform_xfer *x, int n, char *err, size_t errlen) {
    sc_core::sc_time now = sc_core::sc_time_stamp();
    for (int k = 0; k < n; k++) {
        if (x[k].link < 0 || x[k].link >= (int)p->links.size() || x[k].dir < 0 || x[k].dir > 1) {
            std::snprintf(err, errlen, "platform: transfer %d: link %d direction %d", k, x[k].link,
                          x[k].dir);
            return -1;
        }
    }
    for (int k = 0; k < n; k++) {
        if (x[k].bytes == 0)
            continue;
        link_state &l = p->links[(size_t)x[k].link];
        sc_core::sc_time &free_at = l.free_at[x[k].dir];
        sc_core::sc_time start = free_at > now ? free_at : now;
        sc_core::sc_time end = start + seconds((double)x[k].bytes / l.bytes_per_s + l.latency_s);
        free_at = end;
        l.bytes += x[k].bytes;
        sc_core::sc_spawn([end]() { sc_core::wait(end - sc_core::sc_time_stamp()); });
    }
    sc_core::sc_start();
    return 0;
}

double platform_now_s(const platform *p) {
    return (sc_core::sc_time_stamp() - p->t0).to_seconds();
}

uint64_t platform_link_bytes(const platform *p, int link) {
    return p->links[(size_t)link].bytes;
}

} // extern "C"

// libsystemc references sc_main from its own main(), which accpar (with its own main) never
// runs; the platform drives the kernel with sc_start() from library calls instead.
extern "C" int sc_main(int, char **) {
    return 1;
}
