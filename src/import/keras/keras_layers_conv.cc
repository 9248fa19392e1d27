// Converters of Keras's convolution, pooling, padding, cropping, upsampling
// and normalisation layers. Keras data is channels_last unless the layer says
// channels_first; the IR ops take a channels_last attribute (or an axis)
// instead of transposes, and kernels are reordered once, here, to the IR's
// (O, I/group, k...) layout.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "import/keras/keras_builder.h"

namespace nnfi::keras_import {
namespace {

using nlohmann::json;

// 1 for the *1D classes, 2 for the *2D ones.
int spatial_rank(const std::string& class_name) {
  return class_name.find("1D") != std::string::npos ? 1 : 2;
}

// Keras "valid" / "same" (TensorFlow's SAME pads the extra row at the end:
// ONNX's SAME_UPPER).
Expected<std::string> auto_pad(LayerBuilder& b) {
  NNFI_ASSIGN_OR_RETURN(std::string padding, b.get_string("padding", "valid"));
  if (padding == "valid") return std::string("VALID");
  if (padding == "same") return std::string("SAME_UPPER");
  return b.unsupported("padding '" + padding + "' is not supported (valid or same)");
}

Status expect_rank(LayerBuilder& b, int rank) {
  if (b.rank(0) != rank) {
    return b.error("input has rank " + std::to_string(b.rank(0)) + ", expected " +
                   std::to_string(rank));
  }
  return Status::ok();
}

// Conv attributes shared by Conv1D/2D, DepthwiseConv2D and SeparableConv2D.
Expected<Attributes> conv_attributes(LayerBuilder& b, int spatial, bool channels_first,
                                     const std::vector<int64_t>& kernel) {
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> strides,
                        b.get_ints("strides", static_cast<size_t>(spatial),
                                   std::vector<int64_t>(static_cast<size_t>(spatial), 1)));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> dilations,
                        b.get_ints("dilation_rate", static_cast<size_t>(spatial),
                                   std::vector<int64_t>(static_cast<size_t>(spatial), 1)));
  Attributes attrs;
  attrs.set("strides", strides);
  attrs.set("dilations", dilations);
  attrs.set("kernel_shape", kernel);
  attrs.set("channels_last", int64_t{channels_first ? 0 : 1});
  NNFI_ASSIGN_OR_RETURN(std::string padding, b.get_string("padding", "valid"));
  if (padding == "causal") {
    if (spatial != 1) return b.error("causal padding is for Conv1D only");
    // Left padding of (k - 1) * dilation: output t sees inputs up to t.
    attrs.set("pads", std::vector<int64_t>{(kernel[0] - 1) * dilations[0], 0});
  } else {
    NNFI_ASSIGN_OR_RETURN(std::string pad, auto_pad(b));
    attrs.set("auto_pad", pad);
  }
  return attrs;
}

// Bias (if any) and activation after a convolution's output y.
Status finish_conv(LayerBuilder& b, ValueId y, bool channels_first, int64_t filters) {
  if (b.has_weight("bias")) {
    NNFI_RETURN_IF_ERROR(b.expect_weight_shape("bias", {filters}));
    Attributes attrs;
    attrs.set("axis", int64_t{channels_first ? 1 : -1});
    y = b.emit(OpType::kBiasAdd, "bias", {y, b.constant("bias", b.weight("bias"))}, attrs);
  }
  NNFI_ASSIGN_OR_RETURN(std::string activation, b.get_activation("activation"));
  NNFI_ASSIGN_OR_RETURN(y, b.activation(y, activation));
  b.set_output(y, b.rank(0));
  return Status::ok();
}

// A Keras depthwise kernel (k..., C, M) as IR weights (C*M, 1, k...):
// output channel c*M + m filters input channel c with multiplier m.
Tensor depthwise_weights(const Tensor& kernel) {
  const size_t rank = kernel.rank();
  std::vector<int64_t> perm = {static_cast<int64_t>(rank - 2), static_cast<int64_t>(rank - 1)};
  for (size_t d = 0; d + 2 < rank; ++d) perm.push_back(static_cast<int64_t>(d));
  Tensor moved = permute_tensor(kernel, perm);  // (C, M, k...)
  Shape shape = {kernel.dim(rank - 2) * kernel.dim(rank - 1), 1};
  for (size_t d = 0; d + 2 < rank; ++d) shape.push_back(kernel.dim(d));
  return moved.reshaped(shape).value();
}

// Keras's (a, b) pair forms: an int, [a, b], or [[top, bottom], [left, right]].
Expected<std::vector<std::pair<int64_t, int64_t>>> pairs(LayerBuilder& b, const std::string& key,
                                                         int spatial) {
  auto it = b.config().find(key);
  std::vector<std::pair<int64_t, int64_t>> result;
  auto bad = [&] {
    return b.error(key + " is " + (it == b.config().end() ? "missing" : it->dump()) +
                   ", expected an int, a list of " + std::to_string(spatial) + " ints or " +
                   std::to_string(spatial) + " [before, after] pairs");
  };
  if (it == b.config().end()) return bad();
  auto non_negative = [](const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; };
  if (non_negative(*it)) {
    const int64_t v = it->get<int64_t>();
    return std::vector<std::pair<int64_t, int64_t>>(static_cast<size_t>(spatial), {v, v});
  }
  if (!it->is_array()) return bad();
  if (spatial == 1 && it->size() == 2 && non_negative((*it)[0]) && non_negative((*it)[1])) {
    result.push_back({(*it)[0].get<int64_t>(), (*it)[1].get<int64_t>()});  // Keras 1D: (l, r)
    return result;
  }
  if (it->size() != static_cast<size_t>(spatial)) return bad();
  for (const json& item : *it) {
    if (non_negative(item)) {
      result.push_back({item.get<int64_t>(), item.get<int64_t>()});
    } else if (item.is_array() && item.size() == 2 && non_negative(item[0]) &&
               non_negative(item[1])) {
      result.push_back({item[0].get<int64_t>(), item[1].get<int64_t>()});
    } else {
      return bad();
    }
  }
  return result;
}

// Index of the first spatial axis of a rank-(spatial + 2) tensor.
int64_t first_spatial(bool channels_first) { return channels_first ? 2 : 1; }

}  // namespace

Status convert_conv(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  const int spatial = spatial_rank(b.layer().class_name);
  NNFI_RETURN_IF_ERROR(expect_rank(b, spatial + 2));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  NNFI_ASSIGN_OR_RETURN(int64_t filters, b.get_int("filters", -1));
  NNFI_ASSIGN_OR_RETURN(int64_t groups, b.get_int("groups", 1));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> kernel,
                        b.get_ints("kernel_size", static_cast<size_t>(spatial), {}));
  if (kernel.empty()) return b.error("kernel_size is missing");
  Shape expected = kernel;
  expected.push_back(-1);
  expected.push_back(filters);
  NNFI_RETURN_IF_ERROR(b.expect_weight_shape("kernel", expected));
  NNFI_ASSIGN_OR_RETURN(Attributes attrs, conv_attributes(b, spatial, channels_first, kernel));
  attrs.set("group", groups);
  // (k..., I/group, O) -> (O, I/group, k...)
  std::vector<int64_t> perm = {spatial + 1, spatial};
  for (int d = 0; d < spatial; ++d) perm.push_back(d);
  ValueId w = b.constant("kernel", permute_tensor(b.weight("kernel"), perm));
  ValueId y = b.emit(OpType::kConv, "conv", {b.input(0), w}, attrs);
  return finish_conv(b, y, channels_first, filters);
}

Status convert_depthwise_conv(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_RETURN_IF_ERROR(expect_rank(b, 4));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  NNFI_ASSIGN_OR_RETURN(int64_t multiplier, b.get_int("depth_multiplier", 1));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, b.get_ints("kernel_size", 2, {}));
  if (kernel.empty()) return b.error("kernel_size is missing");
  NNFI_RETURN_IF_ERROR(
      b.expect_weight_shape("depthwise_kernel", {kernel[0], kernel[1], -1, multiplier}));
  const Tensor& depthwise = b.weight("depthwise_kernel");
  NNFI_ASSIGN_OR_RETURN(Attributes attrs, conv_attributes(b, 2, channels_first, kernel));
  attrs.set("group", depthwise.dim(2));
  ValueId w = b.constant("depthwise_kernel", depthwise_weights(depthwise));
  ValueId y = b.emit(OpType::kConv, "depthwise", {b.input(0), w}, attrs);
  return finish_conv(b, y, channels_first, depthwise.dim(2) * multiplier);
}

Status convert_separable_conv(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_RETURN_IF_ERROR(expect_rank(b, 4));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  NNFI_ASSIGN_OR_RETURN(int64_t filters, b.get_int("filters", -1));
  NNFI_ASSIGN_OR_RETURN(int64_t multiplier, b.get_int("depth_multiplier", 1));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, b.get_ints("kernel_size", 2, {}));
  if (kernel.empty()) return b.error("kernel_size is missing");
  NNFI_RETURN_IF_ERROR(
      b.expect_weight_shape("depthwise_kernel", {kernel[0], kernel[1], -1, multiplier}));
  const Tensor& depthwise = b.weight("depthwise_kernel");
  const int64_t middle = depthwise.dim(2) * multiplier;
  NNFI_RETURN_IF_ERROR(b.expect_weight_shape("pointwise_kernel", {1, 1, middle, filters}));
  NNFI_ASSIGN_OR_RETURN(Attributes attrs, conv_attributes(b, 2, channels_first, kernel));
  attrs.set("group", depthwise.dim(2));
  ValueId dw = b.constant("depthwise_kernel", depthwise_weights(depthwise));
  ValueId y = b.emit(OpType::kConv, "depthwise", {b.input(0), dw}, attrs);
  Attributes pointwise;
  pointwise.set("kernel_shape", std::vector<int64_t>{1, 1});
  pointwise.set("channels_last", int64_t{channels_first ? 0 : 1});
  ValueId pw =
      b.constant("pointwise_kernel", permute_tensor(b.weight("pointwise_kernel"), {3, 2, 0, 1}));
  y = b.emit(OpType::kConv, "pointwise", {y, pw}, pointwise);
  return finish_conv(b, y, channels_first, filters);
}

Status convert_pool(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  const std::string& c = b.layer().class_name;
  const int spatial = spatial_rank(c);
  NNFI_RETURN_IF_ERROR(expect_rank(b, spatial + 2));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  const auto n = static_cast<size_t>(spatial);
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> size,
                        b.get_ints("pool_size", n, std::vector<int64_t>(n, 2)));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> strides, b.get_ints("strides", n, size));
  NNFI_ASSIGN_OR_RETURN(std::string pad, auto_pad(b));
  Attributes attrs;
  attrs.set("kernel_shape", size);
  attrs.set("strides", strides);
  attrs.set("auto_pad", pad);
  attrs.set("channels_last", int64_t{channels_first ? 0 : 1});
  const bool is_max = c.rfind("Max", 0) == 0;
  if (!is_max) attrs.set("count_include_pad", int64_t{0});  // TF averages real inputs only
  ValueId y = b.emit(is_max ? OpType::kMaxPool : OpType::kAveragePool,
                     is_max ? "max_pool" : "avg_pool", {b.input(0)}, attrs);
  b.set_output(y, b.rank(0));
  return Status::ok();
}

Status convert_global_pool(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  const std::string& c = b.layer().class_name;
  NNFI_RETURN_IF_ERROR(expect_rank(b, spatial_rank(c) + 2));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  NNFI_ASSIGN_OR_RETURN(bool keepdims, b.get_bool("keepdims", false));
  Attributes attrs;
  attrs.set("channels_last", int64_t{channels_first ? 0 : 1});
  const bool is_max = c.find("Max") != std::string::npos;
  ValueId y = b.emit(is_max ? OpType::kGlobalMaxPool : OpType::kGlobalAveragePool,
                     is_max ? "global_max_pool" : "global_avg_pool", {b.input(0)}, attrs);
  if (!keepdims) {
    Attributes flatten;
    flatten.set("axis", int64_t{1});
    y = b.emit(OpType::kFlatten, "flatten", {y}, flatten);
  }
  b.set_output(y, keepdims ? b.rank(0) : 2);
  return Status::ok();
}

Status convert_zero_padding(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  const int spatial = spatial_rank(b.layer().class_name);
  NNFI_RETURN_IF_ERROR(expect_rank(b, spatial + 2));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  NNFI_ASSIGN_OR_RETURN(auto amounts, pairs(b, "padding", spatial));
  const size_t rank = static_cast<size_t>(spatial + 2);
  std::vector<int64_t> pads(2 * rank, 0);  // begins, then ends
  for (int s = 0; s < spatial; ++s) {
    const size_t axis = static_cast<size_t>(first_spatial(channels_first) + s);
    pads[axis] = amounts[static_cast<size_t>(s)].first;
    pads[rank + axis] = amounts[static_cast<size_t>(s)].second;
  }
  Attributes attrs;
  attrs.set("mode", std::string("constant"));
  ValueId y = b.emit(OpType::kPad, "pad", {b.input(0), b.int64_constant("pads", pads)}, attrs);
  b.set_output(y, b.rank(0));
  return Status::ok();
}

Status convert_cropping(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  const int spatial = spatial_rank(b.layer().class_name);
  NNFI_RETURN_IF_ERROR(expect_rank(b, spatial + 2));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  NNFI_ASSIGN_OR_RETURN(auto amounts, pairs(b, "cropping", spatial));
  std::vector<int64_t> starts, ends, axes;
  for (int s = 0; s < spatial; ++s) {
    const auto& [begin, end] = amounts[static_cast<size_t>(s)];
    starts.push_back(begin);
    // A negative end counts from the back, so the input size need not be known.
    ends.push_back(end > 0 ? -end : std::numeric_limits<int64_t>::max());
    axes.push_back(first_spatial(channels_first) + s);
  }
  ValueId y = b.emit(OpType::kSlice, "slice",
                     {b.input(0), b.int64_constant("starts", starts),
                      b.int64_constant("ends", ends), b.int64_constant("axes", axes)});
  b.set_output(y, b.rank(0));
  return Status::ok();
}

// nearest repeats each pixel (ONNX asymmetric + floor); bilinear is
// tf.image.resize's half-pixel bilinear (ONNX half_pixel + linear).
Status convert_upsampling(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  const int spatial = spatial_rank(b.layer().class_name);
  NNFI_RETURN_IF_ERROR(expect_rank(b, spatial + 2));
  NNFI_ASSIGN_OR_RETURN(bool channels_first, b.channels_first());
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> size,
                        b.get_ints("size", static_cast<size_t>(spatial),
                                   std::vector<int64_t>(static_cast<size_t>(spatial), 2)));
  NNFI_ASSIGN_OR_RETURN(std::string interpolation, b.get_string("interpolation", "nearest"));
  std::vector<float> scales(static_cast<size_t>(spatial + 2), 1.0f);
  for (int s = 0; s < spatial; ++s) {
    if (size[static_cast<size_t>(s)] <= 0) return b.error("size must be > 0");
    scales[static_cast<size_t>(first_spatial(channels_first) + s)] =
        static_cast<float>(size[static_cast<size_t>(s)]);
  }
  Attributes attrs;
  if (interpolation == "nearest") {
    attrs.set("mode", std::string("nearest"));
    attrs.set("coordinate_transformation_mode", std::string("asymmetric"));
    attrs.set("nearest_mode", std::string("floor"));
  } else if (interpolation == "bilinear") {
    attrs.set("mode", std::string("linear"));
    attrs.set("coordinate_transformation_mode", std::string("half_pixel"));
  } else {
    return b.unsupported("interpolation '" + interpolation +
                         "' is not supported (nearest or bilinear)");
  }
  ValueId scale_value = b.constant(
      "scales", Tensor::from_vector<float>(scales, {static_cast<int64_t>(scales.size())}));
  ValueId y = b.emit(OpType::kResize, "resize", {b.input(0), kNoValue, scale_value}, attrs);
  b.set_output(y, b.rank(0));
  return Status::ok();
}

}  // namespace nnfi::keras_import
