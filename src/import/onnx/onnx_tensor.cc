#include "import/onnx/onnx_tensor.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace nnfi::onnx_import {
namespace {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; a big-endian host needs byte swaps here");

// A corrupt file may claim absurd dims; refuse before allocating.
constexpr int64_t kMaxElements = int64_t{1} << 40;

Status tensor_error(const onnx::TensorProto& proto, const std::string& message) {
  std::string name = proto.name().empty() ? "(unnamed)" : "'" + proto.name() + "'";
  return invalid_argument("tensor " + name + ": " + message);
}

// Builds a tensor of `dtype` from raw little-endian bytes of type Raw, or else
// from the typed repeated field, converting every element with `convert`.
// Sizes are checked before allocating, so corrupt dims cannot exhaust memory.
template <typename Out, typename Raw, typename Field, typename Convert>
Expected<Tensor> convert_tensor(const onnx::TensorProto& proto, DType dtype, const Shape& shape,
                                int64_t count, const Field& field, Convert convert) {
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    const size_t expected = static_cast<size_t>(count) * sizeof(Raw);
    if (raw.size() != expected) {
      return tensor_error(proto, "raw_data has " + std::to_string(raw.size()) +
                                     " bytes, expected " + std::to_string(expected) + " (" +
                                     std::to_string(count) + " elements of " +
                                     std::to_string(sizeof(Raw)) + " bytes)");
    }
    Tensor tensor(dtype, shape);
    Out* out = tensor.data<Out>();
    for (int64_t i = 0; i < count; ++i) {
      Raw value;
      std::memcpy(&value, raw.data() + static_cast<size_t>(i) * sizeof(Raw), sizeof(Raw));
      out[i] = convert(value);
    }
    return tensor;
  }
  if (field.size() != count) {
    if (field.empty())
      return tensor_error(proto, "has no data (neither raw_data nor typed values)");
    return tensor_error(proto, "has " + std::to_string(field.size()) + " values, expected " +
                                   std::to_string(count) + " for its dims");
  }
  Tensor tensor(dtype, shape);
  Out* out = tensor.data<Out>();
  for (int64_t i = 0; i < count; ++i) out[i] = convert(field.Get(static_cast<int>(i)));
  return tensor;
}

}  // namespace

std::string onnx_dtype_name(int32_t data_type) {
  if (onnx::TensorProto_DataType_IsValid(data_type)) {
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(data_type));
  }
  return "type " + std::to_string(data_type);
}

Expected<DType> dtype_from_onnx(int32_t data_type) {
  switch (data_type) {
    case onnx::TensorProto::FLOAT: return DType::kFloat32;
    case onnx::TensorProto::FLOAT16: return DType::kFloat16;
    case onnx::TensorProto::BFLOAT16: return DType::kBFloat16;
    case onnx::TensorProto::INT8: return DType::kInt8;
    case onnx::TensorProto::UINT8: return DType::kUInt8;
    case onnx::TensorProto::INT32: return DType::kInt32;
    case onnx::TensorProto::INT64: return DType::kInt64;
    case onnx::TensorProto::BOOL: return DType::kBool;
    default:
      return unsupported("element type " + onnx_dtype_name(data_type) +
                         " is not supported by nnfi (it has FLOAT, FLOAT16, BFLOAT16, INT8, UINT8, "
                         "INT32, INT64 and BOOL)");
  }
}

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0)
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24 is exact in float.
  float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  return sign != 0 ? -magnitude : magnitude;
}

float bfloat16_to_float(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

Expected<Tensor> tensor_from_onnx(const onnx::TensorProto& proto) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    return unsupported("tensor '" + proto.name() +
                       "' is stored in external data files, which nnfi does not read; save the "
                       "model as one self-contained .onnx file (save_as_external_data=False)");
  }
  if (proto.has_segment()) return tensor_error(proto, "segmented tensors are not supported");
  Shape shape;
  int64_t count = 1;
  for (int64_t dim : proto.dims()) {
    if (dim < 0) return tensor_error(proto, "negative dimension " + std::to_string(dim));
    if (dim != 0 && count > kMaxElements / dim) {
      return tensor_error(proto, "dims are too large (more than 2^40 elements)");
    }
    count *= dim;
    shape.push_back(dim);
  }
  const auto same = [](auto value) { return value; };
  const auto to_float = [](auto value) { return static_cast<float>(value); };
  const auto from_half = [](auto value) { return half_to_float(static_cast<uint16_t>(value)); };
  const auto from_bfloat16 = [](auto value) {
    return bfloat16_to_float(static_cast<uint16_t>(value));
  };
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT:
      return convert_tensor<float, float>(proto, DType::kFloat32, shape, count, proto.float_data(),
                                          same);
    case onnx::TensorProto::DOUBLE:
      return convert_tensor<float, double>(proto, DType::kFloat32, shape, count,
                                           proto.double_data(), to_float);
    case onnx::TensorProto::FLOAT16:
      return convert_tensor<float, uint16_t>(proto, DType::kFloat32, shape, count,
                                             proto.int32_data(), from_half);
    case onnx::TensorProto::BFLOAT16:
      return convert_tensor<float, uint16_t>(proto, DType::kFloat32, shape, count,
                                             proto.int32_data(), from_bfloat16);
    case onnx::TensorProto::INT32:
      return convert_tensor<int32_t, int32_t>(proto, DType::kInt32, shape, count,
                                              proto.int32_data(), same);
    case onnx::TensorProto::INT64:
      return convert_tensor<int64_t, int64_t>(proto, DType::kInt64, shape, count,
                                              proto.int64_data(), same);
    case onnx::TensorProto::INT8:
      return convert_tensor<int8_t, int8_t>(proto, DType::kInt8, shape, count, proto.int32_data(),
                                            [](auto value) { return static_cast<int8_t>(value); });
    case onnx::TensorProto::UINT8:
      return convert_tensor<uint8_t, uint8_t>(
          proto, DType::kUInt8, shape, count, proto.int32_data(),
          [](auto value) { return static_cast<uint8_t>(value); });
    case onnx::TensorProto::BOOL:
      return convert_tensor<bool, uint8_t>(proto, DType::kBool, shape, count, proto.int32_data(),
                                           [](auto value) { return value != 0; });
    default:
      return unsupported("tensor '" + proto.name() + "' has data type " +
                         onnx_dtype_name(proto.data_type()) +
                         ", which nnfi cannot load (it reads FLOAT, DOUBLE, FLOAT16, BFLOAT16, "
                         "INT32, INT64, INT8, UINT8 and BOOL tensors)");
  }
}

}  // namespace nnfi::onnx_import
