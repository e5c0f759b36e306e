// GEMMs on one device: every result bit-exact between the RTL and the golden model, within
// the docs/design.md bound of OpenBLAS, and the RTL's cycle counters equal to the closed form.
#include "bf16.h"
#include "rtl_available.h"
#include "test_support.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace {

struct Shape {
    int64_t m, k, n;
    int trans_a, trans_b, accumulate;
};

std::string describe(const accel_preset &p, const Shape &s) {
    return std::string(p.name) + " " + std::to_string(s.m) + "x" + std::to_string(s.k) + "x" +
           std::to_string(s.n) + (s.trans_a ? " A^T" : "") + (s.trans_b ? " B^T" : "") +
           (s.accumulate ? " +C" : "");
}

void expect_same_counters(const cycle_breakdown &x, const cycle_breakdown &y) {
    EXPECT_EQ(x.total, y.total);
    EXPECT_EQ(x.busy, y.busy);
    EXPECT_EQ(x.stall, y.stall);
    EXPECT_EQ(x.commands, y.commands);
    EXPECT_EQ(x.macs, y.macs);
}

// Random operands of a shape (C is read only when accumulating).
struct Operands {
    std::vector<float> a, b, c0;
    gemm_args args;
    Operands(const Shape &s, uint64_t seed)
        : a(random_bf16((size_t)(s.m * s.k), seed)), b(random_bf16((size_t)(s.k * s.n), seed + 1)),
          c0(random_bf16((size_t)(s.m * s.n), seed + 2)), args{s.m,       s.k,       s.n,
                                                               s.trans_a, s.trans_b, s.accumulate,
                                                               a.data(),  b.data(),  nullptr} {}
};

// Runs the shape on RTL and golden and checks all three properties.
void check(const accel_preset &p, const Shape &s, uint64_t seed) {
    SCOPED_TRACE(describe(p, s));
    Operands ops(s, seed);
    const std::vector<float> &c0 = ops.c0;
    const gemm_args &g = ops.args;
    const std::vector<float> *c_in = s.accumulate ? &c0 : nullptr;
    GemmOutcome rtl = run_gemm(p, ACCEL_BACKEND_RTL, g, c_in);
    GemmOutcome gold = run_gemm(p, ACCEL_BACKEND_GOLDEN, g, c_in);
    for (size_t i = 0; i < rtl.c.size(); i++)
        ASSERT_EQ(float_bits(rtl.c[i]), float_bits(gold.c[i])) << "first difference at " << i;
    expect_same_counters(rtl.stats.cycles, rtl.stats.formula);
    expect_same_counters(gold.stats.cycles, rtl.stats.formula);
    EXPECT_LE(rtl.stats.cycles.busy, rtl.stats.cycles.total);
    EXPECT_EQ(rtl.stats.cycles.total,
              rtl.stats.cycles.busy + rtl.stats.cycles.stall + rtl.stats.cycles.commands);
    gemm_check chk;
    ASSERT_EQ(gemm_check_blas(&g, c_in ? c_in->data() : nullptr, rtl.c.data(), &chk), 0);
    EXPECT_TRUE(chk.passed) << chk.message;
    EXPECT_LE(chk.max_bound_ratio, 1.0);
}

TEST(Gemm, EdgeShapesOnEveryVerilatedPreset) {
    REQUIRE_RTL("1xtiny,1xtpu-v2,1xtpu-v3");
    const Shape shapes[] = {
        {1, 1, 1, 0, 0, 0},    {1, 1, 1, 1, 1, 1},    {2, 3, 5, 0, 0, 0},   {7, 11, 13, 1, 0, 0},
        {17, 19, 23, 0, 1, 0}, {31, 37, 41, 1, 1, 1}, {1, 64, 1, 0, 0, 0},  {64, 1, 64, 0, 0, 1},
        {300, 5, 3, 0, 0, 0},  {3, 5, 300, 0, 1, 0},  {4, 200, 4, 1, 0, 1}, {129, 33, 65, 0, 0, 1},
    };
    uint64_t seed = 1;
    for (const char *name : {"tiny", "tpu-v2", "tpu-v3"}) {
        accel_preset p = load_preset(name);
        for (const Shape &s : shapes)
            check(p, s, seed += 3);
    }
}

// Tall and flat shapes that need several activation chunks and accumulator blocks.
TEST(Gemm, ManyChunksAndBlocks) {
    REQUIRE_RTL("1xtiny,1xtpu-v2");
    accel_preset tiny = load_preset("tiny"); // 64 activation rows, 128 accumulator rows
    check(tiny, {150, 9, 70, 0, 0, 1}, 99);  // 3 chunks, 18 groups in blocks of 2
    check(tiny, {65, 21, 6, 1, 1, 0}, 98);
    check(tiny, {2000, 40, 40, 0, 0, 0}, 96); // thousands of commands: several wait batches
    accel_preset v2 = load_preset("tpu-v2");
    check(v2, {1100, 20, 40, 0, 1, 0}, 97);
}

// RTL cycles equal the closed form on 60 pseudo-random shapes over the three presets.
TEST(Gemm, RtlCyclesEqualClosedFormOnSixtyShapes) {
    REQUIRE_RTL("1xtiny,1xtpu-v2,1xtpu-v3");
    uint64_t state = 2024;
    const char *names[] = {"tiny", "tpu-v2", "tpu-v3"};
    for (int i = 0; i < 60; i++) {
        accel_preset p = load_preset(names[i % 3]);
        Shape s = {1 + (int64_t)(rng_next(&state) % 90), 1 + (int64_t)(rng_next(&state) % 90),
                   1 + (int64_t)(rng_next(&state) % 90), (int)(rng_next(&state) & 1),
                   (int)(rng_next(&state) & 1),          (int)(rng_next(&state) % 3 == 0)};
        SCOPED_TRACE(describe(p, s));
        Operands ops(s, (uint64_t)i * 7);
        GemmOutcome rtl =
            run_gemm(p, ACCEL_BACKEND_RTL, ops.args, s.accumulate ? &ops.c0 : nullptr);
        expect_same_counters(rtl.stats.cycles, rtl.stats.formula);
    }
}

// Special values flow through the array exactly as in the golden model.
TEST(Gemm, SpecialValuesMatchGoldenBitForBit) {
    accel_preset p = load_preset("tpu-v3");
    REQUIRE_RTL(p);
    const int64_t m = 9, k = 40, n = 70;
    std::vector<float> a = random_bf16((size_t)(m * k), 5), b = random_bf16((size_t)(k * n), 6);
    a[3] = INFINITY;
    a[50] = NAN;
    a[77] = -INFINITY;
    b[10] = 0.0f;
    b[200] = bits_float(0x00010000u); // a bf16 subnormal: read as zero
    a[100] = 0x1p100f;
    b[301] = 0x1p100f; // products that overflow to Inf
    a[120] = 0x1p-100f;
    b[402] = 0x1p-60f; // products that flush to zero
    gemm_args g = {.m = m, .k = k, .n = n, .a = a.data(), .b = b.data()};
    GemmOutcome rtl = run_gemm(p, ACCEL_BACKEND_RTL, g, nullptr);
    GemmOutcome gold = run_gemm(p, ACCEL_BACKEND_GOLDEN, g, nullptr);
    int specials = 0;
    for (size_t i = 0; i < rtl.c.size(); i++) {
        ASSERT_EQ(float_bits(rtl.c[i]), float_bits(gold.c[i])) << i;
        specials += !std::isfinite(rtl.c[i]);
    }
    EXPECT_GT(specials, 0);
}

// op(A) given as a function (gemm_args.a_blocks, how the runtime packs a CONV's im2col) packs
// the same device operand as the stored matrix: the same bits of C and the same counters, with
// A stored either way round, over several row chunks and K tiles.
struct StoredA {
    const float *a;
    int64_t m, k;
    int trans;
};
void stored_blocks(const void *ctx, int64_t i0, int64_t ni, int64_t k0, int64_t nk, uint16_t *dst,
                   int64_t ld) {
    const StoredA *s = static_cast<const StoredA *>(ctx);
    for (int64_t i = i0; i < i0 + ni; i++)
        for (int64_t k = k0; k < k0 + nk; k++)
            dst[(i - i0) * ld + k - k0] =
                bf16_from_float(s->trans ? s->a[k * s->m + i] : s->a[i * s->k + k]);
}

TEST(Gemm, OperandBlocksFunctionPacksAsTheStoredMatrix) {
    accel_preset p = load_preset("tiny");
    const Shape shapes[] = {{70, 45, 20, 0, 0, 0}, {33, 70, 9, 1, 0, 1}, {130, 17, 40, 1, 1, 0}};
    for (const Shape &s : shapes) {
        SCOPED_TRACE(describe(p, s));
        Operands ops(s, 11);
        const std::vector<float> *c0 = s.accumulate ? &ops.c0 : nullptr;
        GemmOutcome stored = run_gemm(p, ACCEL_BACKEND_GOLDEN, ops.args, c0);
        StoredA stored_a{ops.args.a, s.m, s.k, s.trans_a};
        gemm_args g = ops.args;
        g.a = nullptr;
        g.trans_a = !s.trans_a; // not read when op(A) comes from a function
        g.a_blocks = {stored_blocks, &stored_a};
        GemmOutcome fn = run_gemm(p, ACCEL_BACKEND_GOLDEN, g, c0);
        for (size_t i = 0; i < stored.c.size(); i++)
            ASSERT_EQ(float_bits(fn.c[i]), float_bits(stored.c[i])) << i;
        expect_same_counters(fn.stats.cycles, stored.stats.cycles);
    }
}

// C given to a function (gemm_args.c_blocks, how the runtime takes a CONV's error GEMM into its
// image) receives every element with the stored C's bits, in chunks of rows in row order.
struct TakenC {
    std::vector<float> c;
    int64_t n, next_row = 0, most_rows = 0;
};
void take_c(void *ctx, int64_t i0, int64_t ni, const float *tiles, int64_t tile_stride,
            int64_t cols) {
    TakenC *t = static_cast<TakenC *>(ctx);
    EXPECT_EQ(i0, t->next_row);
    t->next_row = i0 + ni;
    t->most_rows = std::max(t->most_rows, ni);
    for (int64_t r = 0; r < ni; r++)
        for (int64_t j = 0; j < t->n; j++)
            t->c[(size_t)((i0 + r) * t->n + j)] =
                tiles[j / cols * tile_stride + r * cols + j % cols];
}

TEST(Gemm, ResultBlocksFunctionTakesTheStoredResultInRowOrder) {
    accel_preset p = load_preset("tiny");
    const Shape shapes[] = {{70, 45, 20, 0, 0, 0}, {130, 17, 9, 1, 1, 0}};
    for (const Shape &s : shapes) {
        SCOPED_TRACE(describe(p, s));
        Operands ops(s, 13);
        GemmOutcome stored = run_gemm(p, ACCEL_BACKEND_GOLDEN, ops.args, nullptr);
        TakenC taken{std::vector<float>((size_t)(s.m * s.n), NAN), s.n};
        gemm_args g = ops.args;
        g.c = nullptr;
        g.c_blocks = {take_c, &taken};
        accel_dev *dev;
        char err[512];
        ASSERT_EQ(accel_open(&p, ACCEL_BACKEND_GOLDEN, &dev, err, sizeof err), ACCEL_OK);
        gemm_run_stats st;
        ASSERT_EQ(gemm_run(dev, &g, &st, err, sizeof err), 0) << err;
        accel_close(dev);
        EXPECT_EQ(taken.next_row, s.m);
        gemm_schedule sch;
        ASSERT_EQ(gemm_schedule_make(&p, s.m, s.k, s.n, 0, &sch, err, sizeof err), 0) << err;
        EXPECT_EQ(taken.most_rows, sch.m_chunk);
        EXPECT_LT(taken.most_rows, s.m); // several chunks
        for (size_t i = 0; i < stored.c.size(); i++)
            ASSERT_EQ(float_bits(taken.c[i]), float_bits(stored.c[i])) << i;
        g.accumulate = 1; // C must be stored to be read
        ASSERT_EQ(accel_open(&p, ACCEL_BACKEND_GOLDEN, &dev, err, sizeof err), ACCEL_OK);
        EXPECT_NE(gemm_run(dev, &g, &st, err, sizeof err), 0);
        EXPECT_NE(std::string(err).find("accumulates"), std::string::npos) << err;
        accel_close(dev);
    }
}

// A GEMM's padding is zero even where an earlier GEMM on the device left NaNs: partial row
// chunks, K tiles and column tiles give the bits a fresh device gives.
TEST(Gemm, PaddingIsZeroAfterAnEarlierGemmsData) {
    accel_preset p = load_preset("tiny");
    const Shape big{200, 96, 80, 0, 0, 0};
    const Shape partial[] = {{70, 45, 20, 0, 0, 0}, {33, 17, 9, 1, 1, 0}, {64, 32, 40, 0, 0, 0}};
    for (const Shape &s : partial) {
        SCOPED_TRACE(describe(p, s));
        Operands ops(s, 17);
        GemmOutcome fresh = run_gemm(p, ACCEL_BACKEND_GOLDEN, ops.args, nullptr);
        accel_dev *dev;
        char err[512];
        ASSERT_EQ(accel_open(&p, ACCEL_BACKEND_GOLDEN, &dev, err, sizeof err), ACCEL_OK);
        std::vector<float> nan_a((size_t)(big.m * big.k), NAN), nan_b((size_t)(big.k * big.n), NAN);
        std::vector<float> c_big((size_t)(big.m * big.n)), c((size_t)(s.m * s.n));
        gemm_args g = {.m = big.m, .k = big.k, .n = big.n, .a = nan_a.data(), .b = nan_b.data()};
        g.c = c_big.data();
        gemm_run_stats st;
        ASSERT_EQ(gemm_run(dev, &g, &st, err, sizeof err), 0) << err;
        g = ops.args;
        g.c = c.data();
        ASSERT_EQ(gemm_run(dev, &g, &st, err, sizeof err), 0) << err;
        accel_close(dev);
        for (size_t i = 0; i < c.size(); i++)
            ASSERT_EQ(float_bits(c[i]), float_bits(fresh.c[i])) << i;
    }
}

TEST(Gemm, OversizedShapeIsAnErrorNotACrash) {
    accel_preset p = load_preset("tiny"); // 16 MiB of device memory
    accel_dev *dev;
    char err[512];
    ASSERT_EQ(accel_open(&p, ACCEL_BACKEND_GOLDEN, &dev, err, sizeof err), ACCEL_OK);
    std::vector<float> a(1), b(1), c(1);
    gemm_args g = {.m = 4000, .k = 4000, .n = 1, .a = a.data(), .b = b.data(), .c = c.data()};
    gemm_run_stats st;
    EXPECT_NE(gemm_run(dev, &g, &st, err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("MiB of device memory"), std::string::npos) << err;
    accel_close(dev);
}

} // namespace

namespace {

// The replay backend: golden numerics, RTL cycles per command shape; its counters must equal a
// full RTL run's on GEMMs whose commands repeat in many shapes. The third device's port (36 B)
// divides none of its buffers, so whole-buffer transfers end inside a word, and a word spans
// several rows of one buffer column (5 activation RAMs per PE row, 3 accumulator RAMs per
// column: docs/fpga.md), so the RTL's results are checked against golden numerics there too.
TEST(Gemm, ReplayBackendReproducesRtlCycles) {
    const Shape shapes[] = {{130, 70, 90, 0, 0, 0}, {7, 300, 45, 1, 1, 1}, {700, 17, 33, 0, 1, 0}};
    std::string odd = test_dir() + "port36.acc";
    write_text(odd, "name port36\narray_rows 4\narray_cols 4\nmxus 2\nclock_mhz 100\n"
                    "mem_bytes_per_cycle 36\nact_buffer_rows 10\nacc_buffer_rows 10\nmem_mib 16\n"
                    "links 1\nlink_gbytes_per_s 1\nlink_latency_ns 0\n");
    REQUIRE_RTL("1xtiny,1xtpu-v3,1x" + odd);
    for (const std::string &name : {std::string("tiny"), std::string("tpu-v3"), odd}) {
        accel_preset p = load_preset(name);
        for (const Shape &s : shapes) {
            SCOPED_TRACE(describe(p, s));
            Operands ops(s, 11);
            const std::vector<float> *c_in = s.accumulate ? &ops.c0 : nullptr;
            GemmOutcome rtl = run_gemm(p, ACCEL_BACKEND_RTL, ops.args, c_in);
            GemmOutcome replay = run_gemm(p, ACCEL_BACKEND_REPLAY, ops.args, c_in);
            expect_same_counters(replay.stats.cycles, rtl.stats.cycles);
            for (size_t i = 0; i < rtl.c.size(); i++)
                ASSERT_EQ(float_bits(replay.c[i]), float_bits(rtl.c[i])) << i;
        }
    }
}

} // namespace
