// Internals of the TensorFlow importer (nnfi::import_tensorflow), shared by
// its files and its tests:
//   graph_def_reader.cc  files, protobuf parsing, format sniffing
//   tensor_proto.cc      TensorProto / TensorShapeProto / DataType -> nnfi
//   bundle_reader.cc     checkpoint variables: the .index table + .data shards
//   tf_sources.cc        frozen graph, checkpoint + meta, SavedModel -> a GraphDef
//                        and where its variables come from
//   tf_importer.cc       the driver: feeds, fetches, pruning, folding, layers
//   tf_convert.cc        ConvertContext: how one TF node becomes IR nodes
//   tf_ops.cc            the table of TF ops and their converters
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "import/tf/proto/tf_bundle.pb.h"
#include "import/tf/proto/tf_graph.pb.h"
#include "import/tf/proto/tf_meta_graph.pb.h"
#include "nnfi/graph.h"
#include "nnfi/model.h"
#include "nnfi/status.h"

namespace nnfi::tf_import {

// ---- graph_def_reader.cc ----------------------------------------------------

// The whole file; errors say why it could not be read (callers add the name).
Expected<std::string> read_file(const std::filesystem::path& path);

// Parse `bytes` (no 64 MiB limit) and check the result is the message, not
// another format that happens to parse. Never crash on arbitrary bytes.
Status parse_graph_def(const std::string& bytes, tf::GraphDef* graph);
Status parse_meta_graph(const std::string& bytes, tf::MetaGraphDef* meta);
Status parse_saved_model(const std::string& bytes, tf::SavedModel* model);

// True where the file holds a TensorFlow GraphDef, MetaGraphDef or SavedModel
// (for load_model's content sniffing).
bool looks_like_tensorflow(const std::filesystem::path& path);

// ---- tensor_proto.cc --------------------------------------------------------

// Reference types (DT_FLOAT_REF, variables in TF1) map like their base type.
Expected<DType> dtype_from_tf(int tf_dtype);
std::string tf_dtype_name(int tf_dtype);  // "DT_FLOAT", or "DataType 123"
// Dims of -1 stay unknown; an unknown rank is an error.
Expected<Shape> shape_from_tf(const tf::TensorShapeProto& shape);
// The element count of a fully known shape, or an error (unknown dims, overflow).
Expected<int64_t> checked_num_elements(const Shape& shape);
// tensor_content (raw little-endian bytes, size checked) or the typed *_val
// field (none: zeros; fewer values than elements: the last one repeats, as
// TensorFlow does, so a single value fills the shape).
Expected<Tensor> tensor_from_tf(const tf::TensorProto& proto);
// The strings of a DT_STRING tensor (checkpoint restore graphs).
Expected<std::vector<std::string>> strings_from_tf(const tf::TensorProto& proto);

// ---- bundle_reader.cc -------------------------------------------------------

// CRC-32C (Castagnoli) as TensorFlow and LevelDB compute it, and their
// masking of stored checksums.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size);
inline uint32_t crc32c(const void* data, size_t size) { return crc32c_extend(0, data, size); }
inline uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t crc32c_unmask(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

// A TensorFlow V2 checkpoint ("tensor bundle"): PREFIX.index, an SSTable of
// BundleEntryProto by tensor name (the empty key holds the header), and
// PREFIX.data-NNNNN-of-MMMMM with the raw bytes. Every block checksum and
// every tensor's crc32c is verified, as TensorFlow's reader does.
class BundleReader {
 public:
  static Expected<std::unique_ptr<BundleReader>> open(const std::filesystem::path& prefix);

  bool contains(const std::string& key) const { return entries_.count(key) != 0; }
  std::vector<std::string> keys() const;
  Expected<Tensor> read(const std::string& key) const;
  const std::filesystem::path& prefix() const { return prefix_; }

 private:
  BundleReader() = default;
  std::filesystem::path prefix_;
  int32_t num_shards_ = 1;
  std::map<std::string, tf::BundleEntryProto> entries_;
};

// ---- tf_sources.cc / tf_importer.cc -----------------------------------------

// What the driver imports: a GraphDef and, for checkpoints and SavedModels,
// where its variables' values are.
struct ImportSource {
  std::string format;                    // "TensorFlow frozen GraphDef", ...
  const BundleReader* bundle = nullptr;  // none for frozen graphs
  // Variable node name -> checkpoint key, from the saver's restore ops;
  // variables not listed use their own name (VarHandleOp: shared_name).
  std::map<std::string, std::string> variable_keys;
  // Feeds and fetches of a SavedModel signature, used when LoadOptions has none.
  std::vector<std::string> default_feeds;
  std::vector<std::string> default_fetches;
};

// The variable keys a MetaGraphDef's restore ops use (Assign/AssignVariableOp
// of RestoreV2 outputs).
std::map<std::string, std::string> restore_variable_keys(const tf::GraphDef& graph);

// The GraphDef as a finalized Graph: pruned to the fetches, every needed TF
// op one node (plus unnamed helpers where an op needs two IR ops), layers by
// name scope. Errors name the node and op, not the file (the caller adds it).
Expected<std::shared_ptr<Graph>> build_graph(const tf::GraphDef& graph, const ImportSource& source,
                                             const LoadOptions& options);

// "name", "name:2" -> (name, 2); "^name" (a control input) -> nullopt.
struct TensorRef {
  std::string node;
  int index = 0;
};
std::optional<TensorRef> parse_tensor_name(const std::string& name);

// The layer (name scope) of each TF node name, by the rule in
// docs/tensorflow.md: the name up to its last '/', merged into the longest
// enclosing scope that directly holds nodes of its own.
std::vector<std::string> layer_scopes(const std::vector<std::string>& names);

}  // namespace nnfi::tf_import
