// im2col and col2im (host/runtime/run_tensor.c) against brute force from their definition, and
// split into row ranges and channel ranges: the same bits as done at once.
#include <gtest/gtest.h>

extern "C" {
#include "run_tensor.h"
}

#include <vector>

namespace {

net_node conv(int64_t cin, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad) {
    net_node nd{};
    nd.kind = NODE_CONV;
    nd.cin = cin, nd.hin = h, nd.win = w, nd.k = k, nd.stride = stride, nd.pad = pad;
    nd.cout = 1, nd.pool = 1;
    nd.hout = (h + 2 * pad - k) / stride + 1, nd.wout = (w + 2 * pad - k) / stride + 1;
    return nd;
}

// The input value im2col puts at (row, col), or 0 in the padding: docs/runtime.md's definition.
float expected(const net_node &nd, const std::vector<float> &in, int64_t row, int64_t col) {
    int64_t rps = nd.hout * nd.wout, b = row / rps, oh = row % rps / nd.wout, ow = row % nd.wout;
    int64_t c = col / (nd.k * nd.k), kh = col / nd.k % nd.k, kw = col % nd.k;
    int64_t ih = oh * nd.stride - nd.pad + kh, iw = ow * nd.stride - nd.pad + kw;
    if (ih < 0 || ih >= nd.hin || iw < 0 || iw >= nd.win)
        return 0.0f;
    return in[(size_t)(((b * nd.cin + c) * nd.hin + ih) * nd.win + iw)];
}

const net_node shapes[] = {conv(3, 7, 6, 3, 1, 1), conv(2, 9, 9, 5, 2, 2), conv(4, 5, 5, 1, 1, 0),
                           conv(3, 15, 13, 11, 4, 2), conv(2, 6, 6, 3, 2, 0)};
const int64_t batch = 3;

TEST(Tensor, Im2colInRowRangesIsTheDefinition) {
    for (const net_node &nd : shapes) {
        int64_t rows = batch * nd.hout * nd.wout, cols = nd.cin * nd.k * nd.k;
        int64_t img = nd.cin * nd.hin * nd.win, rps = nd.hout * nd.wout;
        std::vector<float> in((size_t)(batch * img));
        for (size_t i = 0; i < in.size(); i++)
            in[i] = (float)(i + 1);
        for (int64_t cut : {int64_t(0), int64_t(1), rps - 1, rps, rows / 2 + 1}) {
            std::vector<float> out((size_t)(rows * cols), -1.0f);
            run_im2col(&nd, nd.cin, in.data(), 0, cut, out.data());
            run_im2col(&nd, nd.cin, in.data() + cut / rps * img, cut, rows,
                       out.data() + cut * cols);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t c = 0; c < cols; c++)
                    ASSERT_EQ(out[(size_t)(r * cols + c)], expected(nd, in, r, c))
                        << "k " << nd.k << " cut " << cut << " at " << r << "," << c;
        }
    }
}

// col2im is im2col's adjoint: each pixel sums the im2col entries it was copied to. With
// integer values the sums are exact, so brute force is exact too.
TEST(Tensor, Col2imIsTheAdjointAndSplitsKeepItsBits) {
    for (const net_node &nd : shapes) {
        int64_t rows = batch * nd.hout * nd.wout, cols = nd.cin * nd.k * nd.k;
        int64_t img = nd.cin * nd.hin * nd.win, rps = nd.hout * nd.wout;
        std::vector<double> in((size_t)(rows * cols)), want((size_t)(batch * img), 0.0);
        for (size_t i = 0; i < in.size(); i++)
            in[i] = (double)(i % 7) - 3.0;
        // brute force: scatter through the index im2col reads
        std::vector<float> index((size_t)(batch * img));
        for (size_t i = 0; i < index.size(); i++)
            index[i] = (float)(i + 1);
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) {
                float at = expected(nd, index, r, c);
                if (at > 0)
                    want[(size_t)at - 1] += in[(size_t)(r * cols + c)];
            }
        std::vector<double> whole((size_t)(batch * img), 0.0);
        run_col2im_add(&nd, nd.cin, run_range{0, nd.cin}, in.data(), 0, rows, whole.data());
        EXPECT_EQ(whole, want) << "k " << nd.k;
        // rows in three ranges (one inside a sample), channels in two parts
        std::vector<double> split((size_t)(batch * img), 0.0);
        int64_t cuts[] = {0, rps / 2, rps + 1, rows};
        for (int i = 0; i < 3; i++)
            for (run_range ch : {run_range{0, 1}, run_range{1, nd.cin}})
                run_col2im_add(&nd, nd.cin, ch, in.data() + cuts[i] * cols, cuts[i], cuts[i + 1],
                               split.data() + cuts[i] / rps * img);
        EXPECT_EQ(split, whole) << "k " << nd.k;
        std::vector<float> in_f(in.begin(), in.end());
        std::vector<double> from_floats((size_t)(batch * img), 0.0);
        run_col2im_add_floats(&nd, nd.cin, run_range{0, nd.cin}, in_f.data(), 0, rows,
                              from_floats.data());
        EXPECT_EQ(from_floats, whole) << "k " << nd.k;
    }
}

} // namespace
