// Converters of Keras's core, activation, reshaping, merging and
// preprocessing layers (docs/keras.md lists the node each one makes).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "import/keras/keras_builder.h"

namespace nnfi::keras_import {
namespace {

using nlohmann::json;

// Keras's axis (negative from the back) as a non-negative axis of `rank`.
Expected<int64_t> normalized_axis(LayerBuilder& b, int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return b.error("axis " + std::to_string(axis) + " is out of range for inputs of rank " +
                   std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

// A float list or scalar config value (Rescaling's scale, Normalization's
// mean) as a tensor that broadcasts over `rank` dims along `axis`.
Expected<Tensor> broadcast_constant(LayerBuilder& b, const std::string& key, double fallback,
                                    int rank, int64_t axis) {
  auto it = b.config().find(key);
  if (it == b.config().end() || it->is_null())
    return Tensor::scalar<float>(static_cast<float>(fallback));
  if (it->is_number()) return Tensor::scalar<float>(it->get<float>());
  if (!it->is_array()) return b.error(key + " is neither a number nor a list");
  std::vector<float> values;
  for (const json& item : *it) {
    if (!item.is_number()) return b.error(key + " holds a non-number");
    values.push_back(item.get<float>());
  }
  if (values.size() == 1) return Tensor::scalar<float>(values[0]);
  Shape shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = static_cast<int64_t>(values.size());
  return Tensor::from_vector<float>(values, shape);
}

}  // namespace

Status convert_dense(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(int64_t units, b.get_int("units", -1));
  NNFI_RETURN_IF_ERROR(b.expect_weight_shape("kernel", {-1, units}));
  // Dense on rank > 2 multiplies along the last axis: MatMul's numpy rule.
  ValueId y =
      b.emit(OpType::kMatMul, "matmul", {b.input(0), b.constant("kernel", b.weight("kernel"))});
  if (b.has_weight("bias")) {
    NNFI_RETURN_IF_ERROR(b.expect_weight_shape("bias", {units}));
    Attributes attrs;
    attrs.set("axis", int64_t{-1});
    y = b.emit(OpType::kBiasAdd, "bias", {y, b.constant("bias", b.weight("bias"))}, attrs);
  }
  NNFI_ASSIGN_OR_RETURN(std::string activation, b.get_activation("activation"));
  NNFI_ASSIGN_OR_RETURN(y, b.activation(y, activation));
  b.set_output(y, b.rank(0));
  return Status::ok();
}

Status convert_activation_layer(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(std::string activation, b.get_activation("activation"));
  NNFI_ASSIGN_OR_RETURN(ValueId y, b.activation(b.input(0), activation));
  if (y == b.input(0)) y = b.emit(OpType::kIdentity, "identity", {y});  // linear
  b.set_output(y, b.rank(0));
  return Status::ok();
}

// Keras's relu(x, negative_slope, max_value, threshold), op for op:
//   pos = threshold != 0 ? x * (x > threshold) : (max_value == 6 ? relu6(x) : relu(x))
//   pos = clip(pos, 0, max_value)                  if max_value is set (and not done)
//   y = pos - negative_slope * relu(threshold - x) if negative_slope != 0
// with the leaky_relu shortcut when only negative_slope is set.
Status convert_relu(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(double slope, b.get_float("negative_slope", 0.0));
  NNFI_ASSIGN_OR_RETURN(double threshold, b.get_float("threshold", 0.0));
  const bool has_max = b.config().contains("max_value") && !b.config()["max_value"].is_null();
  NNFI_ASSIGN_OR_RETURN(double max_value, b.get_float("max_value", 0.0));
  const ValueId x = b.input(0);
  Attributes attrs;
  if (slope != 0.0 && !has_max && threshold == 0.0) {
    attrs.set("alpha", slope);
    b.set_output(b.emit(OpType::kLeakyRelu, "leaky_relu", {x}, attrs), b.rank(0));
    return Status::ok();
  }
  ValueId y;
  bool clip = has_max;
  if (threshold != 0.0) {
    attrs.set("alpha", threshold);
    y = b.emit(OpType::kThresholdedRelu, "thresholded_relu", {x}, attrs);
  } else if (has_max && max_value == 6.0) {
    attrs.set("min", 0.0);
    attrs.set("max", 6.0);
    y = b.emit(OpType::kClip, "relu6", {x}, attrs);
    clip = false;
  } else {
    y = b.emit(OpType::kRelu, "relu", {x});
  }
  if (clip) {
    Attributes bounds;
    bounds.set("min", 0.0);
    bounds.set("max", max_value);
    y = b.emit(OpType::kClip, "clip", {y}, bounds);
  }
  if (slope != 0.0) {
    ValueId shifted =
        threshold != 0.0 ? b.emit(OpType::kSub, "negative_input",
                                  {b.float_constant("threshold", static_cast<float>(threshold)), x})
                         : b.emit(OpType::kNeg, "negative_input", {x});
    ValueId negative = b.emit(OpType::kRelu, "negative_relu", {shifted});
    ValueId scaled =
        b.emit(OpType::kMul, "negative_scale",
               {b.float_constant("negative_slope", static_cast<float>(slope)), negative});
    y = b.emit(OpType::kSub, "sub", {y, scaled});
  }
  b.set_output(y, b.rank(0));
  return Status::ok();
}

Status convert_leaky_relu(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  // Keras 2 calls it alpha, Keras 3 negative_slope; both default to 0.3.
  NNFI_ASSIGN_OR_RETURN(double alpha, b.get_float("alpha", 0.3));
  NNFI_ASSIGN_OR_RETURN(alpha, b.get_float("negative_slope", alpha));
  Attributes attrs;
  attrs.set("alpha", alpha);
  b.set_output(b.emit(OpType::kLeakyRelu, "leaky_relu", {b.input(0)}, attrs), b.rank(0));
  return Status::ok();
}

Status convert_prelu(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  // alpha has the input's shape without the batch, 1 on shared axes: it
  // broadcasts to the input as PRelu's slope.
  if (static_cast<int>(b.weight("alpha").rank()) != b.rank(0) - 1) {
    return b.error("weight 'alpha' has shape " + shape_to_string(b.weight("alpha").shape()) +
                   ", expected rank " + std::to_string(b.rank(0) - 1) +
                   " (the input's dims without the batch)");
  }
  ValueId slope = b.constant("alpha", b.weight("alpha"));
  b.set_output(b.emit(OpType::kPRelu, "prelu", {b.input(0), slope}), b.rank(0));
  return Status::ok();
}

Status convert_elu(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(double alpha, b.get_float("alpha", 1.0));
  Attributes attrs;
  attrs.set("alpha", alpha);
  b.set_output(b.emit(OpType::kElu, "elu", {b.input(0)}, attrs), b.rank(0));
  return Status::ok();
}

Status convert_softmax(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  int64_t axis = -1;
  auto it = b.config().find("axis");
  if (it != b.config().end() && it->is_array()) {
    if (it->size() != 1 || !(*it)[0].is_number_integer()) {
      return b.unsupported("softmax over several axes " + it->dump() + " is not supported");
    }
    axis = (*it)[0].get<int64_t>();
  } else {
    NNFI_ASSIGN_OR_RETURN(axis, b.get_int("axis", -1));
  }
  NNFI_ASSIGN_OR_RETURN(axis, normalized_axis(b, axis, b.rank(0)));
  Attributes attrs;
  attrs.set("axis", axis);
  b.set_output(b.emit(OpType::kSoftmax, "softmax", {b.input(0)}, attrs), b.rank(0));
  return Status::ok();
}

Status convert_thresholded_relu(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(double theta, b.get_float("theta", 1.0));
  Attributes attrs;
  attrs.set("alpha", theta);
  b.set_output(b.emit(OpType::kThresholdedRelu, "thresholded_relu", {b.input(0)}, attrs),
               b.rank(0));
  return Status::ok();
}

// Dropout, noise and regularisation layers are the identity at inference.
Status convert_identity(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  b.set_output(b.emit(OpType::kIdentity, "identity", {b.input(0)}), b.rank(0));
  return Status::ok();
}

Status convert_flatten(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  ValueId x = b.input(0);
  if (channels_first && b.rank(0) >= 3) {
    // Keras flattens channels_first data in channels_last order.
    std::vector<int64_t> perm = {0};
    for (int d = 2; d < b.rank(0); ++d) perm.push_back(d);
    perm.push_back(1);
    Attributes attrs;
    attrs.set("perm", perm);
    x = b.emit(OpType::kTranspose, "to_channels_last", {x}, attrs);
  }
  Attributes attrs;
  attrs.set("axis", int64_t{1});
  b.set_output(b.emit(OpType::kFlatten, "flatten", {x}, attrs), 2);
  return Status::ok();
}

Status convert_reshape(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  auto it = b.config().find("target_shape");
  if (it == b.config().end() || !it->is_array()) return b.error("target_shape is missing");
  std::vector<int64_t> shape = {0};  // 0 copies the batch dim
  for (const json& dim : *it) {
    if (dim.is_null()) {
      shape.push_back(-1);
    } else if (dim.is_number_integer() && (dim.get<int64_t>() > 0 || dim.get<int64_t>() == -1)) {
      shape.push_back(dim.get<int64_t>());
    } else {
      return b.error("target_shape " + it->dump() + " has a dim that is not > 0 or -1");
    }
  }
  ValueId target = b.int64_constant("shape", shape);
  b.set_output(b.emit(OpType::kReshape, "reshape", {b.input(0), target}),
               static_cast<int>(shape.size()));
  return Status::ok();
}

Status convert_permute(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> dims,
                        b.get_ints("dims", static_cast<size_t>(b.rank(0) - 1), {}));
  std::vector<int64_t> perm = {0};
  std::vector<bool> seen(static_cast<size_t>(b.rank(0)), false);
  for (int64_t d : dims) {
    if (d < 1 || d >= b.rank(0) || seen[static_cast<size_t>(d)]) {
      return b.error("dims must be a permutation of 1.." + std::to_string(b.rank(0) - 1));
    }
    seen[static_cast<size_t>(d)] = true;
    perm.push_back(d);
  }
  Attributes attrs;
  attrs.set("perm", perm);
  b.set_output(b.emit(OpType::kTranspose, "transpose", {b.input(0)}, attrs), b.rank(0));
  return Status::ok();
}

// Add, Subtract, Multiply, Average, Maximum, Minimum: pairwise in input
// order, as Keras computes them (Average divides the sum by n).
Status convert_merge(LayerBuilder& b) {
  const std::string& c = b.layer().class_name;
  NNFI_RETURN_IF_ERROR(c == "Subtract" ? b.expect_inputs(2, 2) : b.expect_inputs(2, 64));
  int rank = 0;
  for (size_t i = 0; i < b.input_count(); ++i) rank = std::max(rank, b.rank(i));
  std::vector<ValueId> inputs;
  for (size_t i = 0; i < b.input_count(); ++i) inputs.push_back(b.input(i));
  ValueId y;
  if (c == "Maximum" || c == "Minimum") {
    y = b.emit(c == "Maximum" ? OpType::kMax : OpType::kMin, c == "Maximum" ? "max" : "min",
               inputs);
  } else if (c == "Subtract") {
    y = b.emit(OpType::kSub, "sub", inputs);
  } else {
    const OpType op = c == "Multiply" ? OpType::kMul : OpType::kAdd;
    const std::string name = c == "Multiply" ? "mul" : "add";
    y = inputs[0];
    for (size_t i = 1; i < inputs.size(); ++i) {
      y = b.emit(op, i == 1 ? name : name + "_" + std::to_string(i - 1), {y, inputs[i]});
    }
    if (c == "Average") {
      y = b.emit(OpType::kDiv, "div",
                 {y, b.float_constant("count", static_cast<float>(inputs.size()))});
    }
  }
  b.set_output(y, rank);
  return Status::ok();
}

Status convert_concatenate(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 64));
  NNFI_ASSIGN_OR_RETURN(int64_t axis, b.get_int("axis", -1));
  NNFI_ASSIGN_OR_RETURN(axis, normalized_axis(b, axis, b.rank(0)));
  std::vector<ValueId> inputs;
  for (size_t i = 0; i < b.input_count(); ++i) inputs.push_back(b.input(i));
  Attributes attrs;
  attrs.set("axis", axis);
  b.set_output(b.emit(OpType::kConcat, "concat", inputs, attrs), b.rank(0));
  return Status::ok();
}

// inputs * scale + offset (scale and offset may be per channel).
Status convert_rescaling(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  const int rank = b.rank(0);
  NNFI_ASSIGN_OR_RETURN(Tensor scale, broadcast_constant(b, "scale", 1.0, rank, rank - 1));
  NNFI_ASSIGN_OR_RETURN(Tensor offset, broadcast_constant(b, "offset", 0.0, rank, rank - 1));
  ValueId y = b.emit(OpType::kMul, "scale", {b.input(0), b.constant("scale", scale)});
  y = b.emit(OpType::kAdd, "offset", {y, b.constant("offset", offset)});
  b.set_output(y, rank);
  return Status::ok();
}

// (inputs - mean) / max(sqrt(variance), 1e-7), mean and variance from the
// config or the layer's weights, broadcast along `axis`.
Status convert_normalization(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(bool invert, b.get_bool("invert", false));
  if (invert) return b.unsupported("invert=True is not supported");
  const int rank = b.rank(0);
  int64_t axis = -1;
  auto it = b.config().find("axis");
  if (it != b.config().end() && it->is_array()) {
    if (it->size() != 1 || !(*it)[0].is_number_integer()) {
      return b.unsupported("normalising along several axes " + it->dump() + " is not supported");
    }
    axis = (*it)[0].get<int64_t>();
  } else {
    NNFI_ASSIGN_OR_RETURN(axis, b.get_int("axis", -1));
  }
  NNFI_ASSIGN_OR_RETURN(axis, normalized_axis(b, axis, rank));
  Tensor mean, variance;
  if (b.has_weight("mean")) {
    Shape shape(static_cast<size_t>(rank), 1);
    const int64_t n = b.weight("mean").num_elements();
    if (b.weight("variance").num_elements() != n) {
      return b.error("weights 'mean' and 'variance' have different sizes");
    }
    shape[static_cast<size_t>(axis)] = n;
    if (n == 1) shape.assign(static_cast<size_t>(rank), 1);
    NNFI_ASSIGN_OR_RETURN(mean, b.weight("mean").clone().reshaped(shape));
    NNFI_ASSIGN_OR_RETURN(variance, b.weight("variance").clone().reshaped(shape));
  } else {
    NNFI_ASSIGN_OR_RETURN(mean, broadcast_constant(b, "mean", 0.0, rank, axis));
    NNFI_ASSIGN_OR_RETURN(variance, broadcast_constant(b, "variance", 1.0, rank, axis));
    if (mean.shape() != variance.shape()) return b.error("mean and variance differ in size");
  }
  Tensor denominator(DType::kFloat32, variance.shape());
  for (int64_t i = 0; i < variance.num_elements(); ++i) {
    const float root = std::sqrt(variance.data<float>()[i]);
    denominator.data<float>()[i] = root > 1e-7f ? root : 1e-7f;  // Keras's epsilon()
  }
  ValueId y = b.emit(OpType::kSub, "sub", {b.input(0), b.constant("mean", mean)});
  y = b.emit(OpType::kDiv, "div", {y, b.constant("stddev", denominator)});
  b.set_output(y, rank);
  return Status::ok();
}

}  // namespace nnfi::keras_import
