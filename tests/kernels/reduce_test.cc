// Reference kernels ReduceSum and ReduceMax: golden values, both axes forms,
// keepdims, empty axes, NaN propagation, integer dtypes, and what prepare
// rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
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
using testing::run_single_op;
using testing::values_of;
using testing::with;

Tensor int64s(std::vector<int64_t> values, Shape shape) {
  return Tensor::from_vector<int64_t>(values, std::move(shape));
}

testing::OpRunOptions constant_axes() {
  testing::OpRunOptions options;
  options.constant_inputs = {false, true};
  return options;
}

// x = [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]], shape (2, 3, 2).
Tensor cube() { return floats({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 3, 2}); }

TEST(Reduce, ReduceSumAxesInputAndAttribute) {
  Tensor y = run1(OpType::kReduceSum, {cube(), int64s({1}, {1})}, {}, constant_axes());
  EXPECT_EQ(y.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{9, 12, 27, 30}));
  Attributes attrs = with("axes", std::vector<int64_t>{0, -1});
  attrs.set("keepdims", int64_t{0});
  y = run1(OpType::kReduceSum, {cube()}, attrs);
  EXPECT_EQ(y.shape(), (Shape{3}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{18, 26, 34}));
}

TEST(Reduce, ReduceSumEmptyAxesReducesAllOrIsANoop) {
  Tensor all = run1(OpType::kReduceSum, {cube()}, with("keepdims", int64_t{0}));
  EXPECT_EQ(all.shape(), Shape{});
  EXPECT_EQ(values_of<float>(all), (std::vector<float>{78}));
  Tensor same = run1(OpType::kReduceSum, {cube(), int64s({}, {0})},
                     with("noop_with_empty_axes", int64_t{1}), constant_axes());
  EXPECT_TRUE(same.bitwise_equal(cube()));
}

TEST(Reduce, ReduceSumOfIntegersAndEmptyRanges) {
  Tensor x = Tensor::from_vector<int32_t>({1, -2, 3, 4}, {2, 2});
  Tensor y = run1(OpType::kReduceSum, {x}, with("axes", std::vector<int64_t>{1}));
  ASSERT_EQ(y.dtype(), DType::kInt32);
  EXPECT_EQ(values_of<int32_t>(y), (std::vector<int32_t>{-1, 7}));
  Tensor empty(DType::kFloat32, {2, 0});
  y = run1(OpType::kReduceSum, {empty}, with("axes", std::vector<int64_t>{1}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{0, 0}));
}

TEST(Reduce, ReduceMaxAxesInputAndAttribute) {
  Tensor y = run1(OpType::kReduceMax, {cube()}, with("axes", std::vector<int64_t>{1}));
  EXPECT_EQ(y.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{5, 6, 11, 12}));
  Tensor x = floats({-3, -1, -2, -7}, {2, 2});
  y = run1(OpType::kReduceMax, {x, int64s({-1}, {1})}, with("keepdims", int64_t{0}),
           constant_axes());
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{-1, -2}));
  Tensor ints = int64s({5, 9, -4, 2}, {4});
  y = run1(OpType::kReduceMax, {ints}, with("keepdims", int64_t{0}));
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{9}));
}

// A fault that makes one element NaN makes its maximum NaN, wherever it is.
TEST(Reduce, ReduceMaxPropagatesNaNAndInf) {
  Tensor x = floats({kNaN, 1, 2, kNaN, 3, kInf, -kInf, 0}, {4, 2});
  Tensor y = run1(OpType::kReduceMax, {x}, with("axes", std::vector<int64_t>{1}));
  std::vector<float> got = values_of<float>(y);
  EXPECT_TRUE(std::isnan(got[0]));
  EXPECT_TRUE(std::isnan(got[1]));
  EXPECT_EQ(got[2], kInf);
  EXPECT_EQ(got[3], 0.0f);
  Tensor sum = run1(OpType::kReduceSum, {x}, with("axes", std::vector<int64_t>{1}));
  EXPECT_TRUE(std::isnan(values_of<float>(sum)[0]));
  EXPECT_EQ(values_of<float>(sum)[2], kInf);
}

TEST(Reduce, ReduceSumRejectsRepeatedAndOutOfRangeAxes) {
  EXPECT_TRUE(contains(prepare_error(OpType::kReduceSum, {cube(), int64s({1, -2}, {2})}),
                       "repeat an axis"));
  EXPECT_TRUE(
      contains(prepare_error(OpType::kReduceSum, {cube()}, with("axes", std::vector<int64_t>{3})),
               "out of range"));
}

TEST(Reduce, ReduceMaxRejectsEmptyAxisAndBoolInput) {
  EXPECT_TRUE(contains(prepare_error(OpType::kReduceMax, {Tensor(DType::kFloat32, {2, 0})},
                                     with("axes", std::vector<int64_t>{1})),
                       "no maximum"));
  EXPECT_TRUE(contains(prepare_error(OpType::kReduceMax, {Tensor::from_vector<bool>({true}, {1})}),
                       "expected float32, int32 or int64"));
}

TEST(Reduce, ReduceSumRejectsAxesComputedAtRunTime) {
  auto result = run_single_op(OpType::kReduceSum, {cube(), int64s({0}, {1})});
  ASSERT_FALSE(result.has_value());
  EXPECT_TRUE(contains(result.status().message(), "computed at run time"))
      << result.status().message();
}

}  // namespace
}  // namespace nnfi
