// Shape op reference kernels: Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
// Concat, Pad, Identity, Dropout, Shape. Golden arrays, any-dtype moves,
// plan-time constants, rejections.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <vector>

#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::eval_single_op;
using testing::random_tensor;
using testing::tensors_close;

Tensor floats(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, std::move(shape));
}
Tensor ints(std::vector<int64_t> values) {
  const auto size = static_cast<int64_t>(values.size());
  return Tensor::from_vector<int64_t>(values, {size});
}

std::vector<Tensor> run(OpType op, std::vector<Tensor> inputs, Attributes attrs = {},
                        size_t outputs = 1) {
  auto result = eval_single_op(op, inputs, std::move(attrs), outputs);
  EXPECT_TRUE(result.has_value()) << result.status().message();
  return result.has_value() ? result.value() : std::vector<Tensor>(outputs);
}

Shape shape_of(OpType op, std::vector<Tensor> inputs, Attributes attrs = {}) {
  auto infos = testing::prepare_single_op(op, inputs, std::move(attrs));
  EXPECT_TRUE(infos.has_value()) << infos.status().message();
  return infos.has_value() ? infos.value()[0].shape : Shape{-99};
}

Status error(OpType op, std::vector<Tensor> inputs, Attributes attrs = {}) {
  return testing::prepare_single_op(op, inputs, std::move(attrs)).status();
}

template <typename T>
std::vector<T> values(const Tensor& tensor) {
  return std::vector<T>(tensor.data<T>(), tensor.data<T>() + tensor.num_elements());
}

TEST(ReshapeTest, ZeroCopiesAndMinusOneInfers) {
  Tensor x = random_tensor({2, 3, 4}, 1);
  EXPECT_EQ(shape_of(OpType::kReshape, {x, ints({0, -1})}), (Shape{2, 12}));
  EXPECT_EQ(shape_of(OpType::kReshape, {x, ints({-1, 0, 2})}), (Shape{4, 3, 2}));
  Tensor y = run(OpType::kReshape, {x, ints({4, 6})})[0];
  EXPECT_EQ(y.shape(), (Shape{4, 6}));
  EXPECT_EQ(0, std::memcmp(y.raw_data(), x.raw_data(), x.num_bytes()));
  Attributes allow_zero;
  allow_zero.set("allowzero", int64_t{1});
  EXPECT_EQ(shape_of(OpType::kReshape, {Tensor(DType::kFloat32, {0, 3}), ints({3, 0})}, allow_zero),
            (Shape{3, 0}));
}

TEST(ReshapeTest, RunsInAGraphWithAConstantShape) {
  testing::OpRunOptions options;
  options.constant_inputs = {false, true};
  auto result = testing::run_single_op(
      OpType::kReshape, {Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {6}), ints({3, -1})}, {},
      1, options);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  EXPECT_EQ(result.value()[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(values<int64_t>(result.value()[0]), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(ReshapeTest, RejectsShapeNotConstantAtPlanTime) {
  auto result = testing::run_single_op(OpType::kReshape, {random_tensor({2, 3}, 1), ints({3, 2})});
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.status().message().find("expected a constant known at plan time"),
            std::string::npos)
      << result.status().message();
}

TEST(ReshapeTest, RejectsTwoMinusOnesAndWrongCounts) {
  Tensor x(DType::kFloat32, {2, 3, 4});
  EXPECT_NE(error(OpType::kReshape, {x, ints({-1, -1})}).message().find("more than one -1"),
            std::string::npos);
  EXPECT_NE(error(OpType::kReshape, {x, ints({5, -1})}).message().find("cannot infer"),
            std::string::npos);
  EXPECT_NE(error(OpType::kReshape, {x, ints({5, 5})}).message().find("expected 24 elements"),
            std::string::npos);
  EXPECT_FALSE(error(OpType::kReshape, {x, ints({2, -2, 12})}).is_ok());
  EXPECT_FALSE(error(OpType::kReshape, {x, floats({24}, {1})}).is_ok());
}

TEST(FlattenTest, AxisSplitsTheDims) {
  Tensor x(DType::kFloat32, {2, 3, 4, 5});
  EXPECT_EQ(shape_of(OpType::kFlatten, {x}), (Shape{2, 60}));
  Attributes attrs;
  attrs.set("axis", int64_t{0});
  EXPECT_EQ(shape_of(OpType::kFlatten, {x}, attrs), (Shape{1, 120}));
  attrs.set("axis", int64_t{-1});
  EXPECT_EQ(shape_of(OpType::kFlatten, {x}, attrs), (Shape{24, 5}));
  attrs.set("axis", int64_t{4});
  EXPECT_EQ(shape_of(OpType::kFlatten, {x}, attrs), (Shape{120, 1}));
  attrs.set("axis", int64_t{5});
  EXPECT_FALSE(error(OpType::kFlatten, {x}, attrs).is_ok());
}

TEST(SqueezeTest, AxesFromAttributeInputOrAllOnes) {
  Tensor x(DType::kFloat32, {1, 3, 1, 2});
  EXPECT_EQ(shape_of(OpType::kSqueeze, {x}), (Shape{3, 2}));
  EXPECT_EQ(shape_of(OpType::kSqueeze, {x, ints({-2})}), (Shape{1, 3, 2}));
  Attributes attrs;
  attrs.set("axes", std::vector<int64_t>{0});
  EXPECT_EQ(shape_of(OpType::kSqueeze, {x}, attrs), (Shape{3, 1, 2}));
  Tensor y = run(OpType::kSqueeze, {floats({1, 2, 3}, {1, 3})})[0];
  EXPECT_EQ(y.shape(), (Shape{3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 2, 3}));
}

TEST(SqueezeTest, RejectsAxisNotOfSizeOne) {
  Status status = error(OpType::kSqueeze, {Tensor(DType::kFloat32, {1, 3}), ints({1})});
  EXPECT_NE(status.message().find("has size 3, expected 1"), std::string::npos) << status.message();
  EXPECT_FALSE(error(OpType::kSqueeze, {Tensor(DType::kFloat32, {1, 3}), ints({2})}).is_ok());
}

TEST(UnsqueezeTest, NegativeAxesCountInTheOutputRank) {
  Tensor x(DType::kFloat32, {3, 4});
  EXPECT_EQ(shape_of(OpType::kUnsqueeze, {x, ints({-1, 0})}), (Shape{1, 3, 4, 1}));
  Attributes attrs;
  attrs.set("axes", std::vector<int64_t>{1});
  EXPECT_EQ(shape_of(OpType::kUnsqueeze, {x}, attrs), (Shape{3, 1, 4}));
  EXPECT_FALSE(error(OpType::kUnsqueeze, {x}).is_ok());
  EXPECT_NE(error(OpType::kUnsqueeze, {x, ints({0, -4})}).message().find("repeat"),
            std::string::npos);
}

TEST(TransposeTest, DefaultReversesAndPermMovesAnyDtype) {
  Tensor x = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = run(OpType::kTranspose, {x})[0];
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  Tensor z = Tensor::from_vector<int64_t>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 3, 2});
  Attributes attrs;
  attrs.set("perm", std::vector<int64_t>{1, 2, 0});
  Tensor t = run(OpType::kTranspose, {z}, attrs)[0];
  EXPECT_EQ(t.shape(), (Shape{3, 2, 2}));
  // t[i, j, k] = z[k, i, j] = 6 k + 2 i + j.
  EXPECT_EQ(values<int64_t>(t), (std::vector<int64_t>{0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}));
}

TEST(TransposeTest, CarriesNaNPayloadsBitForBit) {
  Tensor x = random_tensor({2, 3, 4, 5}, 3);
  uint32_t payload = 0x7fc01234u;
  std::memcpy(x.data<float>() + 7, &payload, 4);
  Attributes to_last;
  to_last.set("perm", std::vector<int64_t>{0, 2, 3, 1});
  Attributes to_first;
  to_first.set("perm", std::vector<int64_t>{0, 3, 1, 2});
  Tensor back = run(OpType::kTranspose, {run(OpType::kTranspose, {x}, to_last)[0]}, to_first)[0];
  EXPECT_TRUE(back.bitwise_equal(x));
}

TEST(TransposeTest, RejectsBadPerm) {
  Tensor x(DType::kFloat32, {2, 3, 4});
  Attributes repeated;
  repeated.set("perm", std::vector<int64_t>{0, 0, 1});
  EXPECT_NE(error(OpType::kTranspose, {x}, repeated).message().find("not a permutation"),
            std::string::npos);
  Attributes short_perm;
  short_perm.set("perm", std::vector<int64_t>{1, 0});
  EXPECT_FALSE(error(OpType::kTranspose, {x}, short_perm).is_ok());
}

TEST(ConcatTest, JoinsAlongAnyAxisAndDtype) {
  Attributes axis1;
  axis1.set("axis", int64_t{1});
  Tensor y = run(OpType::kConcat, {floats({1, 2, 3, 4}, {2, 2}), floats({5, 6}, {2, 1})}, axis1)[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{1, 2, 5, 3, 4, 6}));
  Attributes axis_neg;
  axis_neg.set("axis", int64_t{-1});
  Tensor s = run(OpType::kConcat, {ints({1, 2}), ints({}), ints({3})}, axis_neg)[0];
  EXPECT_EQ(values<int64_t>(s), (std::vector<int64_t>{1, 2, 3}));
  Attributes axis0;
  axis0.set("axis", int64_t{0});
  Tensor b =
      run(OpType::kConcat,
          {Tensor::from_vector<bool>({true}, {1, 2}), Tensor(DType::kBool, {1, 2})}, axis0)[0];
  EXPECT_EQ(b.shape(), (Shape{2, 2}));
  EXPECT_EQ(values<bool>(b), (std::vector<bool>{true, false, false, false}));
}

TEST(ConcatTest, RejectsShapeAndDtypeMismatch) {
  Attributes axis0;
  axis0.set("axis", int64_t{0});
  Status status = error(OpType::kConcat,
                        {Tensor(DType::kFloat32, {2, 3}), Tensor(DType::kFloat32, {2, 4})}, axis0);
  EXPECT_NE(status.message().find("input 1 has shape [2, 4], expected [2, 3] except along axis 0"),
            std::string::npos)
      << status.message();
  EXPECT_FALSE(
      error(OpType::kConcat, {Tensor(DType::kFloat32, {2}), Tensor(DType::kInt64, {2})}, axis0)
          .is_ok());
  EXPECT_FALSE(error(OpType::kConcat, {Tensor(DType::kFloat32, {2})}).is_ok());  // no axis
}

// ONNX's Pad examples: data (3, 2), pads [0, 2, 0, 0].
const Tensor kPadData = floats({1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f}, {3, 2});

Tensor pad(std::vector<Tensor> inputs, const std::string& mode) {
  Attributes attrs;
  attrs.set("mode", mode);
  return run(OpType::kPad, std::move(inputs), attrs)[0];
}

TEST(PadTest, ConstantReflectEdgeGolden) {
  EXPECT_TRUE(tensors_close(pad({kPadData, ints({0, 2, 0, 0})}, "constant"),
                            floats({0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f}, {3, 4}),
                            0, 0));
  EXPECT_TRUE(tensors_close(
      pad({kPadData, ints({0, 2, 0, 0})}, "reflect"),
      floats({1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f}, {3, 4}), 0,
      0));
  EXPECT_TRUE(tensors_close(
      pad({kPadData, ints({0, 2, 0, 0})}, "edge"),
      floats({1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f}, {3, 4}), 0,
      0));
  EXPECT_TRUE(tensors_close(
      pad({kPadData, ints({1, 0, 1, 0})}, "reflect"),
      floats({2.3f, 3.4f, 1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f, 2.3f, 3.4f}, {5, 2}), 0, 0));
}

TEST(PadTest, ValueFromInputOrAttributeAndNegativePadsCrop) {
  Tensor y = pad({kPadData, ints({1, 0, 0, -1}), Tensor::scalar(9.0f)}, "constant");
  EXPECT_TRUE(tensors_close(y, floats({9, 1.0f, 2.3f, 4.5f}, {4, 1}), 0, 0));
  Attributes legacy;
  legacy.set("pads", std::vector<int64_t>{0, 1, 0, 1});
  legacy.set("value", 7.0);
  Tensor z = run(OpType::kPad, {Tensor::from_vector<int32_t>({1, 2}, {1, 2})}, legacy)[0];
  EXPECT_EQ(values<int32_t>(z), (std::vector<int32_t>{7, 1, 2, 7}));
}

TEST(PadTest, ReflectRepeatsPastTheEdgesLikeNumpy) {
  // np.pad([1, 2, 3], (5, 6), 'reflect') and np.pad([7], (2, 2), 'reflect').
  EXPECT_EQ(values<float>(pad({floats({1, 2, 3}, {3}), ints({5, 6})}, "reflect")),
            (std::vector<float>{2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1}));
  EXPECT_EQ(values<float>(pad({floats({7}, {1}), ints({2, 2})}, "reflect")),
            (std::vector<float>(5, 7.0f)));
}

TEST(PadTest, RejectsBadPads) {
  Attributes edge;
  edge.set("mode", std::string("edge"));
  Status status = error(OpType::kPad, {Tensor(DType::kFloat32, {0, 2}), ints({1, 0, 0, 0})}, edge);
  EXPECT_NE(status.message().find("no values to repeat"), std::string::npos) << status.message();
  EXPECT_NE(error(OpType::kPad, {kPadData, ints({0, -3, 0, 0})}).message().find("negative size"),
            std::string::npos);
  EXPECT_NE(error(OpType::kPad, {kPadData, ints({1, 1})}).message().find("expected 4"),
            std::string::npos);
  Attributes wrap;
  wrap.set("mode", std::string("wrap"));
  EXPECT_FALSE(error(OpType::kPad, {kPadData, ints({0, 0, 0, 0})}, wrap).is_ok());
  auto result = testing::run_single_op(OpType::kPad, {kPadData, ints({0, 1, 0, 1})});
  EXPECT_FALSE(result.has_value());  // pads computed at run time
}

TEST(IdentityDropoutShapeTest, CopiesMaskAndShape) {
  Tensor x = Tensor::from_vector<int64_t>({4, 5, 6}, {3});
  EXPECT_TRUE(run(OpType::kIdentity, {x})[0].bitwise_equal(x));
  std::vector<Tensor> dropout = run(OpType::kDropout, {random_tensor({2, 3}, 4)}, {}, 2);
  EXPECT_EQ(dropout[1].dtype(), DType::kBool);
  EXPECT_EQ(values<bool>(dropout[1]), std::vector<bool>(6, true));
  Tensor shape = run(OpType::kShape, {Tensor(DType::kFloat32, {2, 3, 4, 5})})[0];
  EXPECT_EQ(shape.dtype(), DType::kInt64);
  EXPECT_EQ(values<int64_t>(shape), (std::vector<int64_t>{2, 3, 4, 5}));
  Attributes range;
  range.set("start", int64_t{1});
  range.set("end", int64_t{-1});
  EXPECT_EQ(values<int64_t>(run(OpType::kShape, {Tensor(DType::kFloat32, {2, 3, 4, 5})}, range)[0]),
            (std::vector<int64_t>{3, 4}));
  EXPECT_FALSE(
      error(OpType::kDropout, {random_tensor({2}, 1), Tensor::scalar(0.5f), Tensor::scalar(true)})
          .is_ok());
}

}  // namespace
}  // namespace nnfi
