// The OpenBLAS error bound is tight: a result just inside it passes and one just outside fails,
// with the bound 2 gamma_K m_ij computed here from docs/design.md's formula (on all-ones
// operands m_ij, the block norms' sum, equals sum_k |a_ik b_kj|).
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace {

double gamma_k(double k) {
    double ku = k * std::ldexp(1.0, -24);
    return ku / (1 - ku);
}

// gemm_check_values on constructed results: the difference is (1 -+ eps) times the bound.
TEST(GemmBound, ValuesJustInsidePassAndJustOutsideFail) {
    const int64_t K = 300;
    const double eps = 1e-6;
    const float ref[3] = {1.0f, -2.5f, 1024.0f};
    for (float r : ref)
        for (double side : {-1.0, 1.0}) {
            // a difference the floats represent exactly, and the magnitude that makes it
            // (1 + side eps) times the bound
            float c = std::nextafter(std::nextafter(r, INFINITY), INFINITY);
            double diff = (double)c - (double)r;
            double mag = diff / (2 * gamma_k((double)K) * (1 + side * eps));
            gemm_check chk;
            gemm_check_values(&c, &r, &mag, 0, 1, 1, K, &chk);
            EXPECT_NEAR(chk.max_bound_ratio, 1 + side * eps, 1e-12) << r;
            EXPECT_EQ(chk.passed, side < 0) << r << " " << chk.message;
            if (side > 0) {
                EXPECT_NE(std::string(chk.message).find("exceeds bound"), std::string::npos);
            }
        }
}

// The whole check on a GEMM whose OpenBLAS result is exact: all-ones operands give C = K and
// sum |a b| = K, so the bound is 2 gamma_K K, about 2K^2 u: K = 4 allows 4 units in the last
// place of 4.0 (u = 2^-24, ulp(4) = 2^-21) and not 5.
TEST(GemmBound, BlasCheckAcceptsFourUlpsAndRejectsFive) {
    const int64_t M = 2, K = 4, N = 3;
    std::vector<float> a((size_t)(M * K), 1.0f), b((size_t)(K * N), 1.0f);
    gemm_args g{.m = M, .k = K, .n = N, .a = a.data(), .b = b.data()};
    double bound = 2 * gamma_k((double)K) * (double)K;
    for (int ulps : {0, 1, 4, 5, 8}) {
        std::vector<float> c((size_t)(M * N), 4.0f);
        c[4] = 4.0f + (float)ulps * std::ldexp(1.0f, -21);
        gemm_check chk;
        ASSERT_EQ(gemm_check_blas(&g, nullptr, c.data(), &chk), 0);
        double ratio = (double)ulps * std::ldexp(1.0, -21) / bound;
        EXPECT_NEAR(chk.max_bound_ratio, ratio, 1e-12) << ulps;
        EXPECT_EQ(chk.passed, ulps <= 4) << ulps << ": " << chk.message;
        if (!chk.passed) {
            EXPECT_EQ(chk.first_bad, 4);
            EXPECT_NE(std::string(chk.message).find("C[1][1]"), std::string::npos) << chk.message;
        }
    }
}

// Accumulating adds |c_in| to the magnitude and one term to K.
TEST(GemmBound, AccumulationCountsTheLoadedTerm) {
    const int64_t K = 4;
    std::vector<float> a(K, 1.0f), b(K, 1.0f), c_in(1, 4.0f);
    gemm_args g{.m = 1, .k = K, .n = 1, .accumulate = 1, .a = a.data(), .b = b.data()};
    double bound = 2 * gamma_k((double)K + 1) * 8.0; // |a.b| = 4, |c_in| = 4
    for (int ulps : {0, 5, 6}) { // ulp(8) = 2^-20; the bound is just over 5 of them
        float c = 8.0f + (float)ulps * std::ldexp(1.0f, -20);
        gemm_check chk;
        ASSERT_EQ(gemm_check_blas(&g, c_in.data(), &c, &chk), 0);
        double ratio = (double)ulps * std::ldexp(1.0, -20) / bound;
        EXPECT_NEAR(chk.max_bound_ratio, ratio, 1e-12) << ulps;
        EXPECT_EQ(chk.passed, ratio <= 1.0) << ulps;
    }
}

// A check done in row pieces and merged (gemm_check_merge) is the check of the whole: the same
// worst ratio and its index, the same first bad element and message (global row numbers), also
// across the parallel split of a large check.
TEST(GemmBound, PiecesMergeToTheWholeCheck) {
    for (int64_t rows : {int64_t(7), int64_t(300)}) {
        const int64_t cols = rows > 100 ? 4000 : 5, n = rows * cols; // 300 x 4000: split in 64
        std::vector<float> c((size_t)n), ref((size_t)n);
        std::vector<double> mag((size_t)n, 1.0);
        for (int64_t i = 0; i < n; i++) {
            ref[(size_t)i] = (float)(i % 11);
            c[(size_t)i] = ref[(size_t)i] + (float)((i * 7) % 5) * std::ldexp(1.0f, -24);
        }
        c[(size_t)(n / 2 + 3)] += 1.0f; // out of bound
        c[(size_t)(n - 2)] += 2.0f;     // out of bound, later
        gemm_check whole, total, part;
        gemm_check_values(c.data(), ref.data(), mag.data(), 0, rows, cols, 10, &whole);
        int64_t cuts[] = {0, 1, rows / 2, rows - 1, rows};
        for (int i = 0; i < 4; i++) {
            size_t at = (size_t)(cuts[i] * cols);
            gemm_check *out = i == 0 ? &total : &part;
            gemm_check_values(c.data() + at, ref.data() + at, mag.data() + at, cuts[i],
                              cuts[i + 1] - cuts[i], cols, 10, out);
            if (i > 0)
                gemm_check_merge(&total, &part);
        }
        EXPECT_FALSE(whole.passed);
        EXPECT_EQ(whole.first_bad, n / 2 + 3);
        EXPECT_EQ(whole.worst_index, n - 2);
        EXPECT_EQ(total.passed, whole.passed);
        EXPECT_EQ(total.first_bad, whole.first_bad);
        EXPECT_EQ(total.worst_index, whole.worst_index);
        EXPECT_EQ(total.max_bound_ratio, whole.max_bound_ratio);
        EXPECT_EQ(total.max_abs_err, whole.max_abs_err);
        EXPECT_STREQ(total.message, whole.message);
        std::string row = "C[" + std::to_string((n / 2 + 3) / cols) + "][";
        EXPECT_EQ(std::string(whole.message).rfind(row, 0), 0u) << whole.message;
    }
}

// The check against a plain element-by-element walk written here from the definition (gemm.h):
// the largest |diff| and ratio, the first element of the largest ratio, the first out of bound
// and its message; on data that exercises every path of the vectorised screen: NaN and
// infinities (alike and unlike) in some blocks, zero magnitudes with equal and unequal values,
// the largest ratio tied across blocks and first reached mid-block, failures early and late.
TEST(GemmBound, ScreenedCheckEqualsTheElementWalk) {
    struct expect {
        double abs = 0, ratio = 0;
        int64_t worst = 0, bad = -1;
    };
    auto walk = [](const std::vector<float> &c, const std::vector<float> &ref,
                   const std::vector<double> &mag, int64_t terms) {
        expect e;
        double g = 2 * gamma_k((double)terms);
        for (size_t i = 0; i < c.size(); i++) {
            double diff, ratio, bound = g * mag[i];
            if (std::isfinite(c[i]) && std::isfinite(ref[i]))
                diff = std::fabs((double)c[i] - (double)ref[i]);
            else if (std::isnan(c[i]) || std::isnan(ref[i]))
                diff = std::isnan(c[i]) && std::isnan(ref[i]) ? 0 : INFINITY;
            else
                diff = c[i] == ref[i] ? 0 : INFINITY;
            ratio = diff == 0 || std::isinf(diff) ? diff : bound > 0 ? diff / bound : INFINITY;
            e.abs = std::max(e.abs, diff);
            if (ratio > e.ratio)
                e.ratio = ratio, e.worst = (int64_t)i;
            if (ratio > 1 && e.bad < 0)
                e.bad = (int64_t)i;
        }
        return e;
    };
    const int64_t rows = 97, cols = 1031, n = rows * cols, terms = 64; // blocks end mid-row
    std::mt19937 rng(7);
    auto uniform = [&](double lo, double hi) {
        return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    for (int variant = 0; variant < 7; variant++) {
        std::vector<float> c((size_t)n), ref((size_t)n);
        std::vector<double> mag((size_t)n);
        for (int64_t i = 0; i < n; i++) {
            ref[(size_t)i] = (float)uniform(-4, 4);
            mag[(size_t)i] = 4 + uniform(0, 60);
            int ulps = (int)(uniform(0, 3)); // well inside the bound
            c[(size_t)i] =
                ref[(size_t)i] + (float)ulps * std::ldexp(std::fabs(ref[(size_t)i]), -23);
        }
        auto at = [&](int64_t i) { return (size_t)(i % n); };
        switch (variant) {
        case 1: // alike specials pass; a zero magnitude with equal values passes
            c[at(5000)] = ref[at(5000)] = NAN;
            c[at(9000)] = ref[at(9000)] = -INFINITY;
            c[at(12000)] = ref[at(12000)] = 3.0f, mag[at(12000)] = 0;
            break;
        case 2: // unlike specials fail where they are; a zero bound with a difference fails
            c[at(70000)] = NAN;
            ref[at(40000)] = INFINITY;
            c[at(20000)] = ref[at(20000)] + 1e-3f, mag[at(20000)] = 0;
            break;
        case 3: // a NaN magnitude
            mag[at(33333)] = NAN;
            c[at(33333)] = ref[at(33333)] + 0.5f;
            break;
        case 4: // the same largest ratio in three blocks: the first is named
            for (int64_t i : {int64_t(3000), int64_t(3001), int64_t(60000), int64_t(n - 1)}) {
                ref[at(i)] = 1.0f, c[at(i)] = 1.0f + std::ldexp(1.0f, -20), mag[at(i)] = 1.0;
            }
            break;
        case 5: // out of bound early and late
            c[at(1500)] += 0.25f;
            c[at(n - 700)] += 8.0f;
            break;
        case 6: // a NaN against a finite value, under an infinite bound (norms that overflow)
            c[at(50000)] = NAN, mag[at(50000)] = INFINITY;
            break;
        }
        expect e = walk(c, ref, mag, terms);
        for (int64_t r0 : {int64_t(0), int64_t(40)}) { // the whole, and rows 40 .. as one piece
            size_t off = (size_t)(r0 * cols);
            std::vector<float> cp(c.begin() + (ptrdiff_t)off, c.end()),
                rp(ref.begin() + (ptrdiff_t)off, ref.end());
            std::vector<double> mp(mag.begin() + (ptrdiff_t)off, mag.end());
            expect pe = r0 == 0 ? e : walk(cp, rp, mp, terms);
            gemm_check chk;
            gemm_check_values(cp.data(), rp.data(), mp.data(), r0, rows - r0, cols, terms, &chk);
            SCOPED_TRACE("variant " + std::to_string(variant) + " from row " + std::to_string(r0));
            EXPECT_EQ(chk.max_abs_err, pe.abs);
            EXPECT_EQ(chk.max_bound_ratio, pe.ratio);
            EXPECT_EQ(chk.worst_index, (int64_t)off + pe.worst);
            EXPECT_EQ(chk.passed, pe.bad < 0);
            EXPECT_EQ(chk.first_bad, pe.bad < 0 ? -1 : (int64_t)off + pe.bad);
            if (pe.bad >= 0) {
                int64_t bad = (int64_t)off + pe.bad;
                std::string name =
                    "C[" + std::to_string(bad / cols) + "][" + std::to_string(bad % cols) + "]";
                EXPECT_EQ(std::string(chk.message).rfind(name, 0), 0u) << chk.message;
            }
        }
        if (variant == 4) {
            EXPECT_EQ(e.worst, 3000); // the tie is the largest ratio
        }
        EXPECT_EQ(e.bad >= 0, variant == 2 || variant == 3 || variant >= 5) << variant;
    }
}

// The magnitude the bound scales (gemm.h): at least sum_k |a_ik b_kj| on every element, so the
// check never fails a correct result; equal to the block norms' sum computed in fp64 up to its
// fp32 rounding; and, on dense random data, within 1.6x of sum_k |a_ik b_kj| (Cauchy-Schwarz
// over blocks of 16 bf16 values): how much the blocks loosen the check. Shapes: K not a
// multiple of the block, every transposition, accumulation, half the values zero (ReLU-like).
TEST(GemmBound, BlockNormMagnitudeBoundsTheProducts) {
    struct shape {
        int64_t m, k, n;
        int ta, tb, acc, sparse;
    } shapes[] = {{3, 1, 2, 0, 0, 0, 0},     {5, 17, 3, 1, 0, 0, 0},   {300, 40, 7, 0, 1, 1, 0},
                  {9, 1000, 11, 1, 1, 0, 1}, {260, 33, 5, 0, 0, 0, 1}, {4, 20000, 3, 1, 0, 1, 0}};
    const int64_t T = GEMM_CHECK_NORM_TERMS;
    for (const shape &s : shapes) {
        std::vector<float> a = random_bf16((size_t)(s.m * s.k), 7 + (uint64_t)s.k),
                           b = random_bf16((size_t)(s.k * s.n), 9 + (uint64_t)s.n),
                           c_in = random_bf16((size_t)(s.m * s.n), 11);
        if (s.sparse)
            for (size_t i = 0; i < a.size(); i += 2)
                a[i] = 0.0f;
        gemm_args g{.m = s.m,
                    .k = s.k,
                    .n = s.n,
                    .trans_a = s.ta,
                    .trans_b = s.tb,
                    .accumulate = s.acc,
                    .a = a.data(),
                    .b = b.data()};
        auto at = [&](int64_t i, int64_t k) {
            return (double)a[(size_t)(s.ta ? k * s.m + i : i * s.k + k)];
        };
        auto bt = [&](int64_t k, int64_t j) {
            return (double)b[(size_t)(s.tb ? j * s.k + k : k * s.n + j)];
        };
        std::vector<float> ref((size_t)(s.m * s.n));
        std::vector<double> mag((size_t)(s.m * s.n));
        gemm_check chk;
        ASSERT_EQ(
            gemm_blas_reference(&g, s.acc ? c_in.data() : nullptr, ref.data(), mag.data(), &chk),
            0);
        double looseness = 0;
        for (int64_t i = 0; i < s.m; i++)
            for (int64_t j = 0; j < s.n; j++) {
                double exact = s.acc ? std::fabs((double)c_in[(size_t)(i * s.n + j)]) : 0.0;
                double norms = exact;
                for (int64_t k0 = 0; k0 < s.k; k0 += T) {
                    double na = 0, nb = 0;
                    for (int64_t k = k0; k < std::min(s.k, k0 + T); k++) {
                        exact += std::fabs(at(i, k) * bt(k, j));
                        na += at(i, k) * at(i, k);
                        nb += bt(k, j) * bt(k, j);
                    }
                    norms += std::sqrt(na) * std::sqrt(nb);
                }
                double got = mag[(size_t)(i * s.n + j)];
                ASSERT_NEAR(got, norms, 1e-4 * norms) << s.k << " " << i << " " << j;
                ASSERT_GE(got, exact * (1 - 1e-4)) << s.k << " " << i << " " << j;
                looseness += got / exact;
            }
        looseness /= (double)(s.m * s.n);
        if (!s.sparse && s.k >= T) {
            EXPECT_LE(looseness, 1.6) << s.k;
        }
    }
}

} // namespace
