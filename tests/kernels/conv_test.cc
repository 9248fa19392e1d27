// Conv reference kernel: golden arrays, a naive 7-loop cross-check on random
// shapes, layout and batch invariance, NaN propagation, rejections; and the
// window arithmetic of conv_geometry.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/op_runner.h"
#include "kernels/reference/conv_geometry.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::eval_single_op;
using testing::random_tensor;
using testing::tensors_close;

Tensor floats(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, std::move(shape));
}

// 1..16 in a (1, 1, 4, 4) image: x[i, j] = 4 i + j + 1.
Tensor ramp_4x4() {
  std::vector<float> values(16);
  for (int i = 0; i < 16; ++i) values[i] = static_cast<float>(i + 1);
  return floats(values, {1, 1, 4, 4});
}

Tensor run_conv(std::vector<Tensor> inputs, Attributes attrs = {}) {
  auto result = eval_single_op(OpType::kConv, inputs, std::move(attrs));
  EXPECT_TRUE(result.has_value()) << result.status().message();
  return result.has_value() ? result.value()[0] : Tensor();
}

Status conv_error(std::vector<Tensor> inputs, Attributes attrs = {}) {
  return testing::prepare_single_op(OpType::kConv, inputs, std::move(attrs)).status();
}

TEST(ConvTest, Golden3x3OnesWithBias) {
  Tensor w = floats(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
  Tensor y = run_conv({ramp_4x4(), w, floats({1.0f}, {1})});
  EXPECT_TRUE(tensors_close(y, floats({55, 64, 91, 100}, {1, 1, 2, 2}), 0, 0));
}

TEST(ConvTest, GoldenSobelIsCorrelationNotFlipped) {
  // Each row contributes x[i, j] - x[i, j + 2] = -2, weighted 1, 2, 1.
  Tensor w = floats({1, 0, -1, 2, 0, -2, 1, 0, -1}, {1, 1, 3, 3});
  Tensor y = run_conv({ramp_4x4(), w});
  EXPECT_TRUE(tensors_close(y, floats({-8, -8, -8, -8}, {1, 1, 2, 2}), 0, 0));
}

TEST(ConvTest, GoldenStride2Pads1) {
  Attributes attrs;
  attrs.set("strides", std::vector<int64_t>{2, 2});
  attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Tensor w = floats(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
  Tensor y = run_conv({ramp_4x4(), w}, attrs);
  // Windows centred on (0,0), (0,2), (2,0), (2,2).
  EXPECT_TRUE(tensors_close(y, floats({14, 30, 57, 99}, {1, 1, 2, 2}), 0, 0));
}

TEST(ConvTest, GoldenDilation2) {
  Attributes attrs;
  attrs.set("dilations", std::vector<int64_t>{2, 2});
  Tensor w = floats({1, 1, 1, 1}, {1, 1, 2, 2});
  Tensor y = run_conv({ramp_4x4(), w}, attrs);
  EXPECT_TRUE(tensors_close(y, floats({24, 28, 40, 44}, {1, 1, 2, 2}), 0, 0));
}

TEST(ConvTest, GoldenGroupsAndDepthwiseMultiplier) {
  // Channel 0 is the ramp, channel 1 all ones; group 2, two outputs per group.
  std::vector<float> x_values(32, 1.0f);
  for (int i = 0; i < 16; ++i) x_values[i] = static_cast<float>(i + 1);
  std::vector<float> w_values;
  for (float scale : {1.0f, -1.0f, 2.0f, 3.0f}) {
    for (int i = 0; i < 9; ++i) w_values.push_back(scale);
  }
  Attributes attrs;
  attrs.set("group", int64_t{2});
  Tensor y = run_conv({floats(x_values, {1, 2, 4, 4}), floats(w_values, {4, 1, 3, 3})}, attrs);
  Tensor expected =
      floats({54, 63, 90, 99, -54, -63, -90, -99, 18, 18, 18, 18, 27, 27, 27, 27}, {1, 4, 2, 2});
  EXPECT_TRUE(tensors_close(y, expected, 0, 0));
}

TEST(ConvTest, Golden1DWithPads) {
  Attributes attrs;
  attrs.set("pads", std::vector<int64_t>{1, 1});
  Tensor y = run_conv({floats({1, 2, 3, 4, 5}, {1, 1, 5}), floats({1, 2, 3}, {1, 1, 3})}, attrs);
  EXPECT_TRUE(tensors_close(y, floats({8, 14, 20, 26, 14}, {1, 1, 5}), 0, 0));
}

TEST(ConvTest, GoldenAutoPadSameUpperLowerValid) {
  Tensor x = floats({1, 2, 3, 4}, {1, 1, 4});
  Tensor w = floats({1, 10}, {1, 1, 2});
  Attributes upper;
  upper.set("auto_pad", std::string("SAME_UPPER"));
  EXPECT_TRUE(tensors_close(run_conv({x, w}, upper), floats({21, 32, 43, 4}, {1, 1, 4}), 0, 0));
  Attributes lower;
  lower.set("auto_pad", std::string("SAME_LOWER"));
  EXPECT_TRUE(tensors_close(run_conv({x, w}, lower), floats({10, 21, 32, 43}, {1, 1, 4}), 0, 0));
  Attributes valid;
  valid.set("auto_pad", std::string("VALID"));
  EXPECT_TRUE(tensors_close(run_conv({x, w}, valid), floats({21, 32, 43}, {1, 1, 3}), 0, 0));
}

TEST(ConvTest, KernelShapeAttributeMatchingWIsAccepted) {
  Attributes attrs;
  attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
  Tensor w = floats(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
  EXPECT_TRUE(tensors_close(run_conv({ramp_4x4(), w}, attrs),
                            floats({54, 63, 90, 99}, {1, 1, 2, 2}), 0, 0));
}

// The textbook formula: for each output, sum over (c, kh, kw) of in-range taps,
// then the bias; same order as the kernel, so results must match bit for bit.
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor* b, int64_t group,
                  const std::vector<kernels::WindowAxis>& axes) {
  const bool one_d = x.rank() == 3;
  const int64_t n_size = x.dim(0), c_size = x.dim(1), o_size = w.dim(0);
  const int64_t h = one_d ? 1 : x.dim(2), wd = x.dim(x.rank() - 1);
  const kernels::WindowAxis rows = one_d ? kernels::WindowAxis{1, 1, 1, 1, 0, 0, 1} : axes[0];
  const kernels::WindowAxis& cols = axes.back();
  const int64_t cg = c_size / group, og = o_size / group;
  Shape shape =
      one_d ? Shape{n_size, o_size, cols.output} : Shape{n_size, o_size, rows.output, cols.output};
  Tensor y(DType::kFloat32, shape);
  float* out = y.data<float>();
  const float* xd = x.data<float>();
  const float* wdat = w.data<float>();
  for (int64_t n = 0; n < n_size; ++n)
    for (int64_t o = 0; o < o_size; ++o)
      for (int64_t oh = 0; oh < rows.output; ++oh)
        for (int64_t ow = 0; ow < cols.output; ++ow) {
          float acc = 0.0f;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t kh = 0; kh < rows.kernel; ++kh)
              for (int64_t kw = 0; kw < cols.kernel; ++kw) {
                int64_t ih = oh * rows.stride - rows.pad_begin + kh * rows.dilation;
                int64_t iw = ow * cols.stride - cols.pad_begin + kw * cols.dilation;
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                int64_t ci = (o / og) * cg + c;
                acc += xd[((n * c_size + ci) * h + ih) * wd + iw] *
                       wdat[((o * cg + c) * rows.kernel + kh) * cols.kernel + kw];
              }
          if (b != nullptr) acc += b->data<float>()[o];
          out[((n * o_size + o) * rows.output + oh) * cols.output + ow] = acc;
        }
  return y;
}

// (N, C, spatial...) <-> (N, spatial..., C).
Tensor to_channels_last(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), p = x.num_elements() / (n * c);
  Shape shape{n};
  for (size_t d = 2; d < x.rank(); ++d) shape.push_back(x.dim(d));
  shape.push_back(c);
  Tensor y(DType::kFloat32, shape);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t q = 0; q < p; ++q)
        y.data<float>()[(i * p + q) * c + ch] = x.data<float>()[(i * c + ch) * p + q];
  return y;
}

TEST(ConvTest, MatchesNaiveLoopsAndChannelsLastOnRandomShapes) {
  std::mt19937 rng(20240611);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const bool one_d = pick(0, 3) == 0;
    // og up to 6 covers the 4-channel blocks and their remainders; every 5th
    // trial is a pointwise conv (1x1, stride 1, no pads: the one-row path).
    const bool pointwise = trial % 5 == 0;
    const int64_t group = pick(1, 3), cg = pick(1, 3), og = pick(1, 6), n = pick(1, 2);
    const size_t spatial = one_d ? 1 : 2;
    Shape x_shape{n, group * cg};
    Shape w_shape{group * og, cg};
    std::vector<int64_t> strides, dilations, pads(2 * spatial);
    for (size_t d = 0; d < spatial; ++d) {
      x_shape.push_back(pick(1, 9));
      w_shape.push_back(pointwise ? 1 : pick(1, 3));
      strides.push_back(pointwise ? 1 : pick(1, 3));
      dilations.push_back(pick(1, 2));
      pads[d] = pointwise ? 0 : pick(0, 2);
      pads[spatial + d] = pointwise ? 0 : pick(0, 2);
    }
    Attributes attrs;
    attrs.set("group", group);
    attrs.set("strides", strides);
    attrs.set("dilations", dilations);
    attrs.set("pads", pads);
    kernels::WindowParams params;
    params.kernel.assign(w_shape.begin() + 2, w_shape.end());
    ASSERT_TRUE(kernels::read_window_attributes(attrs, spatial, &params).is_ok());
    std::vector<kernels::WindowAxis> axes;
    std::vector<int64_t> in_spatial(x_shape.begin() + 2, x_shape.end());
    if (!kernels::compute_window_geometry(params, in_spatial, &axes).is_ok()) {
      EXPECT_FALSE(
          conv_error({Tensor(DType::kFloat32, x_shape), Tensor(DType::kFloat32, w_shape)}, attrs)
              .is_ok());
      continue;
    }
    Tensor x = random_tensor(x_shape, 100 + trial);
    Tensor w = random_tensor(w_shape, 200 + trial);
    Tensor b = random_tensor({group * og}, 300 + trial);
    const bool with_bias = trial % 2 == 0;
    std::vector<Tensor> inputs{x, w};
    if (with_bias) inputs.push_back(b);
    Tensor y = run_conv(inputs, attrs);
    Tensor expected = naive_conv(x, w, with_bias ? &b : nullptr, group, axes);
    ASSERT_TRUE(y.bitwise_equal(expected)) << "trial " << trial << " x " << shape_to_string(x_shape)
                                           << " w " << shape_to_string(w_shape);
    // channels_last: the same bits after transposing X and Y.
    Attributes last = attrs;
    last.set("channels_last", int64_t{1});
    inputs[0] = to_channels_last(x);
    Tensor y_last = run_conv(inputs, last);
    ASSERT_TRUE(y_last.bitwise_equal(to_channels_last(expected))) << "trial " << trial;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST(ConvTest, ImageOutputsDoNotDependOnBatch) {
  Tensor batch = random_tensor({3, 4, 9, 9}, 7);
  Tensor w = random_tensor({6, 4, 3, 3}, 8);
  Tensor b = random_tensor({6}, 9);
  Attributes attrs;
  attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Tensor all = run_conv({batch, w, b}, attrs);
  const int64_t in_image = 4 * 81, out_image = 6 * 81;
  for (int64_t i = 0; i < 3; ++i) {
    Tensor one(DType::kFloat32, {1, 4, 9, 9});
    std::copy_n(batch.data<float>() + i * in_image, in_image, one.data<float>());
    Tensor y = run_conv({one, w, b}, attrs);
    EXPECT_EQ(0, std::memcmp(y.data<float>(), all.data<float>() + i * out_image,
                             out_image * sizeof(float)))
        << "image " << i;
  }
}

TEST(ConvTest, NaNAndInfPropagateOnlyThroughTheirWindows) {
  Tensor x = ramp_4x4();
  x.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();  // only in window (0, 0)
  x.data<float>()[15] = std::numeric_limits<float>::infinity();  // only in window (1, 1)
  Tensor w = floats(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
  Tensor y = run_conv({x, w});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_EQ(y.data<float>()[1], 63.0f);
  EXPECT_EQ(y.data<float>()[2], 90.0f);
  EXPECT_EQ(y.data<float>()[3], std::numeric_limits<float>::infinity());
}

TEST(ConvTest, RunsThroughPlanAndExecutorWithConstantWeights) {
  Tensor w = floats(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
  testing::OpRunOptions options;
  options.constant_inputs = {false, true, true};
  auto result =
      testing::run_single_op(OpType::kConv, {ramp_4x4(), w, floats({1.0f}, {1})}, {}, 1, options);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  EXPECT_TRUE(tensors_close(result.value()[0], floats({55, 64, 91, 100}, {1, 1, 2, 2}), 0, 0));
}

TEST(ConvTest, RejectsWrongRank) {
  Status status = conv_error(
      {Tensor(DType::kFloat32, {1, 1, 4, 4, 4}), Tensor(DType::kFloat32, {1, 1, 3, 3, 3})});
  EXPECT_NE(status.message().find("expected rank 3"), std::string::npos) << status.message();
  EXPECT_FALSE(
      conv_error({Tensor(DType::kFloat32, {1, 1, 4, 4}), Tensor(DType::kFloat32, {1, 1, 3})})
          .is_ok());
}

TEST(ConvTest, RejectsGroupMismatch) {
  Status status =
      conv_error({Tensor(DType::kFloat32, {1, 3, 8, 8}), Tensor(DType::kFloat32, {8, 16, 3, 3})});
  EXPECT_EQ(status.message(),
            "W has 16 input channels per group, X has 3 channels and group 1: expected 3");
  Attributes attrs;
  attrs.set("group", int64_t{2});
  status = conv_error(
      {Tensor(DType::kFloat32, {1, 3, 8, 8}), Tensor(DType::kFloat32, {8, 1, 3, 3})}, attrs);
  EXPECT_NE(status.message().find("not divisible by group 2"), std::string::npos);
  attrs.set("group", int64_t{4});
  status = conv_error(
      {Tensor(DType::kFloat32, {1, 8, 8, 8}), Tensor(DType::kFloat32, {6, 2, 3, 3})}, attrs);
  EXPECT_NE(status.message().find("multiple of group 4"), std::string::npos) << status.message();
}

TEST(ConvTest, RejectsKernelBiggerThanInput) {
  Status status =
      conv_error({Tensor(DType::kFloat32, {1, 1, 4, 4}), Tensor(DType::kFloat32, {1, 1, 5, 5})});
  EXPECT_NE(status.message().find("larger than the padded input 4"), std::string::npos)
      << status.message();
  Attributes attrs;
  attrs.set("pads", std::vector<int64_t>{1, 1, 0, 0});
  EXPECT_TRUE(
      conv_error({Tensor(DType::kFloat32, {1, 1, 4, 4}), Tensor(DType::kFloat32, {1, 1, 5, 4})},
                 attrs)
          .is_ok());
}

TEST(ConvTest, RejectsBadAttributes) {
  Tensor x(DType::kFloat32, {1, 1, 4, 4});
  Tensor w(DType::kFloat32, {1, 1, 3, 3});
  Attributes zero_stride;
  zero_stride.set("strides", std::vector<int64_t>{0, 1});
  EXPECT_NE(conv_error({x, w}, zero_stride).message().find("stride 0"), std::string::npos);
  Attributes negative_pad;
  negative_pad.set("pads", std::vector<int64_t>{0, -1, 0, 0});
  EXPECT_NE(conv_error({x, w}, negative_pad).message().find(">= 0"), std::string::npos);
  Attributes short_pads;
  short_pads.set("pads", std::vector<int64_t>{1, 1});
  EXPECT_NE(conv_error({x, w}, short_pads).message().find("expected 4"), std::string::npos);
  Attributes bad_auto_pad;
  bad_auto_pad.set("auto_pad", std::string("SAME"));
  EXPECT_NE(conv_error({x, w}, bad_auto_pad).message().find("SAME_UPPER"), std::string::npos);
  Attributes kernel_shape;
  kernel_shape.set("kernel_shape", std::vector<int64_t>{2, 2});
  EXPECT_NE(conv_error({x, w}, kernel_shape).message().find("does not match"), std::string::npos);
  Attributes layout;
  layout.set("channels_last", int64_t{2});
  EXPECT_FALSE(conv_error({x, w}, layout).is_ok());
}

TEST(ConvTest, RejectsBadBiasAndDtype) {
  Tensor x(DType::kFloat32, {1, 2, 4, 4});
  Tensor w(DType::kFloat32, {3, 2, 3, 3});
  EXPECT_NE(conv_error({x, w, Tensor(DType::kFloat32, {2})}).message().find("expected [3]"),
            std::string::npos);
  EXPECT_FALSE(conv_error({Tensor(DType::kInt32, {1, 2, 4, 4}), w}).is_ok());
  EXPECT_FALSE(conv_error({x}).is_ok());
}

TEST(ConvGeometryTest, SamePadsPutTheOddPadAtTheEndOrStart) {
  kernels::WindowAxis axis{5, 2, 2, 1, 0, 0, 0};  // input 5, kernel 2, stride 2
  ASSERT_TRUE(kernels::compute_window_axis(axis, kernels::AutoPad::kSameUpper, false, 0).is_ok());
  EXPECT_EQ(axis.output, 3);
  EXPECT_EQ(axis.pad_begin, 0);
  EXPECT_EQ(axis.pad_end, 1);
  axis = {4, 3, 1, 2, 0, 0, 0};  // dilated extent 5: total pad 4
  ASSERT_TRUE(kernels::compute_window_axis(axis, kernels::AutoPad::kSameLower, false, 0).is_ok());
  EXPECT_EQ(axis.output, 4);
  EXPECT_EQ(axis.pad_begin, 2);
  EXPECT_EQ(axis.pad_end, 2);
  axis = {4, 2, 1, 1, 0, 0, 0};
  ASSERT_TRUE(kernels::compute_window_axis(axis, kernels::AutoPad::kSameLower, false, 0).is_ok());
  EXPECT_EQ(axis.pad_begin, 1);
  EXPECT_EQ(axis.pad_end, 0);
}

TEST(ConvGeometryTest, CeilModeDropsWindowsStartingInTheEndPadding) {
  kernels::WindowAxis axis{4, 3, 2, 1, 0, 0, 0};
  ASSERT_TRUE(kernels::compute_window_axis(axis, kernels::AutoPad::kNotSet, true, 0).is_ok());
  EXPECT_EQ(axis.output, 2);  // floor would give 1
  EXPECT_EQ(axis.reached_pad_end(), 1);
  axis = {5, 2, 2, 1, 1, 1, 0};  // padded 7: ceil(5/2)+1 = 4, the 4th starts at 5 = end
  ASSERT_TRUE(kernels::compute_window_axis(axis, kernels::AutoPad::kNotSet, true, 0).is_ok());
  EXPECT_EQ(axis.output, 3);
}

}  // namespace
}  // namespace nnfi
