// Reading TensorFlow protobuf files: GraphDef (frozen graphs), MetaGraphDef
// (checkpoint .meta) and SavedModel (saved_model.pb), with checks that the
// bytes really are that message: protobuf happily parses many other formats
// into an empty or nonsense message.
#include <google/protobuf/io/coded_stream.h>

#include <fstream>
#include <limits>

#include "import/tf/tf_importer.h"

namespace nnfi::tf_import {
namespace {

template <typename Message>
Status parse_message(const std::string& bytes, const char* what, Message* message) {
  if (bytes.empty()) return invalid_argument(std::string("not a TensorFlow ") + what + ": empty");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return unsupported(std::string("the ") + what +
                       " is larger than 2 GiB, more than protobuf can parse");
  }
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
  if (!message->ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage()) {
    return invalid_argument(std::string("not a TensorFlow ") + what +
                            ": the content does not parse (truncated or another format)");
  }
  return Status::ok();
}

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// TensorFlow's rules: op names [A-Za-z][A-Za-z0-9_]*, node names
// [A-Za-z0-9.][A-Za-z0-9_.\-/>]*.
bool valid_op_name(const std::string& op) {
  if (op.empty() || !is_alpha(op[0])) return false;
  for (char c : op) {
    if (!is_alpha(c) && !is_digit(c) && c != '_') return false;
  }
  return true;
}

bool valid_node_name(const std::string& name) {
  if (name.empty() || !(is_alpha(name[0]) || is_digit(name[0]) || name[0] == '.')) return false;
  for (char c : name) {
    if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '.' && c != '-' && c != '/' && c != '>') {
      return false;
    }
  }
  return true;
}

// Every node has a valid name and op: what a real GraphDef always has and
// what a stray parse of another format (a MetaGraphDef read as a GraphDef
// turns its meta_info_def into a "node") practically never gives.
Status check_nodes(const tf::GraphDef& graph, const char* what) {
  if (graph.node_size() == 0) {
    return invalid_argument(std::string("not a TensorFlow ") + what + ": it holds no nodes");
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const tf::NodeDef& node = graph.node(i);
    if (!valid_node_name(node.name())) {
      return invalid_argument(std::string("not a TensorFlow ") + what + ": node #" +
                              std::to_string(i) + " has no valid name");
    }
    if (!valid_op_name(node.op())) {
      return invalid_argument(std::string("not a TensorFlow ") + what + ": node '" + node.name() +
                              "' has no valid op name");
    }
  }
  return Status::ok();
}

}  // namespace

Expected<std::string> read_file(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return not_found("no such file");
  if (std::filesystem::is_directory(path, error)) return invalid_argument("is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot be opened for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return io_error("cannot determine its size");
  in.seekg(0, std::ios::beg);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (size > 0 && !in.read(bytes.data(), size)) return io_error("read failed");
  return bytes;
}

Status parse_graph_def(const std::string& bytes, tf::GraphDef* graph) {
  NNFI_RETURN_IF_ERROR(parse_message(bytes, "GraphDef", graph));
  return check_nodes(*graph, "GraphDef");
}

Status parse_meta_graph(const std::string& bytes, tf::MetaGraphDef* meta) {
  NNFI_RETURN_IF_ERROR(parse_message(bytes, "MetaGraphDef", meta));
  if (!meta->has_graph_def()) {
    return invalid_argument("not a TensorFlow MetaGraphDef: it holds no graph_def");
  }
  return check_nodes(meta->graph_def(), "MetaGraphDef");
}

Status parse_saved_model(const std::string& bytes, tf::SavedModel* model) {
  NNFI_RETURN_IF_ERROR(parse_message(bytes, "SavedModel", model));
  if (model->meta_graphs_size() == 0) {
    return invalid_argument("not a TensorFlow SavedModel: it holds no meta graph");
  }
  for (const tf::MetaGraphDef& meta : model->meta_graphs()) {
    NNFI_RETURN_IF_ERROR(check_nodes(meta.graph_def(), "SavedModel"));
  }
  return Status::ok();
}

bool looks_like_tensorflow(const std::filesystem::path& path) {
  Expected<std::string> bytes = read_file(path);
  if (!bytes) return false;
  tf::GraphDef graph;
  if (parse_graph_def(*bytes, &graph).is_ok()) return true;
  tf::MetaGraphDef meta;
  if (parse_meta_graph(*bytes, &meta).is_ok()) return true;
  tf::SavedModel model;
  return parse_saved_model(*bytes, &model).is_ok();
}

}  // namespace nnfi::tf_import
