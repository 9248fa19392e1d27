// Sites: the values of a planned graph that faults can corrupt.
#include <string>
#include <vector>

#include "nnfi/fault.h"

namespace nnfi {
namespace {

// Which values are activations: float, computed from a graph input (not a
// reshaped constant), with the batch as first axis in the plan. Where the
// model's batch is free, finalize() left -1 in every dim that follows the
// batch (it infers with batch 1 and 2), so the first axis must also be -1 in
// the graph: with batch 1, a per-batch statistic of shape [1, ...] is not an
// activation.
class ActivationCheck {
 public:
  ActivationCheck(const Graph& graph, const Plan& plan) : graph_(graph), plan_(plan) {
    const std::vector<Shape>& inputs = plan.input_shapes();
    if (!inputs.empty() && !inputs[0].empty()) batch_ = inputs[0][0];
    if (!graph.inputs.empty()) {
      const Shape& declared = graph.values[graph.inputs[0]].shape;
      free_batch_ = !declared.empty() && declared[0] < 0;
    }
    from_input_.assign(graph.values.size(), false);
    for (ValueId input : graph.inputs) from_input_[input] = true;
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      // Folded nodes (shape arithmetic) produce plan-time constants.
      if (plan.node_folded(static_cast<NodeId>(n))) continue;
      const Node& node = graph.nodes[n];
      bool reached = false;
      for (ValueId input : node.inputs)
        reached = reached || (input != kNoValue && from_input_[input]);
      if (!reached) continue;
      for (ValueId output : node.outputs) {
        if (output != kNoValue) from_input_[output] = true;
      }
    }
  }

  bool is_activation(ValueId value) const {
    if (value == kNoValue || !from_input_[value] || batch_ < 0) return false;
    if (!dtype_is_float(plan_.value_dtype(value))) return false;
    const Shape& shape = plan_.value_shape(value);
    if (shape.empty() || shape[0] != batch_) return false;
    const Shape& declared = graph_.values[value].shape;
    return !free_batch_ || (!declared.empty() && declared[0] < 0);
  }

  // A float value computed at run time that does not depend on the input
  // (e.g. TF1's unfused batch norm computes rsqrt(variance + eps) at every
  // run): one tensor shared by every image of a batch. InjectTF injects into
  // these ops too.
  bool is_shared(ValueId value) const {
    if (value == kNoValue || from_input_[value] || graph_.values[value].is_constant()) return false;
    if (plan_.constant_value(value) != nullptr) return false;
    return dtype_is_float(plan_.value_dtype(value));
  }

  void describe_shared(ValueId value, Site& site) const {
    site.value = value;
    site.shape = plan_.value_shape(value);
    site.elements = shape_num_elements(site.shape);
    site.shared = true;
  }

  // Fills the per-image shape and element count of an activation.
  void describe(ValueId value, Site& site) const {
    const Shape& shape = plan_.value_shape(value);
    site.value = value;
    site.shape.assign(shape.begin() + 1, shape.end());
    site.elements = shape_num_elements(site.shape);
  }

 private:
  const Graph& graph_;
  const Plan& plan_;
  int64_t batch_ = -1;
  bool free_batch_ = false;
  std::vector<bool> from_input_;
};

std::string node_op_name(const Node& node) {
  return node.source_op.empty() ? std::string(op_type_name(node.op)) : node.source_op;
}

std::vector<Site> node_sites(const Graph& graph, const Plan& plan, const ActivationCheck& check) {
  std::vector<Site> sites;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    if (plan.node_folded(static_cast<NodeId>(n))) continue;
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const bool shared = check.is_shared(node.outputs[o]);
      if (!check.is_activation(node.outputs[o]) && !shared) continue;
      Site site;
      site.kind = SiteKind::kNodeOutput;
      site.name = o == 0 ? node.name : node.name + ":" + std::to_string(o);
      site.node = static_cast<NodeId>(n);
      site.layer = node.layer;
      site.op_type = node_op_name(node);
      if (shared) {
        check.describe_shared(node.outputs[o], site);
      } else {
        check.describe(node.outputs[o], site);
      }
      sites.push_back(std::move(site));
    }
  }
  return sites;
}

std::vector<Site> layer_sites(const Graph& graph, const ActivationCheck& check) {
  std::vector<Site> sites;
  for (size_t l = 0; l < graph.layers.size(); ++l) {
    const Layer& layer = graph.layers[l];
    if (!check.is_activation(layer.output)) continue;
    Site site;
    site.kind = SiteKind::kLayerOutput;
    site.name = layer.name;
    site.node = graph.values[layer.output].producer;
    site.layer = static_cast<int32_t>(l);
    site.op_type = layer.class_name;
    check.describe(layer.output, site);
    sites.push_back(std::move(site));
  }
  return sites;
}

std::vector<Site> weight_sites(const Graph& graph, const Plan& plan) {
  std::vector<Site> sites;
  std::vector<bool> seen(graph.values.size(), false);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (plan.node_folded(static_cast<NodeId>(n))) continue;
    const Node& node = graph.nodes[n];
    for (ValueId input : node.inputs) {
      if (input == kNoValue || seen[input]) continue;
      const Value& value = graph.values[input];
      if (!value.is_constant() || !dtype_is_float(value.constant.dtype())) continue;
      seen[input] = true;
      Site site;
      site.kind = SiteKind::kWeight;
      site.name = value.name;
      site.value = input;
      site.node = static_cast<NodeId>(n);
      site.layer = node.layer;
      site.op_type = node_op_name(node);
      site.shape = value.constant.shape();
      site.elements = value.constant.num_elements();
      sites.push_back(std::move(site));
    }
  }
  return sites;
}

std::vector<Site> input_sites(const Graph& graph, const ActivationCheck& check) {
  std::vector<Site> sites;
  for (ValueId input : graph.inputs) {
    if (!check.is_activation(input)) continue;
    Site site;
    site.kind = SiteKind::kInput;
    site.name = graph.values[input].name;
    site.op_type = "Input";
    check.describe(input, site);
    sites.push_back(std::move(site));
  }
  return sites;
}

}  // namespace

std::string_view site_kind_name(SiteKind kind) {
  switch (kind) {
    case SiteKind::kNodeOutput: return "node";
    case SiteKind::kLayerOutput: return "layer";
    case SiteKind::kWeight: return "weight";
    case SiteKind::kInput: return "input";
  }
  return "unknown";
}

std::vector<Site> enumerate_sites(const Graph& graph, const Plan& plan, SiteKind kind) {
  if (kind == SiteKind::kWeight) return weight_sites(graph, plan);
  const ActivationCheck check(graph, plan);
  switch (kind) {
    case SiteKind::kNodeOutput: return node_sites(graph, plan, check);
    case SiteKind::kLayerOutput: return layer_sites(graph, check);
    case SiteKind::kInput: return input_sites(graph, check);
    case SiteKind::kWeight: break;
  }
  return {};
}

}  // namespace nnfi
