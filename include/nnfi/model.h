// Loading a model file of any supported format into a finalized Graph.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nnfi/graph.h"
#include "nnfi/status.h"

namespace nnfi {

struct LoadOptions {
  // TensorFlow graphs (frozen .pb, checkpoint .meta, SavedModel directory).
  // Tensors to feed, by name ("input" or "input:0"): Placeholders (with or
  // without default) that become Graph::inputs in this order. Empty: every
  // Placeholder without default that the fetches need (SavedModel: the
  // signature's inputs).
  std::vector<std::string> feeds;
  // Tensors to fetch ("name", "name:1"): Graph::outputs in this order; the
  // graph is pruned to what they need, so ops that are not needed may be of
  // any type. Empty: the sink nodes (SavedModel: the signature's outputs).
  std::vector<std::string> fetches;
  // Fold float arithmetic whose inputs are all constants (e.g. MobileNet's
  // unfused batch norm: variance + eps, Rsqrt, gamma * rsqrt) into constants.
  // Off by default: InjectTF injects into every executed op, and these run at
  // every inference in TensorFlow. Shape arithmetic (int results) is always
  // folded. Graph::metadata["tf.fold_constants"] records the choice.
  bool fold_constants = false;
  // SavedModel: the signature that picks feeds and fetches.
  std::string signature = "serving_default";
};

// Picks the importer by file content and extension (.onnx, .pb, .meta, .index)
// or, for a folder, by what it holds (a SavedModel or a checkpoint). Errors name
// the file and, where it applies, the node and op.
Expected<std::shared_ptr<Graph>> load_model(const std::filesystem::path& path,
                                            const LoadOptions& options = {});

// ONNX: a ModelProto file, opsets 7 to 17.
Expected<std::shared_ptr<Graph>> import_onnx(const std::filesystem::path& path);

// Keras (docs/keras.md): .h5 files from model.save in Keras 2.x (standalone and
// tf.keras) and Keras 3, and Keras 3 .keras archives. Each call of each Keras
// layer becomes an IR layer (Graph::layers in Keras's layer order) whose nodes
// are named "<layer>/<op>"; InputLayers become the graph inputs.
Expected<std::shared_ptr<Graph>> import_keras(const std::filesystem::path& path);

// TensorFlow 1 graphs (docs/tensorflow.md): a frozen GraphDef (.pb), a
// checkpoint's MetaGraphDef (.meta, or the .index, or a folder with a
// `checkpoint` file) with its variables bundle, or a SavedModel folder (or
// its saved_model.pb). Every TF op is one node that keeps its TF name and op
// type (Node::source_op); layers are name scopes.
Expected<std::shared_ptr<Graph>> import_tensorflow(const std::filesystem::path& path,
                                                   const LoadOptions& options = {});

}  // namespace nnfi
