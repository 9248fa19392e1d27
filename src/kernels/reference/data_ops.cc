// Reference kernels: Gather, Cast, ArgMax, ReduceMean.
//
// Rules where ONNX leaves a choice (documented so fast kernels can match):
// - Gather: an index outside [-n, n) is an error (in prepare when the indices
//   are constant, else in eval), never a read out of bounds.
// - Cast float -> integer truncates toward zero to int64 (NaN -> 0, beyond the
//   int64 range saturates), then wraps to the target width like every integer
//   -> integer cast (numpy: -1.0 -> uint8 255). Anything -> bool is x != 0
//   (NaN -> true). Bool bytes other than 0/1 (a flipped bit) read as true.
// - ArgMax ranks NaN above everything (numpy.argmax); ties and NaNs go to the
//   first index, or the last with select_last_index=1.
// - ReduceMean sums in double, in row-major order of the reduced elements,
//   divides by the count in double and rounds once to float (as Softmax).
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reference/broadcast.h"

namespace nnfi::kernels {
namespace {

Status expect_one_output(PrepareContext& ctx) {
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  return Status::ok();
}

Status check_axis(PrepareContext& ctx, int64_t axis, const Shape& shape) {
  const auto rank = static_cast<int64_t>(shape.size());
  if (axis < -rank || axis >= rank) {
    return ctx.error("axis " + std::to_string(axis) + " is out of range for input " +
                     shape_to_string(shape) + " of rank " + std::to_string(rank) + " (expected " +
                     std::to_string(-rank) + " to " + std::to_string(rank - 1) + ")");
  }
  return Status::ok();
}

// Index `j` of an int32/int64 tensor.
int64_t index_at(const Tensor& indices, int64_t j) {
  return indices.dtype() == DType::kInt32 ? indices.data<int32_t>()[j] : indices.data<int64_t>()[j];
}

std::string gather_range_error(int64_t j, int64_t index, int64_t n) {
  return "indices[" + std::to_string(j) + "] = " + std::to_string(index) +
         " is out of range for an axis of size " + std::to_string(n) + " (expected " +
         std::to_string(-n) + " to " + std::to_string(n - 1) + ")";
}

// ---- Cast helpers ------------------------------------------------------------------

std::optional<DType> cast_target(const std::string& name) {
  for (DType dtype :
       {DType::kFloat32, DType::kInt32, DType::kInt64, DType::kBool, DType::kUInt8, DType::kInt8}) {
    if (dtype_name(dtype) == name) return dtype;
  }
  return std::nullopt;
}

bool is_cast_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kInt32 || dtype == DType::kInt64 ||
         dtype == DType::kBool || dtype == DType::kUInt8 || dtype == DType::kInt8;
}

int64_t float_to_int64(float v) {
  if (std::isnan(v)) return 0;
  // 2^63 is exactly representable in float; anything at or past it saturates.
  if (v >= 9223372036854775808.0f) return INT64_MAX;
  if (v < -9223372036854775808.0f) return INT64_MIN;
  return static_cast<int64_t>(v);  // truncates toward zero
}

template <typename Dst, typename Src>
Dst cast_value(Src v) {
  if constexpr (std::is_same_v<Dst, bool>) {
    return v != 0;
  } else if constexpr (std::is_floating_point_v<Src> && std::is_integral_v<Dst>) {
    return static_cast<Dst>(float_to_int64(v));  // integer narrowing is modular
  } else {
    return static_cast<Dst>(v);
  }
}

template <typename Dst, typename Src>
void cast_loop(const Tensor& x, Tensor& y) {
  const int64_t n = x.num_elements();
  Dst* out = y.data<Dst>();
  if constexpr (std::is_same_v<Src, bool>) {
    const auto* in = x.data<uint8_t>();  // bytes, see the header comment
    for (int64_t i = 0; i < n; ++i) out[i] = cast_value<Dst, uint8_t>(in[i] != 0 ? 1 : 0);
  } else {
    const Src* in = x.data<Src>();
    for (int64_t i = 0; i < n; ++i) out[i] = cast_value<Dst, Src>(in[i]);
  }
}

template <typename Src>
Status cast_from(const Tensor& x, Tensor& y) {
  switch (y.dtype()) {
    case DType::kFloat32: cast_loop<float, Src>(x, y); break;
    case DType::kInt32: cast_loop<int32_t, Src>(x, y); break;
    case DType::kInt64: cast_loop<int64_t, Src>(x, y); break;
    case DType::kBool: cast_loop<bool, Src>(x, y); break;
    case DType::kUInt8: cast_loop<uint8_t, Src>(x, y); break;
    case DType::kInt8: cast_loop<int8_t, Src>(x, y); break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(y.dtype())));
  }
  return Status::ok();
}

// ---- ArgMax helpers --------------------------------------------------------------

template <typename T>
void argmax(const Tensor& x, Tensor& y, int64_t axis, bool last) {
  const Shape& shape = x.shape();
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t n = shape[axis];
  const T* px = x.data<T>();
  int64_t* py = y.data<int64_t>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* row = px + o * n * inner + i;
      int64_t best = 0;
      T best_value = row[0];
      for (int64_t k = 1; k < n; ++k) {
        const T v = row[k * inner];
        bool take;
        if constexpr (std::is_floating_point_v<T>) {
          const bool best_nan = std::isnan(best_value);
          if (std::isnan(v)) {
            take = !best_nan || last;
          } else {
            take = !best_nan && (last ? v >= best_value : v > best_value);
          }
        } else {
          take = last ? v >= best_value : v > best_value;
        }
        if (take) {
          best = k;
          best_value = v;
        }
      }
      py[o * inner + i] = best;
    }
  }
}

// ---- ReduceMean helpers ----------------------------------------------------------

// The axes to reduce, from input 1 or the attribute, as a mask (bit d is axis
// d); `any` is false when neither gives an axis.
Status reduce_axes(PrepareContext& ctx, const Shape& shape, uint64_t& mask, bool& any) {
  std::vector<int64_t> axes;
  if (ctx.inputs.size() > 1 && ctx.inputs[1].present()) {
    const TensorInfo& info = ctx.inputs[1];
    if (info.dtype != DType::kInt64) {
      return ctx.error("axes has dtype " + std::string(dtype_name(info.dtype)) +
                       ", expected int64");
    }
    if (info.shape.size() != 1) {
      return ctx.error("axes has shape " + shape_to_string(info.shape) + ", expected 1-D");
    }
    if (info.constant == nullptr) {
      return ctx.error("axes must be constant at plan time (it decides the output shape)");
    }
    for (int64_t j = 0; j < info.constant->num_elements(); ++j) {
      axes.push_back(info.constant->data<int64_t>()[j]);
    }
  } else {
    axes = ctx.node.attributes.get_ints("axes", {});
  }
  const auto rank = static_cast<int64_t>(shape.size());
  mask = 0;
  for (int64_t axis : axes) {
    NNFI_RETURN_IF_ERROR(check_axis(ctx, axis, shape));
    if (axis < 0) axis += rank;
    if (mask & (uint64_t{1} << axis)) {
      return ctx.error("axis " + std::to_string(axis) + " is listed twice in axes");
    }
    mask |= uint64_t{1} << axis;
  }
  any = !axes.empty();
  return Status::ok();
}

// Reads back what prepare decided: the mask of reduced axes (all when none
// given, none with noop_with_empty_axes=1), without touching the heap.
uint64_t eval_reduce_mask(const EvalContext& ctx, const Shape& shape) {
  const auto rank = static_cast<int64_t>(shape.size());
  uint64_t mask = 0;
  bool any = false;
  auto add = [&](int64_t axis) {
    mask |= uint64_t{1} << (axis < 0 ? axis + rank : axis);
    any = true;
  };
  if (ctx.inputs.size() > 1 && ctx.inputs[1] != nullptr) {
    const Tensor& axes = *ctx.inputs[1];
    for (int64_t j = 0; j < axes.num_elements(); ++j) add(axes.data<int64_t>()[j]);
  } else {
    auto it = ctx.node.attributes.all().find("axes");
    if (it != ctx.node.attributes.all().end()) {
      if (const auto* list = std::get_if<std::vector<int64_t>>(&it->second)) {
        for (int64_t axis : *list) add(axis);
      } else if (const auto* one = std::get_if<int64_t>(&it->second)) {
        add(*one);
      }
    }
  }
  if (!any) {
    if (ctx.node.attributes.get_int("noop_with_empty_axes", 0) != 0) return 0;
    mask = rank >= 64 ? ~uint64_t{0} : (uint64_t{1} << rank) - 1;
  }
  return mask;
}

}  // namespace

// ---- Gather ----------------------------------------------------------------------

Status prepare_Gather(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 2));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  const TensorInfo& data = ctx.inputs[0];
  const TensorInfo& indices = ctx.inputs[1];
  if (dtype_size(data.dtype) == 0) return ctx.error("data has no dtype");
  if (indices.dtype != DType::kInt32 && indices.dtype != DType::kInt64) {
    return ctx.error("indices have dtype " + std::string(dtype_name(indices.dtype)) +
                     ", expected int32 or int64");
  }
  int64_t axis = ctx.node.attributes.get_int("axis", 0);
  NNFI_RETURN_IF_ERROR(check_axis(ctx, axis, data.shape));
  if (axis < 0) axis += static_cast<int64_t>(data.shape.size());
  const int64_t n = data.shape[axis];
  if (indices.constant != nullptr) {
    for (int64_t j = 0; j < indices.constant->num_elements(); ++j) {
      int64_t index = index_at(*indices.constant, j);
      if (index < -n || index >= n) return ctx.error(gather_range_error(j, index, n));
    }
  }
  Shape out(data.shape.begin(), data.shape.begin() + axis);
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), data.shape.begin() + axis + 1, data.shape.end());
  ctx.outputs[0] = {data.dtype, std::move(out), nullptr};
  return Status::ok();
}

Status reference_Gather(EvalContext& ctx) {
  const Tensor& data = *ctx.inputs[0];
  const Tensor& indices = *ctx.inputs[1];
  const Shape& shape = data.shape();
  int64_t axis = ctx.node.attributes.get_int("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(shape.size());
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t n = shape[axis];
  const int64_t count = indices.num_elements();
  const size_t slice = static_cast<size_t>(inner) * dtype_size(data.dtype());
  const auto* src = static_cast<const std::byte*>(data.raw_data());
  auto* dst = static_cast<std::byte*>(ctx.outputs[0]->raw_data());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < count; ++j) {
      int64_t index = index_at(indices, j);
      if (index < -n || index >= n) return invalid_argument(gather_range_error(j, index, n));
      if (index < 0) index += n;
      std::memcpy(dst, src + static_cast<size_t>(o * n + index) * slice, slice);
      dst += slice;
    }
  }
  return Status::ok();
}

// ---- Cast ------------------------------------------------------------------------

Status prepare_Cast(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  const std::string to = ctx.node.attributes.get_string("to", "");
  std::optional<DType> target = cast_target(to);
  if (!target) {
    return ctx.error("attribute 'to' is '" + to +
                     "', expected one of float32, int32, int64, bool, uint8, int8");
  }
  DType from = ctx.inputs[0].dtype;
  if (!is_cast_dtype(from)) {
    return ctx.error("input has dtype " + std::string(dtype_name(from)) +
                     ", expected one of float32, int32, int64, bool, uint8, int8");
  }
  ctx.outputs[0] = {*target, ctx.inputs[0].shape, nullptr};
  return Status::ok();
}

Status reference_Cast(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  Tensor& y = *ctx.outputs[0];
  switch (x.dtype()) {
    case DType::kFloat32: return cast_from<float>(x, y);
    case DType::kInt32: return cast_from<int32_t>(x, y);
    case DType::kInt64: return cast_from<int64_t>(x, y);
    case DType::kBool: return cast_from<bool>(x, y);
    case DType::kUInt8: return cast_from<uint8_t>(x, y);
    case DType::kInt8: return cast_from<int8_t>(x, y);
    default: return internal_error("unexpected dtype " + std::string(dtype_name(x.dtype())));
  }
}

// ---- ArgMax ----------------------------------------------------------------------

Status prepare_ArgMax(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  const TensorInfo& x = ctx.inputs[0];
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kInt32 && x.dtype != DType::kInt64) {
    return ctx.error("input has dtype " + std::string(dtype_name(x.dtype)) +
                     ", expected float32, int32 or int64");
  }
  int64_t axis = ctx.node.attributes.get_int("axis", 0);
  NNFI_RETURN_IF_ERROR(check_axis(ctx, axis, x.shape));
  if (axis < 0) axis += static_cast<int64_t>(x.shape.size());
  if (x.shape[axis] == 0) {
    return ctx.error("axis " + std::to_string(axis) + " of input " + shape_to_string(x.shape) +
                     " is empty: there is no maximum");
  }
  Shape out = x.shape;
  if (ctx.node.attributes.get_int("keepdims", 1) != 0) {
    out[axis] = 1;
  } else {
    out.erase(out.begin() + axis);
  }
  ctx.outputs[0] = {DType::kInt64, std::move(out), nullptr};
  return Status::ok();
}

Status reference_ArgMax(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  Tensor& y = *ctx.outputs[0];
  int64_t axis = ctx.node.attributes.get_int("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(x.rank());
  const bool last = ctx.node.attributes.get_int("select_last_index", 0) != 0;
  switch (x.dtype()) {
    case DType::kFloat32: argmax<float>(x, y, axis, last); break;
    case DType::kInt32: argmax<int32_t>(x, y, axis, last); break;
    case DType::kInt64: argmax<int64_t>(x, y, axis, last); break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(x.dtype())));
  }
  return Status::ok();
}

// ---- ReduceMean ------------------------------------------------------------------

Status prepare_ReduceMean(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 2));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  const Shape& shape = ctx.inputs[0].shape;
  if (shape.size() > kMaxBroadcastRank) {
    return ctx.error("rank " + std::to_string(shape.size()) + " exceeds the supported maximum " +
                     std::to_string(kMaxBroadcastRank));
  }
  uint64_t mask = 0;
  bool any = false;
  NNFI_RETURN_IF_ERROR(reduce_axes(ctx, shape, mask, any));
  if (!any) {
    if (ctx.node.attributes.get_int("noop_with_empty_axes", 0) != 0) {
      ctx.outputs[0] = {DType::kFloat32, shape, nullptr};
      return Status::ok();
    }
    mask = (uint64_t{1} << shape.size()) - 1;
  }
  const bool keepdims = ctx.node.attributes.get_int("keepdims", 1) != 0;
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!(mask & (uint64_t{1} << d))) {
      out.push_back(shape[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  ctx.outputs[0] = {DType::kFloat32, std::move(out), nullptr};
  return Status::ok();
}

// Merges adjacent dims that are both kept or both reduced, then, for each
// output element in row-major order, sums its reduced elements in row-major
// order with an odometer over the reduced dims.
Status reference_ReduceMean(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const Shape& shape = x.shape();
  const uint64_t mask = eval_reduce_mask(ctx, shape);
  const float* px = x.data<float>();
  float* py = ctx.outputs[0]->data<float>();
  // Merged dims, outermost first, with their input strides.
  std::array<int64_t, kMaxBroadcastRank> dims{};
  std::array<int64_t, kMaxBroadcastRank> strides{};
  std::array<bool, kMaxBroadcastRank> reduced{};
  size_t rank = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    const bool r = (mask >> d) & 1;
    if (shape[d] == 1) continue;  // neither adds elements nor changes order
    if (rank > 0 && reduced[rank - 1] == r) {
      dims[rank - 1] *= shape[d];
    } else {
      dims[rank] = shape[d];
      reduced[rank] = r;
      ++rank;
    }
  }
  int64_t stride = 1;
  for (size_t k = rank; k-- > 0;) {
    strides[k] = stride;
    stride *= dims[k];
  }
  // Split into kept (output) and reduced dims, each keeping its order.
  std::array<int64_t, kMaxBroadcastRank> kept_dims{}, kept_strides{};
  std::array<int64_t, kMaxBroadcastRank> red_dims{}, red_strides{};
  size_t kept_rank = 0;
  size_t red_rank = 0;
  int64_t out_count = 1;
  int64_t red_count = 1;
  for (size_t k = 0; k < rank; ++k) {
    if (reduced[k]) {
      red_dims[red_rank] = dims[k];
      red_strides[red_rank++] = strides[k];
      red_count *= dims[k];
    } else {
      kept_dims[kept_rank] = dims[k];
      kept_strides[kept_rank++] = strides[k];
      out_count *= dims[k];
    }
  }
  // The innermost reduced dim is walked by a plain loop.
  const int64_t run = red_rank > 0 ? red_dims[red_rank - 1] : 1;
  const int64_t run_stride = red_rank > 0 ? red_strides[red_rank - 1] : 0;
  const size_t outer_red = red_rank > 0 ? red_rank - 1 : 0;
  const int64_t runs = run == 0 ? 0 : red_count / run;
  std::array<int64_t, kMaxBroadcastRank> out_counter{};
  int64_t out_base = 0;
  for (int64_t o = 0; o < out_count; ++o) {
    double sum = 0.0;
    std::array<int64_t, kMaxBroadcastRank> red_counter{};
    int64_t red_base = 0;
    for (int64_t r = 0; r < runs; ++r) {
      const float* p = px + out_base + red_base;
      for (int64_t j = 0; j < run; ++j) sum += p[j * run_stride];
      for (size_t k = outer_red; k-- > 0;) {  // odometer over outer reduced dims
        red_base += red_strides[k];
        if (++red_counter[k] < red_dims[k]) break;
        red_base -= red_strides[k] * red_dims[k];
        red_counter[k] = 0;
      }
    }
    py[o] = static_cast<float>(sum / static_cast<double>(red_count));
    for (size_t k = kept_rank; k-- > 0;) {  // odometer over kept dims
      out_base += kept_strides[k];
      if (++out_counter[k] < kept_dims[k]) break;
      out_base -= kept_strides[k] * kept_dims[k];
      out_counter[k] = 0;
    }
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
