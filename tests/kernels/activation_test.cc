// Reference kernels Abs, Neg, Sqrt, Rsqrt, Relu, Clip, LeakyRelu, PRelu, Elu, Sigmoid, Tanh,
// Softmax: golden values, NaN/Inf propagation and what prepare rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <utility>
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
using testing::prepare_single_op;
using testing::run1;
using testing::run_single_op;
using testing::tensors_close;
using testing::values_of;
using testing::with;

// ---- simple unary ops --------------------------------------------------------------

TEST(Activation, UnaryGolden) {
  Tensor x = floats({-4, -0.5f, 0, 1, 4}, {5});
  EXPECT_EQ(values_of<float>(run1(OpType::kAbs, {x})), (std::vector<float>{4, 0.5f, 0, 1, 4}));
  EXPECT_EQ(values_of<float>(run1(OpType::kNeg, {x})),
            (std::vector<float>{4, 0.5f, -0.0f, -1, -4}));
  EXPECT_EQ(values_of<float>(run1(OpType::kRelu, {x})), (std::vector<float>{0, 0, 0, 1, 4}));
  Tensor pos = floats({0.25f, 1, 4, 16}, {2, 2});
  EXPECT_EQ(values_of<float>(run1(OpType::kSqrt, {pos})), (std::vector<float>{0.5f, 1, 2, 4}));
  EXPECT_EQ(values_of<float>(run1(OpType::kRsqrt, {pos})), (std::vector<float>{2, 1, 0.5f, 0.25f}));
  Tensor s = run1(OpType::kSigmoid, {floats({0, 2, -2, -200, 200}, {5})});
  EXPECT_TRUE(tensors_close(s, floats({0.5f, 0.880797078f, 0.119202922f, 0, 1}, {5})));
  Tensor t = run1(OpType::kTanh, {floats({0, 1, -1, 50}, {4})});
  EXPECT_TRUE(tensors_close(t, floats({0, 0.761594156f, -0.761594156f, 1}, {4})));
}

TEST(Activation, UnaryIntegers) {
  Tensor x = Tensor::from_vector<int32_t>({-3, 0, 5, std::numeric_limits<int32_t>::min()}, {4});
  EXPECT_EQ(values_of<int32_t>(run1(OpType::kAbs, {x})),
            (std::vector<int32_t>{3, 0, 5, std::numeric_limits<int32_t>::min()}));
  EXPECT_EQ(values_of<int32_t>(run1(OpType::kNeg, {x})),
            (std::vector<int32_t>{3, 0, -5, std::numeric_limits<int32_t>::min()}));
  Tensor y = Tensor::from_vector<int64_t>({-3, 7}, {2});
  EXPECT_EQ(values_of<int64_t>(run1(OpType::kRelu, {y})), (std::vector<int64_t>{0, 7}));
}

TEST(Activation, UnaryPropagatesNaNAndInf) {
  Tensor x = floats({kNaN, kInf, -kInf, -1}, {4});
  Tensor relu = run1(OpType::kRelu, {x});
  EXPECT_TRUE(std::isnan(relu.data<float>()[0]));
  EXPECT_EQ(relu.data<float>()[1], kInf);
  EXPECT_EQ(relu.data<float>()[2], 0.0f);
  for (OpType op : {OpType::kAbs, OpType::kNeg, OpType::kSqrt, OpType::kRsqrt, OpType::kSigmoid,
                    OpType::kTanh, OpType::kLeakyRelu, OpType::kElu}) {
    EXPECT_TRUE(std::isnan(run1(op, {x}).data<float>()[0])) << op_type_name(op);
  }
  EXPECT_TRUE(std::isnan(run1(OpType::kSqrt, {x}).data<float>()[3]));
  EXPECT_EQ(run1(OpType::kRsqrt, {floats({0, kInf}, {2})}).data<float>()[0], kInf);
  EXPECT_EQ(run1(OpType::kAbs, {x}).data<float>()[2], kInf);
  EXPECT_EQ(run1(OpType::kSigmoid, {x}).data<float>()[1], 1.0f);
  EXPECT_EQ(run1(OpType::kSigmoid, {x}).data<float>()[2], 0.0f);
  EXPECT_EQ(run1(OpType::kTanh, {x}).data<float>()[2], -1.0f);
}

TEST(Activation, AbsClearsTheSignOfNegativeZero) {
  Tensor y = run1(OpType::kAbs, {floats({-0.0f}, {1})});
  EXPECT_FALSE(std::signbit(y.data<float>()[0]));
}

TEST(Activation, SqrtRejectsIntegers) {
  std::string error = prepare_error(OpType::kSqrt, {Tensor::from_vector<int32_t>({4}, {1})});
  EXPECT_TRUE(contains(error, "input 0 has dtype int32, expected float32")) << error;
}

TEST(Activation, ReluRejectsBool) {
  std::string error = prepare_error(OpType::kRelu, {Tensor::from_vector<bool>({true}, {1})});
  EXPECT_TRUE(contains(error, "dtype bool")) << error;
}

TEST(Activation, TanhRejectsTwoInputs) {
  std::string error = prepare_error(OpType::kTanh, {floats({1}, {1}), floats({1}, {1})});
  EXPECT_TRUE(contains(error, "expected 1 inputs, got 2")) << error;
}

// ---- LeakyRelu, Elu --------------------------------------------------------------

TEST(Activation, LeakyReluGoldenWithDefaultAndGivenAlpha) {
  Tensor x = floats({-2, 0, 3}, {3});
  EXPECT_TRUE(tensors_close(run1(OpType::kLeakyRelu, {x}), floats({-0.02f, 0, 3}, {3})));
  EXPECT_TRUE(
      tensors_close(run1(OpType::kLeakyRelu, {x}, with("alpha", 0.5)), floats({-1, 0, 3}, {3})));
}

TEST(Activation, EluGolden) {
  Tensor x = floats({-1, 0, 2, -kInf}, {4});
  EXPECT_TRUE(tensors_close(run1(OpType::kElu, {x}), floats({-0.632120559f, 0, 2, -1}, {4})));
  EXPECT_TRUE(tensors_close(run1(OpType::kElu, {x}, with("alpha", 2.0)),
                            floats({-1.264241118f, 0, 2, -2}, {4})));
}

// ---- Clip --------------------------------------------------------------------------

TEST(Activation, ClipWithBoundInputs) {
  Tensor x = floats({-5, -1, 0, 2, 9}, {5});
  Tensor lo = Tensor::scalar<float>(-1.5f);
  Tensor hi = Tensor::scalar<float>(3.0f);
  EXPECT_EQ(values_of<float>(run1(OpType::kClip, {x, lo, hi})),
            (std::vector<float>{-1.5f, -1, 0, 2, 3}));
  // Omitted min: only the upper bound applies.
  EXPECT_EQ(values_of<float>(run1(OpType::kClip, {x, Tensor(), hi})),
            (std::vector<float>{-5, -1, 0, 2, 3}));
  EXPECT_EQ(values_of<float>(run1(OpType::kClip, {x, lo})),
            (std::vector<float>{-1.5f, -1, 0, 2, 9}));
  EXPECT_TRUE(run1(OpType::kClip, {x}).bitwise_equal(x));
}

TEST(Activation, ClipWithBoundAttributes) {
  Tensor x = floats({-5, 0, 9}, {3});
  Attributes attrs;
  attrs.set("min", 0.0);
  attrs.set("max", 6.0);
  EXPECT_EQ(values_of<float>(run1(OpType::kClip, {x}, attrs)), (std::vector<float>{0, 0, 6}));
  EXPECT_EQ(values_of<float>(run1(OpType::kClip, {x}, with("max", 1.0))),
            (std::vector<float>{-5, 0, 1}));
}

TEST(Activation, ClipIntegers) {
  Tensor x = Tensor::from_vector<int64_t>({-5, 0, 9}, {3});
  Tensor lo = Tensor::scalar<int64_t>(-1);
  Tensor hi = Tensor::from_vector<int64_t>({4}, {1});  // a [1] bound is accepted too
  EXPECT_EQ(values_of<int64_t>(run1(OpType::kClip, {x, lo, hi})), (std::vector<int64_t>{-1, 0, 4}));
}

TEST(Activation, ClipPropagatesNaN) {
  Tensor x = floats({kNaN, kInf, -kInf, 1}, {4});
  Tensor y = run1(OpType::kClip, {x, Tensor::scalar<float>(0), Tensor::scalar<float>(6)});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_EQ(y.data<float>()[1], 6.0f);
  EXPECT_EQ(y.data<float>()[2], 0.0f);
  // A NaN bound gives NaN everywhere, as numpy.clip.
  Tensor z = run1(OpType::kClip, {x, Tensor::scalar<float>(kNaN)});
  EXPECT_TRUE(std::isnan(z.data<float>()[3]));
}

// Every bit as numpy.clip's min(max(x, lo), hi) with NaN propagation, for
// NaN payloads, signed zeros, infinities, subnormals and lo > hi.
TEST(Activation, ClipKeepsEveryBitOfTheNumpyFormula) {
  const float specials[] = {kNaN,    -kNaN, kInf,  -kInf, 0.0f,  -0.0f, 1e-40f,
                            -1e-40f, 6.0f,  -1.5f, 3.0f,  1e30f, -1e30f};
  std::vector<float> values(specials, specials + std::size(specials));
  uint32_t payload = 0x7fc01234u;  // a NaN with a payload
  float nan_payload = 0;
  std::memcpy(&nan_payload, &payload, sizeof payload);
  values.push_back(nan_payload);
  std::mt19937 engine(77);
  std::uniform_real_distribution<float> uniform(-10.0f, 10.0f);
  for (int i = 0; i < 1000; ++i) values.push_back(uniform(engine));
  const Tensor x = floats(values, {static_cast<int64_t>(values.size())});
  auto numpy_clip = [](float v, float lo, float hi) {
    float m = std::isnan(v) ? v : (std::isnan(lo) ? lo : (lo > v ? lo : v));
    return std::isnan(m) ? m : (std::isnan(hi) ? hi : (hi < m ? hi : m));
  };
  const std::pair<float, float> bounds[] = {{0.0f, 6.0f},  {-0.0f, 6.0f}, {-1.5f, 3.0f},
                                            {3.0f, -1.5f}, {-kInf, kInf}, {0.0f, 0.0f}};
  for (const auto& [lo, hi] : bounds) {
    const Tensor y = run1(OpType::kClip, {x, Tensor::scalar<float>(lo), Tensor::scalar<float>(hi)});
    for (size_t i = 0; i < values.size(); ++i) {
      const float expected = numpy_clip(values[i], lo, hi);
      uint32_t a = 0, b = 0;
      std::memcpy(&a, &y.data<float>()[i], sizeof a);
      std::memcpy(&b, &expected, sizeof b);
      EXPECT_EQ(a, b) << "x " << values[i] << " lo " << lo << " hi " << hi;
    }
  }
}

TEST(Activation, ClipRejectsNonScalarBound) {
  std::string error = prepare_error(OpType::kClip, {floats({1, 2}, {2}), floats({0, 1}, {2})});
  EXPECT_TRUE(contains(error, "min has shape [2], expected a scalar")) << error;
}

TEST(Activation, ClipRejectsBoundOfOtherDtype) {
  std::string error =
      prepare_error(OpType::kClip, {floats({1, 2}, {2}), Tensor(), Tensor::scalar<int64_t>(3)});
  EXPECT_TRUE(contains(error, "max has dtype int64, expected float32")) << error;
}

TEST(Activation, ClipRejectsFourInputs) {
  Tensor s = Tensor::scalar<float>(0);
  std::string error = prepare_error(OpType::kClip, {s, s, s, s});
  EXPECT_TRUE(contains(error, "expected 1 to 3 inputs, got 4")) << error;
}

// ---- PRelu ------------------------------------------------------------------------

TEST(Activation, PReluPerChannelSlopeOnNCHW) {
  Tensor x = floats({-1, 2, -3, 4, -1, 2, -3, 4}, {1, 2, 2, 2});
  Tensor slope = floats({0.5f, 2}, {2, 1, 1});
  EXPECT_EQ(values_of<float>(run1(OpType::kPRelu, {x, slope})),
            (std::vector<float>{-0.5f, 2, -1.5f, 4, -2, 2, -6, 4}));
}

TEST(Activation, PReluSlopeAlongLastAxisAndScalar) {
  Tensor x = floats({-1, -1, -1, 1, 1, 1}, {2, 3});
  EXPECT_EQ(values_of<float>(run1(OpType::kPRelu, {x, floats({1, 2, 3}, {3})})),
            (std::vector<float>{-1, -2, -3, 1, 1, 1}));
  EXPECT_EQ(values_of<float>(run1(OpType::kPRelu, {x, floats({0.25f}, {1})})),
            (std::vector<float>{-0.25f, -0.25f, -0.25f, 1, 1, 1}));
}

TEST(Activation, PReluPropagatesNaNFromXAndSlope) {
  Tensor x = floats({kNaN, -1, 2}, {3});
  Tensor slope = floats({1, kNaN, kNaN}, {3});
  Tensor y = run1(OpType::kPRelu, {x, slope});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_TRUE(std::isnan(y.data<float>()[1]));
  EXPECT_EQ(y.data<float>()[2], 2.0f);  // positive x ignores the slope
}

TEST(Activation, PReluRejectsSlopeThatDoesNotBroadcastToX) {
  std::string error = prepare_error(
      OpType::kPRelu, {floats({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4}), floats({1, 2, 3}, {3})});
  EXPECT_TRUE(contains(error, "slope of shape [3] does not broadcast to X of shape [2, 4]"))
      << error;
  // Unidirectional: a slope that would grow X is rejected too.
  error = prepare_error(OpType::kPRelu, {floats({1, 2}, {2}), floats({1, 2, 3, 4}, {2, 2})});
  EXPECT_TRUE(contains(error, "does not broadcast")) << error;
}

// ---- Softmax ----------------------------------------------------------------------

TEST(Activation, SoftmaxGoldenLastAxis) {
  Tensor x = floats({1, 2, 3, 0, 0, 0}, {2, 3});
  Tensor y = run1(OpType::kSoftmax, {x});
  EXPECT_TRUE(tensors_close(
      y, floats({0.0900305732f, 0.244728471f, 0.665240955f, 1 / 3.f, 1 / 3.f, 1 / 3.f}, {2, 3})));
}

TEST(Activation, SoftmaxLargeValuesDoNotOverflow) {
  Tensor y = run1(OpType::kSoftmax, {floats({1000, 1001, 1002}, {3})});
  EXPECT_TRUE(tensors_close(y, floats({0.0900305732f, 0.244728471f, 0.665240955f}, {3})));
}

TEST(Activation, SoftmaxAlongMiddleAxis) {
  // [1, 2, 2]: axis 1 normalises pairs (x[0][0][k], x[0][1][k]).
  Tensor x = floats({0, 1, 0, 3}, {1, 2, 2});
  Tensor y = run1(OpType::kSoftmax, {x}, with("axis", int64_t{1}));
  EXPECT_TRUE(tensors_close(y, floats({0.5f, 0.119202922f, 0.5f, 0.880797078f}, {1, 2, 2})));
}

TEST(Activation, SoftmaxLegacyFlattenNormalisesAllDimsFromAxis) {
  Tensor x = testing::random_tensor({2, 3, 4}, 7, -3, 3);
  Attributes attrs;
  attrs.set("axis", int64_t{1});
  attrs.set("legacy_flatten", int64_t{1});
  Tensor legacy = run1(OpType::kSoftmax, {x}, attrs);
  Tensor flat = run1(OpType::kSoftmax, {*x.reshaped({2, 12})});
  EXPECT_TRUE(legacy.bitwise_equal(*flat.reshaped({2, 3, 4})));
  double sum = 0;
  for (int64_t i = 0; i < 12; ++i) sum += legacy.data<float>()[i];
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST(Activation, SoftmaxRowWithNaNOrPlusInfIsNaN) {
  Tensor x = floats({1, kNaN, 2, 1, kInf, 2, 1, -kInf, 1}, {3, 3});
  Tensor y = run1(OpType::kSoftmax, {x});
  for (int64_t i = 0; i < 6; ++i) EXPECT_TRUE(std::isnan(y.data<float>()[i])) << i;
  // -Inf is just a zero weight; the other rows are untouched.
  EXPECT_EQ(y.data<float>()[7], 0.0f);
  EXPECT_EQ(y.data<float>()[6], 0.5f);
}

TEST(Activation, SoftmaxOfARowDoesNotDependOnTheBatch) {
  Tensor batch = testing::random_tensor({16, 10}, 8, -5, 5);
  Tensor all = run1(OpType::kSoftmax, {batch});
  for (int64_t r = 0; r < 16; ++r) {
    Tensor row(DType::kFloat32, {1, 10});
    for (int64_t j = 0; j < 10; ++j) row.data<float>()[j] = batch.data<float>()[r * 10 + j];
    Tensor one = run1(OpType::kSoftmax, {row});
    for (int64_t j = 0; j < 10; ++j) ASSERT_EQ(one.data<float>()[j], all.data<float>()[r * 10 + j]);
  }
}

TEST(Activation, SoftmaxRejectsBadAxis) {
  std::string error =
      prepare_error(OpType::kSoftmax, {floats({1, 2}, {1, 2})}, with("axis", int64_t{2}));
  EXPECT_TRUE(contains(error, "axis 2 is out of range for X of rank 2")) << error;
  error = prepare_error(OpType::kSoftmax, {floats({1, 2}, {1, 2})}, with("axis", int64_t{-3}));
  EXPECT_TRUE(contains(error, "axis -3 is out of range")) << error;
}

TEST(Activation, SoftmaxRejectsScalarInput) {
  std::string error = prepare_error(OpType::kSoftmax, {Tensor::scalar<float>(1)});
  EXPECT_TRUE(contains(error, "out of range for X of rank 0")) << error;
}

TEST(Activation, SoftmaxRejectsIntegerInput) {
  std::string error = prepare_error(OpType::kSoftmax, {Tensor::from_vector<int64_t>({1, 2}, {2})});
  EXPECT_TRUE(contains(error, "dtype int64, expected float32")) << error;
}

}  // namespace
}  // namespace nnfi
