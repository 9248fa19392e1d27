// The table of TensorFlow ops nnfi reads, and the converters for graph
// plumbing (Const, Placeholder, variables, Identity, NoOp), elementwise ops,
// activations, Softmax, Cast, ArgMax and Equal. Network ops are in
// tf_ops_nn.cc, shape ops and reductions in tf_ops_shape.cc.
#include <unordered_map>

#include "import/tf/tf_convert.h"

namespace nnfi::tf_import {
namespace {

Status convert_const(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(0, 0));
  const tf::AttrValue* value = ctx.attr("value");
  if (value == nullptr || value->value_case() != tf::AttrValue::kTensor) {
    return invalid_argument("has no tensor attribute 'value'");
  }
  const int dtype = ctx.attr_type("dtype", value->tensor().dtype());
  if (dtype != value->tensor().dtype()) {
    return invalid_argument("attribute dtype is " + tf_dtype_name(dtype) + " but its value is " +
                            tf_dtype_name(value->tensor().dtype()));
  }
  Expected<Tensor> tensor = tensor_from_tf(value->tensor());
  if (!tensor) return tensor.status().with_context("value");
  return ctx.output_constant(std::move(tensor).value());
}

// The declared shape of a placeholder: attribute "shape", else the first of
// "_output_shapes".
Expected<Shape> placeholder_shape(ConvertContext& ctx) {
  const tf::AttrValue* shape = ctx.attr("shape");
  if (shape == nullptr || shape->value_case() != tf::AttrValue::kShape) {
    const tf::AttrValue* outputs = ctx.attr("_output_shapes");
    if (outputs == nullptr || outputs->list().shape_size() == 0) {
      return unsupported("has no shape; nnfi needs at least the rank of each input");
    }
    return shape_from_tf(outputs->list().shape(0));
  }
  Expected<Shape> result = shape_from_tf(shape->shape());
  if (!result) return result.status().with_context("attribute shape");
  return result;
}

Status convert_placeholder(ConvertContext& ctx) {
  if (!ctx.builder().is_fed(ctx.name())) {
    if (ctx.op() == "PlaceholderWithDefault") {
      NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
      return ctx.alias(ctx.input(0));
    }
    return invalid_argument("is needed by the fetches but not fed (add it to the feeds)");
  }
  NNFI_ASSIGN_OR_RETURN(DType dtype, dtype_from_tf(ctx.attr_type("dtype", tf::DT_INVALID)));
  NNFI_ASSIGN_OR_RETURN(Shape shape, placeholder_shape(ctx));
  return ctx.output_input(dtype, std::move(shape));
}

// VariableV2 / VarHandleOp: the value from the checkpoint; its declared shape
// must match.
Status convert_variable(ConvertContext& ctx) {
  Expected<Tensor> value = ctx.builder().variable_value(ctx.node());
  if (!value) return value.status();
  const tf::AttrValue* shape = ctx.attr("shape");
  if (shape != nullptr && shape->value_case() == tf::AttrValue::kShape &&
      !shape->shape().unknown_rank()) {
    Expected<Shape> declared = shape_from_tf(shape->shape());
    if (declared && shape_is_known(*declared) && *declared != value->shape()) {
      return invalid_argument("is declared with shape " + shape_to_string(*declared) +
                              " but the checkpoint holds " + shape_to_string(value->shape()));
    }
  }
  return ctx.output_constant(std::move(value).value());
}

// ReadVariableOp of a VarHandleOp (a constant here) is that constant.
Status convert_read_variable(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  if (ctx.constant(0) == nullptr) {
    return unsupported("reads a resource that is not a checkpoint variable");
  }
  return ctx.alias(ctx.input(0));
}

// Identity of a constant (a variable's "/read") is the constant itself; of a
// computed value, an Identity node (an executed op, so an injection site).
Status convert_identity(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  if (ctx.constant(0) != nullptr) return ctx.alias(ctx.input(0));
  return ctx.emit(OpType::kIdentity, {ctx.input(0)});
}

Status convert_no_op(ConvertContext&) { return Status::ok(); }

template <OpType kOp>
Status convert_binary(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  return ctx.emit(kOp, {ctx.input(0), ctx.input(1)});
}

template <OpType kOp>
Status convert_unary(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  return ctx.emit(kOp, {ctx.input(0)});
}

Status convert_square(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  return ctx.emit(OpType::kMul, {ctx.input(0), ctx.input(0)});
}

Status convert_relu6(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  Attributes attributes;
  attributes.set("min", 0.0);
  attributes.set("max", 6.0);
  return ctx.emit(OpType::kClip, {ctx.input(0)}, attributes);
}

Status convert_leaky_relu(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  Attributes attributes;
  attributes.set("alpha", ctx.attr_float("alpha", 0.2));  // TF's default, not ONNX's 0.01
  return ctx.emit(OpType::kLeakyRelu, {ctx.input(0)}, attributes);
}

// TF's Selu constants are ONNX's defaults.
Status convert_selu(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  std::optional<OpType> selu = op_type_from_name("Selu");
  if (!selu) return unsupported("needs the IR op Selu, which nnfi lacks");
  return ctx.emit(*selu, {ctx.input(0)});
}

Status convert_softmax(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  Attributes attributes;
  attributes.set("axis", int64_t{-1});
  return ctx.emit(OpType::kSoftmax, {ctx.input(0)}, attributes);
}

Status convert_cast(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(DType to, dtype_from_tf(ctx.attr_type("DstT", tf::DT_INVALID)));
  Attributes attributes;
  attributes.set("to", std::string(dtype_name(to)));
  return ctx.emit(OpType::kCast, {ctx.input(0)}, attributes);
}

// ArgMax gives int64 in the IR; TF's output_type may ask for int32.
Status convert_arg_max(ConvertContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_inputs(2, 2));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> axis, ctx.constant_ints(1, "dimension"));
  if (axis.size() != 1) {
    return invalid_argument("dimension has " + std::to_string(axis.size()) + " values, expected 1");
  }
  Attributes attributes;
  attributes.set("axis", axis[0]);
  attributes.set("keepdims", int64_t{0});
  const int out_type = ctx.attr_type("output_type", tf::DT_INT64);
  if (out_type == tf::DT_INT64) return ctx.emit(OpType::kArgMax, {ctx.input(0)}, attributes);
  if (out_type != tf::DT_INT32) {
    return unsupported("output_type " + tf_dtype_name(out_type) +
                       ", expected DT_INT32 or DT_INT64");
  }
  NNFI_ASSIGN_OR_RETURN(ValueId index,
                        ctx.helper(OpType::kArgMax, {ctx.input(0)}, attributes, "argmax"));
  Attributes cast;
  cast.set("to", std::string("int32"));
  return ctx.emit(OpType::kCast, {index}, cast);
}

}  // namespace

std::vector<TfOp> basic_tf_ops() {
  return {
      {"Const", &convert_const, 1},
      {"Placeholder", &convert_placeholder, 1},
      {"PlaceholderWithDefault", &convert_placeholder, 1},
      {"VariableV2", &convert_variable, 1},
      {"Variable", &convert_variable, 1},
      {"VarHandleOp", &convert_variable, 1},
      {"ReadVariableOp", &convert_read_variable, 1},
      {"Identity", &convert_identity, 1},
      {"StopGradient", &convert_identity, 1},
      {"Snapshot", &convert_identity, 1},
      {"NoOp", &convert_no_op, 0},
      {"Add", &convert_binary<OpType::kAdd>, 1},
      {"AddV2", &convert_binary<OpType::kAdd>, 1},
      {"Sub", &convert_binary<OpType::kSub>, 1},
      {"Mul", &convert_binary<OpType::kMul>, 1},
      {"RealDiv", &convert_binary<OpType::kDiv>, 1},
      {"Maximum", &convert_binary<OpType::kMax>, 1},
      {"Minimum", &convert_binary<OpType::kMin>, 1},
      {"Equal", &convert_binary<OpType::kEqual>, 1},
      {"Abs", &convert_unary<OpType::kAbs>, 1},
      {"Neg", &convert_unary<OpType::kNeg>, 1},
      {"Sqrt", &convert_unary<OpType::kSqrt>, 1},
      {"Rsqrt", &convert_unary<OpType::kRsqrt>, 1},
      {"Relu", &convert_unary<OpType::kRelu>, 1},
      {"Sigmoid", &convert_unary<OpType::kSigmoid>, 1},
      {"Tanh", &convert_unary<OpType::kTanh>, 1},
      {"Elu", &convert_unary<OpType::kElu>, 1},
      {"Square", &convert_square, 1},
      {"Relu6", &convert_relu6, 1},
      {"LeakyRelu", &convert_leaky_relu, 1},
      {"Selu", &convert_selu, 1},
      {"Softmax", &convert_softmax, 1},
      {"Cast", &convert_cast, 1},
      {"ArgMax", &convert_arg_max, 1},
  };
}

const TfOp* find_tf_op(const std::string& op) {
  static const std::unordered_map<std::string, TfOp> kOps = [] {
    std::unordered_map<std::string, TfOp> ops;
    for (auto list : {basic_tf_ops(), nn_tf_ops(), shape_tf_ops()}) {
      for (const TfOp& entry : list) ops.emplace(entry.name, entry);
    }
    return ops;
  }();
  auto it = kOps.find(op);
  return it == kOps.end() ? nullptr : &it->second;
}

}  // namespace nnfi::tf_import
