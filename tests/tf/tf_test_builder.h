// Building TensorFlow files in tests: GraphDefs node by node, checkpoint
// bundles (a TF-style SSTable .index and a .data shard, written here
// independently of the importer's reader, with its own crc32c), MetaGraphDef
// and SavedModel files; running an imported graph.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "import/tf/proto/tf_bundle.pb.h"
#include "import/tf/proto/tf_graph.pb.h"
#include "import/tf/proto/tf_meta_graph.pb.h"
#include "nnfi/graph.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "nnfi/tensor.h"

namespace nnfi::testing::tf_files {

namespace tf = ::nnfi::tf;

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- GraphDef nodes -----------------------------------------------------------

inline tf::NodeDef* add_node(tf::GraphDef& graph, const std::string& name, const std::string& op,
                             std::vector<std::string> inputs = {}) {
  tf::NodeDef* node = graph.add_node();
  node->set_name(name);
  node->set_op(op);
  for (const std::string& input : inputs) node->add_input(input);
  return node;
}

inline void set_type(tf::NodeDef* node, const std::string& name, tf::DataType type) {
  (*node->mutable_attr())[name].set_type(type);
}
inline void set_int(tf::NodeDef* node, const std::string& name, int64_t value) {
  (*node->mutable_attr())[name].set_i(value);
}
inline void set_float(tf::NodeDef* node, const std::string& name, float value) {
  (*node->mutable_attr())[name].set_f(value);
}
inline void set_bool(tf::NodeDef* node, const std::string& name, bool value) {
  (*node->mutable_attr())[name].set_b(value);
}
inline void set_string(tf::NodeDef* node, const std::string& name, const std::string& value) {
  (*node->mutable_attr())[name].set_s(value);
}
inline void set_ints(tf::NodeDef* node, const std::string& name, std::vector<int64_t> values) {
  auto* list = (*node->mutable_attr())[name].mutable_list();
  for (int64_t value : values) list->add_i(value);
}
inline void set_shape(tf::TensorShapeProto* proto, const Shape& shape) {
  for (int64_t dim : shape) proto->add_dim()->set_size(dim);
}
inline void set_shape_attr(tf::NodeDef* node, const std::string& name, const Shape& shape) {
  set_shape((*node->mutable_attr())[name].mutable_shape(), shape);
}

inline tf::DataType tf_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return tf::DT_FLOAT;
    case DType::kInt32: return tf::DT_INT32;
    case DType::kInt64: return tf::DT_INT64;
    case DType::kBool: return tf::DT_BOOL;
    case DType::kUInt8: return tf::DT_UINT8;
    case DType::kInt8: return tf::DT_INT8;
    default: return tf::DT_INVALID;
  }
}

// A TensorProto with the tensor's bytes in tensor_content.
inline tf::TensorProto tensor_proto(const Tensor& tensor) {
  tf::TensorProto proto;
  proto.set_dtype(tf_type(tensor.dtype()));
  set_shape(proto.mutable_tensor_shape(), tensor.shape());
  proto.set_tensor_content(
      std::string(static_cast<const char*>(tensor.raw_data()), tensor.num_bytes()));
  return proto;
}

inline tf::NodeDef* add_const(tf::GraphDef& graph, const std::string& name, const Tensor& value) {
  tf::NodeDef* node = add_node(graph, name, "Const");
  set_type(node, "dtype", tf_type(value.dtype()));
  *(*node->mutable_attr())["value"].mutable_tensor() = tensor_proto(value);
  return node;
}

inline tf::NodeDef* add_floats(tf::GraphDef& graph, const std::string& name,
                               std::vector<float> values, Shape shape) {
  return add_const(graph, name, Tensor::from_vector<float>(values, std::move(shape)));
}

// An int32 Const written the way TensorFlow writes small ones: int_val.
inline tf::NodeDef* add_ints(tf::GraphDef& graph, const std::string& name,
                             std::vector<int32_t> values, Shape shape) {
  tf::NodeDef* node = add_node(graph, name, "Const");
  set_type(node, "dtype", tf::DT_INT32);
  tf::TensorProto* proto = (*node->mutable_attr())["value"].mutable_tensor();
  proto->set_dtype(tf::DT_INT32);
  set_shape(proto->mutable_tensor_shape(), shape);
  for (int32_t value : values) proto->add_int_val(value);
  return node;
}

inline tf::NodeDef* add_placeholder(tf::GraphDef& graph, const std::string& name, Shape shape,
                                    tf::DataType type = tf::DT_FLOAT) {
  tf::NodeDef* node = add_node(graph, name, "Placeholder");
  set_type(node, "dtype", type);
  set_shape_attr(node, "shape", shape);
  return node;
}

inline tf::NodeDef* add_string_const(tf::GraphDef& graph, const std::string& name,
                                     const std::vector<std::string>& values) {
  tf::NodeDef* node = add_node(graph, name, "Const");
  set_type(node, "dtype", tf::DT_STRING);
  tf::TensorProto* proto = (*node->mutable_attr())["value"].mutable_tensor();
  proto->set_dtype(tf::DT_STRING);
  if (values.size() != 1) set_shape(proto->mutable_tensor_shape(), {int64_t(values.size())});
  for (const std::string& value : values) proto->add_string_val(value);
  return node;
}

// ---- files -------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() /
            ("nnfi_tf_test_" + std::to_string(device()) + "_" + std::to_string(device()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <typename Message>
std::filesystem::path write_message(const std::filesystem::path& path, const Message& message) {
  write_bytes(path, message.SerializeAsString());
  return path;
}

// ---- checkpoint bundles -------------------------------------------------------

// CRC-32C, bit by bit (the reader uses a table; this is the plain definition).
inline uint32_t test_crc32c(const std::string& bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
  }
  return ~crc;
}
inline uint32_t test_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

inline void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}
inline void put_fixed32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
inline void put_fixed64(std::string& out, uint64_t value) {
  put_fixed32(out, static_cast<uint32_t>(value));
  put_fixed32(out, static_cast<uint32_t>(value >> 32));
}

// A LevelDB/TensorFlow table: prefix-compressed data blocks with restart
// points, an empty metaindex block, an index block, a 48-byte footer.
class TableWriter {
 public:
  explicit TableWriter(size_t block_size = 4096, int restart_interval = 16)
      : block_size_(block_size), restart_interval_(restart_interval) {}

  void add(const std::string& key, const std::string& value) {
    if (block_.size() >= block_size_) flush();
    add_to(block_, restarts_, counter_, last_key_, key, value, restart_interval_);
  }

  std::string finish() {
    flush();
    std::string empty;
    std::vector<uint32_t> no_restarts;
    const std::string metaindex = write_block(seal(empty, no_restarts));
    std::string index;
    std::vector<uint32_t> index_restarts;
    int index_counter = 0;
    std::string index_last;
    for (const auto& [key, handle] : index_entries_) {
      add_to(index, index_restarts, index_counter, index_last, key, handle, 1);
    }
    const std::string index_handle = write_block(seal(index, index_restarts));
    std::string footer = metaindex + index_handle;
    footer.resize(40, '\0');
    put_fixed64(footer, 0xdb4775248b80fb57ull);
    return file_ + footer;
  }

 private:
  static void add_to(std::string& block, std::vector<uint32_t>& restarts, int& counter,
                     std::string& last, const std::string& key, const std::string& value,
                     int interval) {
    size_t shared = 0;
    if (counter % interval == 0) {
      restarts.push_back(static_cast<uint32_t>(block.size()));
    } else {
      while (shared < last.size() && shared < key.size() && last[shared] == key[shared]) ++shared;
    }
    put_varint(block, shared);
    put_varint(block, key.size() - shared);
    put_varint(block, value.size());
    block += key.substr(shared);
    block += value;
    last = key;
    ++counter;
  }
  static std::string seal(std::string block, std::vector<uint32_t> restarts) {
    if (restarts.empty()) restarts.push_back(0);
    for (uint32_t offset : restarts) put_fixed32(block, offset);
    put_fixed32(block, static_cast<uint32_t>(restarts.size()));
    return block;
  }
  // Appends contents + trailer (type 0, masked crc of contents + type).
  std::string write_block(const std::string& contents) {
    std::string handle;
    put_varint(handle, file_.size());
    put_varint(handle, contents.size());
    file_ += contents;
    std::string typed = contents;
    typed.push_back('\0');
    file_.push_back('\0');
    put_fixed32(file_, test_mask(test_crc32c(typed)));
    return handle;
  }
  void flush() {
    if (counter_ == 0) return;
    index_entries_.emplace_back(last_key_, write_block(seal(block_, restarts_)));
    block_.clear();
    restarts_.clear();
    counter_ = 0;
  }

  size_t block_size_;
  int restart_interval_;
  std::string file_;
  std::string block_;
  std::vector<uint32_t> restarts_;
  int counter_ = 0;
  std::string last_key_;
  std::vector<std::pair<std::string, std::string>> index_entries_;
};

// Writes PREFIX.index and PREFIX.data-00000-of-00001 holding `tensors`.
inline void write_bundle(const std::filesystem::path& prefix,
                         const std::map<std::string, Tensor>& tensors, size_t block_size = 4096) {
  std::string data;
  TableWriter table(block_size);
  tf::BundleHeaderProto header;
  header.set_num_shards(1);
  header.mutable_version()->set_producer(1);
  table.add("", header.SerializeAsString());
  for (const auto& [key, tensor] : tensors) {  // std::map: sorted keys, as tables need
    tf::BundleEntryProto entry;
    entry.set_dtype(tf_type(tensor.dtype()));
    set_shape(entry.mutable_shape(), tensor.shape());
    entry.set_offset(static_cast<int64_t>(data.size()));
    entry.set_size(static_cast<int64_t>(tensor.num_bytes()));
    const std::string bytes(static_cast<const char*>(tensor.raw_data()), tensor.num_bytes());
    entry.set_crc32c(test_mask(test_crc32c(bytes)));
    data += bytes;
    table.add(key, entry.SerializeAsString());
  }
  write_bytes(prefix.string() + ".index", table.finish());
  write_bytes(prefix.string() + ".data-00000-of-00001", data);
}

// Writes `graph` to a .pb in a temporary folder and loads it.
inline Expected<std::shared_ptr<Graph>> import_graph_def(const tf::GraphDef& graph,
                                                         const LoadOptions& options = {},
                                                         const std::string& file = "graph.pb") {
  static TempDir dir;
  return load_model(write_message(dir / file, graph), options);
}

inline LoadOptions feeds_fetches(std::vector<std::string> feeds, std::vector<std::string> fetches,
                                 bool fold = false) {
  LoadOptions options;
  options.feeds = std::move(feeds);
  options.fetches = std::move(fetches);
  options.fold_constants = fold;
  return options;
}

// ---- running ------------------------------------------------------------------

// Runs the graph on `inputs` (one per graph input) with the reference kernels
// or the fast ones; returns the graph outputs.
inline Expected<std::vector<Tensor>> run_graph(std::shared_ptr<const Graph> graph,
                                               const std::vector<Tensor>& inputs,
                                               bool fast = false) {
  std::vector<Shape> shapes;
  for (const Tensor& input : inputs) shapes.push_back(input.shape());
  PlanOptions options;
  options.use_fast_kernels = fast;
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan, Plan::create(graph, shapes, options));
  Executor executor(plan);
  for (size_t i = 0; i < inputs.size(); ++i) NNFI_RETURN_IF_ERROR(executor.set_input(i, inputs[i]));
  NNFI_RETURN_IF_ERROR(executor.run());
  std::vector<Tensor> outputs;
  for (ValueId id : graph->outputs) outputs.push_back(executor.value(id).clone());
  return outputs;
}

inline int count_source_op(const Graph& graph, const std::string& op) {
  int count = 0;
  for (const Node& node : graph.nodes) count += node.source_op == op ? 1 : 0;
  return count;
}

inline const Node* find_node(const Graph& graph, const std::string& name) {
  std::optional<NodeId> id = graph.find_node(name);
  return id ? &graph.nodes[*id] : nullptr;
}

}  // namespace nnfi::testing::tf_files
