// Reference kernels Selu, HardSigmoid, Softplus, Gelu, ThresholdedRelu: golden values (numpy
// float64 formulas evaluated offline and hard-coded), NaN/Inf propagation and
// what prepare rejects.
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
using testing::kInf;
using testing::kNaN;
using testing::prepare_error;
using testing::run1;
using testing::tensors_close;
using testing::with;

TEST(ActivationMore, SeluGolden) {
  // 1.0507009873554805 * (x if x > 0 else 1.6732632423543772 * expm1(x))
  Tensor y = run1(OpType::kSelu, {floats({-2, -0.5f, 0, 1, 3}, {5})});
  EXPECT_TRUE(tensors_close(y, floats({-1.5201665f, -0.6917582f, 0, 1.0507010f, 3.1521030f}, {5})));
  Attributes attrs = with("alpha", 2.0);
  attrs.set("gamma", 3.0);
  Tensor z = run1(OpType::kSelu, {floats({-1, 2}, {2})}, attrs);
  EXPECT_TRUE(tensors_close(z, floats({-3.7927234f, 6}, {2})));
}

TEST(ActivationMore, SeluPropagatesNaNAndInf) {
  Tensor y = run1(OpType::kSelu, {floats({kNaN, kInf, -kInf}, {3})});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_EQ(y.data<float>()[1], kInf);
  EXPECT_NEAR(y.data<float>()[2], -1.7580993f, 1e-6);
}

TEST(ActivationMore, SeluRejectsIntInput) {
  std::string error = prepare_error(OpType::kSelu, {Tensor::from_vector<int32_t>({1}, {1})});
  EXPECT_TRUE(contains(error, "expected float32")) << error;
}

TEST(ActivationMore, HardSigmoidGolden) {
  Tensor x = floats({-3, -1, 0, 0.5f, 2, 10}, {2, 3});
  EXPECT_TRUE(tensors_close(run1(OpType::kHardSigmoid, {x}),
                            floats({0, 0.3f, 0.5f, 0.6f, 0.9f, 1}, {2, 3})));
  // Keras 3's hard_sigmoid: relu6(x + 3) / 6.
  Attributes attrs = with("alpha", 1.0 / 6.0);
  attrs.set("beta", 0.5);
  EXPECT_TRUE(tensors_close(run1(OpType::kHardSigmoid, {x}, attrs),
                            floats({0, 0.33333333f, 0.5f, 0.58333333f, 0.83333333f, 1}, {2, 3})));
  Tensor nan = run1(OpType::kHardSigmoid, {floats({kNaN}, {1})});
  EXPECT_TRUE(std::isnan(nan.data<float>()[0]));
}

TEST(ActivationMore, SoftplusGoldenAndLargeInputs) {
  Tensor y = run1(OpType::kSoftplus, {floats({-3, -1, 0, 0.5f, 2, 10}, {6})});
  EXPECT_TRUE(tensors_close(
      y,
      floats({0.04858735f, 0.31326169f, 0.69314718f, 0.97407698f, 2.12692801f, 10.0000454f}, {6})));
  // No overflow to Inf for large x, no flush to 0 too early for very negative x.
  Tensor big = run1(OpType::kSoftplus, {floats({100, 1000, -100, kInf, -kInf, kNaN}, {6})});
  EXPECT_EQ(big.data<float>()[0], 100.0f);
  EXPECT_EQ(big.data<float>()[1], 1000.0f);
  EXPECT_NEAR(big.data<float>()[2], 3.7200760e-44f, 1e-45f);
  EXPECT_EQ(big.data<float>()[3], kInf);
  EXPECT_EQ(big.data<float>()[4], 0.0f);
  EXPECT_TRUE(std::isnan(big.data<float>()[5]));
}

TEST(ActivationMore, GeluExactAndTanh) {
  Tensor x = floats({-3, -1, 0, 0.5f, 2, 10}, {6});
  EXPECT_TRUE(
      tensors_close(run1(OpType::kGelu, {x}),
                    floats({-0.00404969f, -0.15865525f, 0, 0.34573123f, 1.95449974f, 10}, {6})));
  EXPECT_TRUE(
      tensors_close(run1(OpType::kGelu, {x}, with("approximate", std::string("tanh"))),
                    floats({-0.00363739f, -0.15880801f, 0, 0.34571401f, 1.95459769f, 10}, {6})));
  Tensor nan = run1(OpType::kGelu, {floats({kNaN}, {1})});
  EXPECT_TRUE(std::isnan(nan.data<float>()[0]));
}

TEST(ActivationMore, GeluRejectsUnknownApproximation) {
  std::string error =
      prepare_error(OpType::kGelu, {floats({1}, {1})}, with("approximate", std::string("fast")));
  EXPECT_TRUE(contains(error, "approximate")) << error;
}

TEST(ActivationMore, ThresholdedReluIsStrictAndKeepsNaN) {
  Tensor y =
      run1(OpType::kThresholdedRelu, {floats({-1, 0.5f, 0.75f, 2, kNaN}, {5})}, with("alpha", 0.5));
  EXPECT_EQ(y.data<float>()[0], 0.0f);
  EXPECT_EQ(y.data<float>()[1], 0.0f);  // x == alpha gives 0, as Keras's x * (x > t)
  EXPECT_EQ(y.data<float>()[2], 0.75f);
  EXPECT_EQ(y.data<float>()[3], 2.0f);
  EXPECT_TRUE(std::isnan(y.data<float>()[4]));
}

TEST(ActivationMore, SoftplusRejectsInt64Input) {
  std::string error = prepare_error(OpType::kSoftplus, {Tensor::from_vector<int64_t>({1}, {1})});
  EXPECT_TRUE(contains(error, "expected float32")) << error;
}

}  // namespace
}  // namespace nnfi
