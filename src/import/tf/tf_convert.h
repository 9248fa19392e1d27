// How one TensorFlow node becomes IR: the GraphBuilder holds the Graph being
// built and the map from TF tensors ("node", output index) to values; a
// ConvertContext gives one node's converter (tf_ops.cc) its inputs,
// attributes and ways to emit IR nodes.
//
// Every TF op is one IR node named like the TF node, with source_op = the TF
// op type. Where an op needs more than one IR op (StridedSlice = Slice +
// Squeeze), the extra nodes are helpers named "<node>/nnfi_<what>" with an
// empty source_op, so operation-wise injection (by source_op) never picks
// them; the node keeping the TF name is the one producing the TF output.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "import/tf/tf_importer.h"

namespace nnfi::tf_import {

class GraphBuilder {
 public:
  GraphBuilder(const LoadOptions& options, const ImportSource& source)
      : options_(options), source_(source) {}

  Graph& graph() { return graph_; }
  const LoadOptions& options() const { return options_; }
  const ImportSource& source() const { return source_; }

  // TF tensor -> value.
  void bind(const std::string& node, int index, ValueId value) { tensors_[{node, index}] = value; }
  std::optional<ValueId> lookup(const std::string& node, int index) const;

  // Placeholders the user feeds (they become graph inputs).
  void set_fed(std::set<std::string> fed) { fed_ = std::move(fed); }
  bool is_fed(const std::string& node) const { return fed_.count(node) != 0; }

  // A node name not used by any TF node or earlier helper.
  void reserve_names(const std::vector<std::string>& names);
  std::string unique_name(const std::string& base);

  // Adds `node` with outputs named `output_names` and returns the output
  // values. A node whose inputs are all constants is evaluated now and its
  // outputs become constants if it is a helper, if its outputs are not float
  // (shape arithmetic), or if LoadOptions::fold_constants is set.
  Expected<std::vector<ValueId>> add_node(Node node, const std::vector<std::string>& output_names,
                                          const std::string& owner, bool helper);
  // The TF node each IR node came from (its own name for the TF node itself).
  const std::vector<std::string>& node_owners() const { return owners_; }
  int folded_float_nodes() const { return folded_float_nodes_; }

  // A constant derived from constant `original` (a transposed filter), made
  // once per (original, tag): `make` runs only the first time. When the
  // original ends up unused, the derived one takes its name.
  template <typename MakeFn>
  Expected<ValueId> derived_constant(ValueId original, const std::string& tag, MakeFn&& make) {
    auto it = derived_cache_.find({original, tag});
    if (it != derived_cache_.end()) return it->second;
    Expected<Tensor> tensor = make();
    if (!tensor) return tensor.status();
    ValueId id = add_derived_constant(original, tag, std::move(tensor).value());
    derived_cache_[{original, tag}] = id;
    return id;
  }
  const std::vector<std::pair<ValueId, ValueId>>& derived() const { return derived_; }

  // The checkpoint value of a variable node, or an error naming it.
  Expected<Tensor> variable_value(const tf::NodeDef& node) const;

 private:
  const LoadOptions& options_;
  const ImportSource& source_;
  Graph graph_;
  std::map<std::pair<std::string, int>, ValueId> tensors_;
  std::set<std::string> fed_;
  std::set<std::string> taken_;
  std::vector<std::string> owners_;
  ValueId add_derived_constant(ValueId original, const std::string& tag, Tensor tensor);

  std::vector<std::pair<ValueId, ValueId>> derived_;  // (derived, original)
  std::map<std::pair<ValueId, std::string>, ValueId> derived_cache_;
  int folded_float_nodes_ = 0;
};

class ConvertContext {
 public:
  ConvertContext(GraphBuilder& builder, const tf::NodeDef& node, std::vector<ValueId> inputs)
      : builder_(builder), node_(node), inputs_(std::move(inputs)) {}

  GraphBuilder& builder() { return builder_; }
  const tf::NodeDef& node() const { return node_; }
  const std::string& name() const { return node_.name(); }
  const std::string& op() const { return node_.op(); }

  size_t num_inputs() const { return inputs_.size(); }
  ValueId input(size_t i) const { return inputs_[i]; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  Status expect_inputs(size_t min_count, size_t max_count) const;
  // The constant value of input i, or nullptr when it is computed.
  const Tensor* constant(size_t i) const;
  // Input i as integers; it must be a constant known at import.
  Expected<std::vector<int64_t>> constant_ints(size_t i, const std::string& what) const;

  // Attributes; absent ones give the fallback, ones of the wrong kind an
  // error that emit() / alias() report.
  const tf::AttrValue* attr(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t fallback);
  double attr_float(const std::string& name, double fallback);
  bool attr_bool(const std::string& name, bool fallback);
  std::string attr_string(const std::string& name, const std::string& fallback);
  std::vector<int64_t> attr_ints(const std::string& name, std::vector<int64_t> fallback = {});
  int attr_type(const std::string& name, int fallback);

  Status error(const std::string& message) const { return invalid_argument(message); }

  // A new constant named "<node>/<suffix>".
  ValueId add_constant(const std::string& suffix, Tensor tensor);
  ValueId int64_constant(const std::string& suffix, const std::vector<int64_t>& values,
                         bool scalar = false);
  // A helper IR node (one output); returns its output.
  Expected<ValueId> helper(OpType op, std::vector<ValueId> inputs, Attributes attributes,
                           const std::string& suffix);
  // The node itself: TF output 0 is the output of this IR node.
  Status emit(OpType op, std::vector<ValueId> inputs, Attributes attributes = {});
  // TF output 0 is an existing value (Identity of a constant).
  Status alias(ValueId value);
  // TF output 0 is this constant, named like the node.
  Status output_constant(Tensor tensor);
  // TF output 0 is a graph input named like the node.
  Status output_input(DType dtype, Shape shape);

 private:
  void attr_kind_error(const std::string& name, const char* expected);

  GraphBuilder& builder_;
  const tf::NodeDef& node_;
  std::vector<ValueId> inputs_;
  Status attr_error_;
};

using ConvertFn = Status (*)(ConvertContext&);

struct TfOp {
  const char* name;
  ConvertFn convert;
  int outputs;  // how many outputs the TF op has (nnfi may compute fewer)
};

// nullptr for an op nnfi does not read.
const TfOp* find_tf_op(const std::string& op);

// The converters, by file: tf_ops.cc (graph plumbing, elementwise,
// activations, Cast, ArgMax), tf_ops_nn.cc (conv, pools, matmul, batch
// norm), tf_ops_shape.cc (shape ops and reductions).
std::vector<TfOp> basic_tf_ops();
std::vector<TfOp> nn_tf_ops();
std::vector<TfOp> shape_tf_ops();

}  // namespace nnfi::tf_import
