// Reference kernel LayerNormalization: golden values (numpy float64 offline),
// the Mean/InvStdDev outputs, NaN confined to its row, and what prepare rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::contains;
using testing::floats;
using testing::kNaN;
using testing::prepare_error;
using testing::run1;
using testing::run_single_op;
using testing::tensors_close;
using testing::with;

TEST(LayerNormalization, GoldenLastAxis) {
  Tensor x = floats({1, 2, 4, -1, 0, 5}, {2, 3});
  Tensor scale = floats({1, 2, 0.5f}, {3});
  Tensor bias = floats({0, 1, -1}, {3});
  Attributes attrs = with("axis", int64_t{-1});
  attrs.set("epsilon", 1e-3);
  auto result = run_single_op(OpType::kLayerNormalization, {x, scale, bias}, attrs, 3);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  const std::vector<Tensor>& out = *result;
  EXPECT_TRUE(tensors_close(out[0], floats({-1.06870151f, 0.46564924f, -0.33206156f, -0.88893637f,
                                            -0.01592728f, -0.30154999f},
                                           {2, 3})));
  EXPECT_EQ(out[1].shape(), (Shape{2, 1}));
  EXPECT_TRUE(tensors_close(out[1], floats({2.33333333f, 1.33333333f}, {2, 1})));
  EXPECT_TRUE(tensors_close(out[2], floats({0.80152613f, 0.38097273f}, {2, 1})));
}

TEST(LayerNormalization, SeveralAxesWithoutBias) {
  // axis 1 of (1, 2, 2): one row of four values [1, 2, 3, 4].
  Tensor y = run1(OpType::kLayerNormalization,
                  {floats({1, 2, 3, 4}, {1, 2, 2}), floats({1, 1, 1, 1}, {2, 2})},
                  with("axis", int64_t{1}));
  // mean 2.5, var 1.25, epsilon 1e-5
  const float s = 1.0f / std::sqrt(1.25f + 1e-5f);
  EXPECT_TRUE(tensors_close(y, floats({-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s}, {1, 2, 2})));
}

TEST(LayerNormalization, NaNStaysInItsRow) {
  Tensor y = run1(OpType::kLayerNormalization,
                  {floats({1, kNaN, 3, 1, 2, 3}, {2, 3}), floats({1, 1, 1}, {3})});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_FALSE(std::isnan(y.data<float>()[3]));
}

TEST(LayerNormalization, RejectsScaleOfWrongShape) {
  std::string error = prepare_error(OpType::kLayerNormalization,
                                    {floats({1, 2, 3, 4, 5, 6}, {2, 3}), floats({1, 1}, {2})});
  EXPECT_TRUE(contains(error, "broadcasts to the normalised dims")) << error;
}

TEST(LayerNormalization, RejectsAxisOutOfRange) {
  std::string error =
      prepare_error(OpType::kLayerNormalization, {floats({1, 2}, {1, 2}), floats({1, 1}, {2})},
                    with("axis", int64_t{2}));
  EXPECT_TRUE(contains(error, "out of range")) << error;
}

}  // namespace
}  // namespace nnfi
