// Reference kernel BatchNormalization: golden values in both layouts, NaN/Inf
// propagation and what prepare rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::contains;
using testing::floats;
using testing::kInf;
using testing::kNaN;
using testing::prepare_single_op;
using testing::random_tensor;
using testing::run_single_op;
using testing::tensors_close;
using testing::values_of;

Tensor run1(std::vector<Tensor> inputs, Attributes attrs = {}, bool constant_params = false) {
  testing::OpRunOptions options;
  if (constant_params) options.constant_inputs = {false, true, true, true, true};
  auto result =
      run_single_op(OpType::kBatchNormalization, std::move(inputs), std::move(attrs), 1, options);
  EXPECT_TRUE(result.has_value()) << result.status().message();
  if (!result.has_value()) return Tensor();
  return std::move(result->front());
}

std::string prepare_error(const std::vector<Tensor>& inputs, Attributes attrs = {},
                          size_t num_outputs = 1) {
  auto result =
      prepare_single_op(OpType::kBatchNormalization, inputs, std::move(attrs), num_outputs);
  return result.has_value() ? std::string() : result.status().message();
}

// Two channels: scale [1, 2], B [0, 1], mean [1, 3], var [4, 0.25].
std::vector<Tensor> params(Tensor x) {
  return {std::move(x), floats({1, 2}, {2}), floats({0, 1}, {2}), floats({1, 3}, {2}),
          floats({4, 0.25f}, {2})};
}

Attributes epsilon(double value) {
  Attributes attrs;
  attrs.set("epsilon", value);
  return attrs;
}

TEST(Normalization, BatchNormGoldenNCHW) {
  // Channel 0: (x - 1) / 2; channel 1: (x - 3) / 0.5 * 2 + 1.
  Tensor x = floats({1, 2, 3, 4, 3, 4, 5, 6}, {2, 2, 1, 2});
  Tensor y = run1(params(x), epsilon(0.0), /*constant_params=*/true);
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{0, 0.5f, 1, 5, 1, 1.5f, 9, 13}));
}

TEST(Normalization, BatchNormDefaultEpsilon) {
  Tensor x = floats({3, 5}, {1, 2});
  Tensor y = run1(params(x));
  const float d0 = std::sqrt(4.0f + 1e-5f);
  const float d1 = std::sqrt(0.25f + 1e-5f);
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{(3 - 1) / d0 * 1 + 0, (5 - 3) / d1 * 2 + 1}));
}

TEST(Normalization, BatchNormChannelsLastMatchesChannelsFirst) {
  // (N=1, W=3, C=2) with axis -1 and axis 2 against the same data as (1, 2, 3).
  Tensor nwc = floats({1, 3, 2, 4, 3, 5}, {1, 3, 2});
  Tensor ncw = floats({1, 2, 3, 3, 4, 5}, {1, 2, 3});
  Tensor first = run1(params(ncw), epsilon(1e-3));
  for (int64_t axis : {int64_t{-1}, int64_t{2}}) {
    Attributes attrs = epsilon(1e-3);
    attrs.set("axis", axis);
    Tensor last = run1(params(nwc), attrs);
    for (int64_t w = 0; w < 3; ++w) {
      for (int64_t c = 0; c < 2; ++c) {
        EXPECT_EQ(last.data<float>()[w * 2 + c], first.data<float>()[c * 3 + w]) << axis;
      }
    }
  }
}

// Channels last runs along the channels (vectorized), channels first along
// the pixels: every bit the same, NaN and Inf inputs and an odd channel
// count included.
TEST(Normalization, BatchNormChannelsLastAndFirstAgreeBitForBit) {
  const int64_t n = 2, c = 37, h = 3, w = 5;
  Tensor nchw = random_tensor({n, c, h, w}, 91, -4.0f, 4.0f);
  float* data = nchw.data<float>();
  data[3] = kNaN;
  data[50] = kInf;
  data[100] = -kInf;
  Tensor nhwc(DType::kFloat32, {n, h, w, c});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p)
        nhwc.data<float>()[(i * h * w + p) * c + ch] = data[(i * c + ch) * h * w + p];
  const Tensor scale = random_tensor({c}, 92, 0.5f, 2.0f);
  const Tensor bias = random_tensor({c}, 93);
  const Tensor mean = random_tensor({c}, 94);
  const Tensor var = random_tensor({c}, 95, 0.1f, 3.0f);
  const Tensor first = run1({nchw, scale, bias, mean, var}, epsilon(1e-3));
  Attributes attrs = epsilon(1e-3);
  attrs.set("axis", int64_t{3});
  const Tensor last = run1({nhwc, scale, bias, mean, var}, attrs);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p) {
        const float a = last.data<float>()[(i * h * w + p) * c + ch];
        const float b = first.data<float>()[(i * c + ch) * h * w + p];
        EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << i << " " << ch << " " << p;
      }
}

TEST(Normalization, BatchNormPropagatesNaNAndInf) {
  Tensor x = floats({kNaN, kInf, 3, 4}, {1, 2, 2});
  Tensor y = run1(params(x), epsilon(0.0));
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_EQ(y.data<float>()[1], kInf);
  EXPECT_EQ(y.data<float>()[2], 1.0f);
  // A faulty negative variance poisons its channel only.
  std::vector<Tensor> inputs = params(floats({1, 2, 3, 4}, {1, 2, 2}));
  inputs[4] = floats({-4, 0.25f}, {2});
  Tensor z = run1(inputs, epsilon(0.0));
  EXPECT_TRUE(std::isnan(z.data<float>()[0]));
  EXPECT_TRUE(std::isnan(z.data<float>()[1]));
  EXPECT_EQ(z.data<float>()[2], 1.0f);
}

TEST(Normalization, BatchNormOfAnImageDoesNotDependOnTheBatch) {
  Tensor batch = testing::random_tensor({4, 2, 3, 3}, 11);
  Tensor all = run1(params(batch));
  for (int64_t n = 0; n < 4; ++n) {
    Tensor one(DType::kFloat32, {1, 2, 3, 3});
    for (int64_t i = 0; i < 18; ++i) one.data<float>()[i] = batch.data<float>()[n * 18 + i];
    Tensor y = run1(params(one));
    for (int64_t i = 0; i < 18; ++i) ASSERT_EQ(y.data<float>()[i], all.data<float>()[n * 18 + i]);
  }
}

TEST(Normalization, BatchNormRejectsWrongInputCount) {
  std::vector<Tensor> inputs = params(floats({1, 2}, {1, 2}));
  inputs.pop_back();
  std::string error = prepare_error(inputs);
  EXPECT_TRUE(contains(error, "expected 5 inputs, got 4")) << error;
}

TEST(Normalization, BatchNormRejectsParameterOfWrongShape) {
  std::vector<Tensor> inputs = params(floats({1, 2, 3}, {1, 3}));
  std::string error = prepare_error(inputs);
  EXPECT_TRUE(contains(error, "scale has shape [2], expected [3]")) << error;
}

TEST(Normalization, BatchNormRejectsBadAxis) {
  Attributes attrs;
  attrs.set("axis", int64_t{3});
  std::string error = prepare_error(params(floats({1, 2, 3, 4}, {1, 2, 2})), attrs);
  EXPECT_TRUE(contains(error, "axis 3 is out of range")) << error;
}

TEST(Normalization, BatchNormRejectsIntegerInput) {
  std::vector<Tensor> inputs = params(floats({1, 2}, {1, 2}));
  inputs[3] = Tensor::from_vector<int64_t>({1, 3}, {2});
  std::string error = prepare_error(inputs);
  EXPECT_TRUE(contains(error, "mean has dtype int64, expected float32")) << error;
}

TEST(Normalization, BatchNormRejectsTrainingMode) {
  Attributes attrs;
  attrs.set("training_mode", int64_t{1});
  std::string error = prepare_error(params(floats({1, 2}, {1, 2})), attrs);
  EXPECT_TRUE(contains(error, "training_mode")) << error;
  error = prepare_error(params(floats({1, 2}, {1, 2})), {}, 3);
  EXPECT_TRUE(contains(error, "expected 1 output")) << error;
}

}  // namespace
}  // namespace nnfi
