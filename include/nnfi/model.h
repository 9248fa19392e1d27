// Loading a model file of any supported format into a finalized Graph.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "nnfi/graph.h"
#include "nnfi/status.h"

namespace nnfi {

struct LoadOptions {
  // Reserved for the importers of later issues (TF feeds/fetches, folding).
};

// Picks the importer by file content and extension (.onnx today). Errors name
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

}  // namespace nnfi
