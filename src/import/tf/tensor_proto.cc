// TensorFlow TensorProto, TensorShapeProto and DataType -> nnfi Tensor,
// Shape and DType, following tensorflow/core/framework/tensor.cc: raw
// little-endian bytes in tensor_content, else the typed repeated field, where
// no value means zeros and fewer values than elements repeat the last one.
#include <cstring>
#include <limits>

#include "import/tf/tf_importer.h"

namespace nnfi::tf_import {
namespace {

// One constant may not exceed this (a broadcast scalar can ask for any size).
constexpr int64_t kMaxConstantBytes = int64_t{1} << 30;

constexpr int kRefOffset = 100;  // DT_FLOAT_REF = DT_FLOAT + 100

// Copies `values` (converted to T) into `out`, repeating the last one.
template <typename T, typename Repeated>
void fill_from_values(const Repeated& values, Tensor& out) {
  T* data = static_cast<T*>(out.raw_data());
  const int64_t n = out.num_elements();
  const int64_t given = values.size();
  for (int64_t i = 0; i < n; ++i) {
    data[i] = static_cast<T>(values.Get(static_cast<int>(std::min(i, given - 1))));
  }
}

}  // namespace

Expected<int64_t> checked_num_elements(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return invalid_argument("shape " + shape_to_string(shape) + " has unknown dims");
    if (dim > 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      return invalid_argument("shape " + shape_to_string(shape) + " has too many elements");
    }
    count *= dim;
  }
  return count;
}

Expected<DType> dtype_from_tf(int tf_dtype) {
  const int base = tf_dtype > kRefOffset ? tf_dtype - kRefOffset : tf_dtype;
  switch (base) {
    case tf::DT_FLOAT: return DType::kFloat32;
    case tf::DT_HALF: return DType::kFloat16;
    case tf::DT_BFLOAT16: return DType::kBFloat16;
    case tf::DT_INT8: return DType::kInt8;
    case tf::DT_UINT8: return DType::kUInt8;
    case tf::DT_INT32: return DType::kInt32;
    case tf::DT_INT64: return DType::kInt64;
    case tf::DT_BOOL: return DType::kBool;
    default: break;
  }
  return unsupported("TensorFlow dtype " + tf_dtype_name(tf_dtype) +
                     " is not supported; nnfi reads DT_FLOAT, DT_HALF, DT_BFLOAT16, DT_INT8, "
                     "DT_UINT8, DT_INT32, DT_INT64 and DT_BOOL");
}

std::string tf_dtype_name(int tf_dtype) {
  const int base = tf_dtype > kRefOffset ? tf_dtype - kRefOffset : tf_dtype;
  if (tf::DataType_IsValid(base)) {
    return tf::DataType_Name(static_cast<tf::DataType>(base)) +
           (tf_dtype > kRefOffset ? "_REF" : "");
  }
  return "DataType " + std::to_string(tf_dtype);
}

Expected<Shape> shape_from_tf(const tf::TensorShapeProto& proto) {
  if (proto.unknown_rank()) return unsupported("the shape has unknown rank");
  Shape shape;
  for (const auto& dim : proto.dim()) {
    if (dim.size() < -1) {
      return invalid_argument("the shape has dimension " + std::to_string(dim.size()) +
                              ", expected >= -1");
    }
    shape.push_back(dim.size() < 0 ? kUnknownDim : dim.size());
  }
  return shape;
}

Expected<Tensor> tensor_from_tf(const tf::TensorProto& proto) {
  NNFI_ASSIGN_OR_RETURN(DType dtype, dtype_from_tf(proto.dtype()));
  NNFI_ASSIGN_OR_RETURN(Shape shape, shape_from_tf(proto.tensor_shape()));
  Expected<int64_t> count = checked_num_elements(shape);
  if (!count) return count.status();
  const auto element_size = static_cast<int64_t>(dtype_size(dtype));
  if (*count > kMaxConstantBytes / element_size) {
    return unsupported("the tensor " + shape_to_string(shape) + " of " +
                       std::string(dtype_name(dtype)) + " is larger than 1 GiB");
  }
  const int64_t bytes = *count * element_size;
  const std::string& content = proto.tensor_content();
  if (!content.empty()) {
    if (static_cast<int64_t>(content.size()) != bytes) {
      return invalid_argument("tensor_content has " + std::to_string(content.size()) +
                              " bytes, expected " + std::to_string(bytes) + " for shape " +
                              shape_to_string(shape) + " of " + std::string(dtype_name(dtype)));
    }
    Tensor tensor(dtype, shape);
    if (bytes > 0) std::memcpy(tensor.raw_data(), content.data(), content.size());
    if (dtype == DType::kBool) {  // TensorFlow bools are bytes: any non-zero is true
      auto* data = static_cast<uint8_t*>(tensor.raw_data());
      for (int64_t i = 0; i < *count; ++i) data[i] = data[i] != 0 ? 1 : 0;
    }
    return tensor;
  }
  auto check_count = [&](int given, const char* field) -> Status {
    if (given > *count) {
      return invalid_argument(std::string(field) + " has " + std::to_string(given) +
                              " values, expected at most " + std::to_string(*count) +
                              " for shape " + shape_to_string(shape));
    }
    return Status::ok();
  };
  Tensor tensor(dtype, shape);  // zeros where no value is given
  switch (dtype) {
    case DType::kFloat32:
      NNFI_RETURN_IF_ERROR(check_count(proto.float_val_size(), "float_val"));
      if (proto.float_val_size() > 0) fill_from_values<float>(proto.float_val(), tensor);
      break;
    case DType::kFloat16:
    case DType::kBFloat16:  // half_val holds the 16-bit patterns
      NNFI_RETURN_IF_ERROR(check_count(proto.half_val_size(), "half_val"));
      if (proto.half_val_size() > 0) fill_from_values<uint16_t>(proto.half_val(), tensor);
      break;
    case DType::kInt8:
      NNFI_RETURN_IF_ERROR(check_count(proto.int_val_size(), "int_val"));
      if (proto.int_val_size() > 0) fill_from_values<int8_t>(proto.int_val(), tensor);
      break;
    case DType::kUInt8:
      NNFI_RETURN_IF_ERROR(check_count(proto.int_val_size(), "int_val"));
      if (proto.int_val_size() > 0) fill_from_values<uint8_t>(proto.int_val(), tensor);
      break;
    case DType::kInt32:
      NNFI_RETURN_IF_ERROR(check_count(proto.int_val_size(), "int_val"));
      if (proto.int_val_size() > 0) fill_from_values<int32_t>(proto.int_val(), tensor);
      break;
    case DType::kInt64:
      NNFI_RETURN_IF_ERROR(check_count(proto.int64_val_size(), "int64_val"));
      if (proto.int64_val_size() > 0) fill_from_values<int64_t>(proto.int64_val(), tensor);
      break;
    case DType::kBool:
      NNFI_RETURN_IF_ERROR(check_count(proto.bool_val_size(), "bool_val"));
      if (proto.bool_val_size() > 0) fill_from_values<bool>(proto.bool_val(), tensor);
      break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(dtype)));
  }
  return tensor;
}

Expected<std::vector<std::string>> strings_from_tf(const tf::TensorProto& proto) {
  if (proto.dtype() != tf::DT_STRING) {
    return invalid_argument("the tensor has dtype " + tf_dtype_name(proto.dtype()) +
                            ", expected DT_STRING");
  }
  NNFI_ASSIGN_OR_RETURN(Shape shape, shape_from_tf(proto.tensor_shape()));
  Expected<int64_t> count = checked_num_elements(shape);
  if (!count) return count.status();
  if (proto.string_val_size() > *count) {
    return invalid_argument("string_val has " + std::to_string(proto.string_val_size()) +
                            " values, expected at most " + std::to_string(*count));
  }
  if (*count > 0 && proto.string_val_size() == 0) {
    return unsupported("string tensors in tensor_content are not supported");
  }
  std::vector<std::string> values(proto.string_val().begin(), proto.string_val().end());
  if (*count > 1 << 24) return unsupported("the string tensor is too large");
  while (static_cast<int64_t>(values.size()) < *count) values.push_back(values.back());
  return values;
}

}  // namespace nnfi::tf_import
