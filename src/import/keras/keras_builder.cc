#include "import/keras/keras_builder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace nnfi::keras_import {
namespace {

using nlohmann::json;

struct LayerClass {
  const char* name;
  Converter convert;
};

// Every supported Keras class (and the aliases older Keras versions wrote).
constexpr LayerClass kLayerClasses[] = {
    {"Dense", &convert_dense},
    {"Conv1D", &convert_conv},
    {"Conv2D", &convert_conv},
    {"Convolution1D", &convert_conv},
    {"Convolution2D", &convert_conv},
    {"DepthwiseConv2D", &convert_depthwise_conv},
    {"SeparableConv2D", &convert_separable_conv},
    {"SeparableConvolution2D", &convert_separable_conv},
    {"MaxPooling1D", &convert_pool},
    {"MaxPooling2D", &convert_pool},
    {"MaxPool1D", &convert_pool},
    {"MaxPool2D", &convert_pool},
    {"AveragePooling1D", &convert_pool},
    {"AveragePooling2D", &convert_pool},
    {"AvgPool1D", &convert_pool},
    {"AvgPool2D", &convert_pool},
    {"GlobalAveragePooling1D", &convert_global_pool},
    {"GlobalAveragePooling2D", &convert_global_pool},
    {"GlobalAvgPool1D", &convert_global_pool},
    {"GlobalAvgPool2D", &convert_global_pool},
    {"GlobalMaxPooling1D", &convert_global_pool},
    {"GlobalMaxPooling2D", &convert_global_pool},
    {"GlobalMaxPool1D", &convert_global_pool},
    {"GlobalMaxPool2D", &convert_global_pool},
    {"Flatten", &convert_flatten},
    {"Reshape", &convert_reshape},
    {"Permute", &convert_permute},
    {"Dropout", &convert_identity},
    {"SpatialDropout1D", &convert_identity},
    {"SpatialDropout2D", &convert_identity},
    {"SpatialDropout3D", &convert_identity},
    {"GaussianNoise", &convert_identity},
    {"GaussianDropout", &convert_identity},
    {"AlphaDropout", &convert_identity},
    {"ActivityRegularization", &convert_identity},
    {"BatchNormalization", &convert_batch_norm},
    {"LayerNormalization", &convert_layer_norm},
    {"Activation", &convert_activation_layer},
    {"ReLU", &convert_relu},
    {"LeakyReLU", &convert_leaky_relu},
    {"PReLU", &convert_prelu},
    {"ELU", &convert_elu},
    {"Softmax", &convert_softmax},
    {"ThresholdedReLU", &convert_thresholded_relu},
    {"Add", &convert_merge},
    {"Subtract", &convert_merge},
    {"Multiply", &convert_merge},
    {"Average", &convert_merge},
    {"Maximum", &convert_merge},
    {"Minimum", &convert_merge},
    {"Concatenate", &convert_concatenate},
    {"ZeroPadding1D", &convert_zero_padding},
    {"ZeroPadding2D", &convert_zero_padding},
    {"Cropping1D", &convert_cropping},
    {"Cropping2D", &convert_cropping},
    {"UpSampling1D", &convert_upsampling},
    {"UpSampling2D", &convert_upsampling},
    {"Rescaling", &convert_rescaling},
    {"Normalization", &convert_normalization},
};

const LayerClass* find_class(const std::string& name) {
  for (const LayerClass& entry : kLayerClasses) {
    if (name == entry.name) return &entry;
  }
  return nullptr;
}

bool config_bool(const json& config, const char* key, bool fallback) {
  auto it = config.find(key);
  return it != config.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string json_text(const json& value) { return value.dump().substr(0, 120); }

}  // namespace

std::string supported_layer_classes() {
  std::string text = "InputLayer";
  for (const LayerClass& entry : kLayerClasses) text += std::string(", ") + entry.name;
  return text;
}

std::optional<std::vector<std::string>> expected_weights(const KerasLayer& layer) {
  const std::string& c = layer.class_name;
  if (c == "InputLayer") return std::vector<std::string>{};
  if (find_class(c) == nullptr) return std::nullopt;
  const json& config = layer.config;
  const bool bias = config_bool(config, "use_bias", true);
  std::vector<std::string> names;
  if (c == "Dense" || c == "Conv1D" || c == "Conv2D" || c == "Convolution1D" ||
      c == "Convolution2D") {
    names = {"kernel"};
  } else if (c == "DepthwiseConv2D") {
    names = {"depthwise_kernel"};
  } else if (c == "SeparableConv2D" || c == "SeparableConvolution2D") {
    names = {"depthwise_kernel", "pointwise_kernel"};
  } else if (c == "BatchNormalization") {
    if (config_bool(config, "scale", true)) names.push_back("gamma");
    if (config_bool(config, "center", true)) names.push_back("beta");
    names.push_back("moving_mean");
    names.push_back("moving_variance");
    return names;
  } else if (c == "LayerNormalization") {
    if (config_bool(config, "scale", true)) names.push_back("gamma");
    if (config_bool(config, "center", true)) names.push_back("beta");
    return names;
  } else if (c == "PReLU") {
    return std::vector<std::string>{"alpha"};
  } else if (c == "Normalization") {
    auto mean = config.find("mean");
    if (mean != config.end() && !mean->is_null()) return std::vector<std::string>{};
    return std::vector<std::string>{"mean", "variance", "count?"};
  } else {
    return names;
  }
  if (bias) names.push_back("bias");
  return names;
}

Status convert_layer(LayerBuilder& builder) {
  const LayerClass* entry = find_class(builder.layer().class_name);
  if (entry == nullptr) {
    return builder.unsupported("layer class not supported; nnfi supports " +
                               supported_layer_classes());
  }
  try {
    return entry->convert(builder);
  } catch (const json::exception& e) {  // a config value of an unexpected type
    return builder.error(std::string("unexpected config (") + e.what() + ")");
  }
}

std::string LayerBuilder::where() const {
  return file_.file + ": layer '" + layer_.name + "' (" + layer_.class_name + ")";
}

Status LayerBuilder::error(const std::string& what) const {
  return invalid_argument(where() + ": " + what);
}

Status LayerBuilder::unsupported(const std::string& what) const {
  return nnfi::unsupported(where() + ": " + what);
}

const json* LayerBuilder::find(const std::string& key) const {
  auto it = layer_.config.find(key);
  if (it == layer_.config.end() || it->is_null()) return nullptr;
  return &*it;
}

Expected<int64_t> LayerBuilder::get_int(const std::string& key, int64_t fallback) const {
  const json* value = find(key);
  if (value == nullptr) return fallback;
  if (value->is_number_integer()) return value->get<int64_t>();
  if (value->is_number_float() && std::floor(value->get<double>()) == value->get<double>()) {
    return static_cast<int64_t>(value->get<double>());
  }
  return error(key + " is " + json_text(*value) + ", expected an integer");
}

Expected<double> LayerBuilder::get_float(const std::string& key, double fallback) const {
  const json* value = find(key);
  if (value == nullptr) return fallback;
  if (value->is_number()) return value->get<double>();
  return error(key + " is " + json_text(*value) + ", expected a number");
}

Expected<bool> LayerBuilder::get_bool(const std::string& key, bool fallback) const {
  const json* value = find(key);
  if (value == nullptr) return fallback;
  if (value->is_boolean()) return value->get<bool>();
  return error(key + " is " + json_text(*value) + ", expected true or false");
}

Expected<std::string> LayerBuilder::get_string(const std::string& key,
                                               const std::string& fallback) const {
  const json* value = find(key);
  if (value == nullptr) return fallback;
  if (value->is_string()) return value->get<std::string>();
  return error(key + " is " + json_text(*value) + ", expected a string");
}

Expected<std::vector<int64_t>> LayerBuilder::get_ints(const std::string& key, size_t count,
                                                      const std::vector<int64_t>& fallback) const {
  const json* value = find(key);
  if (value == nullptr) return fallback;
  if (value->is_number_integer()) return std::vector<int64_t>(count, value->get<int64_t>());
  if (value->is_array() && value->size() == count) {
    std::vector<int64_t> values;
    for (const json& item : *value) {
      if (!item.is_number_integer()) break;
      values.push_back(item.get<int64_t>());
    }
    if (values.size() == count) return values;
  }
  return error(key + " is " + json_text(*value) + ", expected an integer or a list of " +
               std::to_string(count) + " integers");
}

Expected<bool> LayerBuilder::channels_first() const {
  NNFI_ASSIGN_OR_RETURN(std::string format, get_string("data_format", "channels_last"));
  if (format == "channels_last") return false;
  if (format == "channels_first") return true;
  return error("data_format is '" + format + "', expected channels_last or channels_first");
}

Expected<std::string> LayerBuilder::get_activation(const std::string& key) const {
  const json* value = find(key);
  if (value == nullptr) return std::string("linear");
  if (value->is_string()) return value->get<std::string>();
  // Keras 3 may serialise a built-in activation as {"class_name": "function",
  // "config": "relu", ...}.
  if (value->is_object()) {
    auto config = value->find("config");
    if (config != value->end() && config->is_string()) return config->get<std::string>();
  }
  return unsupported(key + " " + json_text(*value) + " is not a built-in activation name");
}

Status LayerBuilder::expect_inputs(size_t min_count, size_t max_count) const {
  if (inputs_.size() < min_count || inputs_.size() > max_count) {
    return error("called on " + std::to_string(inputs_.size()) + " tensors, expected " +
                 (min_count == max_count
                      ? std::to_string(min_count)
                      : std::to_string(min_count) + " to " + std::to_string(max_count)));
  }
  return Status::ok();
}

Status LayerBuilder::expect_weight_shape(const std::string& name, const Shape& expected) const {
  const Shape& shape = weight(name).shape();
  bool ok = shape.size() == expected.size();
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = expected[d] < 0 || expected[d] == shape[d];
  if (ok) return Status::ok();
  return error("weight '" + name + "' has shape " + shape_to_string(shape) + ", expected " +
               shape_to_string(expected) + " from the layer config");
}

ValueId LayerBuilder::emit(OpType op, const std::string& suffix, std::vector<ValueId> inputs,
                           Attributes attributes) {
  Node node;
  node.name = ir_name_ + "/" + suffix;
  node.op = op;
  node.source_op = layer_.class_name;
  node.attributes = std::move(attributes);
  node.inputs = std::move(inputs);
  node.outputs.push_back(graph_.add_value(node.name + ":0", DType::kUndefined, {}));
  const ValueId output = node.outputs.front();
  nodes_.push_back(graph_.add_node(std::move(node)));
  return output;
}

ValueId LayerBuilder::constant(const std::string& name, Tensor tensor) {
  auto it = constants_.find(name);
  if (it != constants_.end()) return it->second;
  const ValueId id = graph_.add_constant(layer_.name + "/" + name, std::move(tensor));
  constants_[name] = id;
  return id;
}

ValueId LayerBuilder::int64_constant(const std::string& name, const std::vector<int64_t>& values) {
  return constant(name,
                  Tensor::from_vector<int64_t>(values, {static_cast<int64_t>(values.size())}));
}

ValueId LayerBuilder::float_constant(const std::string& name, float value) {
  return constant(name, Tensor::scalar<float>(value));
}

Expected<ValueId> LayerBuilder::activation(ValueId x, const std::string& name) {
  Attributes attrs;
  if (name == "linear" || name.empty()) return x;
  if (name == "relu") return emit(OpType::kRelu, "relu", {x});
  if (name == "relu6") {
    attrs.set("min", 0.0);
    attrs.set("max", 6.0);
    return emit(OpType::kClip, "relu6", {x}, attrs);
  }
  if (name == "sigmoid") return emit(OpType::kSigmoid, "sigmoid", {x});
  if (name == "hard_sigmoid") {
    // Keras 2: clip(0.2 x + 0.5); Keras 3: relu6(x + 3) / 6.
    attrs.set("alpha", file_.keras_major >= 3 ? 1.0 / 6.0 : 0.2);
    attrs.set("beta", 0.5);
    return emit(OpType::kHardSigmoid, "hard_sigmoid", {x}, attrs);
  }
  if (name == "tanh") return emit(OpType::kTanh, "tanh", {x});
  if (name == "softmax") {
    attrs.set("axis", int64_t{-1});
    return emit(OpType::kSoftmax, "softmax", {x}, attrs);
  }
  if (name == "elu") {
    attrs.set("alpha", 1.0);
    return emit(OpType::kElu, "elu", {x}, attrs);
  }
  if (name == "selu") return emit(OpType::kSelu, "selu", {x});
  if (name == "swish" || name == "silu") {
    ValueId sigmoid = emit(OpType::kSigmoid, "sigmoid", {x});
    return emit(OpType::kMul, name, {x, sigmoid});
  }
  if (name == "gelu") {
    attrs.set("approximate", std::string("none"));
    return emit(OpType::kGelu, "gelu", {x}, attrs);
  }
  if (name == "softplus") return emit(OpType::kSoftplus, "softplus", {x});
  if (name == "leaky_relu") {  // Keras 3's activation: negative_slope 0.2
    attrs.set("alpha", 0.2);
    return emit(OpType::kLeakyRelu, "leaky_relu", {x}, attrs);
  }
  return unsupported("activation '" + name +
                     "' is not supported; nnfi supports linear, relu, relu6, sigmoid, "
                     "hard_sigmoid, tanh, softmax, elu, selu, swish, silu, gelu, softplus, "
                     "leaky_relu");
}

Tensor permute_tensor(const Tensor& in, const std::vector<int64_t>& perm) {
  // Kernels have rank <= 5; fixed arrays keep this simple (callers check shapes).
  constexpr size_t kMaxRank = 8;
  const Shape& in_shape = in.shape();
  const size_t rank = std::min(in_shape.size(), kMaxRank);
  Shape out_shape(rank);
  for (size_t d = 0; d < rank; ++d) out_shape[d] = in_shape[static_cast<size_t>(perm[d])];
  Tensor out(DType::kFloat32, out_shape);
  std::array<int64_t, kMaxRank> in_strides{};
  std::array<int64_t, kMaxRank> index{};
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    in_strides[d] = stride;
    stride *= in_shape[d];
  }
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < out.num_elements(); ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d) offset += index[d] * in_strides[static_cast<size_t>(perm[d])];
    dst[i] = src[offset];
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < out_shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace nnfi::keras_import
