// A Keras model's architecture read from its JSON config (the HDF5
// `model_config` attribute or a .keras archive's config.json): the layers in
// Keras order and, per call of each layer, which tensors it consumes.
// Sequential models are turned into the same form (one call per layer, an
// InputLayer made up where standalone Keras 2.x wrote none).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::keras_import {

// One Keras tensor: output `tensor` of call `call` of layer `layer`.
struct TensorRef {
  std::string layer;
  int64_t call = 0;
  int64_t tensor = 0;
};

struct KerasLayer {
  std::string name;
  std::string class_name;
  nlohmann::json config;  // the layer's "config" object
  // One entry per call (Keras "inbound node"); InputLayer has none.
  std::vector<std::vector<TensorRef>> calls;
  Shape input_shape;  // InputLayer only: batch shape, -1 for None
};

struct KerasModel {
  std::string class_name;  // Sequential, Functional, Model
  std::string name;
  std::vector<KerasLayer> layers;
  std::vector<TensorRef> inputs;
  std::vector<TensorRef> outputs;
};

// Parses a model config. `where` (the file) prefixes messages.
Expected<KerasModel> parse_model_config(const std::string& json_text, const std::string& where);

// Keras's snake_case of a class name ("MaxPooling2D" -> "max_pooling2d"),
// the names a .keras archive stores layers under.
std::string keras_snake_case(const std::string& class_name);

}  // namespace nnfi::keras_import
