// Reference kernels: ReduceSum and ReduceMax (ONNX semantics: axes as the
// constant 2nd input (ReduceSum opset 13+, ReduceMax opset 18+) or as the
// attribute `axes` (older opsets); keepdims (1); noop_with_empty_axes (0):
// no axes reduce everything unless it is 1). float32, int32 and int64.
//
// Each output element reduces its inputs in row-major order (float32 sums in
// double), so results do not depend on the batch. ReduceMax propagates NaN:
// a fault that makes one input NaN makes the maximum NaN.
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reference/shape_ops_util.h"

namespace nnfi::kernels {
namespace {

bool is_reduce_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kInt32 || dtype == DType::kInt64;
}

// Bit d set: axis d is reduced. From the axes input (constant at plan time)
// or the attribute; none: every axis, or none with noop_with_empty_axes.
Status prepare_mask(const PrepareContext& ctx, size_t rank, uint32_t* mask) {
  std::vector<int64_t> axes;
  if (ctx.inputs.size() > 1 && ctx.inputs[1].present()) {
    NNFI_RETURN_IF_ERROR(read_constant_ints(ctx, 1, "axes", &axes));
  } else {
    axes = ctx.node.attributes.get_ints("axes", {});
  }
  NNFI_RETURN_IF_ERROR(normalize_axes(ctx, rank, &axes));
  *mask = 0;
  for (int64_t axis : axes) *mask |= uint32_t{1} << axis;
  if (axes.empty() && ctx.node.attributes.get_int("noop_with_empty_axes", 0) == 0) {
    *mask = (uint32_t{1} << rank) - 1;
  }
  return Status::ok();
}

// The same mask at eval time, without allocating (prepare checked the axes).
uint32_t eval_mask(const EvalContext& ctx, size_t rank) {
  uint32_t mask = 0;
  bool any = false;
  auto add = [&](int64_t axis) {
    mask |= uint32_t{1} << (axis < 0 ? axis + static_cast<int64_t>(rank) : axis);
    any = true;
  };
  if (ctx.inputs.size() > 1 && ctx.inputs[1] != nullptr) {
    const Tensor& axes = *ctx.inputs[1];
    for (int64_t j = 0; j < axes.num_elements(); ++j) add(axes.element_as_int64(j));
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
  if (!any && ctx.node.attributes.get_int("noop_with_empty_axes", 0) == 0) {
    mask = (uint32_t{1} << rank) - 1;
  }
  return mask;
}

Status prepare_reduce(PrepareContext& ctx, bool needs_elements) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 2));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  const TensorInfo& x = ctx.inputs[0];
  if (!is_reduce_dtype(x.dtype)) {
    return ctx.error("input 0 has dtype " + std::string(dtype_name(x.dtype)) +
                     ", expected float32, int32 or int64");
  }
  if (x.shape.size() > kMaxMoveRank) {
    return unsupported("rank " + std::to_string(x.shape.size()) +
                       " is not supported, expected at most " + std::to_string(kMaxMoveRank));
  }
  uint32_t mask = 0;
  NNFI_RETURN_IF_ERROR(prepare_mask(ctx, x.shape.size(), &mask));
  const bool keepdims = ctx.node.attributes.get_int("keepdims", 1) != 0;
  Shape out;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    if (!((mask >> d) & 1)) {
      out.push_back(x.shape[d]);
      continue;
    }
    if (needs_elements && x.shape[d] == 0) {
      return ctx.error("axis " + std::to_string(d) + " of input " + shape_to_string(x.shape) +
                       " is empty: there is no maximum");
    }
    if (keepdims) out.push_back(1);
  }
  ctx.outputs[0] = {x.dtype, std::move(out), nullptr};
  return Status::ok();
}

// The input's kept and reduced dims, each in order, with their strides.
struct ReduceGeometry {
  size_t kept_rank = 0, red_rank = 0;
  int64_t kept_dims[kMaxMoveRank] = {}, kept_strides[kMaxMoveRank] = {};
  int64_t red_dims[kMaxMoveRank] = {}, red_strides[kMaxMoveRank] = {};
  int64_t out_count = 1, red_count = 1;
};

ReduceGeometry reduce_geometry(const Shape& shape, uint32_t mask) {
  ReduceGeometry g;
  int64_t strides[kMaxMoveRank];
  row_major_strides(shape, strides);
  for (size_t d = 0; d < shape.size(); ++d) {
    if ((mask >> d) & 1) {
      g.red_dims[g.red_rank] = shape[d];
      g.red_strides[g.red_rank++] = strides[d];
      g.red_count *= shape[d];
    } else {
      g.kept_dims[g.kept_rank] = shape[d];
      g.kept_strides[g.kept_rank++] = strides[d];
      g.out_count *= shape[d];
    }
  }
  return g;
}

// For each output element (row-major), fold(init, value) over its reduced
// elements in row-major order.
template <typename T, typename Acc, typename Fold, typename Finish>
void reduce(const Tensor& x, Tensor& y, uint32_t mask, Fold fold, Finish finish) {
  const ReduceGeometry g = reduce_geometry(x.shape(), mask);
  const T* px = x.data<T>();
  T* py = y.data<T>();
  int64_t out_index[kMaxMoveRank] = {};
  int64_t out_base = 0;
  for (int64_t o = 0; o < g.out_count; ++o) {
    Acc acc{};
    int64_t red_index[kMaxMoveRank] = {};
    int64_t offset = out_base;
    for (int64_t r = 0; r < g.red_count; ++r) {
      acc = fold(acc, px[offset], r == 0);
      for (size_t k = g.red_rank; k-- > 0;) {
        offset += g.red_strides[k];
        if (++red_index[k] < g.red_dims[k]) break;
        offset -= g.red_strides[k] * g.red_dims[k];
        red_index[k] = 0;
      }
    }
    py[o] = finish(acc);
    for (size_t k = g.kept_rank; k-- > 0;) {
      out_base += g.kept_strides[k];
      if (++out_index[k] < g.kept_dims[k]) break;
      out_base -= g.kept_strides[k] * g.kept_dims[k];
      out_index[k] = 0;
    }
  }
}

template <typename T>
void reduce_sum(const Tensor& x, Tensor& y, uint32_t mask) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  reduce<T, Acc>(
      x, y, mask, [](Acc acc, T v, bool) { return acc + static_cast<Acc>(v); },
      [](Acc acc) { return static_cast<T>(acc); });
}

template <typename T>
void reduce_max(const Tensor& x, Tensor& y, uint32_t mask) {
  reduce<T, T>(
      x, y, mask,
      [](T best, T v, bool first) {
        if constexpr (std::is_floating_point_v<T>) {
          if (std::isnan(v)) return v;
          if (std::isnan(best) && !first) return best;
        }
        return first || v > best ? v : best;
      },
      [](T best) { return best; });
}

}  // namespace

Status prepare_ReduceSum(PrepareContext& ctx) { return prepare_reduce(ctx, false); }

Status reference_ReduceSum(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const uint32_t mask = eval_mask(ctx, x.rank());
  switch (x.dtype()) {
    case DType::kFloat32: reduce_sum<float>(x, *ctx.outputs[0], mask); break;
    case DType::kInt32: reduce_sum<int32_t>(x, *ctx.outputs[0], mask); break;
    case DType::kInt64: reduce_sum<int64_t>(x, *ctx.outputs[0], mask); break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(x.dtype())));
  }
  return Status::ok();
}

Status prepare_ReduceMax(PrepareContext& ctx) { return prepare_reduce(ctx, true); }

Status reference_ReduceMax(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const uint32_t mask = eval_mask(ctx, x.rank());
  switch (x.dtype()) {
    case DType::kFloat32: reduce_max<float>(x, *ctx.outputs[0], mask); break;
    case DType::kInt32: reduce_max<int32_t>(x, *ctx.outputs[0], mask); break;
    case DType::kInt64: reduce_max<int64_t>(x, *ctx.outputs[0], mask); break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(x.dtype())));
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
