// im2col and col2im (host/runtime/run_tensor.c) against brute force from their definition, and
// split into row ranges and channel ranges: the same bits as done at once; the block copy
// (host/runtime/run_geom.c) in parts on threads against an element-by-element copy.
#include <gtest/gtest.h>

extern "C" {
#include "bf16.h"
#include "run_geom.h"
#include "run_tensor.h"
}

#include <cmath>
#include <cstring>
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

// The device operands packed straight from the input (run_im2col_block, run_im2col_t_block)
// are the definition's values as bf16 bits, in any block: blocks that start anywhere and cross
// kernel rows, channels, output rows and samples; -0 inputs keep their sign, padding is +0, and
// nothing outside the block's rows and columns of dst is written.
TEST(Tensor, Im2colOperandBlocksAreTheDefinitionInBf16) {
    const uint16_t guard = 0xABCD;
    for (const net_node &nd : shapes) {
        int64_t rows = batch * nd.hout * nd.wout, cols = nd.cin * nd.k * nd.k;
        std::vector<float> in((size_t)(batch * nd.cin * nd.hin * nd.win));
        for (size_t i = 0; i < in.size(); i++)
            in[i] = i % 5 == 2 ? -0.0f : (float)((int)(i % 97) - 48) * 0.125f;
        run_im2col_src src{&nd, nd.cin, in.data()};
        for (int t = 0; t < 2; t++) { // the im2col, then its transpose
            int64_t m = t ? cols : rows, k = t ? rows : cols;
            auto want = [&](int64_t i, int64_t j) {
                return bf16_from_float(t ? expected(nd, in, j, i) : expected(nd, in, i, j));
            };
            for (int64_t i0 : {int64_t(0), int64_t(1), m / 2, m - 1})
                for (int64_t k0 : {int64_t(0), int64_t(2), k / 2, k - 1}) {
                    int64_t ni = m - i0, nk = k - k0, ld = nk + 3;
                    std::vector<uint16_t> got((size_t)(ni * ld), guard);
                    (t ? run_im2col_t_block : run_im2col_block)(&src, i0, ni, k0, nk, got.data(),
                                                                ld);
                    for (int64_t i = 0; i < ni; i++)
                        for (int64_t j = 0; j < ld; j++)
                            ASSERT_EQ(got[(size_t)(i * ld + j)],
                                      j < nk ? want(i0 + i, k0 + j) : guard)
                                << (t ? "transpose" : "im2col") << " k " << nd.k << " block from "
                                << i0 << "," << k0 << " at " << i0 + i << "," << k0 + j;
                }
        }
    }
}

// A generated block holds, at each place, the value of its element's index in the whole tensor
// (docs/runtime.md: a splitmix hash of seed, node, kind and index, rounded to bf16): whatever
// block is cut from it, on any number of threads.
TEST(Tensor, GeneratedBlockHoldsEachIndexsValue) {
    const uint64_t seed = 7;
    const int node = 3, kind = RUN_T_OUT_ERR;
    const int64_t y_full = 9;
    const run_block blocks[] = {{{0, 5}, {0, 9}, 1, 1},
                                {{2, 5}, {3, 7}, 4, 1},
                                {{1, 4}, {0, 9}, 1, 33},
                                {{0, 70}, {8, 9}, 3, 17}};
    for (const run_block &k : blocks)
        for (int jobs : {1, 3}) {
            std::vector<float> got((size_t)run_block_elems(&k));
            run_gen_block(seed, node, kind, y_full, &k, got.data(), jobs);
            uint64_t base =
                seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)node << 40 ^ (uint64_t)kind << 56;
            size_t at = 0;
            for (int64_t x = k.x.lo; x < k.x.hi; x++)
                for (int64_t xm = 0; xm < k.mx; xm++)
                    for (int64_t y = k.y.lo; y < k.y.hi; y++)
                        for (int64_t ym = 0; ym < k.my; ym++, at++) {
                            uint64_t index = (uint64_t)(((x * k.mx + xm) * y_full + y) * k.my + ym);
                            uint64_t state = base ^ index * 0xD1B54A32D192ED03ull;
                            float want = bf16_random(&state);
                            ASSERT_EQ(float_bits(got[at]), float_bits(want))
                                << "x " << x << "." << xm << " y " << y << "." << ym << " jobs "
                                << jobs;
                        }
        }
}

// col2im is im2col's adjoint: each pixel sums the im2col entries it was copied to, in row order
// (the order a row-by-row walk adds them in). Brute force adds them in that order, and the values
// are inexact in binary, so any other order shows in the bits.
TEST(Tensor, Col2imIsTheAdjointInRowOrderAndSplitsKeepItsBits) {
    for (const net_node &nd : shapes) {
        int64_t rows = batch * nd.hout * nd.wout, cols = nd.cin * nd.k * nd.k;
        int64_t img = nd.cin * nd.hin * nd.win, rps = nd.hout * nd.wout;
        std::vector<double> in((size_t)(rows * cols));
        for (size_t i = 0; i < in.size(); i++)
            in[i] = (double)(i * 2654435761u % 1000) / 7.0 - 70.0;
        std::vector<float> in_f(in.begin(), in.end());
        // brute force: scatter through the index im2col reads, rows in order
        std::vector<float> index((size_t)(batch * img));
        for (size_t i = 0; i < index.size(); i++)
            index[i] = (float)(i + 1);
        std::vector<double> want((size_t)(batch * img), 0.0), want_f = want;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) {
                float at = expected(nd, index, r, c);
                if (at > 0) {
                    want[(size_t)at - 1] += in[(size_t)(r * cols + c)];
                    want_f[(size_t)at - 1] += (double)in_f[(size_t)(r * cols + c)];
                }
            }
        std::vector<double> whole((size_t)(batch * img), 0.0);
        run_col2im_add(&nd, nd.cin, run_range{0, nd.cin}, in.data(), cols, 0, 0, rows,
                       whole.data());
        EXPECT_EQ(whole, want) << "k " << nd.k;
        // rows in three ranges (one inside a sample), channels in two parts
        std::vector<double> split((size_t)(batch * img), 0.0);
        int64_t cuts[] = {0, rps / 2, rps + 1, rows};
        for (int i = 0; i < 3; i++)
            for (run_range ch : {run_range{0, 1}, run_range{1, nd.cin}})
                run_col2im_add(&nd, nd.cin, ch, in.data() + cuts[i] * cols, cols, 0, cuts[i],
                               cuts[i + 1], split.data() + cuts[i] / rps * img);
        EXPECT_EQ(split, whole) << "k " << nd.k;
        std::vector<double> from_floats((size_t)(batch * img), 0.0);
        run_col2im_add_floats(&nd, nd.cin, run_range{0, nd.cin}, in_f.data(), cols, 0, 0, rows,
                              from_floats.data());
        EXPECT_EQ(from_floats, want_f) << "k " << nd.k;
        // the same floats in column tiles of 4 (a device's C tiles, with a gap between tiles)
        const int64_t tc = 4, ts = rows * tc + 5, tiles = (cols + tc - 1) / tc;
        std::vector<float> tiled((size_t)(tiles * ts), NAN);
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++)
                tiled[(size_t)(c / tc * ts + r * tc + c % tc)] = in_f[(size_t)(r * cols + c)];
        std::vector<double> from_tiles((size_t)(batch * img), 0.0);
        run_col2im_add_floats(&nd, nd.cin, run_range{0, nd.cin}, tiled.data(), tc, ts, 0, rows,
                              from_tiles.data());
        EXPECT_EQ(from_tiles, want_f) << "k " << nd.k;
        // transposed (tc = 1: a column's rows contiguous), in doubles and floats
        std::vector<double> in_t((size_t)(rows * cols));
        std::vector<float> in_tf(in_t.size());
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) {
                in_t[(size_t)(c * rows + r)] = in[(size_t)(r * cols + c)];
                in_tf[(size_t)(c * rows + r)] = in_f[(size_t)(r * cols + c)];
            }
        std::vector<double> from_t((size_t)(batch * img), 0.0), from_tf = from_t;
        run_col2im_add(&nd, nd.cin, run_range{0, nd.cin}, in_t.data(), 1, rows, 0, rows,
                       from_t.data());
        run_col2im_add_floats(&nd, nd.cin, run_range{0, nd.cin}, in_tf.data(), 1, rows, 0, rows,
                              from_tf.data());
        EXPECT_EQ(from_t, want) << "k " << nd.k;
        EXPECT_EQ(from_tf, want_f) << "k " << nd.k;
    }
}

// run_block_copy_jobs against the copy written from the block layout (element (x, xm, y, ym) at
// ((x - x.lo) mx + xm) len(y) my + (y - y.lo) my + ym): blocks that overlap in part, large
// enough to be split (7 parts), on 1 and 3 threads; with poison every element src lacks is a NaN,
// without it the destination's old value stays.
TEST(Tensor, BlockCopyInPartsIsTheElementCopy) {
    const int64_t mx = 3, my = 2;
    const run_block src = {{5, 90}, {0, 4000}, mx, my}, dst = {{0, 64}, {100, 5000}, mx, my};
    auto at = [](const run_block &k, int64_t x, int64_t xm, int64_t y, int64_t ym) {
        return (size_t)((((x - k.x.lo) * k.mx + xm) * (k.y.hi - k.y.lo) + (y - k.y.lo)) * k.my +
                        ym);
    };
    std::vector<float> s((size_t)run_block_elems(&src));
    for (size_t i = 0; i < s.size(); i++)
        s[i] = (float)i;
    for (int poison : {0, 1})
        for (int jobs : {1, 3}) {
            std::vector<float> want((size_t)run_block_elems(&dst), -1.0f), got = want;
            for (int64_t x = dst.x.lo; x < dst.x.hi; x++)
                for (int64_t xm = 0; xm < mx; xm++)
                    for (int64_t y = dst.y.lo; y < dst.y.hi; y++)
                        for (int64_t ym = 0; ym < my; ym++) {
                            bool in =
                                x >= src.x.lo && x < src.x.hi && y >= src.y.lo && y < src.y.hi;
                            float &w = want[at(dst, x, xm, y, ym)];
                            if (in)
                                w = s[at(src, x, xm, y, ym)];
                            else if (poison)
                                w = NAN;
                        }
            run_block_copy_jobs(&dst, got.data(), &src, s.data(), poison, jobs);
            size_t bad = 0;
            for (size_t e = 0; e < got.size(); e++)
                bad += std::isnan(want[e]) ? !std::isnan(got[e])
                                           : std::memcmp(&got[e], &want[e], sizeof(float)) != 0;
            EXPECT_EQ(bad, 0u) << "poison " << poison << ", jobs " << jobs;
        }
}

} // namespace
