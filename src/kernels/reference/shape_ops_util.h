// Helpers shared by the shape op kernels (shape_ops.cc, shape_ops_move.cc).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/kernel.h"

namespace nnfi::kernels {

// Transpose and Pad index with fixed-size arrays so that eval allocates
// nothing; prepare rejects higher ranks.
constexpr size_t kMaxMoveRank = 8;

inline Status expect_outputs(const PrepareContext& ctx, size_t count) {
  if (ctx.outputs.size() != count) {
    return ctx.error("expected " + std::to_string(count) + " output(s), got " +
                     std::to_string(ctx.outputs.size()));
  }
  return Status::ok();
}

// The int32/int64 values of input `index`, which must be constant at plan time
// (a weight, or folded from Shape arithmetic) and of rank 0 or 1.
inline Status read_constant_ints(const PrepareContext& ctx, size_t index, const std::string& what,
                                 std::vector<int64_t>* values) {
  const TensorInfo& info = ctx.inputs[index];
  if (info.dtype != DType::kInt64 && info.dtype != DType::kInt32) {
    return ctx.error(what + " (input " + std::to_string(index) + ") has dtype " +
                     std::string(dtype_name(info.dtype)) + ", expected int64");
  }
  if (info.constant == nullptr) {
    return ctx.error(what + " (input " + std::to_string(index) +
                     ") is computed at run time, expected a constant known at plan time");
  }
  if (info.shape.size() > 1) {
    return ctx.error(what + " (input " + std::to_string(index) + ") has shape " +
                     shape_to_string(info.shape) + ", expected a 1-D tensor");
  }
  values->resize(static_cast<size_t>(info.constant->num_elements()));
  for (size_t i = 0; i < values->size(); ++i) {
    (*values)[i] = info.constant->element_as_int64(static_cast<int64_t>(i));
  }
  return Status::ok();
}

// Maps axes in [-rank, rank) to [0, rank); rejects out-of-range and repeated axes.
inline Status normalize_axes(const PrepareContext& ctx, size_t rank, std::vector<int64_t>* axes) {
  const auto r = static_cast<int64_t>(rank);
  for (int64_t& axis : *axes) {
    if (axis < -r || axis >= r) {
      return ctx.error("axis " + std::to_string(axis) + " is out of range for rank " +
                       std::to_string(rank) + ", expected in [" + std::to_string(-r) + ", " +
                       std::to_string(r - 1) + "]");
    }
    if (axis < 0) axis += r;
  }
  std::vector<int64_t> sorted = *axes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return ctx.error("axes " + shape_to_string(*axes) + " repeat an axis, expected distinct axes");
  }
  return Status::ok();
}

// Shape's [start, end) after ONNX's rules: negative counts from the back,
// then clamped to [0, rank] (an empty range when end <= start).
inline void shape_range(const Node& node, int64_t rank, int64_t* start, int64_t* end) {
  int64_t s = node.attributes.get_int("start", 0);
  int64_t e = node.attributes.get_int("end", rank);
  if (s < 0) s += rank;
  if (e < 0) e += rank;
  s = std::clamp<int64_t>(s, 0, rank);
  e = std::clamp<int64_t>(e, s, rank);
  *start = s;
  *end = e;
}

// Row-major element strides of `shape`, into a fixed array.
inline void row_major_strides(const Shape& shape, int64_t* strides) {
  int64_t stride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= shape[d];
  }
}

// Calls fn.template operator()<T>() with an unsigned integer type T of the
// dtype's size: moving elements as raw bits works for every dtype.
template <typename Fn>
void dispatch_by_size(DType dtype, Fn&& fn) {
  switch (dtype_size(dtype)) {
    case 1: fn.template operator()<uint8_t>(); break;
    case 2: fn.template operator()<uint16_t>(); break;
    case 4: fn.template operator()<uint32_t>(); break;
    case 8: fn.template operator()<uint64_t>(); break;
    default: break;
  }
}

}  // namespace nnfi::kernels
