// accpar machine (host/cli/cli_machine.c): its figures against what the test reads from the
// system itself, and the FMA peak inside what the hardware can physically do.
#include "test_json.h"
#include "test_support.h"

extern "C" {
#include "cli.h"
}

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace {

// The processors this process may run on, from its affinity mask.
int affinity_processors() {
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    return CPU_COUNT(&set);
}

// A line of /proc/meminfo in bytes (0 if absent).
double meminfo_bytes(const std::string &key) {
    std::ifstream in("/proc/meminfo");
    std::string name;
    double kib = 0;
    std::string unit;
    while (in >> name >> kib) {
        std::getline(in, unit);
        if (name == key + ":")
            return kib * 1024.0;
    }
    return 0;
}

// The clock this core runs at now, measured: a chain of dependent one-cycle integer adds
// retires one add per cycle at whatever clock turbo sets (/proc/cpuinfo's "cpu MHz" is the
// nominal clock in a VM, well below turbo). The best of several tries, so a try cut short by
// another process does not count. Elsewhere than x86-64, 6.5 GHz: no core runs faster.
double core_hz() {
#if defined(__x86_64__)
    double best = 0;
    for (int t = 0; t < 5; t++) {
        const long n = 2000000;
        uint64_t x = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < n; i++)
            asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                         : "+r"(x));
        std::chrono::duration<double> s = std::chrono::steady_clock::now() - t0;
        best = std::max(best, 8.0 * (double)n / s.count());
    }
    return best;
#else
    return 6.5e9;
#endif
}

// 1 if /proc/cpuinfo lists the flag for the first processor.
bool cpu_flag(const std::string &flag) {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("flags", 0) == 0) {
            std::istringstream words(line);
            for (std::string w; words >> w;)
                if (w == flag)
                    return true;
            return false;
        }
    return false;
}

TEST(CliMachine, FiguresAreTheSystemsAndThePeakIsPhysical) {
    std::string path = testing::TempDir() + "machine.json";
    cli_output o =
        cli_call(cli_machine, {"machine", "--jobs", "1", "--seconds", "0.05", "--json", path});
    ASSERT_EQ(o.rc, 0) << o.err;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    Json j = parse_json(text.str());
    EXPECT_EQ(j["processors"].num, affinity_processors());
    EXPECT_NE(o.out.find("processors: " + std::to_string(affinity_processors()) + "\n"),
              std::string::npos)
        << o.out;
    double total = meminfo_bytes("MemTotal");
    EXPECT_GT(j["host_memory_bytes"].num, 0.0);
    if (total > 0) {
        EXPECT_LE(j["host_memory_bytes"].num, total);
    }
    EXPECT_EQ(j["threads"].num, 1);
    // the widest unit the processor has, and a peak no core can exceed: lanes x 2 FMA units x
    // 2 flops at the core's measured clock, with a quarter more for the clock changing between
    // the two measurements; and at least a slow scalar core's 0.1 GFLOP/s
    const std::string unit = j["vector_unit"].str;
    double lanes = unit == "avx512" ? 16 : unit == "avx2" ? 8 : 1;
    if (cpu_flag("avx512f")) {
        EXPECT_EQ(unit, "avx512");
    } else if (cpu_flag("avx2") && cpu_flag("fma")) {
        EXPECT_EQ(unit, "avx2");
    }
    double peak = j["fp32_fma_peak_flops"].num;
    EXPECT_LE(peak, lanes * 2 * 2 * 1.25 * core_hz()) << unit;
    EXPECT_GE(peak, 1e8) << unit;
    EXPECT_FALSE(j["blas_kernels"].str.empty());
}

TEST(CliMachine, BadThreadCountIsOneLine) {
    cli_output o = cli_call(cli_machine, {"machine", "--jobs", "0"});
    EXPECT_TRUE(one_line_error(o, 2, "--jobs")) << o.err;
}

} // namespace
