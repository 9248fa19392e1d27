// Reference kernel Slice: golden arrays (numpy slicing written out by hand),
// ONNX's clamping of out-of-range starts/ends, negative steps, the opset 1
// attribute form, and what prepare rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::contains;
using testing::floats;
using testing::kNaN;
using testing::OpRunOptions;
using testing::prepare_error;
using testing::run1;
using testing::values_of;
using testing::with;

Tensor ints(std::vector<int64_t> values) {
  const auto n = static_cast<int64_t>(values.size());
  return Tensor::from_vector<int64_t>(values, {n});
}

// x = arange(24).reshape(2, 3, 4) as float.
Tensor arange24() {
  std::vector<float> values(24);
  for (int i = 0; i < 24; ++i) values[i] = static_cast<float>(i);
  return floats(values, {2, 3, 4});
}

OpRunOptions constants_after_data() {
  OpRunOptions options;
  options.constant_inputs = {false, true, true, true, true};
  return options;
}

TEST(Slice, Golden) {
  // x[:, 1:3, ::2]
  Tensor y =
      run1(OpType::kSlice, {arange24(), ints({1, 0}), ints({3, 4}), ints({1, 2}), ints({1, 2})}, {},
           constants_after_data());
  ASSERT_TRUE(y.defined());
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{4, 6, 8, 10, 16, 18, 20, 22}));
}

TEST(Slice, DefaultAxesAndSteps) {
  // x[1:2, 0:2]
  Tensor y =
      run1(OpType::kSlice, {arange24(), ints({1, 0}), ints({2, 2})}, {}, constants_after_data());
  ASSERT_TRUE(y.defined());
  EXPECT_EQ(y.shape(), (Shape{1, 2, 4}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{12, 13, 14, 15, 16, 17, 18, 19}));
}

TEST(Slice, NegativeStepsAndClamping) {
  // x[:, :, ::-1] with end = INT64_MIN (numpy's "to the front").
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  Tensor y = run1(OpType::kSlice, {arange24(), ints({-1}), ints({kMin}), ints({-1}), ints({-1})},
                  {}, constants_after_data());
  ASSERT_TRUE(y.defined());
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(values_of<float>(y)[0], 3.0f);
  EXPECT_EQ(values_of<float>(y)[3], 0.0f);
  // x[0:1000, -100:2] along axis 0 and 1: ends past the dim clamp.
  Tensor z = run1(OpType::kSlice, {arange24(), ints({0, -100}), ints({1000, 2}), ints({0, 1})}, {},
                  constants_after_data());
  ASSERT_TRUE(z.defined());
  EXPECT_EQ(z.shape(), (Shape{2, 2, 4}));
  // An empty range: x[:, 2:1].
  Tensor e = run1(OpType::kSlice, {arange24(), ints({2}), ints({1}), ints({1})}, {},
                  constants_after_data());
  ASSERT_TRUE(e.defined());
  EXPECT_EQ(e.shape(), (Shape{2, 0, 4}));
}

TEST(Slice, AttributeFormAndBitsPassThrough) {
  Attributes attrs;
  attrs.set("starts", std::vector<int64_t>{1});
  attrs.set("ends", std::vector<int64_t>{3});
  attrs.set("axes", std::vector<int64_t>{0});
  Tensor y = run1(OpType::kSlice, {floats({1, kNaN, -0.0f, 4}, {4})}, attrs);
  ASSERT_TRUE(y.defined());
  ASSERT_EQ(y.num_elements(), 2);
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_TRUE(std::signbit(y.data<float>()[1]));
  // int64 data moves too.
  Tensor i = run1(OpType::kSlice, {ints({5, 6, 7, 8})}, attrs);
  EXPECT_EQ(values_of<int64_t>(i), (std::vector<int64_t>{6, 7}));
}

TEST(Slice, RejectsZeroStep) {
  std::string error =
      prepare_error(OpType::kSlice, {arange24(), ints({0}), ints({2}), ints({0}), ints({0})});
  EXPECT_TRUE(contains(error, "steps[0] is 0")) << error;
}

TEST(Slice, RejectsMismatchedCounts) {
  std::string error = prepare_error(OpType::kSlice, {arange24(), ints({0, 1}), ints({2})});
  EXPECT_TRUE(contains(error, "expected the same count")) << error;
}

TEST(Slice, RejectsBadAxis) {
  std::string error = prepare_error(OpType::kSlice, {arange24(), ints({0}), ints({2}), ints({3})});
  EXPECT_TRUE(contains(error, "out of range")) << error;
}

TEST(Slice, RejectsRunTimeStarts) {
  auto result = testing::run_single_op(OpType::kSlice, {arange24(), ints({0}), ints({2})});
  ASSERT_FALSE(result.has_value());
  EXPECT_TRUE(contains(result.status().message(), "constant known at plan time"))
      << result.status().message();
}

TEST(Slice, RejectsMissingEnds) {
  std::string error = prepare_error(OpType::kSlice, {arange24(), ints({0})});
  EXPECT_TRUE(contains(error, "starts and ends are required")) << error;
}

}  // namespace
}  // namespace nnfi
