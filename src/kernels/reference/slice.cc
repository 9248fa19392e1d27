// Reference kernel: Slice (ONNX opset 10+ inputs data, starts, ends, axes?,
// steps?; the opset 1 attribute form starts/ends/axes too). starts, ends,
// axes and steps must be constant at plan time. Any dtype: elements move as
// raw bits, so faulty bit patterns pass through unchanged.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reference/shape_ops_util.h"

namespace nnfi::kernels {
namespace {

// Per axis of data: first index, step and output length.
struct SliceGeometry {
  int64_t start[kMaxMoveRank];
  int64_t step[kMaxMoveRank];
  int64_t out[kMaxMoveRank];
};

// Up to kMaxMoveRank integers without heap (eval allocates nothing).
struct SliceInts {
  int64_t values[kMaxMoveRank] = {};
  size_t count = 0;
  bool given = false;
};

Status store_ints(const PrepareContext* ctx, const std::vector<int64_t>& from, const char* name,
                  SliceInts* to) {
  if (from.size() > kMaxMoveRank) {
    return ctx->error(std::string(name) + " has " + std::to_string(from.size()) +
                      " values, expected at most one per axis of data");
  }
  std::copy(from.begin(), from.end(), to->values);
  to->count = from.size();
  to->given = true;
  return Status::ok();
}

// The integers of input `index` (constant at plan time) or of the attribute
// `name` (opset 1 form). Prepare (ctx) checks; eval (tensor, node) trusts it.
Status prepare_ints(const PrepareContext& ctx, size_t index, const char* name, SliceInts* to) {
  if (ctx.inputs.size() > index && ctx.inputs[index].present()) {
    std::vector<int64_t> values;
    NNFI_RETURN_IF_ERROR(read_constant_ints(ctx, index, name, &values));
    return store_ints(&ctx, values, name, to);
  }
  if (ctx.node.attributes.has(name)) {
    return store_ints(&ctx, ctx.node.attributes.get_ints(name), name, to);
  }
  return Status::ok();
}

void eval_ints(const EvalContext& ctx, size_t index, const char* name, SliceInts* to) {
  if (ctx.inputs.size() > index && ctx.inputs[index] != nullptr) {
    const Tensor& tensor = *ctx.inputs[index];
    to->count = static_cast<size_t>(tensor.num_elements());
    for (size_t i = 0; i < to->count; ++i) {
      to->values[i] = tensor.element_as_int64(static_cast<int64_t>(i));
    }
    to->given = true;
  } else if (ctx.node.attributes.has(name)) {
    const auto& all = ctx.node.attributes.all();
    const auto& values = std::get<std::vector<int64_t>>(all.at(name));
    std::copy(values.begin(), values.end(), to->values);
    to->count = values.size();
    to->given = true;
  }
}

// ONNX's clamping: negative starts/ends count from the back; with a positive
// step start and end clamp to [0, dim], with a negative one to [0, dim-1]
// and [-1, dim-1].
void clamp_range(int64_t dim, int64_t step, int64_t* start, int64_t* length) {
  int64_t s = *start;
  int64_t e = *length;  // the end on entry
  if (dim == 0) {
    *start = 0;
    *length = 0;
    return;
  }
  if (s < 0) s += dim;
  if (e < 0) e += dim;
  if (step > 0) {
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    *length = e > s ? (e - s - 1) / step + 1 : 0;
  } else {
    s = std::clamp<int64_t>(s, 0, dim - 1);
    e = std::clamp<int64_t>(e, -1, dim - 1);
    // |step|, kept finite for INT64_MIN (any step past dim takes one element).
    const int64_t magnitude =
        step == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -step;
    *length = s > e ? (s - e - 1) / magnitude + 1 : 0;
  }
  *start = s;
}

// starts, ends, axes (normalised), steps -> geometry. `error` is non-null in
// prepare, where the values are checked.
Status slice_geometry(const PrepareContext* error, const Shape& in, const SliceInts& starts,
                      const SliceInts& ends, SliceInts axes, SliceInts steps,
                      SliceGeometry* geometry) {
  const size_t rank = in.size();
  const auto r = static_cast<int64_t>(rank);
  if (!axes.given) {
    axes.count = starts.count;
    for (size_t i = 0; i < axes.count; ++i) axes.values[i] = static_cast<int64_t>(i);
  }
  if (!steps.given) {
    steps.count = starts.count;
    for (size_t i = 0; i < steps.count; ++i) steps.values[i] = 1;
  }
  if (error != nullptr) {
    if (!starts.given || !ends.given) return error->error("starts and ends are required");
    if (starts.count != ends.count || axes.count != starts.count || steps.count != starts.count) {
      return error->error("starts, ends, axes and steps have " + std::to_string(starts.count) +
                          ", " + std::to_string(ends.count) + ", " + std::to_string(axes.count) +
                          " and " + std::to_string(steps.count) +
                          " values, expected the same count");
    }
    std::vector<int64_t> axis_list(axes.values, axes.values + axes.count);
    NNFI_RETURN_IF_ERROR(normalize_axes(*error, rank, &axis_list));
    for (size_t i = 0; i < steps.count; ++i) {
      if (steps.values[i] == 0) {
        return error->error("steps[" + std::to_string(i) + "] is 0, expected non-zero");
      }
    }
  }
  for (size_t d = 0; d < rank; ++d) {
    geometry->start[d] = 0;
    geometry->step[d] = 1;
    geometry->out[d] = in[d];
  }
  for (size_t i = 0; i < axes.count; ++i) {
    const int64_t axis = axes.values[i] < 0 ? axes.values[i] + r : axes.values[i];
    int64_t start = starts.values[i];
    int64_t length = ends.values[i];
    clamp_range(in[axis], steps.values[i], &start, &length);
    geometry->start[axis] = start;
    geometry->step[axis] = steps.values[i];
    geometry->out[axis] = length;
  }
  return Status::ok();
}

}  // namespace

Status prepare_Slice(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 5));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  const Shape& in = ctx.inputs[0].shape;
  if (in.size() > kMaxMoveRank) {
    return unsupported("Slice of rank " + std::to_string(in.size()) +
                       " is not supported, expected rank <= " + std::to_string(kMaxMoveRank));
  }
  if (in.empty()) return ctx.error("data is a scalar, expected rank >= 1");
  SliceInts starts, ends, axes, steps;
  NNFI_RETURN_IF_ERROR(prepare_ints(ctx, 1, "starts", &starts));
  NNFI_RETURN_IF_ERROR(prepare_ints(ctx, 2, "ends", &ends));
  NNFI_RETURN_IF_ERROR(prepare_ints(ctx, 3, "axes", &axes));
  if (ctx.inputs.size() > 4 && ctx.inputs[4].present()) {
    NNFI_RETURN_IF_ERROR(prepare_ints(ctx, 4, "steps", &steps));
  }
  SliceGeometry geometry;
  NNFI_RETURN_IF_ERROR(slice_geometry(&ctx, in, starts, ends, axes, steps, &geometry));
  ctx.outputs[0] = {ctx.inputs[0].dtype, Shape(geometry.out, geometry.out + in.size()), nullptr};
  return Status::ok();
}

Status reference_Slice(EvalContext& ctx) {
  const Tensor& in = *ctx.inputs[0];
  Tensor& out = *ctx.outputs[0];
  if (out.num_elements() == 0) return Status::ok();
  SliceInts starts, ends, axes, steps;
  eval_ints(ctx, 1, "starts", &starts);
  eval_ints(ctx, 2, "ends", &ends);
  eval_ints(ctx, 3, "axes", &axes);
  if (ctx.inputs.size() > 4 && ctx.inputs[4] != nullptr) eval_ints(ctx, 4, "steps", &steps);
  SliceGeometry geometry;
  NNFI_RETURN_IF_ERROR(slice_geometry(nullptr, in.shape(), starts, ends, axes, steps, &geometry));
  const size_t rank = in.rank();
  int64_t in_strides[kMaxMoveRank];
  row_major_strides(in.shape(), in_strides);
  const int64_t* out_shape = geometry.out;
  // Walks the output in row-major order with an odometer over its index.
  dispatch_by_size(in.dtype(), [&]<typename T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    int64_t index[kMaxMoveRank] = {};
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d) offset += geometry.start[d] * in_strides[d];
    const int64_t total = out.num_elements();
    const int64_t inner = out_shape[rank - 1];
    const int64_t inner_step = geometry.step[rank - 1] * in_strides[rank - 1];
    for (int64_t written = 0; written < total; written += inner) {
      int64_t at = offset;
      for (int64_t j = 0; j < inner; ++j, at += inner_step) *dst++ = src[at];
      // Advance the outer index (all dims but the last).
      for (size_t d = rank - 1; d-- > 0;) {
        const int64_t move = geometry.step[d] * in_strides[d];
        if (++index[d] < out_shape[d]) {
          offset += move;
          break;
        }
        offset -= move * (out_shape[d] - 1);
        index[d] = 0;
      }
    }
  });
  return Status::ok();
}

}  // namespace nnfi::kernels
