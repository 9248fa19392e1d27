// The TensorFlow import driver: resolve feeds and fetches, prune the GraphDef
// to what the fetches need (so unneeded nodes may be of any op), check the
// ops, convert the needed nodes in topological order (tf_ops*.cc), drop
// unused constants, group nodes into layers by name scope, finalize.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "import/tf/tf_convert.h"

namespace nnfi::tf_import {
namespace {

// Ops that hold state or do bookkeeping: never default fetches.
bool is_plumbing(const std::string& op) {
  static const std::set<std::string> kOps = {
      "Const",    "Placeholder", "PlaceholderWithDefault", "NoOp",   "VariableV2",
      "Variable", "VarHandleOp", "ReadVariableOp",         "Assign", "AssignVariableOp"};
  return kOps.count(op) != 0;
}

std::string describe(const tf::NodeDef& node) {
  return "node '" + node.name() + "' (" + node.op() + ")";
}

std::string value_name(const TensorRef& ref) {
  return ref.index == 0 ? ref.node : ref.node + ":" + std::to_string(ref.index);
}

class Importer {
 public:
  Importer(const tf::GraphDef& def, const ImportSource& source, const LoadOptions& options)
      : def_(def), source_(source), options_(options), builder_(options, source) {}

  Expected<std::shared_ptr<Graph>> run();

 private:
  Status index_nodes();
  Status resolve_feeds_and_fetches();
  Status default_fetches();
  Status prune();
  Status check_ops() const;
  Status choose_fed();
  Status convert();
  Status set_outputs();
  void drop_unused_constants();
  void add_layers();

  const tf::NodeDef& node(int index) const { return def_.node(index); }

  const tf::GraphDef& def_;
  const ImportSource& source_;
  const LoadOptions& options_;
  GraphBuilder builder_;
  std::unordered_map<std::string, int> index_;
  std::vector<TensorRef> feeds_;
  std::vector<TensorRef> fetches_;
  std::vector<int> order_;  // needed nodes, producers first
};

Status Importer::index_nodes() {
  std::vector<std::string> names;
  for (int i = 0; i < def_.node_size(); ++i) {
    if (!index_.emplace(node(i).name(), i).second) {
      return invalid_argument("two nodes are named '" + node(i).name() + "'");
    }
    names.push_back(node(i).name());
  }
  builder_.reserve_names(names);
  return Status::ok();
}

Status Importer::resolve_feeds_and_fetches() {
  const std::vector<std::string>& feeds =
      options_.feeds.empty() ? source_.default_feeds : options_.feeds;
  const std::vector<std::string>& fetches =
      options_.fetches.empty() ? source_.default_fetches : options_.fetches;
  for (const std::string& name : feeds) {
    std::optional<TensorRef> ref = parse_tensor_name(name);
    if (!ref || !index_.count(ref->node)) {
      return not_found("feed '" + name + "' names no node of the graph");
    }
    const tf::NodeDef& fed = node(index_.at(ref->node));
    if (fed.op() != "Placeholder" && fed.op() != "PlaceholderWithDefault") {
      return unsupported("feed '" + name + "' is " + describe(fed) +
                         "; nnfi feeds Placeholder and PlaceholderWithDefault nodes");
    }
    if (ref->index != 0) return not_found("feed '" + name + "': a placeholder has one output");
    feeds_.push_back(*ref);
  }
  for (const std::string& name : fetches) {
    std::optional<TensorRef> ref = parse_tensor_name(name);
    if (!ref || !index_.count(ref->node)) {
      return not_found("fetch '" + name + "' names no node of the graph");
    }
    fetches_.push_back(*ref);
  }
  return fetches_.empty() ? default_fetches() : Status::ok();
}

// The sinks: supported, non-plumbing nodes whose outputs no node reads.
Status Importer::default_fetches() {
  std::set<std::string> consumed;
  for (const tf::NodeDef& n : def_.node()) {
    for (const std::string& input : n.input()) {
      if (std::optional<TensorRef> ref = parse_tensor_name(input)) consumed.insert(ref->node);
    }
  }
  for (const tf::NodeDef& n : def_.node()) {
    const TfOp* op = find_tf_op(n.op());
    if (op == nullptr || op->outputs == 0 || is_plumbing(n.op()) || consumed.count(n.name())) {
      continue;
    }
    auto type = n.attr().find("T");
    if (type != n.attr().end() &&
        (type->second.type() == tf::DT_STRING || type->second.type() == tf::DT_RESOURCE)) {
      continue;
    }
    fetches_.push_back({n.name(), 0});
  }
  if (fetches_.empty()) {
    return invalid_argument("the graph has no node to fetch by default; name the fetches");
  }
  return Status::ok();
}

// Depth-first from the fetches over data inputs, stopping at fed nodes;
// order_ lists producers before consumers.
Status Importer::prune() {
  std::set<std::string> fed;
  for (const TensorRef& ref : feeds_) fed.insert(ref.node);
  enum : uint8_t { kNew, kOpen, kDone };
  std::vector<uint8_t> state(static_cast<size_t>(def_.node_size()), kNew);
  struct Frame {
    int node;
    int next_input;
  };
  for (const TensorRef& fetch : fetches_) {
    std::vector<Frame> stack = {{index_.at(fetch.node), 0}};
    if (state[stack[0].node] != kNew) continue;
    state[stack[0].node] = kOpen;
    while (!stack.empty()) {
      Frame& top = stack.back();
      const tf::NodeDef& current = node(top.node);
      const bool stop = fed.count(current.name()) != 0;
      if (stop || top.next_input >= current.input_size()) {
        state[top.node] = kDone;
        order_.push_back(top.node);
        stack.pop_back();
        continue;
      }
      const std::string& input = current.input(top.next_input++);
      std::optional<TensorRef> ref = parse_tensor_name(input);
      if (!ref) continue;  // a control input: inference ignores it
      auto it = index_.find(ref->node);
      if (it == index_.end()) {
        return invalid_argument(describe(current) + ": input '" + input + "' names node '" +
                                ref->node + "', which is not in the graph");
      }
      if (state[it->second] == kOpen) {
        return invalid_argument("the graph has a cycle through " + describe(node(it->second)));
      }
      if (state[it->second] == kNew) {
        state[it->second] = kOpen;
        stack.push_back({it->second, 0});
      }
    }
  }
  return Status::ok();
}

Status Importer::check_ops() const {
  std::vector<int> unknown;
  std::set<std::string> ops;
  for (int index : order_) {
    if (find_tf_op(node(index).op()) == nullptr) {
      unknown.push_back(index);
      ops.insert(node(index).op());
    }
  }
  if (unknown.empty()) return Status::ok();
  std::string message = describe(node(unknown[0])) +
                        ": op is not supported by nnfi's TensorFlow importer "
                        "(docs/tensorflow.md lists the ops it reads)";
  if (unknown.size() > 1) {
    std::string list;
    for (const std::string& op : ops) list += (list.empty() ? "" : ", ") + op;
    message += "; " + std::to_string(unknown.size()) +
               " needed nodes in all have unsupported ops: " + list;
  }
  return unsupported(message);
}

// Fed placeholders: the feeds, else every needed Placeholder (PlaceholderWithDefault
// takes its default).
Status Importer::choose_fed() {
  std::set<std::string> fed;
  if (!feeds_.empty()) {
    for (const TensorRef& ref : feeds_) fed.insert(ref.node);
  } else {
    std::vector<int> sorted = order_;
    std::sort(sorted.begin(), sorted.end());  // file order
    for (int index : sorted) {
      if (node(index).op() == "Placeholder") fed.insert(node(index).name());
    }
  }
  builder_.set_fed(std::move(fed));
  return Status::ok();
}

Status Importer::convert() {
  // Feeds first, in the order given: they are Graph::inputs in that order.
  std::vector<int> order;
  for (const TensorRef& ref : feeds_) order.push_back(index_.at(ref.node));
  std::set<int> first(order.begin(), order.end());
  for (int index : order_) {
    if (!first.count(index)) order.push_back(index);
  }
  if (feeds_.empty()) {  // default inputs in file order
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      const bool fed_a = builder_.is_fed(node(a).name());
      const bool fed_b = builder_.is_fed(node(b).name());
      return fed_a && fed_b ? a < b : fed_a > fed_b;
    });
  }
  for (int index : order) {
    const tf::NodeDef& current = node(index);
    const TfOp* op = find_tf_op(current.op());
    std::vector<ValueId> inputs;
    if (!builder_.is_fed(current.name())) {
      for (const std::string& input : current.input()) {
        std::optional<TensorRef> ref = parse_tensor_name(input);
        if (!ref) continue;
        std::optional<ValueId> value = builder_.lookup(ref->node, ref->index);
        if (!value) {
          const tf::NodeDef& from = node(index_.at(ref->node));
          const TfOp* from_op = find_tf_op(from.op());
          const int outputs = from_op != nullptr ? from_op->outputs : 1;
          if (ref->index >= outputs) {
            return invalid_argument(describe(current) + ": input '" + input + "' is output " +
                                    std::to_string(ref->index) + " of " + describe(from) +
                                    ", which has " + std::to_string(outputs) + " output(s)");
          }
          return unsupported(describe(current) + ": input '" + input + "' is output " +
                             std::to_string(ref->index) + " of " + describe(from) +
                             ", which nnfi does not compute (inference only)");
        }
        inputs.push_back(*value);
      }
    }
    ConvertContext context(builder_, current, std::move(inputs));
    Status status = op->convert(context);
    if (!status.is_ok()) return status.with_context(describe(current));
  }
  return Status::ok();
}

Status Importer::set_outputs() {
  Graph& graph = builder_.graph();
  for (const TensorRef& ref : fetches_) {
    std::optional<ValueId> value = builder_.lookup(ref.node, ref.index);
    if (!value) {
      const tf::NodeDef& from = node(index_.at(ref.node));
      return invalid_argument("fetch '" + value_name(ref) + "': " + describe(from) +
                              " gives no output " + std::to_string(ref.index) + " nnfi computes");
    }
    graph.outputs.push_back(*value);
  }
  return Status::ok();
}

// Constants no node reads (a filter replaced by its transposed copy, folded
// intermediates) go; a derived constant whose original went takes its name.
void Importer::drop_unused_constants() {
  Graph& graph = builder_.graph();
  std::vector<bool> used(graph.values.size(), false);
  for (const Node& n : graph.nodes) {
    for (ValueId id : n.inputs) {
      if (id != kNoValue) used[id] = true;
    }
    for (ValueId id : n.outputs) used[id] = true;
  }
  for (ValueId id : graph.inputs) used[id] = true;
  for (ValueId id : graph.outputs) used[id] = true;
  std::set<ValueId> renamed;  // one derived constant per original takes its name
  for (const auto& [derived, original] : builder_.derived()) {
    if (used[derived] && !used[original] && renamed.insert(original).second) {
      graph.values[derived].name = graph.values[original].name;
    }
  }
  std::vector<ValueId> remap(graph.values.size(), kNoValue);
  std::vector<Value> kept;
  for (size_t v = 0; v < graph.values.size(); ++v) {
    if (!used[v]) continue;
    remap[v] = static_cast<ValueId>(kept.size());
    kept.push_back(std::move(graph.values[v]));
  }
  graph.values = std::move(kept);
  auto apply = [&](std::vector<ValueId>& ids) {
    for (ValueId& id : ids) {
      if (id != kNoValue) id = remap[id];
    }
  };
  for (Node& n : graph.nodes) {
    apply(n.inputs);
    apply(n.outputs);
  }
  apply(graph.inputs);
  apply(graph.outputs);
}

// One layer per scope (layer_scopes); its class is the op of its first node
// that reads a value from outside the layer.
void Importer::add_layers() {
  Graph& graph = builder_.graph();
  const std::vector<std::string> scopes = layer_scopes(builder_.node_owners());
  std::vector<std::string> order;
  std::map<std::string, std::vector<NodeId>> members;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!members.count(scopes[n])) order.push_back(scopes[n]);
    members[scopes[n]].push_back(static_cast<NodeId>(n));
  }
  std::vector<int32_t> layer_of(graph.nodes.size(), -1);
  for (const std::string& scope : order) {
    const std::vector<NodeId>& nodes = members[scope];
    std::set<ValueId> inside;
    for (NodeId id : nodes)
      inside.insert(graph.nodes[id].outputs.begin(), graph.nodes[id].outputs.end());
    std::string class_name;
    for (NodeId id : nodes) {
      const Node& n = graph.nodes[id];
      if (n.source_op.empty()) continue;
      if (class_name.empty()) class_name = n.source_op;
      const bool reads_outside = std::any_of(n.inputs.begin(), n.inputs.end(), [&](ValueId v) {
        return v != kNoValue && !graph.values[v].is_constant() && !inside.count(v);
      });
      if (reads_outside) {
        class_name = n.source_op;
        break;
      }
    }
    graph.add_layer(scope, class_name, nodes);
  }
}

Expected<std::shared_ptr<Graph>> Importer::run() {
  NNFI_RETURN_IF_ERROR(index_nodes());
  NNFI_RETURN_IF_ERROR(resolve_feeds_and_fetches());
  NNFI_RETURN_IF_ERROR(prune());
  NNFI_RETURN_IF_ERROR(check_ops());
  NNFI_RETURN_IF_ERROR(choose_fed());
  NNFI_RETURN_IF_ERROR(convert());
  NNFI_RETURN_IF_ERROR(set_outputs());
  drop_unused_constants();
  add_layers();
  Graph& graph = builder_.graph();
  graph.metadata["format"] = source_.format;
  graph.metadata["tf.fold_constants"] = options_.fold_constants ? "yes" : "no";
  graph.metadata["tf.folded_float_ops"] = std::to_string(builder_.folded_float_nodes());
  auto graph_ptr = std::make_shared<Graph>(std::move(graph));
  NNFI_RETURN_IF_ERROR(graph_ptr->finalize());
  return graph_ptr;
}

}  // namespace

std::optional<TensorRef> parse_tensor_name(const std::string& name) {
  if (name.empty() || name[0] == '^') return std::nullopt;
  const size_t colon = name.rfind(':');
  if (colon == std::string::npos || colon + 1 == name.size()) return TensorRef{name, 0};
  int index = 0;
  for (size_t i = colon + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || index > 100000) return TensorRef{name, 0};
    index = index * 10 + (name[i] - '0');
  }
  return TensorRef{name.substr(0, colon), index};
}

std::vector<std::string> layer_scopes(const std::vector<std::string>& names) {
  auto scope_of = [](const std::string& name) {
    const size_t slash = name.rfind('/');
    return slash == std::string::npos ? name : name.substr(0, slash);
  };
  std::set<std::string> direct;  // scopes that directly hold a node
  for (const std::string& name : names) direct.insert(scope_of(name));
  std::vector<std::string> layers;
  for (const std::string& name : names) {
    const std::string scope = scope_of(name);
    std::string layer = scope;
    for (size_t slash = scope.rfind('/'); slash != std::string::npos && slash > 0;
         slash = scope.rfind('/', slash - 1)) {
      const std::string ancestor = scope.substr(0, slash);
      if (direct.count(ancestor)) {
        layer = ancestor;
        break;
      }
    }
    layers.push_back(layer);
  }
  return layers;
}

Expected<std::shared_ptr<Graph>> build_graph(const tf::GraphDef& graph, const ImportSource& source,
                                             const LoadOptions& options) {
  Importer importer(graph, source, options);
  return importer.run();
}

}  // namespace nnfi::tf_import
