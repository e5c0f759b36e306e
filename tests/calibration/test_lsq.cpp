// The least-squares solver against known solutions, the normal equations, rank deficiency (exact
// and near), and entries that are not finite.
#include <gtest/gtest.h>

extern "C" {
#include "lsq.h"
}

#include <cmath>
#include <string>
#include <vector>

namespace {

std::vector<double> random_matrix(int m, int n, uint64_t seed, const std::vector<double> &scale) {
    std::vector<double> a((size_t)(m * n));
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            a[(size_t)(i * n + j)] = ((double)(seed >> 11) * 0x1p-53 + 0.1) * scale[(size_t)j];
        }
    return a;
}

// Non-negative least squares against brute force: every subset of columns solved unconstrained,
// the feasible solution (all weights >= 0) with the smallest residual is the optimum. Exact data
// with zero and positive weights, and noisy data whose unconstrained fit has negative weights.
double residual(const std::vector<double> &a, const std::vector<double> &b,
                const std::vector<double> &x, int m, int n) {
    double s = 0;
    for (int i = 0; i < m; i++) {
        double r = b[(size_t)i];
        for (int j = 0; j < n; j++)
            r -= a[(size_t)(i * n + j)] * x[(size_t)j];
        s += r * r;
    }
    return std::sqrt(s);
}

std::vector<double> brute_force_nonneg(const std::vector<double> &a, const std::vector<double> &b,
                                       int m, int n) {
    std::vector<double> best((size_t)n, 0.0);
    double best_r = residual(a, b, best, m, n);
    for (int set = 1; set < (1 << n); set++) {
        std::vector<int> cols;
        for (int j = 0; j < n; j++)
            if (set >> j & 1)
                cols.push_back(j);
        int k = (int)cols.size();
        std::vector<double> sub((size_t)(m * k)), z((size_t)k);
        for (int i = 0; i < m; i++)
            for (int c = 0; c < k; c++)
                sub[(size_t)(i * k + c)] = a[(size_t)(i * n + cols[(size_t)c])];
        char err[256];
        if (lsq_solve(sub.data(), b.data(), m, k, nullptr, z.data(), err, sizeof err) != 0)
            continue;
        std::vector<double> x((size_t)n, 0.0);
        bool feasible = true;
        for (int c = 0; c < k; c++) {
            feasible &= z[(size_t)c] >= 0;
            x[(size_t)cols[(size_t)c]] = z[(size_t)c];
        }
        double r = residual(a, b, x, m, n);
        if (feasible && r < best_r) {
            best_r = r;
            best = x;
        }
    }
    return best;
}

TEST(Lsq, NonNegativeMatchesBruteForce) {
    const int m = 24, n = 5;
    const std::vector<std::vector<double>> truths = {
        {2, 0, 3, 0.5, 0}, {0, 0, 0, 0, 1}, {1, 2, 3, 4, 5}, {0, 0, 0, 0, 0}};
    for (int noisy = 0; noisy < 2; noisy++)
        for (size_t t = 0; t < truths.size(); t++) {
            SCOPED_TRACE("truth " + std::to_string(t) + (noisy ? " noisy" : ""));
            std::vector<double> a = random_matrix(m, n, 11 + t, {1, 1e3, 1e-2, 5, 1});
            std::vector<double> b((size_t)m, 0.0), x((size_t)n);
            uint64_t s = 5 + t;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++)
                    b[(size_t)i] += a[(size_t)(i * n + j)] * truths[t][(size_t)j];
                s = s * 6364136223846793005ull + 1;
                b[(size_t)i] += noisy ? ((double)(s >> 40) / 1e7 - 0.8) : 0.0;
            }
            char err[256];
            ASSERT_EQ(
                lsq_solve_nonneg(a.data(), b.data(), m, n, nullptr, x.data(), err, sizeof err), 0)
                << err;
            std::vector<double> want = brute_force_nonneg(a, b, m, n);
            for (int j = 0; j < n; j++) {
                EXPECT_GE(x[(size_t)j], 0.0) << j;
                if (!noisy) {
                    EXPECT_NEAR(x[(size_t)j], truths[t][(size_t)j], 1e-9) << j;
                }
                if (want[(size_t)j] == 0) {
                    EXPECT_EQ(x[(size_t)j], 0.0) << j;
                }
            }
            std::vector<double> zero((size_t)n, 0.0);
            EXPECT_LE(residual(a, b, x, m, n),
                      residual(a, b, want, m, n) * (1 + 1e-9) + 1e-12 * residual(a, b, zero, m, n));
        }
}

TEST(Lsq, RecoversAnExactSolutionAcrossNineOrdersOfMagnitude) {
    const int m = 40, n = 5;
    std::vector<double> scale = {1, 1e9, 1e-3, 7, 1e4}, x_true = {3, -2e-9, 5e3, 0.25, 1e-4};
    std::vector<double> a = random_matrix(m, n, 42, scale), b((size_t)m, 0.0), x((size_t)n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            b[(size_t)i] += a[(size_t)(i * n + j)] * x_true[(size_t)j];
    char err[256];
    ASSERT_EQ(lsq_solve(a.data(), b.data(), m, n, nullptr, x.data(), err, sizeof err), 0) << err;
    for (int j = 0; j < n; j++)
        EXPECT_NEAR(x[(size_t)j], x_true[(size_t)j], 1e-10 * std::fabs(x_true[(size_t)j])) << j;
}

// With noise the residual is orthogonal to every column (the normal equations A^T r = 0).
TEST(Lsq, ResidualIsOrthogonalToTheColumns) {
    const int m = 30, n = 3;
    std::vector<double> a = random_matrix(m, n, 7, {1, 1, 1}), b((size_t)m), x((size_t)n);
    uint64_t s = 99;
    for (int i = 0; i < m; i++) {
        s = s * 6364136223846793005ull + 1;
        b[(size_t)i] = (double)(s >> 40) / 1e6;
    }
    char err[256];
    ASSERT_EQ(lsq_solve(a.data(), b.data(), m, n, nullptr, x.data(), err, sizeof err), 0) << err;
    for (int j = 0; j < n; j++) {
        double dot = 0, norm = 0;
        for (int i = 0; i < m; i++) {
            double r = b[(size_t)i];
            for (int k = 0; k < n; k++)
                r -= a[(size_t)(i * n + k)] * x[(size_t)k];
            dot += a[(size_t)(i * n + j)] * r;
            norm += std::fabs(a[(size_t)(i * n + j)] * b[(size_t)i]);
        }
        EXPECT_LT(std::fabs(dot), 1e-12 * norm) << j;
    }
}

TEST(Lsq, RankDeficiencyNamesTheColumn) {
    const int m = 10, n = 3;
    std::vector<double> a = random_matrix(m, n, 3, {1, 1, 1}), b((size_t)m, 1.0), x((size_t)n);
    for (int i = 0; i < m; i++) // column 2 = 2 * column 0 - column 1
        a[(size_t)(i * n + 2)] = 2 * a[(size_t)(i * n)] - a[(size_t)(i * n + 1)];
    const char *names[3] = {"commands", "loads", "fill"};
    char err[256];
    EXPECT_NE(lsq_solve(a.data(), b.data(), m, n, names, x.data(), err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("rank deficient"), std::string::npos) << err;
    EXPECT_NE(std::string(err).find("'fill'"), std::string::npos) << err;

    for (int i = 0; i < m; i++)
        a[(size_t)(i * n + 1)] = 0;
    EXPECT_NE(lsq_solve(a.data(), b.data(), m, n, names, x.data(), err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("'loads' is zero"), std::string::npos) << err;

    EXPECT_NE(lsq_solve(a.data(), b.data(), 2, n, names, x.data(), err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("need at least 3"), std::string::npos) << err;
}

// A column within 1e-8 of a combination of the others (relative to the unit column norms) is
// nearly dependent: an error naming it, where a column 1e-2 away still solves exactly.
TEST(Lsq, NearlyDependentColumnIsAnErrorNamingIt) {
    const int m = 12, n = 3;
    const char *names[3] = {"commands", "loads", "fill"};
    const std::vector<double> x_true = {2, 3, 4};
    for (double delta : {1e-8, 1e-2}) {
        std::vector<double> a = random_matrix(m, n, 5, {1, 1, 1}), b((size_t)m, 0.0);
        std::vector<double> noise = random_matrix(m, 1, 11, {1}), x((size_t)n);
        for (int i = 0; i < m; i++) {
            double *row = &a[(size_t)(i * n)];
            row[2] = row[0] + row[1] + delta * (noise[(size_t)i] - 0.6);
            for (int j = 0; j < n; j++)
                b[(size_t)i] += row[j] * x_true[(size_t)j];
        }
        char err[256];
        int rc = lsq_solve(a.data(), b.data(), m, n, names, x.data(), err, sizeof err);
        if (delta == 1e-8) {
            EXPECT_NE(rc, 0) << delta;
            EXPECT_NE(std::string(err).find("rank deficient: column 'fill' is within"),
                      std::string::npos)
                << err;
        } else {
            ASSERT_EQ(rc, 0) << err;
            for (int j = 0; j < n; j++)
                EXPECT_NEAR(x[(size_t)j], x_true[(size_t)j], 1e-8) << j;
        }
    }
}

// NaN or infinity in A or b, or a column whose norm overflows, is an error naming the point and
// column, not a solution.
TEST(Lsq, EntriesThatAreNotFiniteAreErrors) {
    const int m = 6, n = 2;
    const char *names[2] = {"latency", "seconds per byte"};
    struct bad_case {
        int row, col; // col == n: b
        double value;
        const char *expect;
    };
    const bad_case cases[] = {
        {3, 1, NAN, "point 3: column 'seconds per byte' is not finite"},
        {0, 0, INFINITY, "point 0: column 'latency' is not finite"},
        {5, 2, -INFINITY, "point 5: the measured value is not finite"},
    };
    for (const bad_case &k : cases) {
        std::vector<double> a = random_matrix(m, n, 9, {1, 1}), b((size_t)m, 1.0), x((size_t)n);
        (k.col < n ? a[(size_t)(k.row * n + k.col)] : b[(size_t)k.row]) = k.value;
        char err[256];
        EXPECT_NE(lsq_solve(a.data(), b.data(), m, n, names, x.data(), err, sizeof err), 0);
        EXPECT_NE(std::string(err).find(k.expect), std::string::npos) << err;
    }
    std::vector<double> a = random_matrix(m, n, 9, {1, 1}), b((size_t)m, 1.0), x((size_t)n);
    for (int i = 0; i < m; i++)
        a[(size_t)(i * n + 1)] = 1e308;
    char err[256];
    EXPECT_NE(lsq_solve(a.data(), b.data(), m, n, names, x.data(), err, sizeof err), 0);
    EXPECT_NE(std::string(err).find("'seconds per byte' has a norm beyond"), std::string::npos)
        << err;
}

} // namespace
