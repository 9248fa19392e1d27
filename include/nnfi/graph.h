// The graph IR every importer produces and every later stage consumes.
//
// A Graph is a list of Nodes (an op type, attributes, input and output value
// ids) over Values (name, dtype, shape, optional constant data). Nodes are
// grouped into Layers: the injection sites of layer-wise campaigns (a Keras
// layer, a TF name scope, an ONNX node). After finalize() the node list is in
// topological order, every value has a dtype and a shape (unknown dims -1),
// and node ids are execution order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi {

using ValueId = int32_t;
using NodeId = int32_t;
constexpr ValueId kNoValue = -1;  // an omitted optional input
constexpr NodeId kNoNode = -1;

enum class OpType : uint16_t {
#define NNFI_OP(name, ir_name, group) k##name,
#include "nnfi/op_list.inc"
#undef NNFI_OP
  kCount
};

std::string_view op_type_name(OpType op);
// Looks up an IR op type by its name ("Conv", "MaxPool", ...).
std::optional<OpType> op_type_from_name(std::string_view name);

using AttributeValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>, Tensor>;

// Named attributes of a node. Kernels read them through the typed getters,
// which fall back to a default when the attribute is absent.
class Attributes {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, AttributeValue value) { values_[name] = std::move(value); }
  const std::map<std::string, AttributeValue>& all() const { return values_; }

  int64_t get_int(const std::string& name, int64_t fallback) const;
  double get_float(const std::string& name, double fallback) const;
  std::string get_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& name,
                                const std::vector<int64_t>& fallback = {}) const;
  std::vector<double> get_floats(const std::string& name,
                                 const std::vector<double>& fallback = {}) const;
  // nullptr when absent or not a tensor.
  const Tensor* get_tensor(const std::string& name) const;

 private:
  std::map<std::string, AttributeValue> values_;
};

struct Value {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;                // -1 for dims unknown until a plan
  NodeId producer = kNoNode;  // kNoNode for graph inputs and constants
  Tensor constant;            // defined() for initializers / weights
  bool is_constant() const { return constant.defined(); }
};

struct Node {
  std::string name;  // unique, stable: sites are named by it
  OpType op = OpType::kIdentity;
  std::string source_op;  // the op type in the source format ("AddV2", "Conv2D")
  Attributes attributes;
  std::vector<ValueId> inputs;  // kNoValue for an omitted optional input
  std::vector<ValueId> outputs;
  int32_t layer = -1;  // index into Graph::layers, -1 if none
};

// A named group of nodes whose last node's first output is the layer output
// (e.g. a Keras Conv2D with relu = Conv + Relu; its output is after Relu).
struct Layer {
  std::string name;
  std::string class_name;  // "Conv2D", "Dense", an ONNX op type, ...
  std::vector<NodeId> nodes;
  ValueId output = kNoValue;
};

class Graph {
 public:
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<Layer> layers;
  std::vector<ValueId> inputs;   // graph inputs fed by the user (not constants)
  std::vector<ValueId> outputs;  // default fetches
  // Facts about the import that users and results should see, e.g.
  // {"format", "TensorFlow frozen GraphDef"}, {"tf.fold_constants", "no"}.
  // `nnfi inspect` prints them.
  std::map<std::string, std::string> metadata;

  ValueId add_value(std::string value_name, DType dtype, Shape shape);
  ValueId add_constant(std::string value_name, Tensor tensor);
  // Appends a node and records it as the producer of its outputs.
  NodeId add_node(Node node);
  // Adds a layer over the given nodes (sets Node::layer) with the last node's
  // first output as the layer output.
  int32_t add_layer(std::string layer_name, std::string class_name,
                    std::vector<NodeId> layer_nodes);

  std::optional<ValueId> find_value(std::string_view value_name) const;
  std::optional<NodeId> find_node(std::string_view node_name) const;
  std::optional<int32_t> find_layer(std::string_view layer_name) const;

  // Structural checks: ids in range, one producer per value, no cycles, unique
  // node names, every non-constant, non-input value produced. Errors name the
  // node and value.
  Status verify() const;
  // Node ids in an order where producers come before consumers; an error
  // naming a node on the cycle if there is one.
  Expected<std::vector<NodeId>> topological_order() const;
  // verify(), reorder nodes topologically (ids renumbered, layers remapped),
  // then infer every value's dtype and shape through the kernels' prepare.
  Status finalize();

  // Parameters: elements of the float constant inputs of a layer's nodes.
  int64_t layer_parameter_count(int32_t layer) const;
};

}  // namespace nnfi
