#include "import/keras/keras_config.h"

#include <cctype>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace nnfi::keras_import {
namespace {

using nlohmann::json;

Status bad(const std::string& where, const std::string& what) {
  return invalid_argument(where + ": model config: " + what);
}

std::string string_or(const json& object, const char* key, const std::string& fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// A batch shape [null, 28, 28, 1]: null becomes -1.
Expected<Shape> read_shape(const json& value, const std::string& what, const std::string& where) {
  if (!value.is_array()) return bad(where, what + " is not a list");
  Shape shape;
  for (const json& dim : value) {
    if (dim.is_null()) {
      shape.push_back(kUnknownDim);
    } else if (dim.is_number_integer() && dim.get<int64_t>() >= 0) {
      shape.push_back(dim.get<int64_t>());
    } else {
      return bad(where, what + " " + value.dump() + " has a dim that is neither null nor >= 0");
    }
  }
  return shape;
}

// The input batch shape a layer config declares, if any: batch_input_shape
// (Keras 2), batch_shape (Keras 3), or input_shape / shape without the batch.
Expected<Shape> declared_batch_shape(const json& config, const std::string& where, bool* found) {
  *found = false;
  if (!config.is_object()) return Shape{};
  for (const char* key : {"batch_input_shape", "batch_shape"}) {
    auto it = config.find(key);
    if (it != config.end() && !it->is_null()) {
      *found = true;
      return read_shape(*it, key, where);
    }
  }
  for (const char* key : {"input_shape", "shape"}) {
    auto it = config.find(key);
    if (it != config.end() && !it->is_null()) {
      NNFI_ASSIGN_OR_RETURN(Shape shape, read_shape(*it, key, where));
      shape.insert(shape.begin(), kUnknownDim);
      *found = true;
      return shape;
    }
  }
  return Shape{};
}

// [name, call, tensor, ...] (Keras 2 list form; extra kwargs ignored).
Expected<TensorRef> read_ref(const json& value, const std::string& where) {
  if (!value.is_array() || value.size() < 3 || !value[0].is_string() ||
      !value[1].is_number_integer() || !value[2].is_number_integer()) {
    return bad(where, "expected a tensor reference [layer, node, tensor], got " + value.dump());
  }
  return TensorRef{value[0].get<std::string>(), value[1].get<int64_t>(), value[2].get<int64_t>()};
}

// Keras 3: every __keras_tensor__ in a call's args (nested lists included),
// in order.
void collect_keras_tensors(const json& value, std::vector<TensorRef>* refs, bool* malformed) {
  if (value.is_array()) {
    for (const json& item : value) collect_keras_tensors(item, refs, malformed);
    return;
  }
  if (!value.is_object() || string_or(value, "class_name", "") != "__keras_tensor__") return;
  auto config = value.find("config");
  const json* history = nullptr;
  if (config != value.end() && config->is_object()) {
    auto it = config->find("keras_history");
    if (it != config->end()) history = &*it;
  }
  if (history == nullptr || !history->is_array() || history->size() < 3 ||
      !(*history)[0].is_string() || !(*history)[1].is_number_integer() ||
      !(*history)[2].is_number_integer()) {
    *malformed = true;
    return;
  }
  refs->push_back({(*history)[0].get<std::string>(), (*history)[1].get<int64_t>(),
                   (*history)[2].get<int64_t>()});
}

Status read_calls(const json& inbound, KerasLayer* layer, const std::string& where) {
  const std::string what = "layer '" + layer->name + "' inbound_nodes";
  if (inbound.is_null()) return Status::ok();
  if (!inbound.is_array()) return bad(where, what + " is not a list");
  for (const json& node : inbound) {
    std::vector<TensorRef> refs;
    if (node.is_object()) {  // Keras 3: {"args": [...], "kwargs": {...}}
      bool malformed = false;
      auto args = node.find("args");
      if (args != node.end()) collect_keras_tensors(*args, &refs, &malformed);
      if (malformed) return bad(where, what + " holds a malformed __keras_tensor__");
    } else if (node.is_array()) {  // Keras 2: [[name, node, tensor, kwargs], ...]
      for (const json& entry : node) {
        NNFI_ASSIGN_OR_RETURN(TensorRef ref, read_ref(entry, where + ": " + what));
        refs.push_back(std::move(ref));
      }
    } else {
      return bad(where, what + " has an entry that is neither a list nor an object");
    }
    layer->calls.push_back(std::move(refs));
  }
  return Status::ok();
}

// input_layers / output_layers: [[name, 0, 0], ...], or one [name, 0, 0].
Expected<std::vector<TensorRef>> read_endpoints(const json& config, const char* key,
                                                const std::string& where) {
  auto it = config.find(key);
  if (it == config.end() || !it->is_array() || it->empty()) {
    return bad(where, std::string("'") + key + "' is missing or empty");
  }
  std::vector<TensorRef> refs;
  if ((*it)[0].is_string()) {
    NNFI_ASSIGN_OR_RETURN(TensorRef ref, read_ref(*it, where + ": " + key));
    refs.push_back(std::move(ref));
    return refs;
  }
  for (const json& entry : *it) {
    NNFI_ASSIGN_OR_RETURN(TensorRef ref, read_ref(entry, where + ": " + key));
    refs.push_back(std::move(ref));
  }
  return refs;
}

Expected<KerasLayer> read_layer(const json& entry, const std::string& where) {
  if (!entry.is_object()) return bad(where, "a layer entry is not an object");
  KerasLayer layer;
  layer.class_name = string_or(entry, "class_name", "");
  auto config = entry.find("config");
  if (layer.class_name.empty() || config == entry.end() || !config->is_object()) {
    return bad(where, "a layer entry lacks class_name or config: " + entry.dump().substr(0, 200));
  }
  layer.config = *config;
  layer.name = string_or(entry, "name", string_or(*config, "name", ""));
  if (layer.name.empty()) {
    return bad(where, "a " + layer.class_name + " layer has no name");
  }
  return layer;
}

Status read_input_layer_shape(KerasLayer* layer, const std::string& where) {
  bool found = false;
  NNFI_ASSIGN_OR_RETURN(layer->input_shape, declared_batch_shape(layer->config, where, &found));
  if (!found) {
    return bad(where, "InputLayer '" + layer->name + "' declares no batch_shape");
  }
  return Status::ok();
}

Status parse_sequential(const json& root, const json& config, KerasModel* model,
                        const std::string& where) {
  const json* layers = &config;
  if (config.is_object()) {
    auto it = config.find("layers");
    if (it == config.end()) return bad(where, "Sequential config has no 'layers'");
    layers = &*it;
  }
  if (!layers->is_array() || layers->empty()) return bad(where, "Sequential model has no layers");
  std::vector<KerasLayer> parsed;
  for (const json& entry : *layers) {
    NNFI_ASSIGN_OR_RETURN(KerasLayer layer, read_layer(entry, where));
    parsed.push_back(std::move(layer));
  }
  if (parsed.front().class_name != "InputLayer") {
    // Standalone Keras 2.x writes no InputLayer: the first layer carries the
    // shape (or the model's build shape does).
    bool found = false;
    NNFI_ASSIGN_OR_RETURN(Shape shape, declared_batch_shape(parsed.front().config, where, &found));
    if (!found && config.is_object() && config.contains("build_input_shape")) {
      NNFI_ASSIGN_OR_RETURN(shape,
                            read_shape(config["build_input_shape"], "build_input_shape", where));
      found = true;
    }
    if (!found && root.contains("build_config") && root["build_config"].is_object() &&
        root["build_config"].contains("input_shape") &&
        !root["build_config"]["input_shape"].is_null()) {
      NNFI_ASSIGN_OR_RETURN(shape, read_shape(root["build_config"]["input_shape"],
                                              "build_config.input_shape", where));
      found = true;
    }
    if (!found) {
      return bad(where, "Sequential model has no InputLayer and its first layer '" +
                            parsed.front().name + "' declares no batch_input_shape");
    }
    KerasLayer input;
    input.name = parsed.front().name + "_input";
    input.class_name = "InputLayer";
    input.config = json::object();
    input.input_shape = std::move(shape);
    parsed.insert(parsed.begin(), std::move(input));
  } else {
    NNFI_RETURN_IF_ERROR(read_input_layer_shape(&parsed.front(), where));
  }
  for (size_t i = 1; i < parsed.size(); ++i) {
    if (parsed[i].class_name == "InputLayer") {
      return bad(where, "Sequential model has a second InputLayer '" + parsed[i].name + "'");
    }
    parsed[i].calls.push_back({TensorRef{parsed[i - 1].name, 0, 0}});
  }
  model->inputs = {TensorRef{parsed.front().name, 0, 0}};
  model->outputs = {TensorRef{parsed.back().name, 0, 0}};
  model->layers = std::move(parsed);
  return Status::ok();
}

Status parse_functional(const json& config, KerasModel* model, const std::string& where) {
  if (!config.is_object()) return bad(where, "model config is not an object");
  auto layers = config.find("layers");
  if (layers == config.end() || !layers->is_array() || layers->empty()) {
    return bad(where, "model has no layers");
  }
  for (const json& entry : *layers) {
    NNFI_ASSIGN_OR_RETURN(KerasLayer layer, read_layer(entry, where));
    if (layer.class_name == "InputLayer") {
      NNFI_RETURN_IF_ERROR(read_input_layer_shape(&layer, where));
    } else {
      auto inbound = entry.find("inbound_nodes");
      if (inbound != entry.end()) NNFI_RETURN_IF_ERROR(read_calls(*inbound, &layer, where));
    }
    model->layers.push_back(std::move(layer));
  }
  NNFI_ASSIGN_OR_RETURN(model->inputs, read_endpoints(config, "input_layers", where));
  NNFI_ASSIGN_OR_RETURN(model->outputs, read_endpoints(config, "output_layers", where));
  return Status::ok();
}

}  // namespace

Expected<KerasModel> parse_model_config(const std::string& json_text, const std::string& where) {
  const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return bad(where, "not valid JSON");
  if (!root.is_object()) return bad(where, "not a JSON object");
  try {
    KerasModel model;
    model.class_name = string_or(root, "class_name", "");
    auto config = root.find("config");
    if (config == root.end()) return bad(where, "no 'config'");
    model.name = string_or(*config, "name", "");
    if (model.class_name == "Sequential") {
      NNFI_RETURN_IF_ERROR(parse_sequential(root, *config, &model, where));
    } else if (model.class_name == "Functional" || model.class_name == "Model") {
      NNFI_RETURN_IF_ERROR(parse_functional(*config, &model, where));
    } else {
      return unsupported(where + ": model class '" + model.class_name +
                         "' is not supported; nnfi reads Sequential, Functional and Model");
    }
    std::set<std::string> names;
    for (const KerasLayer& layer : model.layers) {
      if (!names.insert(layer.name).second) {
        return bad(where, "two layers are named '" + layer.name + "'");
      }
    }
    return model;
  } catch (const json::exception& e) {
    return bad(where, std::string("unexpected structure (") + e.what() + ")");
  }
}

std::string keras_snake_case(const std::string& class_name) {
  static const std::regex non_word("\\W+");
  static const std::regex word_start("(.)([A-Z][a-z]+)");
  static const std::regex lower_upper("([a-z])([A-Z])");
  std::string name = std::regex_replace(class_name, non_word, "");
  name = std::regex_replace(name, word_start, "$1_$2");
  name = std::regex_replace(name, lower_upper, "$1_$2");
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace nnfi::keras_import
