// ONNX ModelProto file -> Graph. Every node but Constant becomes an IR node
// and its own layer (so every ONNX node is an injection site); Constants and
// initializers become graph constants.
#include "import/onnx/onnx_importer.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "import/onnx/onnx_node.h"
#include "import/onnx/onnx_tensor.h"
#include "nnfi/model.h"

namespace nnfi::onnx_import {
namespace {

// Protobuf serialises fields in number order and every writer sets
// ir_version (field 1, varint): a ModelProto starts with this tag byte.
constexpr unsigned char kIrVersionTag = 0x08;

// Imported opsets by domain; the default domain may be missing here (IR
// version >= 3 requires it: checked after the op check, which says more).
OpsetMap read_opsets(const onnx::ModelProto& model) {
  OpsetMap opsets;
  for (const auto& import : model.opset_import()) {
    opsets[normalized_domain(import.domain())] = import.version();
  }
  // IR version < 3 predates opset_import and means opset 1.
  if (!opsets.count("") && model.ir_version() < 3) opsets[""] = 1;
  return opsets;
}

Status check_opset_range(int64_t opset) {
  if (opset < kMinOpset) {
    return unsupported("ONNX opset " + std::to_string(opset) + " is too old: nnfi imports opsets " +
                       std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) +
                       " (convert the model with onnx.version_converter)");
  }
  if (opset > kMaxOpset) {
    return unsupported("ONNX opset " + std::to_string(opset) +
                       " is newer than nnfi supports: it imports opsets " +
                       std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) +
                       " (export the model with opset " + std::to_string(kMaxOpset) + " or older)");
  }
  return Status::ok();
}

// Node names as sites will know them: an ONNX name where it is present and
// first used; otherwise "<OpType>_<index>" (or "<name>_<index>" for a repeated
// name), with a suffix should that be taken too. Depends only on the file.
std::vector<std::string> unique_node_names(const onnx::GraphProto& graph) {
  std::unordered_set<std::string> taken;
  for (const auto& node : graph.node()) {
    if (!node.name().empty()) taken.insert(node.name());
  }
  std::unordered_set<std::string> kept;
  std::vector<std::string> names;
  names.reserve(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& node = graph.node(i);
    if (!node.name().empty() && kept.insert(node.name()).second) {
      names.push_back(node.name());
      continue;
    }
    std::string stem = !node.name().empty()      ? node.name()
                       : !node.op_type().empty() ? node.op_type()
                                                 : std::string("node");
    std::string base = stem + "_" + std::to_string(i);
    std::string candidate = base;
    for (int k = 1; taken.count(candidate); ++k) candidate = base + "_" + std::to_string(k);
    taken.insert(candidate);
    names.push_back(candidate);
  }
  return names;
}

Expected<ValueId> add_graph_input(const onnx::ValueInfoProto& input, Graph& graph) {
  const std::string where = "graph input '" + input.name() + "'";
  if (!input.type().has_tensor_type()) {
    return unsupported(where +
                       " is not a tensor (sequence, map and optional inputs are not "
                       "supported)");
  }
  const onnx::TypeProto::Tensor& type = input.type().tensor_type();
  Expected<DType> dtype = dtype_from_onnx(type.elem_type());
  if (!dtype) return dtype.status().with_context(where);
  if (!type.has_shape()) {
    return unsupported(where + " has no shape; nnfi needs at least its rank");
  }
  Shape shape;
  for (const auto& dim : type.shape().dim()) {
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0) {
        return invalid_argument(where + " has a negative dimension " +
                                std::to_string(dim.dim_value()));
      }
      shape.push_back(dim.dim_value());
    } else {
      shape.push_back(kUnknownDim);  // dim_param (e.g. "batch") or absent
    }
  }
  return graph.add_value(input.name(), *dtype, std::move(shape));
}

// A node converted in the first pass, wired up in the second.
struct PendingNode {
  int index;
  ConvertedNode converted;
  std::vector<ValueId> outputs;
};

// Where a name refers to an output nnfi drops, says whose.
struct DroppedOutput {
  std::string node;
  std::string op;
  int position;
};

}  // namespace

Expected<FileBytes> read_file_bytes(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return not_found("no such file");
  if (std::filesystem::is_directory(path, error)) {
    return invalid_argument("is a directory, not a model file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot be opened for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return io_error("cannot determine its size");
  in.seekg(0, std::ios::beg);
  FileBytes bytes;
  bytes.size = static_cast<size_t>(size);
  bytes.data = std::make_unique_for_overwrite<char[]>(std::max<size_t>(1, bytes.size));
  if (size > 0 && !in.read(bytes.data.get(), size)) return io_error("read failed");
  return bytes;
}

Status parse_model(std::string_view bytes, onnx::ModelProto* model) {
  if (bytes.empty()) return invalid_argument("not an ONNX model: the file is empty");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return unsupported(
        "the file is larger than 2 GiB, more than protobuf can parse; nnfi does "
        "not read ONNX external data");
  }
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(bytes.size()));
  stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
  if (!model->ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage()) {
    return invalid_argument(
        "not an ONNX model: the content does not parse as an ONNX ModelProto "
        "(truncated or another format)");
  }
  if (model->ir_version() <= 0 || !model->has_graph()) {
    return invalid_argument(std::string("not an ONNX model: the content parses but has no ") +
                            (model->ir_version() <= 0 ? "ir_version" : "graph"));
  }
  return Status::ok();
}

bool looks_like_onnx(const std::filesystem::path& path) {
  {
    std::ifstream in(path, std::ios::binary);
    char first = 0;
    if (!in || !in.get(first) || static_cast<unsigned char>(first) != kIrVersionTag) return false;
  }
  Expected<FileBytes> bytes = read_file_bytes(path);
  if (!bytes) return false;
  onnx::ModelProto model;
  return parse_model(bytes->view(), &model).is_ok();
}

Expected<std::shared_ptr<Graph>> build_graph(const onnx::ModelProto& model) {
  const OpsetMap opsets = read_opsets(model);
  const onnx::GraphProto& proto = model.graph();
  std::vector<std::string> node_names = unique_node_names(proto);
  // Unsupported ops first: the most useful thing to say about a model.
  for (int i = 0; i < proto.node_size(); ++i) {
    Status status = check_op_supported(proto.node(i), opsets);
    if (!status.is_ok()) return status.with_context("node '" + node_names[i] + "'");
  }
  if (!opsets.count("")) {
    return invalid_argument("the model imports no opset of the default domain ai.onnx");
  }
  const int64_t opset = opsets.at("");
  NNFI_RETURN_IF_ERROR(check_opset_range(opset));
  if (proto.sparse_initializer_size() > 0) {
    return unsupported("sparse initializers are not supported");
  }

  auto graph = std::make_shared<Graph>();
  graph->name = proto.name();
  std::unordered_map<std::string, ValueId> ids;
  for (const auto& initializer : proto.initializer()) {
    if (initializer.name().empty()) return invalid_argument("an initializer has no name");
    if (ids.count(initializer.name())) {
      return invalid_argument("initializer '" + initializer.name() + "' is defined twice");
    }
    Expected<Tensor> tensor = tensor_from_onnx(initializer);
    if (!tensor) return tensor.status().with_context("initializer '" + initializer.name() + "'");
    ids[initializer.name()] = graph->add_constant(initializer.name(), std::move(tensor).value());
  }
  for (const auto& input : proto.input()) {
    auto it = ids.find(input.name());
    if (it != ids.end()) {
      // Initializers listed among the inputs (all of them before IR version
      // 4) are weights, not values the user feeds.
      if (graph->values[it->second].is_constant()) continue;
      return invalid_argument("graph input '" + input.name() + "' is listed twice");
    }
    if (input.name().empty()) return invalid_argument("a graph input has no name");
    NNFI_ASSIGN_OR_RETURN(ValueId id, add_graph_input(input, *graph));
    graph->inputs.push_back(id);
    ids[input.name()] = id;
  }

  // First pass: every produced name gets its value, so node order in the file
  // does not matter (finalize() sorts, and reports a cycle).
  std::vector<PendingNode> pending;
  std::unordered_map<std::string, DroppedOutput> dropped;
  for (int i = 0; i < proto.node_size(); ++i) {
    const onnx::NodeProto& node = proto.node(i);
    const std::string where = "node '" + node_names[i] + "'";
    if (is_constant_node(node)) {
      Expected<Tensor> value = constant_node_value(node, opset);
      if (!value) return value.status().with_context(where);
      if (ids.count(node.output(0))) {
        return invalid_argument(where + " (Constant): output '" + node.output(0) +
                                "' is already defined elsewhere in the graph");
      }
      ids[node.output(0)] = graph->add_constant(node.output(0), std::move(value).value());
      continue;
    }
    Expected<ConvertedNode> converted = convert_node(node, opset);
    if (!converted) return converted.status().with_context(where);
    PendingNode entry{i, std::move(converted).value(), {}};
    const int kept = static_cast<int>(
        std::min<size_t>(entry.converted.max_outputs, static_cast<size_t>(node.output_size())));
    int last_named = -1;
    for (int o = 0; o < kept; ++o) {
      if (!node.output(o).empty()) last_named = o;
    }
    for (int o = 0; o <= last_named; ++o) {
      std::string name = node.output(o);
      if (name.empty()) {  // an omitted output before a used one
        name = node_names[i] + ":" + std::to_string(o);
        while (ids.count(name)) name += "_";
      } else if (ids.count(name)) {
        return invalid_argument(where + " (" + node.op_type() + "): output '" + name +
                                "' is already defined elsewhere in the graph");
      }
      ValueId id = graph->add_value(name, DType::kUndefined, {});
      ids[name] = id;
      entry.outputs.push_back(id);
    }
    if (entry.outputs.empty()) {
      return invalid_argument(where + " (" + node.op_type() + ") has no named output");
    }
    for (int o = kept; o < node.output_size(); ++o) {
      if (!node.output(o).empty()) dropped[node.output(o)] = {node_names[i], node.op_type(), o};
    }
    pending.push_back(std::move(entry));
  }

  auto dropped_error = [&](const std::string& name, const std::string& user) {
    const DroppedOutput& from = dropped.at(name);
    return unsupported(user + " uses '" + name + "', output " + std::to_string(from.position) +
                       " of " + from.op + " node '" + from.node +
                       "', which nnfi does not compute (inference only)");
  };

  // Second pass: wire inputs by name, one layer per node.
  for (PendingNode& entry : pending) {
    const onnx::NodeProto& source = proto.node(entry.index);
    const std::string where = "node '" + node_names[entry.index] + "' (" + source.op_type() + ")";
    Node node;
    node.name = node_names[entry.index];
    node.op = entry.converted.op;
    node.source_op = source.op_type();
    node.attributes = std::move(entry.converted.attributes);
    node.outputs = std::move(entry.outputs);
    const int input_count = static_cast<int>(
        std::min<size_t>(entry.converted.max_inputs, static_cast<size_t>(source.input_size())));
    for (int k = 0; k < input_count; ++k) {
      const std::string& name = source.input(k);
      if (name.empty()) {
        node.inputs.push_back(kNoValue);
        continue;
      }
      auto it = ids.find(name);
      if (it == ids.end()) {
        if (dropped.count(name)) return dropped_error(name, where);
        return invalid_argument(where + ": input '" + name +
                                "' is not a graph input, an initializer or the output of any node");
      }
      node.inputs.push_back(it->second);
    }
    while (!node.inputs.empty() && node.inputs.back() == kNoValue) node.inputs.pop_back();
    NodeId id = graph->add_node(std::move(node));
    graph->add_layer(node_names[entry.index], source.op_type(), {id});
  }

  for (const auto& output : proto.output()) {
    auto it = ids.find(output.name());
    if (it == ids.end()) {
      if (dropped.count(output.name())) return dropped_error(output.name(), "the graph output");
      return invalid_argument("graph output '" + output.name() +
                              "' is not produced by any node, input or initializer");
    }
    graph->outputs.push_back(it->second);
  }
  if (graph->outputs.empty()) return invalid_argument("the graph has no outputs");
  return graph;
}

}  // namespace nnfi::onnx_import

namespace nnfi {

Expected<std::shared_ptr<Graph>> import_onnx(const std::filesystem::path& path) {
  const std::string file = path.string();
  Expected<onnx_import::FileBytes> bytes = onnx_import::read_file_bytes(path);
  if (!bytes) return bytes.status().with_context(file);
  onnx::ModelProto model;
  Status status = onnx_import::parse_model(bytes->view(), &model);
  if (!status.is_ok()) return status.with_context(file);
  bytes->data.reset();  // the parsed model holds its own copy
  Expected<std::shared_ptr<Graph>> graph = onnx_import::build_graph(model);
  if (!graph) return graph.status().with_context(file);
  status = (*graph)->finalize();
  if (!status.is_ok()) return status.with_context(file);
  return graph;
}

}  // namespace nnfi
