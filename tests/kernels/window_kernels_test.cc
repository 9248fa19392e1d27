// The position-invariant window kernels (src/kernels/window): the full-tensor
// kernels against the reference kernels on random shapes, and bit-exactness
// of every window against the full output, across thread counts, batch
// sizes, the AVX-512 and portable paths, with NaN and Inf.
#include "kernels/window/window_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/window_test_support.h"

namespace nnfi {
namespace {

using kernels::window::ConvGeometry;
using kernels::window::PoolGeometry;
using kernels::window::Window;
using kernels::window::WindowConv;
using testing::bits_equal;
using testing::OpCase;
using testing::random_tensor;
using testing::run_window;
using testing::tensors_close;

constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;

void expect_matches_reference(const OpCase& c) {
  SCOPED_TRACE(c.text);
  auto reference = testing::run_reference_op(c.op, c.inputs, c.attrs);
  ASSERT_TRUE(reference.has_value()) << reference.status().message();
  auto window = run_window(c);
  ASSERT_TRUE(window.has_value()) << window.status().message();
  if (c.op == OpType::kConv) {
    EXPECT_TRUE(tensors_close(*window, *reference, kRtol, kAtol));
  } else {
    EXPECT_TRUE(bits_equal(*window, *reference));  // same operations as the reference
  }
}

TEST(WindowKernelsTest, ConvMatchesReferenceOnRandomShapes) {
  std::mt19937 engine(7001);
  for (uint32_t i = 0; i < 80; ++i)
    expect_matches_reference(testing::random_conv(engine, 100 + 5 * i));
}

TEST(WindowKernelsTest, ConvMatchesReferenceOnNamedShapes) {
  struct Named {
    Shape x;  // NCHW
    Shape w;
    int64_t group, stride, dilation;
    std::string auto_pad;  // "" for explicit pads 1
    bool bias;
  };
  const Named cases[] = {
      {{1, 3, 12, 12}, {8, 3, 3, 3}, 1, 1, 1, "", true},
      {{3, 16, 9, 9}, {16, 1, 3, 3}, 16, 1, 1, "", true},    // depthwise
      {{1, 12, 10, 10}, {18, 4, 3, 3}, 3, 2, 1, "", false},  // grouped, stride 2
      {{3, 5, 11, 11}, {20, 5, 3, 3}, 1, 1, 2, "SAME_UPPER", true},
      {{1, 17, 7, 7}, {33, 17, 1, 1}, 1, 1, 1, "VALID", false},  // 1x1
      {{3, 8, 8, 8}, {70, 8, 5, 5}, 1, 2, 1, "SAME_LOWER", true},
  };
  for (bool channels_last : {false, true}) {
    for (const Named& n : cases) {
      OpCase c;
      Shape x = n.x;
      if (channels_last) x = {n.x[0], n.x[2], n.x[3], n.x[1]};
      c.inputs = {random_tensor(x, 11), random_tensor(n.w, 12),
                  n.bias ? random_tensor({n.w[0]}, 13) : Tensor()};
      c.attrs.set("group", n.group);
      c.attrs.set("strides", std::vector<int64_t>{n.stride, n.stride});
      c.attrs.set("dilations", std::vector<int64_t>{n.dilation, n.dilation});
      c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
      if (n.auto_pad.empty()) {
        c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
      } else {
        c.attrs.set("auto_pad", n.auto_pad);
      }
      c.text = shape_to_string(x) + " W " + shape_to_string(n.w);
      expect_matches_reference(c);
    }
  }
}

TEST(WindowKernelsTest, PoolsMatchReferenceBitForBit) {
  std::mt19937 engine(7002);
  for (uint32_t i = 0; i < 60; ++i) {
    expect_matches_reference(testing::random_pool(engine, 200 + 3 * i, i % 2 == 0));
  }
}

TEST(WindowKernelsTest, AveragePoolCountIncludePadWithPadding) {
  // 1x1x3x3 ones, 3x3 kernel, pads 1: the corner sees 4 inputs of 9 cells.
  for (int64_t include : {0, 1}) {
    OpCase c;
    c.op = OpType::kAveragePool;
    c.inputs = {testing::floats(std::vector<float>(9, 1.0f), {1, 1, 3, 3})};
    c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
    c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    c.attrs.set("count_include_pad", include);
    auto y = run_window(c);
    ASSERT_TRUE(y.has_value()) << y.status().message();
    EXPECT_EQ(y->data<float>()[0], include == 1 ? 4.0f / 9.0f : 1.0f);
    EXPECT_EQ(y->data<float>()[4], 1.0f);
    expect_matches_reference(c);
  }
}

TEST(WindowKernelsTest, MaxPoolNaNRule) {
  // A NaN anywhere in the window gives NaN, wherever it is among the taps.
  const float nan = testing::kNaN;
  OpCase c;
  c.op = OpType::kMaxPool;
  c.inputs = {testing::floats({nan, 1, 2, 3, 4, nan, 6, 7, 8}, {1, 1, 3, 3})};
  c.attrs.set("kernel_shape", std::vector<int64_t>{2, 2});
  auto y = run_window(c);
  ASSERT_TRUE(y.has_value()) << y.status().message();
  const float* v = y->data<float>();
  EXPECT_TRUE(std::isnan(v[0]));  // NaN first
  EXPECT_TRUE(std::isnan(v[1]));  // NaN last
  EXPECT_EQ(v[2], 7.0f);          // no NaN in this window
  EXPECT_TRUE(std::isnan(v[3]));  // NaN second
  c.inputs = {testing::floats({-testing::kInf, 1, 2, testing::kInf}, {1, 1, 2, 2})};
  c.attrs.set("kernel_shape", std::vector<int64_t>{1, 2});
  y = run_window(c);
  ASSERT_TRUE(y.has_value()) << y.status().message();
  EXPECT_EQ(y->data<float>()[0], 1.0f);
  EXPECT_EQ(y->data<float>()[1], testing::kInf);
}

// A random axis: output size from compute_window_axis (explicit pads, any ceil_mode).
kernels::WindowAxis random_axis(std::mt19937& engine) {
  kernels::WindowAxis axis;
  axis.kernel = testing::pick(engine, 1, 4);
  axis.stride = testing::pick(engine, 1, 3);
  axis.dilation = testing::pick(engine, 1, 3);
  axis.pad_begin = testing::pick(engine, 0, 4);
  axis.pad_end = testing::pick(engine, 0, 4);
  const int64_t extent = kernels::dilated_kernel(axis.kernel, axis.dilation);
  axis.input =
      testing::pick(engine, std::max<int64_t>(1, extent - axis.pad_begin - axis.pad_end), 20);
  const bool ceil_mode = testing::pick(engine, 0, 1) == 1;
  EXPECT_TRUE(kernels::compute_window_axis(axis, kernels::AutoPad::kNotSet, ceil_mode, 0).is_ok());
  return axis;
}

// Does output o of the axis read input position i (a tap, not padding)?
bool reads(const kernels::WindowAxis& axis, int64_t o, int64_t i) {
  for (int64_t k = 0; k < axis.kernel; ++k) {
    if (axis.window_start(o) + k * axis.dilation == i && i >= 0 && i < axis.input) return true;
  }
  return false;
}

TEST(WindowKernelsTest, InputAndOutputWindowsAreTheTightBoundsOfWhatIsRead) {
  std::mt19937 engine(7003);
  for (int trial = 0; trial < 300; ++trial) {
    const kernels::WindowAxis rows = random_axis(engine);
    const kernels::WindowAxis cols = random_axis(engine);
    // Brute force on each axis: bounds of the positions read / the outputs reading.
    auto bounds = [](const kernels::WindowAxis& axis, int64_t lo, int64_t hi, bool forward) {
      int64_t first = -1;
      int64_t last = -1;
      const int64_t limit = forward ? axis.input : axis.output;
      for (int64_t j = 0; j < limit; ++j) {
        bool hit = false;
        for (int64_t k = lo; k < hi; ++k)
          hit = hit || (forward ? reads(axis, k, j) : reads(axis, j, k));
        if (!hit) continue;
        if (first < 0) first = j;
        last = j;
      }
      return std::pair<int64_t, int64_t>(first, last + 1);
    };
    const int64_t r0 = testing::pick(engine, 0, rows.output - 1);
    const int64_t r1 = testing::pick(engine, r0 + 1, rows.output);
    const int64_t c0 = testing::pick(engine, 0, cols.output - 1);
    const int64_t c1 = testing::pick(engine, c0 + 1, cols.output);
    const Window out{r0, r1, c0, c1};
    const Window in = kernels::window::input_window(rows, cols, out);
    const auto br = bounds(rows, r0, r1, true);
    const auto bc = bounds(cols, c0, c1, true);
    const Window expected_in =
        br.first < 0 || bc.first < 0 ? Window{} : Window{br.first, br.second, bc.first, bc.second};
    EXPECT_EQ(in, expected_in) << "trial " << trial;

    const int64_t i0 = testing::pick(engine, 0, rows.input - 1);
    const int64_t i1 = testing::pick(engine, i0 + 1, rows.input);
    const int64_t j0 = testing::pick(engine, 0, cols.input - 1);
    const int64_t j1 = testing::pick(engine, j0 + 1, cols.input);
    const Window from{i0, i1, j0, j1};
    const auto orow = bounds(rows, i0, i1, false);
    const auto ocol = bounds(cols, j0, j1, false);
    const Window expected_out = orow.first < 0 || ocol.first < 0
                                    ? Window{}
                                    : Window{orow.first, orow.second, ocol.first, ocol.second};
    EXPECT_EQ(kernels::window::output_window(rows, cols, from), expected_out) << "trial " << trial;
  }
}

TEST(WindowKernelsTest, MultiplyAddsCountTheTapsInsideTheInput) {
  // 4x4, 3x3 taps, pads 1: border pixels have 2 valid taps an axis, inner 3.
  ConvGeometry g;
  g.in_channels = 6;
  g.out_channels = 4;
  g.rows = kernels::WindowAxis{4, 3, 1, 1, 1, 1, 4};
  g.cols = g.rows;
  const std::vector<float> w(4 * 6 * 9, 0.5f);
  EXPECT_EQ(WindowConv(g, w.data(), nullptr).multiply_adds(Window{0, 4, 0, 4}), 10 * 10 * 4 * 6);
  EXPECT_EQ(WindowConv(g, w.data(), nullptr).multiply_adds(Window{1, 3, 1, 3}), 6 * 6 * 4 * 6);
  EXPECT_EQ(WindowConv(g, w.data(), nullptr).multiply_adds(Window{}), 0);
  g.group = 2;  // each output channel reads 3 input channels
  EXPECT_EQ(WindowConv(g, w.data(), nullptr).multiply_adds(Window{0, 4, 0, 1}), 10 * 2 * 4 * 3);

  // Any geometry: what a brute-force walk over pixels and taps counts.
  std::mt19937 engine(7011);
  for (int trial = 0; trial < 200; ++trial) {
    ConvGeometry r;
    r.in_channels = 2;
    r.out_channels = 3;
    r.rows = random_axis(engine);
    r.cols = random_axis(engine);
    const std::vector<float> weights(static_cast<size_t>(3 * 2 * r.rows.kernel * r.cols.kernel),
                                     1.0f);
    const WindowConv conv(r, weights.data(), nullptr);
    const int64_t r0 = testing::pick(engine, 0, r.rows.output - 1);
    const int64_t r1 = testing::pick(engine, r0 + 1, r.rows.output);
    const int64_t c0 = testing::pick(engine, 0, r.cols.output - 1);
    const int64_t c1 = testing::pick(engine, c0 + 1, r.cols.output);
    int64_t taps = 0;
    for (int64_t oh = r0; oh < r1; ++oh) {
      for (int64_t ow = c0; ow < c1; ++ow) {
        for (int64_t kh = 0; kh < r.rows.kernel; ++kh) {
          for (int64_t kw = 0; kw < r.cols.kernel; ++kw) {
            const int64_t ih = r.rows.window_start(oh) + kh * r.rows.dilation;
            const int64_t iw = r.cols.window_start(ow) + kw * r.cols.dilation;
            taps += ih >= 0 && ih < r.rows.input && iw >= 0 && iw < r.cols.input;
          }
        }
      }
    }
    EXPECT_EQ(conv.multiply_adds(Window{r0, r1, c0, c1}), taps * 3 * 2) << "trial " << trial;
  }
}

TEST(WindowKernelsTest, WindowUnionAndEmptyWindows) {
  const Window a{1, 3, 2, 5};
  const Window b{0, 2, 4, 8};
  EXPECT_EQ(kernels::window::window_union(a, b), (Window{0, 3, 2, 8}));
  EXPECT_EQ(kernels::window::window_union(a, Window{}), a);
  EXPECT_EQ(kernels::window::window_union(Window{5, 5, 0, 9}, b), b);
  EXPECT_TRUE(kernels::window::window_union(Window{}, Window{}).empty());
  EXPECT_EQ((Window{2, 4, 1, 4}).area(), 6);
  EXPECT_EQ((Window{4, 2, 1, 4}).area(), 0);
  kernels::WindowAxis axis{8, 3, 1, 1, 1, 1, 8};
  EXPECT_TRUE(kernels::window::input_window(axis, axis, Window{}).empty());
  EXPECT_TRUE(kernels::window::output_window(axis, axis, Window{3, 3, 0, 8}).empty());
  // A border output of a padded 3x3 reads one row less.
  EXPECT_EQ(kernels::window::input_window(axis, axis, Window{0, 1, 0, 8}), (Window{0, 2, 0, 8}));
  EXPECT_EQ(kernels::window::output_window(axis, axis, Window{4, 5, 4, 5}), (Window{3, 6, 3, 6}));
}

// The node infos of a case, weights and bias marked constant or not.
struct Infos {
  Node node;
  std::vector<kernels::TensorInfo> inputs;
  std::vector<kernels::TensorInfo> outputs;
};

Infos infos_of(const OpCase& c, bool weights_constant, bool bias_constant, size_t outputs = 1) {
  Infos infos;
  auto prepared = testing::prepare_single_op(c.op, c.inputs, c.attrs, 1);
  EXPECT_TRUE(prepared.has_value()) << prepared.status().message();
  infos.node.op = c.op;
  infos.node.attributes = c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Tensor& t = c.inputs[i];
    const bool constant = (i == 1 && weights_constant) || (i == 2 && bias_constant);
    infos.inputs.push_back(t.defined()
                               ? kernels::TensorInfo{t.dtype(), t.shape(), constant ? &t : nullptr}
                               : kernels::TensorInfo{});
  }
  if (prepared.has_value()) infos.outputs.assign(outputs, prepared->front());
  return infos;
}

bool conv_covered(const Infos& i) {
  return kernels::window::window_conv_geometry(i.node, i.inputs, i.outputs).has_value() &&
         kernels::window::create_window_kernel(i.node, i.inputs, i.outputs) != nullptr;
}

TEST(WindowKernelsTest, ConvGeometry_RejectsWhatItDoesNotCover) {
  OpCase c;
  c.inputs = {random_tensor({1, 4, 6, 6}, 1), random_tensor({8, 4, 3, 3}, 2),
              random_tensor({8}, 3)};
  EXPECT_TRUE(conv_covered(infos_of(c, true, true)));
  EXPECT_FALSE(conv_covered(infos_of(c, false, true)));  // weights not constant
  EXPECT_FALSE(conv_covered(infos_of(c, true, false)));  // bias not constant
  const auto g = kernels::window::window_conv_geometry(infos_of(c, true, true).node,
                                                       infos_of(c, true, true).inputs,
                                                       infos_of(c, true, true).outputs);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->in_channels, 4);
  EXPECT_EQ(g->out_channels, 8);
  EXPECT_EQ(g->rows.output, 4);
  Infos bad = infos_of(c, true, true);
  bad.node.attributes.set("channels_last", int64_t{2});
  EXPECT_FALSE(conv_covered(bad));
  bad = infos_of(c, true, true);
  bad.inputs[0].dtype = DType::kFloat16;
  EXPECT_FALSE(conv_covered(bad));
  bad = infos_of(c, true, true);
  bad.node.op = OpType::kRelu;
  EXPECT_FALSE(conv_covered(bad));
  // A 1-D conv (rank 3) is not covered.
  OpCase one_d;
  one_d.inputs = {random_tensor({1, 4, 6}, 1), random_tensor({8, 4, 3}, 2), Tensor()};
  EXPECT_FALSE(conv_covered(infos_of(one_d, true, true)));
}

TEST(WindowKernelsTest, PoolGeometry_RejectsIndicesOutputAndStorageOrder) {
  OpCase c;
  c.op = OpType::kMaxPool;
  c.inputs = {random_tensor({1, 4, 6, 6}, 1)};
  c.attrs.set("kernel_shape", std::vector<int64_t>{2, 2});
  Infos ok = infos_of(c, false, false);
  EXPECT_TRUE(kernels::window::window_pool_geometry(ok.node, ok.inputs, ok.outputs).has_value());
  EXPECT_NE(kernels::window::create_window_kernel(ok.node, ok.inputs, ok.outputs), nullptr);
  Infos indices = infos_of(c, false, false, 2);
  EXPECT_FALSE(
      kernels::window::window_pool_geometry(indices.node, indices.inputs, indices.outputs));
  Infos order = infos_of(c, false, false);
  order.node.attributes.set("storage_order", int64_t{1});
  EXPECT_FALSE(kernels::window::window_pool_geometry(order.node, order.inputs, order.outputs));
  EXPECT_EQ(kernels::window::create_window_kernel(order.node, order.inputs, order.outputs),
            nullptr);
}

}  // namespace
}  // namespace nnfi
