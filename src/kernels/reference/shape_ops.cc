// Reference kernels: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout,
// Shape (copies under a new shape), and Transpose, Concat, Pad (element moves;
// shape_ops_move.cc). They work on any dtype: they move bytes, never values,
// so a faulty bit pattern (NaN payloads included) passes through unchanged.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reference/shape_ops_util.h"

namespace nnfi::kernels {
namespace {

// Output 0 takes input 0's bytes (same element count, prepare made sure).
Status copy_input_to_output(EvalContext& ctx) {
  const Tensor& in = *ctx.inputs[0];
  Tensor& out = *ctx.outputs[0];
  if (out.raw_data() != in.raw_data() && in.num_bytes() > 0) {
    std::memcpy(out.raw_data(), in.raw_data(), in.num_bytes());
  }
  return Status::ok();
}

// Axes from input `index` (constant at plan time) or, absent, from the
// attribute "axes" (opset < 13). *given is false when neither exists.
Status read_axes(const PrepareContext& ctx, size_t index, std::vector<int64_t>* axes, bool* given) {
  *given = false;
  if (ctx.inputs.size() > index && ctx.inputs[index].present()) {
    NNFI_RETURN_IF_ERROR(read_constant_ints(ctx, index, "axes", axes));
    *given = true;
  } else if (ctx.node.attributes.has("axes")) {
    *axes = ctx.node.attributes.get_ints("axes");
    *given = true;
  }
  return Status::ok();
}

}  // namespace

Status prepare_Reshape(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 2));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  std::vector<int64_t> requested;
  NNFI_RETURN_IF_ERROR(read_constant_ints(ctx, 1, "shape", &requested));
  const Shape& in = ctx.inputs[0].shape;
  const bool allow_zero = ctx.node.attributes.get_int("allowzero", 0) != 0;
  Shape out(requested.size());
  int64_t inferred = -1;
  int64_t known = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    int64_t dim = requested[i];
    if (dim == 0 && !allow_zero) {
      if (i >= in.size()) {
        return ctx.error("shape " + shape_to_string(requested) + " copies dim " +
                         std::to_string(i) + " (0) but data " + shape_to_string(in) + " has only " +
                         std::to_string(in.size()) + " dims");
      }
      dim = in[i];
    }
    if (dim == -1) {
      if (inferred >= 0) {
        return ctx.error("shape " + shape_to_string(requested) +
                         " has more than one -1, expected at most one dim to infer");
      }
      inferred = static_cast<int64_t>(i);
      continue;
    }
    if (dim < 0) {
      return ctx.error("shape " + shape_to_string(requested) + " has dim " + std::to_string(dim) +
                       ", expected >= -1");
    }
    out[i] = dim;
    known *= dim;
  }
  const int64_t total = shape_num_elements(in);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0) {
      return ctx.error("cannot infer the -1 in shape " + shape_to_string(requested) + " for data " +
                       shape_to_string(in) + " (" + std::to_string(total) + " elements)");
    }
    out[inferred] = total / known;
  } else if (known != total) {
    return ctx.error("shape " + shape_to_string(requested) + " gives " + shape_to_string(out) +
                     " (" + std::to_string(known) + " elements), expected " +
                     std::to_string(total) + " elements like data " + shape_to_string(in));
  }
  ctx.outputs[0] = {ctx.inputs[0].dtype, out, nullptr};
  return Status::ok();
}

Status reference_Reshape(EvalContext& ctx) { return copy_input_to_output(ctx); }

Status prepare_Flatten(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  const Shape& in = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(in.size());
  int64_t axis = ctx.node.attributes.get_int("axis", 1);
  if (axis < -rank || axis > rank) {
    return ctx.error("axis " + std::to_string(axis) + " for X of shape " + shape_to_string(in) +
                     ", expected in [" + std::to_string(-rank) + ", " + std::to_string(rank) + "]");
  }
  if (axis < 0) axis += rank;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : inner) *= in[d];
  ctx.outputs[0] = {ctx.inputs[0].dtype, Shape{outer, inner}, nullptr};
  return Status::ok();
}

Status reference_Flatten(EvalContext& ctx) { return copy_input_to_output(ctx); }

Status prepare_Squeeze(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 2));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  const Shape& in = ctx.inputs[0].shape;
  std::vector<int64_t> axes;
  bool given = false;
  NNFI_RETURN_IF_ERROR(read_axes(ctx, 1, &axes, &given));
  std::vector<bool> drop(in.size(), false);
  if (!given) {
    for (size_t d = 0; d < in.size(); ++d) drop[d] = in[d] == 1;
  } else {
    NNFI_RETURN_IF_ERROR(normalize_axes(ctx, in.size(), &axes));
    for (int64_t axis : axes) {
      if (in[axis] != 1) {
        return ctx.error("Squeeze axis " + std::to_string(axis) + " of X " + shape_to_string(in) +
                         " has size " + std::to_string(in[axis]) + ", expected 1");
      }
      drop[axis] = true;
    }
  }
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!drop[d]) out.push_back(in[d]);
  }
  ctx.outputs[0] = {ctx.inputs[0].dtype, out, nullptr};
  return Status::ok();
}

Status reference_Squeeze(EvalContext& ctx) { return copy_input_to_output(ctx); }

Status prepare_Unsqueeze(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 2));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  const Shape& in = ctx.inputs[0].shape;
  std::vector<int64_t> axes;
  bool given = false;
  NNFI_RETURN_IF_ERROR(read_axes(ctx, 1, &axes, &given));
  if (!given) return ctx.error("Unsqueeze needs axes (2nd input or attribute), none given");
  const size_t out_rank = in.size() + axes.size();
  NNFI_RETURN_IF_ERROR(normalize_axes(ctx, out_rank, &axes));
  std::vector<bool> inserted(out_rank, false);
  for (int64_t axis : axes) inserted[axis] = true;
  Shape out;
  size_t next = 0;
  for (size_t d = 0; d < out_rank; ++d) out.push_back(inserted[d] ? 1 : in[next++]);
  ctx.outputs[0] = {ctx.inputs[0].dtype, out, nullptr};
  return Status::ok();
}

Status reference_Unsqueeze(EvalContext& ctx) { return copy_input_to_output(ctx); }

Status prepare_Identity(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  ctx.outputs[0] = {ctx.inputs[0].dtype, ctx.inputs[0].shape, nullptr};
  return Status::ok();
}

Status reference_Identity(EvalContext& ctx) { return copy_input_to_output(ctx); }

Status prepare_Dropout(PrepareContext& ctx) {
  // data, ratio?, training_mode?: inference only, so ratio is ignored.
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 3));
  if (ctx.outputs.empty() || ctx.outputs.size() > 2) {
    return ctx.error("expected 1 or 2 outputs (output, mask), got " +
                     std::to_string(ctx.outputs.size()));
  }
  if (ctx.inputs.size() == 3 && ctx.inputs[2].present()) {
    const Tensor* training = ctx.inputs[2].constant;
    if (training == nullptr || training->num_elements() != 1) {
      return ctx.error("training_mode must be a constant scalar, expected false (inference)");
    }
    if (training->element_as_int64(0) != 0) {
      return unsupported("Dropout with training_mode true is not supported (inference only)");
    }
  }
  ctx.outputs[0] = {ctx.inputs[0].dtype, ctx.inputs[0].shape, nullptr};
  if (ctx.outputs.size() == 2) ctx.outputs[1] = {DType::kBool, ctx.inputs[0].shape, nullptr};
  return Status::ok();
}

Status reference_Dropout(EvalContext& ctx) {
  NNFI_RETURN_IF_ERROR(copy_input_to_output(ctx));
  if (ctx.outputs.size() == 2 && ctx.outputs[1] != nullptr) {
    Tensor& mask = *ctx.outputs[1];
    bool* data = mask.data<bool>();
    std::fill(data, data + mask.num_elements(), true);
  }
  return Status::ok();
}

Status prepare_Shape(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  int64_t start = 0;
  int64_t end = 0;
  shape_range(ctx.node, static_cast<int64_t>(ctx.inputs[0].shape.size()), &start, &end);
  ctx.outputs[0] = {DType::kInt64, Shape{end - start}, nullptr};
  return Status::ok();
}

Status reference_Shape(EvalContext& ctx) {
  const Shape& shape = ctx.inputs[0]->shape();
  int64_t start = 0;
  int64_t end = 0;
  shape_range(ctx.node, static_cast<int64_t>(shape.size()), &start, &end);
  int64_t* out = ctx.outputs[0]->data<int64_t>();
  for (int64_t d = start; d < end; ++d) out[d - start] = shape[d];
  return Status::ok();
}

}  // namespace nnfi::kernels
