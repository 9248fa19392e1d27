#include "nnfi/graph.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "graph/shape_inference.h"

namespace nnfi {

std::string_view op_type_name(OpType op) {
  static constexpr std::string_view kNames[] = {
#define NNFI_OP(name, ir_name, group) ir_name,
#include "nnfi/op_list.inc"
#undef NNFI_OP
  };
  auto index = static_cast<size_t>(op);
  return index < std::size(kNames) ? kNames[index] : std::string_view("?");
}

std::optional<OpType> op_type_from_name(std::string_view name) {
  for (size_t i = 0; i < static_cast<size_t>(OpType::kCount); ++i) {
    if (op_type_name(static_cast<OpType>(i)) == name) return static_cast<OpType>(i);
  }
  return std::nullopt;
}

int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
  if (auto* v = std::get_if<double>(&it->second)) return static_cast<int64_t>(*v);
  return fallback;
}

double Attributes::get_float(const std::string& name, double fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  if (auto* v = std::get_if<double>(&it->second)) return *v;
  if (auto* v = std::get_if<int64_t>(&it->second)) return static_cast<double>(*v);
  return fallback;
}

std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  if (auto* v = std::get_if<std::string>(&it->second)) return *v;
  return fallback;
}

std::vector<int64_t> Attributes::get_ints(const std::string& name,
                                          const std::vector<int64_t>& fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto* v = std::get_if<int64_t>(&it->second)) return {*v};
  return fallback;
}

std::vector<double> Attributes::get_floats(const std::string& name,
                                           const std::vector<double>& fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  if (auto* v = std::get_if<std::vector<double>>(&it->second)) return *v;
  if (auto* v = std::get_if<double>(&it->second)) return {*v};
  return fallback;
}

const Tensor* Attributes::get_tensor(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return nullptr;
  return std::get_if<Tensor>(&it->second);
}

ValueId Graph::add_value(std::string value_name, DType dtype, Shape shape) {
  Value value;
  value.name = std::move(value_name);
  value.dtype = dtype;
  value.shape = std::move(shape);
  values.push_back(std::move(value));
  return static_cast<ValueId>(values.size() - 1);
}

ValueId Graph::add_constant(std::string value_name, Tensor tensor) {
  ValueId id = add_value(std::move(value_name), tensor.dtype(), tensor.shape());
  values[id].constant = std::move(tensor);
  return id;
}

NodeId Graph::add_node(Node node) {
  auto id = static_cast<NodeId>(nodes.size());
  for (ValueId output : node.outputs) {
    if (output >= 0 && output < static_cast<ValueId>(values.size())) values[output].producer = id;
  }
  nodes.push_back(std::move(node));
  return id;
}

int32_t Graph::add_layer(std::string layer_name, std::string class_name,
                         std::vector<NodeId> layer_nodes) {
  Layer layer;
  layer.name = std::move(layer_name);
  layer.class_name = std::move(class_name);
  auto index = static_cast<int32_t>(layers.size());
  for (NodeId node : layer_nodes) nodes[node].layer = index;
  if (!layer_nodes.empty() && !nodes[layer_nodes.back()].outputs.empty()) {
    layer.output = nodes[layer_nodes.back()].outputs.front();
  }
  layer.nodes = std::move(layer_nodes);
  layers.push_back(std::move(layer));
  return index;
}

std::optional<ValueId> Graph::find_value(std::string_view value_name) const {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].name == value_name) return static_cast<ValueId>(i);
  }
  return std::nullopt;
}

std::optional<NodeId> Graph::find_node(std::string_view node_name) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == node_name) return static_cast<NodeId>(i);
  }
  return std::nullopt;
}

std::optional<int32_t> Graph::find_layer(std::string_view layer_name) const {
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].name == layer_name) return static_cast<int32_t>(i);
  }
  return std::nullopt;
}

Status Graph::verify() const {
  const auto value_count = static_cast<ValueId>(values.size());
  std::vector<NodeId> producer(values.size(), kNoNode);
  std::set<std::string> node_names;
  for (size_t n = 0; n < nodes.size(); ++n) {
    const Node& node = nodes[n];
    const std::string where =
        "node '" + node.name + "' (" + std::string(op_type_name(node.op)) + ")";
    if (node.name.empty()) return invalid_argument("node #" + std::to_string(n) + " has no name");
    if (!node_names.insert(node.name).second) {
      return invalid_argument(where + ": node name is used more than once");
    }
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      ValueId input = node.inputs[i];
      if (input != kNoValue && (input < 0 || input >= value_count)) {
        return invalid_argument(where + ": input " + std::to_string(i) + " refers to value id " +
                                std::to_string(input) + ", which does not exist");
      }
    }
    if (node.outputs.empty()) return invalid_argument(where + ": has no outputs");
    for (ValueId output : node.outputs) {
      if (output < 0 || output >= value_count) {
        return invalid_argument(where + ": output refers to value id " + std::to_string(output) +
                                ", which does not exist");
      }
      if (values[output].is_constant()) {
        return invalid_argument(where + ": writes constant '" + values[output].name + "'");
      }
      if (producer[output] != kNoNode) {
        return invalid_argument(where + ": value '" + values[output].name +
                                "' is also produced by node '" + nodes[producer[output]].name +
                                "'");
      }
      producer[output] = static_cast<NodeId>(n);
    }
  }
  std::set<ValueId> graph_inputs(inputs.begin(), inputs.end());
  for (ValueId input : inputs) {
    if (input < 0 || input >= value_count) return invalid_argument("graph input id out of range");
    if (producer[input] != kNoNode) {
      return invalid_argument("graph input '" + values[input].name + "' is produced by node '" +
                              nodes[producer[input]].name + "'");
    }
  }
  for (const Node& node : nodes) {
    for (ValueId input : node.inputs) {
      if (input == kNoValue) continue;
      if (producer[input] == kNoNode && !values[input].is_constant() &&
          !graph_inputs.count(input)) {
        return invalid_argument("node '" + node.name + "' (" + std::string(op_type_name(node.op)) +
                                "): input '" + values[input].name +
                                "' is neither a graph input, a constant nor produced by a node");
      }
    }
  }
  for (ValueId output : outputs) {
    if (output < 0 || output >= value_count)
      return invalid_argument("graph output id out of range");
    if (producer[output] == kNoNode && !values[output].is_constant() &&
        !graph_inputs.count(output)) {
      return invalid_argument("graph output '" + values[output].name + "' is never produced");
    }
  }
  return topological_order().status();
}

Expected<std::vector<NodeId>> Graph::topological_order() const {
  // Kahn's algorithm; ties keep the original node order, so an already sorted
  // graph keeps its ids.
  std::vector<NodeId> producer(values.size(), kNoNode);
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (ValueId output : nodes[n].outputs) {
      if (output >= 0 && output < static_cast<ValueId>(values.size())) {
        producer[output] = static_cast<NodeId>(n);
      }
    }
  }
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<NodeId>> consumers(nodes.size());
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (ValueId input : nodes[n].inputs) {
      if (input < 0 || input >= static_cast<ValueId>(values.size())) continue;
      NodeId from = producer[input];
      if (from == kNoNode) continue;
      ++pending[n];
      consumers[from].push_back(static_cast<NodeId>(n));
    }
  }
  std::set<NodeId> ready;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (pending[n] == 0) ready.insert(static_cast<NodeId>(n));
  }
  std::vector<NodeId> order;
  order.reserve(nodes.size());
  while (!ready.empty()) {
    NodeId next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (NodeId consumer : consumers[next]) {
      if (--pending[consumer] == 0) ready.insert(consumer);
    }
  }
  if (order.size() != nodes.size()) {
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (pending[n] > 0) {
        return invalid_argument("the graph has a cycle through node '" + nodes[n].name + "' (" +
                                std::string(op_type_name(nodes[n].op)) + ")");
      }
    }
  }
  return order;
}

Status Graph::finalize() {
  NNFI_RETURN_IF_ERROR(verify());
  NNFI_ASSIGN_OR_RETURN(std::vector<NodeId> order, topological_order());
  std::vector<NodeId> new_id(nodes.size());
  for (size_t i = 0; i < order.size(); ++i) new_id[order[i]] = static_cast<NodeId>(i);
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (NodeId old_id : order) sorted.push_back(std::move(nodes[old_id]));
  nodes = std::move(sorted);
  for (Layer& layer : layers) {
    for (NodeId& node : layer.nodes) node = new_id[node];
    std::sort(layer.nodes.begin(), layer.nodes.end());
  }
  for (Value& value : values) value.producer = kNoNode;
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (ValueId output : nodes[n].outputs) values[output].producer = static_cast<NodeId>(n);
  }
  return infer_graph_shapes(*this);
}

int64_t Graph::layer_parameter_count(int32_t layer) const {
  int64_t count = 0;
  std::set<ValueId> seen;
  for (NodeId node : layers[layer].nodes) {
    for (ValueId input : nodes[node].inputs) {
      // Shape and axes tensors are not parameters: count float constants only.
      if (input != kNoValue && values[input].is_constant() && dtype_is_float(values[input].dtype) &&
          seen.insert(input).second) {
        count += values[input].constant.num_elements();
      }
    }
  }
  return count;
}

}  // namespace nnfi
