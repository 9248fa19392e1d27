// Element types of tensors. float32 carries the network; int32/int64/bool
// carry shape arithmetic; float16, bfloat16 and int8 are stored formats for
// reduced-precision sites (their bits are what faults flip).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nnfi {

enum class DType : uint8_t {
  kUndefined = 0,
  kFloat32,
  kFloat16,
  kBFloat16,
  kInt8,
  kUInt8,
  kInt32,
  kInt64,
  kBool,
};

// Bytes per element; 0 for kUndefined.
size_t dtype_size(DType dtype);
// Lower-case name as users read it: "float32", "int64", ...
std::string_view dtype_name(DType dtype);
bool dtype_is_float(DType dtype);

// Compile-time mapping from C++ types to DType.
template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::kFloat32;
};
template <>
struct DTypeOf<int8_t> {
  static constexpr DType value = DType::kInt8;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::kUInt8;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::kInt32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::kInt64;
};
template <>
struct DTypeOf<bool> {
  static constexpr DType value = DType::kBool;
};

}  // namespace nnfi
