// TensorProto -> Tensor: raw and typed fields, every element type nnfi reads.
#include "import/onnx/onnx_tensor.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "import/onnx_test_builder.h"

namespace nnfi::testing {
namespace {

using onnx_import::bfloat16_to_float;
using onnx_import::half_to_float;
using onnx_import::tensor_from_onnx;

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

onnx::TensorProto proto_of(int32_t data_type, std::vector<int64_t> dims) {
  onnx::TensorProto proto;
  proto.set_name("t");
  proto.set_data_type(data_type);
  for (int64_t dim : dims) proto.add_dims(dim);
  return proto;
}

TEST(OnnxTensorTest, HalfToFloatCoversSpecialValues) {
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(half_to_float(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_EQ(half_to_float(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
  EXPECT_EQ(bfloat16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16_to_float(0xc040), -3.0f);
}

TEST(OnnxTensorTest, ReadsFloatFromRawAndTypedFields) {
  auto raw = tensor_from_onnx(float_tensor("a", {1.5f, -2.0f, 3.0f, 4.0f}, {2, 2}, true));
  ASSERT_TRUE(raw) << raw.status().message();
  EXPECT_EQ(raw->dtype(), DType::kFloat32);
  EXPECT_EQ(raw->shape(), (Shape{2, 2}));
  EXPECT_EQ(raw->data<float>()[1], -2.0f);
  auto typed = tensor_from_onnx(float_tensor("b", {1.5f, -2.0f}, {2}, false));
  ASSERT_TRUE(typed) << typed.status().message();
  EXPECT_EQ(typed->data<float>()[0], 1.5f);
}

TEST(OnnxTensorTest, ConvertsDoubleAndHalfToFloat32) {
  onnx::TensorProto doubles = proto_of(onnx::TensorProto::DOUBLE, {2});
  doubles.add_double_data(0.25);
  doubles.add_double_data(-1e10);
  auto from_double = tensor_from_onnx(doubles);
  ASSERT_TRUE(from_double) << from_double.status().message();
  EXPECT_EQ(from_double->dtype(), DType::kFloat32);
  EXPECT_EQ(from_double->data<float>()[1], -1e10f);

  onnx::TensorProto raw_doubles = proto_of(onnx::TensorProto::DOUBLE, {1});
  raw_doubles.set_raw_data(raw_bytes(std::vector<double>{3.5}));
  EXPECT_EQ(tensor_from_onnx(raw_doubles)->data<float>()[0], 3.5f);

  onnx::TensorProto halves = proto_of(onnx::TensorProto::FLOAT16, {3});
  halves.set_raw_data(raw_bytes(std::vector<uint16_t>{0x3c00, 0xc000, 0x7c00}));
  auto from_half = tensor_from_onnx(halves);
  ASSERT_TRUE(from_half) << from_half.status().message();
  EXPECT_EQ(from_half->dtype(), DType::kFloat32);
  EXPECT_EQ(from_half->data<float>()[1], -2.0f);
  EXPECT_TRUE(std::isinf(from_half->data<float>()[2]));

  onnx::TensorProto typed_halves = proto_of(onnx::TensorProto::FLOAT16, {1});
  typed_halves.add_int32_data(0x3800);  // 0.5
  EXPECT_EQ(tensor_from_onnx(typed_halves)->data<float>()[0], 0.5f);
}

TEST(OnnxTensorTest, ReadsIntegerAndBoolTypes) {
  onnx::TensorProto int8s = proto_of(onnx::TensorProto::INT8, {3});
  for (int v : {-128, 0, 127}) int8s.add_int32_data(v);
  auto i8 = tensor_from_onnx(int8s);
  ASSERT_TRUE(i8) << i8.status().message();
  EXPECT_EQ(i8->dtype(), DType::kInt8);
  EXPECT_EQ(i8->data<int8_t>()[0], -128);

  onnx::TensorProto uint8s = proto_of(onnx::TensorProto::UINT8, {2});
  uint8s.set_raw_data(raw_bytes(std::vector<uint8_t>{200, 7}));
  EXPECT_EQ(tensor_from_onnx(uint8s)->data<uint8_t>()[0], 200);

  onnx::TensorProto int32s = proto_of(onnx::TensorProto::INT32, {2});
  int32s.set_raw_data(raw_bytes(std::vector<int32_t>{-5, 1 << 30}));
  EXPECT_EQ(tensor_from_onnx(int32s)->data<int32_t>()[1], 1 << 30);

  onnx::TensorProto int64s = proto_of(onnx::TensorProto::INT64, {1});
  int64s.add_int64_data(int64_t{1} << 40);
  EXPECT_EQ(tensor_from_onnx(int64s)->data<int64_t>()[0], int64_t{1} << 40);

  onnx::TensorProto bools = proto_of(onnx::TensorProto::BOOL, {3});
  bools.set_raw_data(raw_bytes(std::vector<uint8_t>{1, 0, 1}));
  auto b = tensor_from_onnx(bools);
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->dtype(), DType::kBool);
  EXPECT_TRUE(b->data<bool>()[2]);
  EXPECT_FALSE(b->data<bool>()[1]);
}

TEST(OnnxTensorTest, ReadsScalarsAndEmptyTensors) {
  auto scalar = tensor_from_onnx(float_tensor("s", {7.0f}, {}, false));
  ASSERT_TRUE(scalar) << scalar.status().message();
  EXPECT_EQ(scalar->shape(), Shape{});
  EXPECT_EQ(scalar->data<float>()[0], 7.0f);
  auto empty = tensor_from_onnx(float_tensor("e", {}, {0, 3}, false));
  ASSERT_TRUE(empty) << empty.status().message();
  EXPECT_EQ(empty->num_elements(), 0);
  EXPECT_EQ(empty->shape(), (Shape{0, 3}));
}

TEST(OnnxTensorTest, RejectsUnsupportedDataType) {
  onnx::TensorProto strings = proto_of(onnx::TensorProto::STRING, {1});
  strings.add_string_data("x");
  auto tensor = tensor_from_onnx(strings);
  ASSERT_FALSE(tensor);
  EXPECT_EQ(tensor.status().code(), StatusCode::kUnsupported);
  EXPECT_TRUE(message_has(tensor.status(), "data type STRING"));
}

TEST(OnnxTensorTest, RejectsDataCountMismatch) {
  auto tensor = tensor_from_onnx(float_tensor("w", {1, 2, 3}, {2, 2}, false));
  ASSERT_FALSE(tensor);
  EXPECT_TRUE(message_has(tensor.status(), "tensor 'w': has 3 values, expected 4"));
}

TEST(OnnxTensorTest, RejectsMissingData) {
  auto tensor = tensor_from_onnx(proto_of(onnx::TensorProto::INT64, {5}));
  ASSERT_FALSE(tensor);
  EXPECT_TRUE(message_has(tensor.status(), "has no data"));
}

TEST(OnnxTensorTest, RejectsNegativeAndHugeDims) {
  auto negative = tensor_from_onnx(proto_of(onnx::TensorProto::FLOAT, {2, -1}));
  ASSERT_FALSE(negative);
  EXPECT_TRUE(message_has(negative.status(), "negative dimension"));
  // Claims 2^60 elements with 4 bytes of data: refused before allocating.
  onnx::TensorProto huge = proto_of(onnx::TensorProto::FLOAT, {int64_t{1} << 30, int64_t{1} << 30});
  huge.set_raw_data(std::string(4, '\0'));
  auto too_big = tensor_from_onnx(huge);
  ASSERT_FALSE(too_big);
  EXPECT_TRUE(message_has(too_big.status(), "too large"));
}

}  // namespace
}  // namespace nnfi::testing
