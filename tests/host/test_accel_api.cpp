// The device API: misuse returns an error code and a message naming the field, never an
// abort; the golden and RTL backends agree on a hand-written command stream.
#include "model_cache.h"
#include "rtl_available.h"
#include "rtl_backends.h"
#include "test_support.h"
#include "bf16.h"
#include "test_util.h"

#include <cstring>
#include <string>

namespace {

class DeviceApi : public ::testing::TestWithParam<accel_backend> {
  protected:
    void SetUp() override {
        p = load_preset("tiny");
        char err[512];
        ASSERT_EQ(accel_open(&p, GetParam(), &dev, err, sizeof err), ACCEL_OK) << err;
    }
    void TearDown() override {
        accel_close(dev);
    }
    std::string last() const {
        return accel_last_error(dev);
    }
    accel_preset p;
    accel_dev *dev = nullptr;
};

TEST_P(DeviceApi, AllocationAndCopies) {
    uint64_t a, b, c;
    EXPECT_EQ(accel_alloc(dev, 0, &a), ACCEL_EINVAL);
    EXPECT_EQ(accel_alloc(dev, (uint64_t)p.mem_mib << 21, &a), ACCEL_ENOMEM);
    ASSERT_EQ(accel_alloc(dev, 100, &a), ACCEL_OK); // rounded up to 104, the port's multiple
    ASSERT_EQ(accel_alloc(dev, 96, &b), ACCEL_OK);
    EXPECT_EQ(a % (uint64_t)p.mem_bytes_per_cycle, 0u);
    EXPECT_EQ(b % (uint64_t)p.mem_bytes_per_cycle, 0u);
    EXPECT_GE(b, a + 104);
    ASSERT_EQ(accel_free(dev, a), ACCEL_OK);
    ASSERT_EQ(accel_alloc(dev, 50, &c), ACCEL_OK);
    EXPECT_EQ(c, a) << "first fit reuses the freed range";
    EXPECT_EQ(accel_free(dev, a + 8), ACCEL_EINVAL);
    char buf[200] = {0};
    EXPECT_EQ(accel_copy_in(dev, b, buf, 96), ACCEL_OK);
    EXPECT_EQ(accel_copy_in(dev, b, buf, 97), ACCEL_ERANGE) << "past the allocation";
    EXPECT_EQ(accel_copy_out(dev, b + 200, buf, 1), ACCEL_ERANGE);
    EXPECT_NE(last().find("not inside one allocation"), std::string::npos) << last();
}

TEST_P(DeviceApi, CommandFieldsAreChecked) {
    uint64_t w, a;
    ASSERT_EQ(accel_alloc(dev, 32, &w), ACCEL_OK);
    ASSERT_EQ(accel_alloc(dev, 64, &a), ACCEL_OK);
    struct Case {
        accel_cmd cmd;
        accel_status st;
        const char *field;
    } cases[] = {
        {{.op = (accel_opcode)9}, ACCEL_EINVAL, "field 'op'"},
        {{.op = ACCEL_LOAD_A, .rows = 0, .addr = a}, ACCEL_EINVAL, "field 'rows'"},
        {{.op = ACCEL_LOAD_A, .rows = 2, .act_off = 63, .addr = a},
         ACCEL_ERANGE,
         "field 'act_off'"},
        {{.op = ACCEL_LOAD_A, .rows = 2, .addr = a + 4}, ACCEL_EINVAL, "field 'addr'"},
        {{.op = ACCEL_LOAD_A, .rows = 9, .addr = a}, ACCEL_ERANGE, "not inside one allocation"},
        {{.op = ACCEL_LOAD_W, .mxus = 0, .addr = w}, ACCEL_EINVAL, "field 'mxus'"},
        {{.op = ACCEL_LOAD_W, .mxus = 2, .addr = w}, ACCEL_EINVAL, "field 'mxus'"},
        {{.op = ACCEL_STORE, .mxu = 1, .rows = 1, .addr = a}, ACCEL_EINVAL, "field 'mxu'"},
        {{.op = ACCEL_STORE, .rows = 1, .acc_off = 128, .addr = a},
         ACCEL_ERANGE,
         "field 'acc_off'"},
        {{.op = ACCEL_MATMUL, .mxus = 1, .rows = 1}, ACCEL_EINVAL, "were not loaded"},
    };
    for (const Case &c : cases) {
        EXPECT_EQ(accel_issue(dev, &c.cmd), c.st) << c.field;
        EXPECT_NE(last().find(c.field), std::string::npos) << "got: " << last();
    }
    EXPECT_EQ(accel_wait(dev), ACCEL_OK) << "rejected commands never reach the device";
}

TEST_P(DeviceApi, BusyWhileCommandsAreQueued) {
    uint64_t w;
    ASSERT_EQ(accel_alloc(dev, 32, &w), ACCEL_OK);
    accel_cmd lw = {.op = ACCEL_LOAD_W, .mxus = 1, .addr = w};
    ASSERT_EQ(accel_issue(dev, &lw), ACCEL_OK);
    char buf[32];
    EXPECT_EQ(accel_copy_out(dev, w, buf, 32), ACCEL_EBUSY);
    EXPECT_EQ(accel_copy_in(dev, w, buf, 32), ACCEL_EBUSY);
    EXPECT_EQ(accel_reset_counters(dev), ACCEL_EBUSY);
    EXPECT_NE(accel_trace(dev, "x.vcd"), ACCEL_OK);
    ASSERT_EQ(accel_wait(dev), ACCEL_OK);
    EXPECT_EQ(accel_copy_out(dev, w, buf, 32), ACCEL_OK);
    cycle_breakdown cb;
    accel_read_counters(dev, &cb);
    EXPECT_EQ(cb.total, 2u + 32u / 8u) << "LOAD_W of one 4x4 tile: issue + 4 words + latency";
    ASSERT_EQ(accel_reset_counters(dev), ACCEL_OK);
    accel_read_counters(dev, &cb);
    EXPECT_EQ(cb.total, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeviceApi,
                         ::testing::Values(ACCEL_BACKEND_GOLDEN, ACCEL_BACKEND_RTL),
                         [](const auto &info) {
                             return std::string(accel_backend_name(info.param));
                         });

TEST(DeviceApiOpen, MissingModelAndTracing) {
    accel_preset full = load_preset("tpu-v2-full");
    accel_dev *dev = nullptr;
    char err[1024];
    model_cache_configure(test_dir().c_str(), 1); // an empty cache, and no building
    EXPECT_EQ(accel_open(&full, ACCEL_BACKEND_RTL, &dev, err, sizeof err), ACCEL_EBACKEND);
    EXPECT_EQ(dev, nullptr);
    EXPECT_NE(std::string(err).find("no RTL model 128x128x2"), std::string::npos) << err;
    EXPECT_NE(std::string(err).find("--no-build"), std::string::npos) << err;
    model_cache_configure(nullptr, 0);
    EXPECT_EQ(accel_open(&full, (accel_backend)7, &dev, err, sizeof err), ACCEL_EINVAL);

    accel_preset tiny = load_preset("tiny");
    ASSERT_EQ(accel_open(&tiny, ACCEL_BACKEND_GOLDEN, &dev, err, sizeof err), ACCEL_OK);
    EXPECT_EQ(accel_trace(dev, "x.vcd"), ACCEL_EBACKEND);
    accel_close(dev);
    ASSERT_EQ(accel_open(&tiny, ACCEL_BACKEND_RTL, &dev, err, sizeof err), ACCEL_OK);
    EXPECT_EQ(accel_trace(dev, "x.txt"), ACCEL_EINVAL);
    EXPECT_NE(std::string(accel_last_error(dev)).find("x.txt"), std::string::npos);
    accel_close(dev);
}

// The RTL checks commands itself too (a second line of defence behind the front end).
TEST(DeviceApiOpen, RtlReportsAnInvalidCommand) {
    accel_preset tiny = load_preset("tiny");
    std::vector<uint8_t> mem(1 << 16);
    void *state = nullptr;
    char err[512];
    ASSERT_EQ(accel_rtl_ops.open(&tiny, mem.data(), mem.size(), &state, err, sizeof err), 0) << err;
    accel_cmd no_weights = {.op = ACCEL_MATMUL, .mxus = 1, .rows = 1};
    EXPECT_NE(accel_rtl_ops.execute(state, &no_weights, 1, err, sizeof err), 0);
    EXPECT_NE(
        std::string(err).find(
            "device error ERR_NO_WEIGHTS (4): a MATMUL on MXUs whose weights were not loaded"),
        std::string::npos)
        << err;
    accel_rtl_ops.close(state);
}

// A hand-written stream with LOAD_ACC, accumulation, prefetch and a partial MXU group gives
// the same bytes and counters on both backends, and the counters add up.
TEST(Backends, AgreeOnAHandWrittenStream) {
    accel_preset p = load_preset("tpu-v3"); // 4 MXUs
    REQUIRE_RTL(p);
    const uint64_t tile = 16 * 16 * 2, rows = 20;
    std::vector<uint16_t> host(4096);
    uint64_t seed = 3;
    for (auto &h : host)
        h = bf16_from_float(bf16_random(&seed));
    std::vector<uint8_t> results[2];
    cycle_breakdown counters[2];
    for (int b = 0; b < 2; b++) {
        accel_dev *dev;
        char err[512];
        ASSERT_EQ(accel_open(&p, (accel_backend)b, &dev, err, sizeof err), ACCEL_OK) << err;
        uint64_t w, a, c;
        ASSERT_EQ(accel_alloc(dev, 4 * tile, &w), ACCEL_OK);
        ASSERT_EQ(accel_alloc(dev, rows * 32, &a), ACCEL_OK);
        ASSERT_EQ(accel_alloc(dev, 4 * rows * 64, &c), ACCEL_OK);
        ASSERT_EQ(accel_copy_in(dev, w, host.data(), 4 * tile), ACCEL_OK);
        ASSERT_EQ(accel_copy_in(dev, a, host.data() + 100, rows * 32), ACCEL_OK);
        ASSERT_EQ(accel_copy_in(dev, c, host.data() + 7, 4 * rows * 64), ACCEL_OK);
        const accel_cmd cmds[] = {
            {.op = ACCEL_LOAD_W, .mxus = 4, .addr = w},
            {.op = ACCEL_LOAD_A, .rows = (uint32_t)rows, .act_off = 3, .addr = a},
            {.op = ACCEL_LOAD_ACC, .mxu = 2, .rows = (uint32_t)rows, .acc_off = 5, .addr = c},
            {.op = ACCEL_MATMUL,
             .accumulate = 1,
             .mxus = 3,
             .rows = (uint32_t)rows,
             .act_off = 3,
             .acc_off = 5,
             .pf_addr = w + tile,
             .pf_mxus = 2},
            {.op = ACCEL_MATMUL, .mxus = 2, .rows = 7, .act_off = 4, .acc_off = 40},
            {.op = ACCEL_STORE, .mxu = 2, .rows = (uint32_t)rows, .acc_off = 5, .addr = c},
            {.op = ACCEL_STORE, .mxu = 1, .rows = 7, .acc_off = 40, .addr = c + rows * 64},
        };
        for (const accel_cmd &cmd : cmds)
            ASSERT_EQ(accel_issue(dev, &cmd), ACCEL_OK) << accel_last_error(dev);
        ASSERT_EQ(accel_wait(dev), ACCEL_OK) << accel_last_error(dev);
        results[b].resize(4 * rows * 64);
        ASSERT_EQ(accel_copy_out(dev, c, results[b].data(), results[b].size()), ACCEL_OK);
        accel_read_counters(dev, &counters[b]);
        accel_close(dev);
    }
    EXPECT_EQ(results[0], results[1]);
    EXPECT_EQ(counters[0].total, counters[1].total);
    EXPECT_EQ(counters[0].busy, counters[1].busy);
    EXPECT_EQ(counters[0].stall, counters[1].stall);
    EXPECT_EQ(counters[0].macs, counters[1].macs);
    EXPECT_EQ(counters[1].commands, 7u);
    EXPECT_EQ(counters[1].total, counters[1].busy + counters[1].stall + counters[1].commands);
    EXPECT_LE(counters[1].busy, counters[1].total);
}

} // namespace
