// The Keras importer's driver: open the file (.h5, or the .keras zip), parse
// the model config, read each layer's weights, turn every call of every
// layer into IR nodes in dependency order, then add the IR layers in Keras's
// layer order and finalize.
#include "import/keras/keras_importer.h"

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "import/keras/hdf5_file.h"
#include "import/keras/keras_archive.h"
#include "import/keras/keras_builder.h"
#include "import/keras/keras_config.h"
#include "nnfi/model.h"

namespace nnfi::keras_import {
namespace {

namespace fs = std::filesystem;

// Where a file keeps its weights.
struct KerasSource {
  std::optional<Hdf5File> file;
  KerasModel model;
  KerasFileInfo info;
  bool v3 = false;                               // .keras: layers/<snake_name>/vars/<i>
  std::string weights_root;                      // .h5: "model_weights" (or "." for old files)
  std::map<std::string, std::string> v3_groups;  // layer name -> "layers/<snake_name>"
  std::map<std::string, std::string> metadata;
};

// The leading number of "2.2.4-tf" or "3.10.0".
int major_version(const std::string& version, int fallback) {
  int major = 0;
  size_t i = 0;
  for (; i < version.size() && i < 4 && version[i] >= '0' && version[i] <= '9'; ++i) {
    major = major * 10 + (version[i] - '0');
  }
  return i == 0 ? fallback : major;
}

// Why a known but unsupported class cannot be imported, where there is more
// to say than "not supported".
std::string class_hint(const std::string& class_name) {
  if (class_name == "TFSMLayer") {
    return " (a TFSMLayer wraps a TensorFlow SavedModel that is not in the file; load the "
           "SavedModel itself, or save the original Keras model)";
  }
  if (class_name == "Lambda" || class_name == "TFOpLambda" || class_name == "SlicingOpLambda") {
    return " (it runs Python code that the file does not describe)";
  }
  if (class_name == "Sequential" || class_name == "Functional" || class_name == "Model") {
    return " (a nested model: nnfi imports flat models)";
  }
  return "";
}

Expected<KerasSource> open_h5(const fs::path& path) {
  KerasSource source;
  NNFI_ASSIGN_OR_RETURN(Hdf5File file, Hdf5File::open(path));
  const hid_t root = file.root();
  const std::string where = path.string();
  if (!file.has_attribute(root, "model_config")) {
    if (file.has_attribute(root, "layer_names")) {
      return invalid_argument(where +
                              ": a weights-only Keras file (model.save_weights) has no "
                              "architecture; nnfi needs a file written by model.save");
    }
    return invalid_argument(where +
                            ": an HDF5 file without a 'model_config' attribute: not a "
                            "Keras model (nnfi needs a file written by model.save)");
  }
  NNFI_ASSIGN_OR_RETURN(std::string config, file.string_attribute(root, "model_config", ""));
  NNFI_ASSIGN_OR_RETURN(source.model, parse_model_config(config, where));
  for (const char* key : {"keras_version", "backend"}) {
    if (!file.has_attribute(root, key)) continue;
    auto value = file.string_attribute(root, key, "");
    if (value)
      source.metadata[std::string("keras.") + (key[0] == 'k' ? "version" : "backend")] = *value;
  }
  source.weights_root = file.is_group(root, "model_weights") ? "model_weights" : ".";
  source.info.keras_major = major_version(source.metadata["keras.version"], 2);
  source.metadata["format"] = "Keras HDF5 (model.save)";
  source.file = std::move(file);
  return source;
}

Expected<KerasSource> open_archive(const fs::path& path) {
  KerasSource source;
  NNFI_ASSIGN_OR_RETURN(KerasArchive archive, read_keras_archive(path));
  const std::string where = path.string();
  NNFI_ASSIGN_OR_RETURN(source.model,
                        parse_model_config(archive.config_json, where + ": config.json"));
  const auto metadata = nlohmann::json::parse(archive.metadata_json, nullptr, false);
  if (metadata.is_object() && metadata.contains("keras_version") &&
      metadata["keras_version"].is_string()) {
    source.metadata["keras.version"] = metadata["keras_version"].get<std::string>();
  }
  NNFI_ASSIGN_OR_RETURN(Hdf5File file,
                        Hdf5File::open_image(archive.weights_h5, where + ": model.weights.h5"));
  source.file = std::move(file);
  source.v3 = true;
  source.info.keras_major = major_version(source.metadata["keras.version"], 3);
  source.metadata["format"] = "Keras v3 archive (.keras)";
  // Keras 3 stores a model's layers under their class names in snake_case,
  // numbered per class in layer order ("conv2d", "conv2d_1"); a Sequential
  // model's list leaves out its InputLayer.
  std::map<std::string, int> used;
  for (const KerasLayer& layer : source.model.layers) {
    if (source.model.class_name == "Sequential" && layer.class_name == "InputLayer") continue;
    std::string name = keras_snake_case(layer.class_name);
    const int count = used[name]++;
    if (count > 0) name += "_" + std::to_string(count);
    source.v3_groups[layer.name] = "layers/" + name;
  }
  return source;
}

// The tensors a file stores for a layer, in stored order, with their names.
Expected<std::vector<std::pair<std::string, Tensor>>> stored_weights(const KerasSource& source,
                                                                     const KerasLayer& layer,
                                                                     std::string* location) {
  const Hdf5File& file = *source.file;
  std::vector<std::pair<std::string, Tensor>> weights;
  if (source.v3) {
    auto group = source.v3_groups.find(layer.name);
    if (group == source.v3_groups.end()) return weights;
    *location = group->second + "/vars";
    for (int i = 0; file.exists(file.root(), *location + "/" + std::to_string(i)); ++i) {
      NNFI_ASSIGN_OR_RETURN(Tensor tensor,
                            file.float_dataset(file.root(), *location + "/" + std::to_string(i)));
      weights.emplace_back("vars/" + std::to_string(i), std::move(tensor));
    }
    return weights;
  }
  *location = source.weights_root == "." ? layer.name : source.weights_root + "/" + layer.name;
  if (!file.is_group(file.root(), *location)) return weights;
  NNFI_ASSIGN_OR_RETURN(H5Id group, file.open_group(file.root(), *location));
  if (!file.has_attribute(group.get(), "weight_names")) return weights;
  NNFI_ASSIGN_OR_RETURN(std::vector<std::string> names,
                        file.string_list_attribute(group.get(), "weight_names", *location));
  for (const std::string& name : names) {
    NNFI_ASSIGN_OR_RETURN(Tensor tensor, file.float_dataset(group.get(), name));
    weights.emplace_back(name, std::move(tensor));
  }
  return weights;
}

// Matches the stored weights to the names the class expects, by position
// (as Keras loads them).
Expected<std::map<std::string, Tensor>> layer_weights(const KerasSource& source,
                                                      const KerasLayer& layer,
                                                      const std::vector<std::string>& expected) {
  std::string location;
  NNFI_ASSIGN_OR_RETURN(auto stored, stored_weights(source, layer, &location));
  size_t required = 0;
  std::string expected_text, stored_text;
  for (const std::string& name : expected) {
    required += name.back() == '?' ? 0 : 1;
    expected_text += (expected_text.empty() ? "" : ", ") + name;
  }
  for (const auto& entry : stored) stored_text += (stored_text.empty() ? "" : ", ") + entry.first;
  const std::string where =
      source.info.file + ": layer '" + layer.name + "' (" + layer.class_name + ")";
  if (stored.size() < required || stored.size() > expected.size()) {
    if (stored.empty()) {
      return invalid_argument(where + ": no weights in the file (expected " + expected_text +
                              (location.empty() ? "" : " under '" + location + "'") + ")");
    }
    return invalid_argument(where + ": the file stores " + std::to_string(stored.size()) +
                            " weights (" + stored_text + "), expected " +
                            (expected.empty() ? std::string("none") : expected_text));
  }
  std::map<std::string, Tensor> weights;
  for (size_t i = 0; i < stored.size(); ++i) {
    std::string name = expected[i];
    if (name.back() == '?') name.pop_back();
    weights[name] = std::move(stored[i].second);
  }
  return weights;
}

struct CallResult {
  bool done = false;
  ValueId value = kNoValue;
  int rank = 0;
  std::vector<NodeId> nodes;
  std::string ir_name;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(KerasSource& source) : source_(source), model_(source.model) {}

  Expected<std::shared_ptr<Graph>> build();

 private:
  Status check_layers();
  Status check_ref(const TensorRef& ref, const std::string& user) const;
  Status build_call(size_t layer, size_t call, const std::vector<ValueId>& inputs,
                    const std::vector<int>& ranks);

  KerasSource& source_;
  const KerasModel& model_;
  std::shared_ptr<Graph> graph_ = std::make_shared<Graph>();
  std::map<std::string, size_t> index_;
  std::vector<std::vector<CallResult>> results_;
  std::vector<std::map<std::string, Tensor>> weights_;
  std::vector<std::map<std::string, ValueId>> constants_;
};

Status GraphBuilder::check_ref(const TensorRef& ref, const std::string& user) const {
  const std::string where = source_.info.file + ": " + user;
  auto it = index_.find(ref.layer);
  if (it == index_.end()) {
    return invalid_argument(where + " refers to layer '" + ref.layer +
                            "', which is not in the model");
  }
  if (ref.call < 0 || ref.call >= static_cast<int64_t>(results_[it->second].size())) {
    return invalid_argument(where + " refers to call " + std::to_string(ref.call) + " of layer '" +
                            ref.layer + "', which has " +
                            std::to_string(results_[it->second].size()));
  }
  if (ref.tensor != 0) {
    return unsupported(where + " uses output " + std::to_string(ref.tensor) + " of layer '" +
                       ref.layer + "'; nnfi's Keras layers have one output");
  }
  return Status::ok();
}

// Every class supported (first, so that an unknown layer is the error even
// when other things are wrong too), every reference valid, weights read.
Status GraphBuilder::check_layers() {
  for (size_t i = 0; i < model_.layers.size(); ++i) {
    const KerasLayer& layer = model_.layers[i];
    if (!expected_weights(layer)) {
      return unsupported(source_.info.file + ": layer '" + layer.name + "' (" + layer.class_name +
                         "): layer class not supported" + class_hint(layer.class_name) +
                         "; nnfi supports " + supported_layer_classes());
    }
    index_[layer.name] = i;
    const size_t calls = layer.class_name == "InputLayer" ? 1 : layer.calls.size();
    results_.emplace_back(calls);
  }
  for (const KerasLayer& layer : model_.layers) {
    for (size_t c = 0; c < layer.calls.size(); ++c) {
      if (layer.calls[c].empty()) {
        return invalid_argument(source_.info.file + ": layer '" + layer.name + "' call " +
                                std::to_string(c) + " has no input tensors");
      }
      for (const TensorRef& ref : layer.calls[c]) {
        NNFI_RETURN_IF_ERROR(check_ref(ref, "layer '" + layer.name + "'"));
      }
    }
  }
  for (const TensorRef& ref : model_.inputs) NNFI_RETURN_IF_ERROR(check_ref(ref, "input_layers"));
  for (const TensorRef& ref : model_.outputs) NNFI_RETURN_IF_ERROR(check_ref(ref, "output_layers"));
  for (const TensorRef& ref : model_.inputs) {
    if (model_.layers[index_[ref.layer]].class_name != "InputLayer") {
      return unsupported(source_.info.file + ": model input '" + ref.layer +
                         "' is not an InputLayer");
    }
  }
  for (const KerasLayer& layer : model_.layers) {
    NNFI_ASSIGN_OR_RETURN(auto weights, layer_weights(source_, layer, *expected_weights(layer)));
    weights_.push_back(std::move(weights));
  }
  constants_.resize(model_.layers.size());
  return Status::ok();
}

Status GraphBuilder::build_call(size_t layer_index, size_t call, const std::vector<ValueId>& inputs,
                                const std::vector<int>& ranks) {
  const KerasLayer& layer = model_.layers[layer_index];
  CallResult& result = results_[layer_index][call];
  result.ir_name = call == 0 ? layer.name : layer.name + "@" + std::to_string(call);
  LayerBuilder builder(*graph_, source_.info, layer, result.ir_name, inputs, ranks,
                       weights_[layer_index], constants_[layer_index]);
  NNFI_RETURN_IF_ERROR(convert_layer(builder));
  ValueId output = builder.output();
  const std::vector<NodeId>& nodes = builder.nodes();
  if (nodes.empty() || graph_->values[output].producer != nodes.back()) {
    output = builder.emit(OpType::kIdentity, "identity", {output});
  }
  result.done = true;
  result.value = output;
  result.rank = builder.output_rank();
  result.nodes = builder.nodes();
  return Status::ok();
}

Expected<std::shared_ptr<Graph>> GraphBuilder::build() {
  NNFI_RETURN_IF_ERROR(check_layers());
  graph_->name = model_.name;
  graph_->metadata = source_.metadata;
  graph_->metadata["keras.model_class"] = model_.class_name;
  for (size_t i = 0; i < model_.layers.size(); ++i) {
    const KerasLayer& layer = model_.layers[i];
    if (layer.class_name != "InputLayer") continue;
    if (layer.input_shape.empty()) {
      return invalid_argument(source_.info.file + ": InputLayer '" + layer.name +
                              "' has an empty batch shape");
    }
    CallResult& result = results_[i][0];
    result.value = graph_->add_value(layer.name, DType::kFloat32, layer.input_shape);
    result.rank = static_cast<int>(layer.input_shape.size());
    result.done = true;
  }
  // Calls in dependency order: a shared layer's later call may need layers
  // listed after it.
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < model_.layers.size(); ++i) {
      const KerasLayer& layer = model_.layers[i];
      for (size_t c = 0; c < layer.calls.size(); ++c) {
        if (results_[i][c].done) continue;
        std::vector<ValueId> inputs;
        std::vector<int> ranks;
        for (const TensorRef& ref : layer.calls[c]) {
          const CallResult& from = results_[index_[ref.layer]][static_cast<size_t>(ref.call)];
          if (!from.done) break;
          inputs.push_back(from.value);
          ranks.push_back(from.rank);
        }
        if (inputs.size() != layer.calls[c].size()) continue;
        NNFI_RETURN_IF_ERROR(build_call(i, c, inputs, ranks));
        progress = true;
      }
    }
  }
  for (size_t i = 0; i < model_.layers.size(); ++i) {
    for (size_t c = 0; c < results_[i].size(); ++c) {
      if (!results_[i][c].done) {
        return invalid_argument(source_.info.file + ": layer '" + model_.layers[i].name +
                                "' call " + std::to_string(c) +
                                " depends on itself (a cycle in inbound_nodes)");
      }
    }
  }
  // IR layers in Keras's layer order (calls of a shared layer side by side);
  // each layer's output value takes the layer's name.
  for (size_t i = 0; i < model_.layers.size(); ++i) {
    if (model_.layers[i].class_name == "InputLayer") continue;
    for (CallResult& result : results_[i]) {
      graph_->values[result.value].name = result.ir_name;
      graph_->add_layer(result.ir_name, model_.layers[i].class_name, result.nodes);
    }
  }
  for (const TensorRef& ref : model_.inputs) {
    graph_->inputs.push_back(results_[index_[ref.layer]][0].value);
  }
  for (const TensorRef& ref : model_.outputs) {
    graph_->outputs.push_back(results_[index_[ref.layer]][static_cast<size_t>(ref.call)].value);
  }
  Status status = graph_->finalize();
  if (!status.is_ok()) return status.with_context(source_.info.file);
  return graph_;
}

}  // namespace

bool looks_like_keras(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  if (!in.read(magic, 8)) return false;
  if (std::string(magic, 8) == "\x89HDF\r\n\x1a\n") return true;
  return has_zip_signature(path) && read_keras_archive(path).has_value();
}

}  // namespace nnfi::keras_import

namespace nnfi {

Expected<std::shared_ptr<Graph>> import_keras(const std::filesystem::path& path) {
  using namespace keras_import;  // NOLINT: the importer's own namespace
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return not_found(path.string() + ": no such Keras model file");
  }
  // A crash inside libhdf5 comes back as a failed call (hdf5_guard.h); the
  // file is corrupt then, whatever the importer made of the failure.
  const int64_t faults = hdf5_faults();
  auto corrupt = [&](const Status& status) {
    return invalid_argument(path.string() +
                            ": corrupt HDF5 file: the HDF5 library crashed reading it" +
                            (status.is_ok() ? "" : " (" + status.message() + ")"));
  };
  Expected<KerasSource> source = has_zip_signature(path) ? open_archive(path) : open_h5(path);
  if (hdf5_faults() != faults) return corrupt(source.status());
  if (!source) return source.status();
  source->info.file = path.string();
  GraphBuilder builder(*source);
  Expected<std::shared_ptr<Graph>> graph = builder.build();
  if (hdf5_faults() != faults) return corrupt(graph.status());
  return graph;
}

}  // namespace nnfi
