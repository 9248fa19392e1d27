// Where a TensorFlow graph comes from: a frozen GraphDef (.pb), a checkpoint
// (PREFIX.meta + PREFIX.index + PREFIX.data-*, or a folder with TensorFlow's
// `checkpoint` file), or a SavedModel folder (saved_model.pb + variables/).
// Each gives a GraphDef and, for the last two, a bundle of variables.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "import/tf/tf_importer.h"

namespace nnfi::tf_import {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The value of `model_checkpoint_path` in TensorFlow's text `checkpoint` file.
Expected<fs::path> checkpoint_prefix_from_state(const fs::path& dir) {
  const fs::path state = dir / "checkpoint";
  std::ifstream in(state);
  if (!in) return not_found(state.string() + " cannot be opened");
  std::string line;
  while (std::getline(in, line)) {
    const std::string key = "model_checkpoint_path:";
    size_t at = line.find(key);
    if (at == std::string::npos || line.compare(0, 3, "all") == 0) continue;
    size_t open = line.find('"', at + key.size());
    size_t close = open == std::string::npos ? open : line.find('"', open + 1);
    if (close == std::string::npos) break;
    fs::path prefix = line.substr(open + 1, close - open - 1);
    return prefix.is_absolute() ? prefix : dir / prefix;
  }
  return invalid_argument(state.string() + " names no model_checkpoint_path");
}

// Variables bundle at `prefix`, or none when there is no .index (a graph
// without variables needs none; one with variables then fails by name).
Expected<std::unique_ptr<BundleReader>> open_bundle_if_present(const fs::path& prefix) {
  std::error_code error;
  if (!fs::exists(prefix.string() + ".index", error)) return std::unique_ptr<BundleReader>();
  return BundleReader::open(prefix);
}

std::string list_signatures(const tf::MetaGraphDef& meta) {
  std::vector<std::string> names;
  for (const auto& [name, signature] : meta.signature_def()) names.push_back("'" + name + "'");
  std::sort(names.begin(), names.end());
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "none" : text;
}

// The meta graph tagged "serve" (what serving loads), else the first.
const tf::MetaGraphDef& pick_meta_graph(const tf::SavedModel& model) {
  for (const tf::MetaGraphDef& meta : model.meta_graphs()) {
    const auto& tags = meta.meta_info_def().tags();
    if (std::find(tags.begin(), tags.end(), "serve") != tags.end()) return meta;
  }
  return model.meta_graphs(0);
}

// Signature inputs and outputs, ordered by their keys.
Status apply_signature(const tf::MetaGraphDef& meta, const LoadOptions& options,
                       ImportSource* source) {
  auto it = meta.signature_def().find(options.signature);
  if (it == meta.signature_def().end()) {
    if (!options.fetches.empty()) return Status::ok();  // the user chose the tensors
    return not_found("the SavedModel has no signature '" + options.signature + "' (signatures: " +
                     list_signatures(meta) + "); choose one, or name the feeds and fetches");
  }
  std::map<std::string, std::string> inputs, outputs;
  for (const auto& [key, info] : it->second.inputs()) inputs[key] = info.name();
  for (const auto& [key, info] : it->second.outputs()) outputs[key] = info.name();
  for (const auto& [key, name] : inputs) source->default_feeds.push_back(name);
  for (const auto& [key, name] : outputs) source->default_fetches.push_back(name);
  return Status::ok();
}

struct Loaded {
  tf::GraphDef graph;
  std::unique_ptr<BundleReader> bundle;
  ImportSource source;
};

Status load_frozen(const std::string& bytes, Loaded* loaded) {
  Status status = parse_graph_def(bytes, &loaded->graph);
  if (status.is_ok()) {
    loaded->source.format = "TensorFlow frozen GraphDef";
    return status;
  }
  // A .pb may also be a MetaGraphDef or SavedModel saved under another name.
  tf::MetaGraphDef meta;
  if (parse_meta_graph(bytes, &meta).is_ok()) {
    loaded->graph = meta.graph_def();
    loaded->source.format = "TensorFlow MetaGraphDef (no checkpoint)";
    return Status::ok();
  }
  tf::SavedModel model;
  if (parse_saved_model(bytes, &model).is_ok()) {
    return invalid_argument("this is a SavedModel's saved_model.pb: load its folder");
  }
  return status;
}

Status load_checkpoint(const fs::path& prefix, Loaded* loaded) {
  const fs::path meta_path = prefix.string() + ".meta";
  Expected<std::string> bytes = read_file(meta_path);
  if (!bytes) return bytes.status().with_context(meta_path.string());
  tf::MetaGraphDef meta;
  Status status = parse_meta_graph(*bytes, &meta);
  if (!status.is_ok()) return status.with_context(meta_path.string());
  loaded->graph = std::move(*meta.mutable_graph_def());
  NNFI_ASSIGN_OR_RETURN(loaded->bundle, BundleReader::open(prefix));
  loaded->source.format = "TensorFlow checkpoint (MetaGraphDef + variables)";
  return Status::ok();
}

Status load_saved_model(const fs::path& dir, const LoadOptions& options, Loaded* loaded) {
  const fs::path file = dir / "saved_model.pb";
  Expected<std::string> bytes = read_file(file);
  if (!bytes) return bytes.status().with_context(file.string());
  tf::SavedModel model;
  Status status = parse_saved_model(*bytes, &model);
  if (!status.is_ok()) return status.with_context(file.string());
  const tf::MetaGraphDef& meta = pick_meta_graph(model);
  NNFI_RETURN_IF_ERROR(apply_signature(meta, options, &loaded->source).with_context(file.string()));
  loaded->graph = meta.graph_def();
  NNFI_ASSIGN_OR_RETURN(loaded->bundle, open_bundle_if_present(dir / "variables" / "variables"));
  loaded->source.format = "TensorFlow SavedModel";
  return Status::ok();
}

Status load_any(const fs::path& path, const LoadOptions& options, Loaded* loaded) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    if (fs::exists(path / "saved_model.pb", error)) return load_saved_model(path, options, loaded);
    if (fs::exists(path / "checkpoint", error)) {
      NNFI_ASSIGN_OR_RETURN(fs::path prefix, checkpoint_prefix_from_state(path));
      return load_checkpoint(prefix, loaded);
    }
    return invalid_argument(
        "the folder holds neither a SavedModel (saved_model.pb) nor a checkpoint "
        "(a `checkpoint` file)");
  }
  const std::string name = path.string();
  if (path.filename() == "saved_model.pb") {
    return load_saved_model(path.has_parent_path() ? path.parent_path() : fs::path("."), options,
                            loaded);
  }
  if (ends_with(name, ".meta")) return load_checkpoint(name.substr(0, name.size() - 5), loaded);
  if (ends_with(name, ".index")) return load_checkpoint(name.substr(0, name.size() - 6), loaded);
  Expected<std::string> bytes = read_file(path);
  if (!bytes) return bytes.status();
  return load_frozen(*bytes, loaded);
}

}  // namespace

std::map<std::string, std::string> restore_variable_keys(const tf::GraphDef& graph) {
  std::map<std::string, const tf::NodeDef*> by_name;
  for (const tf::NodeDef& node : graph.node()) by_name[node.name()] = &node;
  // RestoreV2 node -> the tensor names it restores (its 2nd input, a Const).
  auto restored_names = [&](const tf::NodeDef& restore) -> std::vector<std::string> {
    if (restore.input_size() < 2) return {};
    std::optional<TensorRef> ref = parse_tensor_name(restore.input(1));
    if (!ref) return {};
    auto it = by_name.find(ref->node);
    if (it == by_name.end() || it->second->op() != "Const") return {};
    auto value = it->second->attr().find("value");
    if (value == it->second->attr().end()) return {};
    Expected<std::vector<std::string>> names = strings_from_tf(value->second.tensor());
    return names ? *names : std::vector<std::string>();
  };
  std::map<std::string, std::string> keys;
  for (const tf::NodeDef& node : graph.node()) {
    if ((node.op() != "Assign" && node.op() != "AssignVariableOp") || node.input_size() < 2) {
      continue;
    }
    std::optional<TensorRef> variable = parse_tensor_name(node.input(0));
    std::optional<TensorRef> value = parse_tensor_name(node.input(1));
    // Follow Identity nodes back to the RestoreV2 output (resource variables).
    for (int hops = 0; value && hops < 16; ++hops) {
      auto it = by_name.find(value->node);
      if (it == by_name.end()) {
        value.reset();
        break;
      }
      if (it->second->op() == "RestoreV2") {
        std::vector<std::string> names = restored_names(*it->second);
        if (variable && value->index >= 0 && value->index < static_cast<int>(names.size())) {
          keys[variable->node] = names[value->index];
        }
        break;
      }
      if (it->second->op() != "Identity" || it->second->input_size() < 1) break;
      value = parse_tensor_name(it->second->input(0));
    }
  }
  return keys;
}

}  // namespace nnfi::tf_import

namespace nnfi {

Expected<std::shared_ptr<Graph>> import_tensorflow(const std::filesystem::path& path,
                                                   const LoadOptions& options) {
  const std::string file = path.string();
  tf_import::Loaded loaded;
  Status status = tf_import::load_any(path, options, &loaded);
  if (!status.is_ok()) {
    if (status.message().find(file) != std::string::npos) return status;
    return status.with_context(file);
  }
  loaded.source.bundle = loaded.bundle.get();
  if (loaded.bundle) loaded.source.variable_keys = tf_import::restore_variable_keys(loaded.graph);
  Expected<std::shared_ptr<Graph>> graph =
      tf_import::build_graph(loaded.graph, loaded.source, options);
  if (!graph) return graph.status().with_context(file);
  if ((*graph)->name.empty()) {
    (*graph)->name = std::filesystem::path(file).filename().string();
  }
  return graph;
}

}  // namespace nnfi
