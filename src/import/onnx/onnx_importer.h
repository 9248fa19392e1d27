// Internals of the ONNX importer (nnfi::import_onnx), exposed for the model
// loader's format sniffing and for tests.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "nnfi/graph.h"
#include "nnfi/status.h"

namespace nnfi::onnx_import {

// Opsets of the default domain nnfi imports. Older ones are refused (their
// ops changed meaning, e.g. BatchNormalization's consumed_inputs); newer ones
// too (opset 18 moved attributes of Pad and the Reduce ops into inputs).
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 17;

// A whole file's bytes, read into memory that was not zeroed first (VGG16's
// 528 MB: zeroing them took ~0.7 s on a VM, as long as the read).
struct FileBytes {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  std::string_view view() const { return {data.get(), size}; }
};

// The whole file; errors say why it could not be read (no file name: callers
// add it).
Expected<FileBytes> read_file_bytes(const std::filesystem::path& path);

// Parses `bytes` as a ModelProto (no 64 MiB limit) and checks that it is one:
// an ir_version and a graph. Never crashes on arbitrary bytes.
Status parse_model(std::string_view bytes, onnx::ModelProto* model);

// True where the file's content is an ONNX ModelProto (for load_model).
bool looks_like_onnx(const std::filesystem::path& path);

// The graph of a parsed model, not yet finalized (no shapes inferred).
// Errors name the node and op but not the file.
Expected<std::shared_ptr<Graph>> build_graph(const onnx::ModelProto& model);

}  // namespace nnfi::onnx_import
