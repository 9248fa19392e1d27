// Reference kernels Gather, Cast, ArgMax, ReduceMean: golden values, NaN/Inf
// handling and what prepare rejects.
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
using testing::eval_single_op;
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

Tensor int64s(std::vector<int64_t> values, Shape shape) {
  return Tensor::from_vector<int64_t>(values, std::move(shape));
}

// ---- Gather ------------------------------------------------------------------------

TEST(DataOps, GatherAxis0WithNegativeIndices) {
  Tensor data = floats({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor indices = int64s({2, -3, -1}, {3});
  Tensor y = run1(OpType::kGather, {data, indices});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{5, 6, 1, 2, 5, 6}));
}

TEST(DataOps, GatherAxis1WithMatrixOfInt32Indices) {
  Tensor data = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor indices = Tensor::from_vector<int32_t>({0, 2, 1, 1}, {2, 2});
  Tensor y = run1(OpType::kGather, {data, indices}, with("axis", int64_t{-1}));
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{1, 3, 2, 2, 4, 6, 5, 5}));
}

TEST(DataOps, GatherScalarIndexDropsTheAxisAndFoldsShapeArithmetic) {
  // Shape -> Gather(0-d index) is how models read the batch size: it folds.
  Tensor shape = int64s({8, 3, 32, 32}, {4});
  Tensor index = Tensor::scalar<int64_t>(1);
  Tensor y = run1(OpType::kGather, {shape, index}, {}, {.all_constant = true});
  EXPECT_EQ(y.shape(), Shape{});
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{3}));
}

TEST(DataOps, GatherCopiesNaNBitsUntouched) {
  Tensor data = floats({kNaN, kInf}, {2});
  Tensor y = run1(OpType::kGather, {data, int64s({1, 0}, {2})});
  EXPECT_EQ(y.data<float>()[0], kInf);
  EXPECT_TRUE(std::isnan(y.data<float>()[1]));
}

TEST(DataOps, GatherRejectsConstantIndexOutOfRange) {
  std::string error = prepare_error(OpType::kGather, {floats({1, 2, 3}, {3}), int64s({0, 3}, {2})});
  EXPECT_TRUE(contains(error, "indices[1] = 3 is out of range for an axis of size 3")) << error;
}

TEST(DataOps, GatherRejectsRuntimeIndexOutOfRangeWithoutReadingPastTheEnd) {
  // Indices fed at run time (not constant): eval reports the bad index.
  auto result = run_single_op(OpType::kGather, {floats({1, 2, 3}, {3}), int64s({-4}, {1})});
  ASSERT_FALSE(result.has_value());
  EXPECT_TRUE(contains(result.status().message(), "indices[0] = -4 is out of range"))
      << result.status().message();
}

TEST(DataOps, GatherRejectsFloatIndices) {
  std::string error = prepare_error(OpType::kGather, {floats({1, 2}, {2}), floats({0}, {1})});
  EXPECT_TRUE(contains(error, "indices have dtype float32, expected int32 or int64")) << error;
}

TEST(DataOps, GatherRejectsBadAxis) {
  std::string error = prepare_error(OpType::kGather, {floats({1, 2}, {2}), int64s({0}, {1})},
                                    with("axis", int64_t{1}));
  EXPECT_TRUE(contains(error, "axis 1 is out of range")) << error;
}

// ---- Cast --------------------------------------------------------------------------

TEST(DataOps, CastFloatToIntegersTruncatesTowardZero) {
  Tensor x = floats({2.7f, -2.7f, 0.5f, -0.5f, 100}, {5});
  EXPECT_EQ(values_of<int64_t>(run1(OpType::kCast, {x}, with("to", std::string("int64")))),
            (std::vector<int64_t>{2, -2, 0, 0, 100}));
  EXPECT_EQ(values_of<int32_t>(run1(OpType::kCast, {x}, with("to", std::string("int32")))),
            (std::vector<int32_t>{2, -2, 0, 0, 100}));
  EXPECT_EQ(values_of<int8_t>(run1(OpType::kCast, {x}, with("to", std::string("int8")))),
            (std::vector<int8_t>{2, -2, 0, 0, 100}));
  // Wraps like numpy: -1.0 -> uint8 255, 300.0 -> 44.
  Tensor w = floats({-1, 300}, {2});
  EXPECT_EQ(values_of<uint8_t>(run1(OpType::kCast, {w}, with("to", std::string("uint8")))),
            (std::vector<uint8_t>{255, 44}));
}

TEST(DataOps, CastNonFiniteFloatToIntegerIsDefined) {
  Tensor x = floats({kNaN, kInf, -kInf, 1e30f}, {4});
  EXPECT_EQ(values_of<int64_t>(run1(OpType::kCast, {x}, with("to", std::string("int64")))),
            (std::vector<int64_t>{0, INT64_MAX, INT64_MIN, INT64_MAX}));
}

TEST(DataOps, CastToAndFromBool) {
  Tensor x = floats({0, -0.0f, 2, kNaN}, {4});
  EXPECT_EQ(values_of<bool>(run1(OpType::kCast, {x}, with("to", std::string("bool")))),
            (std::vector<bool>{false, false, true, true}));
  Tensor b = Tensor::from_vector<bool>({true, false, true}, {3});
  static_cast<uint8_t*>(b.raw_data())[2] = 0x40;  // a flipped bit: still true
  EXPECT_EQ(values_of<float>(run1(OpType::kCast, {b}, with("to", std::string("float32")))),
            (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(values_of<int64_t>(run1(OpType::kCast, {b}, with("to", std::string("int64")))),
            (std::vector<int64_t>{1, 0, 1}));
}

TEST(DataOps, CastIntegersToFloatAndBetweenWidths) {
  Tensor x = int64s({-3, 1 << 20, (int64_t{1} << 32) + 5}, {3});
  EXPECT_EQ(values_of<float>(run1(OpType::kCast, {x}, with("to", std::string("float32")))),
            (std::vector<float>{-3, 1 << 20, 4294967301.0f}));
  EXPECT_EQ(values_of<int32_t>(run1(OpType::kCast, {x}, with("to", std::string("int32")))),
            (std::vector<int32_t>{-3, 1 << 20, 5}));
  Tensor f = floats({kNaN, -kInf}, {2});
  Tensor same = run1(OpType::kCast, {f}, with("to", std::string("float32")));
  EXPECT_TRUE(same.bitwise_equal(f));
}

TEST(DataOps, CastRejectsUnknownTarget) {
  std::string error =
      prepare_error(OpType::kCast, {floats({1}, {1})}, with("to", std::string("float64")));
  EXPECT_TRUE(contains(error, "attribute 'to' is 'float64'")) << error;
  error = prepare_error(OpType::kCast, {floats({1}, {1})});
  EXPECT_TRUE(contains(error, "attribute 'to' is ''")) << error;
}

TEST(DataOps, CastRejectsUnsupportedInputDtype) {
  Tensor half(DType::kFloat16, {2});
  std::string error = prepare_error(OpType::kCast, {half}, with("to", std::string("float32")));
  EXPECT_TRUE(contains(error, "input has dtype float16")) << error;
}

// ---- ArgMax ------------------------------------------------------------------------

TEST(DataOps, ArgMaxGoldenAxesAndKeepdims) {
  Tensor x = floats({1, 9, 3, 7, 2, 8}, {2, 3});
  Tensor rows = run1(OpType::kArgMax, {x}, with("axis", int64_t{1}));
  EXPECT_EQ(rows.dtype(), DType::kInt64);
  EXPECT_EQ(rows.shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of<int64_t>(rows), (std::vector<int64_t>{1, 2}));
  Attributes attrs;
  attrs.set("axis", int64_t{0});
  attrs.set("keepdims", int64_t{0});
  Tensor cols = run1(OpType::kArgMax, {x}, attrs);
  EXPECT_EQ(cols.shape(), (Shape{3}));
  EXPECT_EQ(values_of<int64_t>(cols), (std::vector<int64_t>{1, 0, 1}));
}

TEST(DataOps, ArgMaxTiesFirstOrLast) {
  Tensor x = Tensor::from_vector<int32_t>({5, 1, 5, 5}, {4});
  EXPECT_EQ(values_of<int64_t>(run1(OpType::kArgMax, {x})), (std::vector<int64_t>{0}));
  EXPECT_EQ(values_of<int64_t>(run1(OpType::kArgMax, {x}, with("select_last_index", int64_t{1}))),
            (std::vector<int64_t>{3}));
}

TEST(DataOps, ArgMaxRanksNaNHighestAndInfAboveNumbers) {
  Tensor x = floats({1, kNaN, kInf, kNaN, 3, kInf}, {2, 3});
  Tensor y = run1(OpType::kArgMax, {x}, with("axis", int64_t{1}));
  EXPECT_EQ(values_of<int64_t>(y), (std::vector<int64_t>{1, 0}));
  Attributes last;
  last.set("axis", int64_t{-1});
  last.set("select_last_index", int64_t{1});
  Tensor z = run1(OpType::kArgMax, {floats({kNaN, 1, kNaN, kInf}, {4})}, last);
  EXPECT_EQ(values_of<int64_t>(z), (std::vector<int64_t>{2}));
}

TEST(DataOps, ArgMaxRejectsBadAxis) {
  std::string error =
      prepare_error(OpType::kArgMax, {floats({1, 2}, {2})}, with("axis", int64_t{-2}));
  EXPECT_TRUE(contains(error, "axis -2 is out of range")) << error;
}

TEST(DataOps, ArgMaxRejectsEmptyAxis) {
  std::string error =
      prepare_error(OpType::kArgMax, {Tensor(DType::kFloat32, {2, 0})}, with("axis", int64_t{1}));
  EXPECT_TRUE(contains(error, "is empty")) << error;
}

TEST(DataOps, ArgMaxRejectsBool) {
  std::string error = prepare_error(OpType::kArgMax, {Tensor::from_vector<bool>({true}, {1})});
  EXPECT_TRUE(contains(error, "dtype bool")) << error;
}

// ---- ReduceMean --------------------------------------------------------------------

TEST(DataOps, ReduceMeanAxesAttribute) {
  Tensor x = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor rows = run1(OpType::kReduceMean, {x}, with("axes", std::vector<int64_t>{1}));
  EXPECT_EQ(rows.shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of<float>(rows), (std::vector<float>{2, 5}));
  Attributes attrs;
  attrs.set("axes", std::vector<int64_t>{-2});
  attrs.set("keepdims", int64_t{0});
  Tensor cols = run1(OpType::kReduceMean, {x}, attrs);
  EXPECT_EQ(cols.shape(), (Shape{3}));
  EXPECT_EQ(values_of<float>(cols), (std::vector<float>{2.5f, 3.5f, 4.5f}));
}

TEST(DataOps, ReduceMeanAxesInputMustBeConstant) {
  Tensor x = floats({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  testing::OpRunOptions constant_axes{.constant_inputs = {false, true}};
  Tensor y = run1(OpType::kReduceMean, {x, int64s({0, 2}, {2})}, {}, constant_axes);
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{3.5f, 5.5f}));
  auto fed = run_single_op(OpType::kReduceMean, {x, int64s({0}, {1})});
  ASSERT_FALSE(fed.has_value());
  EXPECT_TRUE(contains(fed.status().message(), "axes must be constant at plan time"))
      << fed.status().message();
}

TEST(DataOps, ReduceMeanEmptyAxesReducesAllOrIsANoop) {
  Tensor x = floats({1, 2, 3, 6}, {2, 2});
  Tensor all = run1(OpType::kReduceMean, {x});
  EXPECT_EQ(all.shape(), (Shape{1, 1}));
  EXPECT_EQ(values_of<float>(all), (std::vector<float>{3}));
  Tensor noop = run1(OpType::kReduceMean, {x}, with("noop_with_empty_axes", int64_t{1}));
  EXPECT_TRUE(noop.bitwise_equal(x));
  testing::OpRunOptions constant_axes{.constant_inputs = {false, true}};
  Tensor empty_input =
      run1(OpType::kReduceMean, {x, int64s({}, {0})}, with("keepdims", int64_t{0}), constant_axes);
  EXPECT_EQ(empty_input.shape(), Shape{});
  EXPECT_EQ(values_of<float>(empty_input), (std::vector<float>{3}));
}

TEST(DataOps, ReduceMeanSpatialAxesOfNCHWAndChannelsOfNHWC) {
  Tensor x = testing::random_tensor({2, 3, 4, 5}, 21);
  Tensor y = run1(OpType::kReduceMean, {x}, with("axes", std::vector<int64_t>{2, 3}));
  ASSERT_EQ(y.shape(), (Shape{2, 3, 1, 1}));
  Tensor z = run1(OpType::kReduceMean, {x}, with("axes", std::vector<int64_t>{0, 2}));
  ASSERT_EQ(z.shape(), (Shape{1, 3, 1, 5}));
  const float* px = x.data<float>();
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t n = 0; n < 2; ++n) {
      double sum = 0;
      for (int64_t i = 0; i < 20; ++i) sum += px[(n * 3 + c) * 20 + i];
      EXPECT_EQ(y.data<float>()[n * 3 + c], static_cast<float>(sum / 20));
    }
    for (int64_t w = 0; w < 5; ++w) {
      double sum = 0;  // row-major order of the reduced (n, h) pairs
      for (int64_t n = 0; n < 2; ++n) {
        for (int64_t h = 0; h < 4; ++h) sum += px[((n * 3 + c) * 4 + h) * 5 + w];
      }
      EXPECT_EQ(z.data<float>()[c * 5 + w], static_cast<float>(sum / 8));
    }
  }
}

TEST(DataOps, ReduceMeanPropagatesNaNAndInf) {
  Tensor x = floats({1, kNaN, 2, kInf, 3, -kInf}, {3, 2});
  Tensor y = run1(OpType::kReduceMean, {x}, with("axes", std::vector<int64_t>{1}));
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_EQ(y.data<float>()[1], kInf);
  EXPECT_EQ(y.data<float>()[2], -kInf);
}

TEST(DataOps, ReduceMeanOfAnImageDoesNotDependOnTheBatch) {
  Tensor batch = testing::random_tensor({5, 2, 3, 3}, 22);
  Attributes attrs = with("axes", std::vector<int64_t>{1, 2, 3});
  Tensor all = run1(OpType::kReduceMean, {batch}, attrs);
  for (int64_t n = 0; n < 5; ++n) {
    Tensor one(DType::kFloat32, {1, 2, 3, 3});
    for (int64_t i = 0; i < 18; ++i) one.data<float>()[i] = batch.data<float>()[n * 18 + i];
    ASSERT_EQ(run1(OpType::kReduceMean, {one}, attrs).data<float>()[0], all.data<float>()[n]);
  }
}

TEST(DataOps, ReduceMeanDirectEvalAgreesWithGraphRun) {
  Tensor x = testing::random_tensor({3, 4, 5}, 23);
  Attributes attrs = with("axes", std::vector<int64_t>{0, 2});
  auto direct = eval_single_op(OpType::kReduceMean, {x}, attrs);
  ASSERT_TRUE(direct.has_value()) << direct.status().message();
  EXPECT_TRUE(direct->front().bitwise_equal(run1(OpType::kReduceMean, {x}, attrs)));
}

TEST(DataOps, ReduceMeanRejectsBadAxis) {
  std::string error = prepare_error(OpType::kReduceMean, {floats({1, 2}, {1, 2})},
                                    with("axes", std::vector<int64_t>{2}));
  EXPECT_TRUE(contains(error, "axis 2 is out of range")) << error;
}

TEST(DataOps, ReduceMeanRejectsRepeatedAxis) {
  std::string error = prepare_error(OpType::kReduceMean, {floats({1, 2}, {1, 2})},
                                    with("axes", std::vector<int64_t>{1, -1}));
  EXPECT_TRUE(contains(error, "listed twice")) << error;
}

TEST(DataOps, ReduceMeanRejectsIntegerInputAndAxesOfWrongDtype) {
  std::string error =
      prepare_error(OpType::kReduceMean, {Tensor::from_vector<int32_t>({1, 2}, {2})});
  EXPECT_TRUE(contains(error, "dtype int32, expected float32")) << error;
  error = prepare_error(OpType::kReduceMean,
                        {floats({1, 2}, {2}), Tensor::from_vector<int32_t>({0}, {1})});
  EXPECT_TRUE(contains(error, "axes has dtype int32, expected int64")) << error;
}

}  // namespace
}  // namespace nnfi
