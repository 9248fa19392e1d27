// Converters for TF's network ops: Conv2D, DepthwiseConv2dNative, BiasAdd,
// MatMul, BatchMatMul(V2/V3), MaxPool, AvgPool, FusedBatchNorm(V2/V3).
// TF keeps NHWC data and HWIO filters; the IR's Conv takes (O, I/group, kH,
// kW) filters whatever the data layout, so constant filters are transposed
// once at import (derived constants) and computed ones by a helper Transpose.
#include <cstring>

#include "import/tf/tf_convert.h"

namespace nnfi::tf_import {
namespace {

constexpr size_t kMaxTransposeRank = 8;

// A copy of `in` with its axes permuted: out dim d is in dim perm[d].
Expected<Tensor> transpose_tensor(const Tensor& in, const std::vector<int64_t>& perm) {
  const size_t rank = in.rank();
  if (rank > kMaxTransposeRank) {
    return unsupported("a constant of rank " + std::to_string(rank) +
                       " cannot be transposed at import (at most rank 8)");
  }
  Shape out_shape(rank);
  for (size_t d = 0; d < rank; ++d) out_shape[d] = in.dim(static_cast<size_t>(perm[d]));
  Tensor out(in.dtype(), out_shape);
  int64_t in_strides[kMaxTransposeRank] = {};
  int64_t index[kMaxTransposeRank] = {};
  int64_t stride = 1;
  for (size_t d = rank; d > 0; --d) {
    in_strides[d - 1] = stride;
    stride *= in.dim(d - 1);
  }
  const size_t element = dtype_size(in.dtype());
  const auto* src = static_cast<const std::byte*>(in.raw_data());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  for (int64_t i = 0; i < out.num_elements(); ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d) offset += index[d] * in_strides[perm[d]];
    std::memcpy(dst + static_cast<size_t>(i) * element, src + static_cast<size_t>(offset) * element,
                element);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < out_shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

// data_format: true for NHWC (TF's default), false for NCHW.
Expected<bool> channels_last(ConvertContext& ctx) {
  const std::string format = ctx.attr_string("data_format", "NHWC");
  if (format == "NHWC") return true;
  if (format == "NCHW") return false;
  return unsupported("data_format '" + format + "' is not supported, expected NHWC or NCHW");
}

// The two spatial values of a 4-value attribute (strides, ksize, dilations);
// the batch and channel values must be 1.
Expected<std::vector<int64_t>> spatial_pair(ConvertContext& ctx, const std::string& name,
                                            bool nhwc) {
  std::vector<int64_t> values = ctx.attr_ints(name, {1, 1, 1, 1});
  if (values.size() != 4) {
    return invalid_argument("attribute '" + name + "' has " + std::to_string(values.size()) +
                            " values, expected 4");
  }
  const size_t channel = nhwc ? 3 : 1;
  if (values[0] != 1 || values[channel] != 1) {
    return unsupported("attribute '" + name + "' " + shape_to_string(values) +
                       " acts on the batch or channel dim; nnfi supports spatial values only");
  }
  std::vector<int64_t> pair = nhwc ? std::vector<int64_t>{values[1], values[2]}
                                   : std::vector<int64_t>{values[2], values[3]};
  for (int64_t value : pair) {
    if (value < 1) {
      return invalid_argument("attribute '" + name + "' " + shape_to_string(values) +
                              " has a value < 1");
    }
  }
  return pair;
}

// padding SAME (extra pad at the end, = SAME_UPPER), VALID or EXPLICIT.
Status padding_attributes(ConvertContext& ctx, bool nhwc, bool allow_explicit,
                          Attributes* attributes) {
  const std::string padding = ctx.attr_string("padding", "");
  if (padding == "SAME") {
    attributes->set("auto_pad", std::string("SAME_UPPER"));
  } else if (padding == "VALID") {
    attributes->set("auto_pad", std::string("VALID"));
  } else if (padding == "EXPLICIT" && allow_explicit) {
    std::vector<int64_t> pads = ctx.attr_ints("explicit_paddings");
    if (pads.size() != 8) {
      return invalid_argument("explicit_paddings has " + std::to_string(pads.size()) +
                              " values, expected 8");
    }
    const size_t h = nhwc ? 1 : 2;
    const size_t c = nhwc ? 3 : 1;
    if (pads[0] != 0 || pads[1] != 0 || pads[2 * c] != 0 || pads[2 * c + 1] != 0) {
      return unsupported("explicit_paddings pad the batch or channel dim");
    }
    attributes->set("pads", std::vector<int64_t>{pads[2 * h], pads[2 * h + 2], pads[2 * h + 1],
                                                 pads[2 * h + 3]});
  } else {
    return unsupported("padding '" + padding + "' is not supported, expected SAME or VALID" +
                       (allow_explicit ? " or EXPLICIT" : ""));
  }
  return Status::ok();
}

Status convert_conv(ConvertContext& ctx, bool depthwise) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  NNFI_ASSIGN_OR_RETURN(bool nhwc, channels_last(ctx));
  Attributes attributes;
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> strides, spatial_pair(ctx, "strides", nhwc));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> dilations, spatial_pair(ctx, "dilations", nhwc));
  attributes.set("strides", strides);
  attributes.set("dilations", dilations);
  attributes.set("channels_last", int64_t{nhwc ? 1 : 0});
  NNFI_RETURN_IF_ERROR(padding_attributes(ctx, nhwc, !depthwise, &attributes));
  ValueId filter = ctx.input(1);
  if (const Tensor* hwio = ctx.constant(1)) {
    if (hwio->rank() != 4) {
      return invalid_argument("filter has shape " + shape_to_string(hwio->shape()) +
                              ", expected rank 4 (height, width, in, out)");
    }
    if (depthwise) attributes.set("group", hwio->dim(2));
    // Depthwise (kH, kW, C, M) is (kH, kW, 1, C*M): output channel c*M + m.
    auto make = [&]() -> Expected<Tensor> {
      Tensor source = *hwio;
      if (depthwise) {
        NNFI_ASSIGN_OR_RETURN(
            source, hwio->reshaped({hwio->dim(0), hwio->dim(1), 1, hwio->dim(2) * hwio->dim(3)}));
      }
      return transpose_tensor(source, {3, 2, 0, 1});
    };
    NNFI_ASSIGN_OR_RETURN(filter, ctx.builder().derived_constant(
                                      filter, depthwise ? "depthwise_oihw" : "oihw", make));
  } else {
    if (depthwise) {
      return unsupported(
          "a depthwise filter computed at run time is not supported (fold it: "
          "freeze the graph or load with constant folding)");
    }
    Attributes perm;
    perm.set("perm", std::vector<int64_t>{3, 2, 0, 1});
    NNFI_ASSIGN_OR_RETURN(filter, ctx.helper(OpType::kTranspose, {filter}, perm, "filter_oihw"));
  }
  return ctx.emit(OpType::kConv, {ctx.input(0), filter}, attributes);
}

Status convert_conv2d(ConvertContext& ctx) { return convert_conv(ctx, false); }
Status convert_depthwise(ConvertContext& ctx) { return convert_conv(ctx, true); }

Status convert_bias_add(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  NNFI_ASSIGN_OR_RETURN(bool nhwc, channels_last(ctx));
  Attributes attributes;
  attributes.set("axis", int64_t{nhwc ? -1 : 1});
  return ctx.emit(OpType::kBiasAdd, {ctx.input(0), ctx.input(1)}, attributes);
}

Status convert_matmul(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  const bool trans_a = ctx.attr_bool("transpose_a", false);
  const bool trans_b = ctx.attr_bool("transpose_b", false);
  if (!trans_a && !trans_b) return ctx.emit(OpType::kMatMul, {ctx.input(0), ctx.input(1)});
  Attributes attributes;
  attributes.set("transA", int64_t{trans_a ? 1 : 0});
  attributes.set("transB", int64_t{trans_b ? 1 : 0});
  return ctx.emit(OpType::kGemm, {ctx.input(0), ctx.input(1)}, attributes);
}

// adj_x / adj_y swap the last two dims of an operand: done at import on
// constants; computed operands would need their rank, unknown here.
Status convert_batch_matmul(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  std::vector<ValueId> operands = {ctx.input(0), ctx.input(1)};
  const char* names[] = {"adj_x", "adj_y"};
  for (size_t i = 0; i < 2; ++i) {
    if (!ctx.attr_bool(names[i], false)) continue;
    const Tensor* value = ctx.constant(i);
    if (value == nullptr) {
      return unsupported(std::string(names[i]) +
                         " on an operand computed at run time is not supported");
    }
    if (value->rank() < 2) {
      return invalid_argument("operand " + std::to_string(i) + " has shape " +
                              shape_to_string(value->shape()) + ", expected rank >= 2");
    }
    std::vector<int64_t> perm(value->rank());
    for (size_t d = 0; d < perm.size(); ++d) perm[d] = static_cast<int64_t>(d);
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    NNFI_ASSIGN_OR_RETURN(operands[i], ctx.builder().derived_constant(operands[i], "adjoint", [&] {
      return transpose_tensor(*value, perm);
    }));
  }
  return ctx.emit(OpType::kMatMul, operands);
}

Status convert_pool(ConvertContext& ctx, OpType op) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(bool nhwc, channels_last(ctx));
  Attributes attributes;
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, spatial_pair(ctx, "ksize", nhwc));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> strides, spatial_pair(ctx, "strides", nhwc));
  attributes.set("kernel_shape", kernel);
  attributes.set("strides", strides);
  attributes.set("channels_last", int64_t{nhwc ? 1 : 0});
  // TF's average divides by the window's elements inside the input.
  if (op == OpType::kAveragePool) attributes.set("count_include_pad", int64_t{0});
  NNFI_RETURN_IF_ERROR(padding_attributes(ctx, nhwc, false, &attributes));
  return ctx.emit(op, {ctx.input(0)}, attributes);
}

Status convert_max_pool(ConvertContext& ctx) { return convert_pool(ctx, OpType::kMaxPool); }
Status convert_avg_pool(ConvertContext& ctx) { return convert_pool(ctx, OpType::kAveragePool); }

Status convert_fused_batch_norm(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(5, 5));
  NNFI_ASSIGN_OR_RETURN(bool nhwc, channels_last(ctx));
  if (ctx.attr_bool("is_training", true)) {
    return unsupported(
        "is_training is true: batch statistics are a training feature; nnfi runs "
        "inference (export the graph with is_training=false)");
  }
  Attributes attributes;
  attributes.set("epsilon", ctx.attr_float("epsilon", 1e-4));
  attributes.set("axis", int64_t{nhwc ? -1 : 1});
  return ctx.emit(OpType::kBatchNormalization, ctx.inputs(), attributes);
}

}  // namespace

std::vector<TfOp> nn_tf_ops() {
  return {
      {"Conv2D", &convert_conv2d, 1},
      {"DepthwiseConv2dNative", &convert_depthwise, 1},
      {"BiasAdd", &convert_bias_add, 1},
      {"BiasAddV1", &convert_bias_add, 1},
      {"MatMul", &convert_matmul, 1},
      {"BatchMatMul", &convert_batch_matmul, 1},
      {"BatchMatMulV2", &convert_batch_matmul, 1},
      {"BatchMatMulV3", &convert_batch_matmul, 1},
      {"MaxPool", &convert_max_pool, 1},
      {"AvgPool", &convert_avg_pool, 1},
      {"FusedBatchNorm", &convert_fused_batch_norm, 5},
      {"FusedBatchNormV2", &convert_fused_batch_norm, 5},
      {"FusedBatchNormV3", &convert_fused_batch_norm, 6},
  };
}

}  // namespace nnfi::tf_import
