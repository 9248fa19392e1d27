// Converters for TF's shape ops and reductions: Reshape, Squeeze, ExpandDims,
// ConcatV2, Pack, Pad(V2), MirrorPad, Transpose, Shape, StridedSlice, Fill,
// Mean, Sum, Max. Axes, permutations, paddings and slice bounds must be
// constants at import (after folding); everything on constants folds there.
#include <cstring>
#include <limits>

#include "import/tf/tf_convert.h"

namespace nnfi::tf_import {
namespace {

constexpr int64_t kMaxIndex = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinIndex = std::numeric_limits<int64_t>::min();

// An IR op that another issue adds to op_list.inc; looked up by name so that
// this file builds with or without it.
Expected<OpType> ir_op(const char* name) {
  std::optional<OpType> op = op_type_from_name(name);
  if (!op) return unsupported(std::string("needs the IR op ") + name + ", which nnfi lacks");
  return *op;
}

Status convert_reshape(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  Attributes attributes;
  attributes.set("allowzero", int64_t{1});  // TF's 0 is a zero-sized dim, never "copy"
  return ctx.emit(OpType::kReshape, {ctx.input(0), ctx.input(1)}, attributes);
}

Status convert_squeeze(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  std::vector<int64_t> axes = ctx.attr_ints("squeeze_dims", ctx.attr_ints("axis"));
  if (axes.empty()) return ctx.emit(OpType::kSqueeze, {ctx.input(0)});
  return ctx.emit(OpType::kSqueeze, {ctx.input(0), ctx.int64_constant("axes", axes)});
}

Status convert_expand_dims(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> dim, ctx.constant_ints(1, "dim"));
  if (dim.size() != 1) {
    return invalid_argument("dim has " + std::to_string(dim.size()) + " values, expected 1");
  }
  return ctx.emit(OpType::kUnsqueeze, {ctx.input(0), ctx.int64_constant("axes", dim)});
}

// ConcatV2: values..., axis. Concat (v1): axis, values...
Status convert_concat(ConvertContext& ctx, bool axis_last) {
  if (ctx.num_inputs() < 2) return ctx.expect_inputs(2, 2);
  const size_t axis_input = axis_last ? ctx.num_inputs() - 1 : 0;
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> axis, ctx.constant_ints(axis_input, "axis"));
  if (axis.size() != 1) {
    return invalid_argument("axis has " + std::to_string(axis.size()) + " values, expected 1");
  }
  std::vector<ValueId> values = ctx.inputs();
  values.erase(values.begin() + static_cast<std::ptrdiff_t>(axis_input));
  Attributes attributes;
  attributes.set("axis", axis[0]);
  return ctx.emit(OpType::kConcat, values, attributes);
}

Status convert_concat_v2(ConvertContext& ctx) { return convert_concat(ctx, true); }
Status convert_concat_v1(ConvertContext& ctx) { return convert_concat(ctx, false); }

// Pack = Unsqueeze each value at `axis` (helpers), then Concat.
Status convert_pack(ConvertContext& ctx) {
  if (ctx.num_inputs() < 1) return ctx.expect_inputs(1, 1);
  const int64_t axis = ctx.attr_int("axis", 0);
  ValueId axes = ctx.int64_constant("axes", {axis});
  if (ctx.num_inputs() == 1) return ctx.emit(OpType::kUnsqueeze, {ctx.input(0), axes});
  std::vector<ValueId> expanded;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    NNFI_ASSIGN_OR_RETURN(ValueId value, ctx.helper(OpType::kUnsqueeze, {ctx.input(i), axes}, {},
                                                    "expand_" + std::to_string(i)));
    expanded.push_back(value);
  }
  Attributes attributes;
  attributes.set("axis", axis);
  return ctx.emit(OpType::kConcat, expanded, attributes);
}

// paddings (rank, 2) -> the IR's pads (begin..., end...).
Expected<ValueId> pads_input(ConvertContext& ctx) {
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> paddings, ctx.constant_ints(1, "paddings"));
  const Tensor* tensor = ctx.constant(1);
  if (tensor->rank() != 2 || tensor->dim(1) != 2) {
    return invalid_argument("paddings has shape " + shape_to_string(tensor->shape()) +
                            ", expected (rank, 2)");
  }
  const size_t rank = paddings.size() / 2;
  std::vector<int64_t> pads(2 * rank);
  for (size_t d = 0; d < rank; ++d) {
    pads[d] = paddings[2 * d];
    pads[rank + d] = paddings[2 * d + 1];
  }
  return ctx.int64_constant("pads", pads);
}

Status convert_pad(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, ctx.op() == "PadV2" ? 3 : 2));
  NNFI_ASSIGN_OR_RETURN(ValueId pads, pads_input(ctx));
  std::vector<ValueId> inputs = {ctx.input(0), pads};
  if (ctx.num_inputs() == 3) inputs.push_back(ctx.input(2));
  return ctx.emit(OpType::kPad, inputs);
}

Status convert_mirror_pad(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  const std::string mode = ctx.attr_string("mode", "");
  if (mode != "REFLECT") {
    return unsupported("mode '" + mode + "' is not supported, expected REFLECT");
  }
  NNFI_ASSIGN_OR_RETURN(ValueId pads, pads_input(ctx));
  Attributes attributes;
  attributes.set("mode", std::string("reflect"));
  return ctx.emit(OpType::kPad, {ctx.input(0), pads}, attributes);
}

Status convert_transpose(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ctx.constant_ints(1, "perm"));
  Attributes attributes;
  attributes.set("perm", perm);
  return ctx.emit(OpType::kTranspose, {ctx.input(0)}, attributes);
}

// The IR's Shape gives int64; TF's default out_type is int32.
Status convert_shape(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  const int out_type = ctx.attr_type("out_type", tf::DT_INT32);
  if (out_type == tf::DT_INT64) return ctx.emit(OpType::kShape, {ctx.input(0)});
  if (out_type != tf::DT_INT32) {
    return unsupported("out_type " + tf_dtype_name(out_type) + ", expected DT_INT32 or DT_INT64");
  }
  NNFI_ASSIGN_OR_RETURN(ValueId shape, ctx.helper(OpType::kShape, {ctx.input(0)}, {}, "shape"));
  Attributes attributes;
  attributes.set("to", std::string("int32"));
  return ctx.emit(OpType::kCast, {shape}, attributes);
}

// StridedSlice = Slice, then Squeeze (shrink_axis_mask) and Unsqueeze
// (new_axis_mask) helpers where needed. Spec entries after an ellipsis map to
// negative axes, so the input's rank need not be known.
Status convert_strided_slice(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(4, 4));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> begin, ctx.constant_ints(1, "begin"));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> end, ctx.constant_ints(2, "end"));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> strides, ctx.constant_ints(3, "strides"));
  const size_t n = begin.size();
  if (end.size() != n || strides.size() != n || n > 64) {
    return invalid_argument("begin, end and strides have " + std::to_string(begin.size()) + ", " +
                            std::to_string(end.size()) + " and " + std::to_string(strides.size()) +
                            " values, expected the same count (at most 64)");
  }
  const auto bits = [&](const char* name) { return static_cast<uint64_t>(ctx.attr_int(name, 0)); };
  const uint64_t begin_mask = bits("begin_mask"), end_mask = bits("end_mask");
  const uint64_t ellipsis_mask = bits("ellipsis_mask"), new_axis_mask = bits("new_axis_mask");
  const uint64_t shrink_mask = bits("shrink_axis_mask");
  auto is = [](uint64_t mask, size_t i) { return ((mask >> i) & 1) != 0; };
  size_t ellipsis = n;
  for (size_t i = 0; i < n; ++i) {
    if (!is(ellipsis_mask, i)) continue;
    if (ellipsis != n) return invalid_argument("ellipsis_mask has more than one bit set");
    ellipsis = i;
  }
  // Input axis of each spec entry; after the ellipsis, counted from the back.
  size_t after = 0;
  for (size_t i = ellipsis + 1; i < n; ++i) {
    if (is(new_axis_mask, i)) {
      return unsupported("new_axis_mask after an ellipsis is not supported");
    }
    ++after;
  }
  std::vector<int64_t> starts, ends, axes, steps, squeeze, unsqueeze;
  int64_t axis = 0;
  int64_t out_position = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i == ellipsis) {
      axis = -static_cast<int64_t>(after);
      continue;
    }
    if (is(new_axis_mask, i)) {
      unsqueeze.push_back(out_position++);
      continue;
    }
    const int64_t stride = strides[i];
    if (stride == 0) return invalid_argument("strides has a 0 at position " + std::to_string(i));
    if (is(shrink_mask, i)) {
      const int64_t start = is(begin_mask, i) ? 0 : begin[i];
      starts.push_back(start);
      ends.push_back(start == -1 ? kMaxIndex : start + 1);
      steps.push_back(1);
      squeeze.push_back(axis);
    } else {
      starts.push_back(is(begin_mask, i) ? (stride > 0 ? 0 : kMaxIndex) : begin[i]);
      ends.push_back(is(end_mask, i) ? (stride > 0 ? kMaxIndex : kMinIndex) : end[i]);
      steps.push_back(stride);
      ++out_position;
    }
    axes.push_back(axis++);
  }
  // The last stage keeps the TF name; earlier ones are helpers.
  const int stages =
      (starts.empty() ? 0 : 1) + (squeeze.empty() ? 0 : 1) + (unsqueeze.empty() ? 0 : 1);
  if (stages == 0) return ctx.emit(OpType::kIdentity, {ctx.input(0)});
  int stage = 0;
  ValueId value = ctx.input(0);
  auto run = [&](OpType op, std::vector<ValueId> inputs, const char* suffix) -> Status {
    if (++stage == stages) return ctx.emit(op, std::move(inputs));
    NNFI_ASSIGN_OR_RETURN(value, ctx.helper(op, std::move(inputs), {}, suffix));
    return Status::ok();
  };
  if (!starts.empty()) {
    NNFI_ASSIGN_OR_RETURN(OpType slice, ir_op("Slice"));
    NNFI_RETURN_IF_ERROR(
        run(slice,
            {value, ctx.int64_constant("starts", starts), ctx.int64_constant("ends", ends),
             ctx.int64_constant("axes", axes), ctx.int64_constant("steps", steps)},
            "slice"));
  }
  if (!squeeze.empty()) {
    NNFI_RETURN_IF_ERROR(
        run(OpType::kSqueeze, {value, ctx.int64_constant("shrink_axes", squeeze)}, "shrink"));
  }
  if (!unsqueeze.empty()) {
    NNFI_RETURN_IF_ERROR(
        run(OpType::kUnsqueeze, {value, ctx.int64_constant("new_axes", unsqueeze)}, "new_axis"));
  }
  return Status::ok();
}

// Fill has no IR op: it must fold (constant dims and value).
Status convert_fill(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> dims, ctx.constant_ints(0, "dims"));
  const Tensor* value = ctx.constant(1);
  if (value == nullptr) {
    return unsupported("input 1 (value) is computed at run time; nnfi needs it constant");
  }
  if (value->num_elements() != 1) {
    return invalid_argument("value has shape " + shape_to_string(value->shape()) +
                            ", expected a scalar");
  }
  int64_t count = 1;
  for (int64_t dim : dims) {
    if (dim < 0 || (dim > 0 && count > (int64_t{1} << 28) / dim)) {
      return invalid_argument("dims " + shape_to_string(dims) +
                              " are negative or ask for more than 2^28 elements");
    }
    count *= dim;
  }
  Tensor filled(value->dtype(), dims);
  const size_t element = dtype_size(value->dtype());
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(static_cast<std::byte*>(filled.raw_data()) + static_cast<size_t>(i) * element,
                value->raw_data(), element);
  }
  return ctx.output_constant(std::move(filled));
}

// Mean, Sum, Max: axes (scalar or vector, constant), keep_dims. TF reduces
// nothing for empty axes.
Status convert_reduce(ConvertContext& ctx, const char* ir_name) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  NNFI_ASSIGN_OR_RETURN(OpType op, ir_op(ir_name));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ctx.constant_ints(1, "reduction_indices"));
  Attributes attributes;
  attributes.set("keepdims", int64_t{ctx.attr_bool("keep_dims", false) ? 1 : 0});
  attributes.set("noop_with_empty_axes", int64_t{1});
  return ctx.emit(op, {ctx.input(0), ctx.int64_constant("axes", axes)}, attributes);
}

Status convert_mean(ConvertContext& ctx) { return convert_reduce(ctx, "ReduceMean"); }
Status convert_sum(ConvertContext& ctx) { return convert_reduce(ctx, "ReduceSum"); }
Status convert_max(ConvertContext& ctx) { return convert_reduce(ctx, "ReduceMax"); }

}  // namespace

std::vector<TfOp> shape_tf_ops() {
  return {
      {"Reshape", &convert_reshape, 1},
      {"Squeeze", &convert_squeeze, 1},
      {"ExpandDims", &convert_expand_dims, 1},
      {"ConcatV2", &convert_concat_v2, 1},
      {"Concat", &convert_concat_v1, 1},
      {"Pack", &convert_pack, 1},
      {"Pad", &convert_pad, 1},
      {"PadV2", &convert_pad, 1},
      {"MirrorPad", &convert_mirror_pad, 1},
      {"Transpose", &convert_transpose, 1},
      {"Shape", &convert_shape, 1},
      {"StridedSlice", &convert_strided_slice, 1},
      {"Fill", &convert_fill, 1},
      {"Mean", &convert_mean, 1},
      {"Sum", &convert_sum, 1},
      {"Max", &convert_max, 1},
  };
}

}  // namespace nnfi::tf_import
