#include <algorithm>

#include "graph/shape_inference.h"
#include "kernels/fast/inference_fusion.h"
#include "kernels/kernel.h"
#include "kernels/window/window_kernels.h"
#include "nnfi/runtime.h"

namespace nnfi {

Plan::~Plan() = default;

Expected<std::shared_ptr<Plan>> Plan::create(std::shared_ptr<const Graph> graph,
                                             std::vector<Shape> input_shapes, PlanOptions options) {
  const Graph& g = *graph;
  for (size_t i = 0; i < g.inputs.size() && i < input_shapes.size(); ++i) {
    const Value& input = g.values[g.inputs[i]];
    const Shape& given = input_shapes[i];
    bool compatible = given.size() == input.shape.size() && shape_is_known(given);
    for (size_t d = 0; compatible && d < given.size(); ++d) {
      compatible = input.shape[d] < 0 || input.shape[d] == given[d];
    }
    if (!compatible) {
      return invalid_argument("input '" + input.name + "' expects shape " +
                              shape_to_string(input.shape) + ", got " + shape_to_string(given));
    }
  }
  NNFI_ASSIGN_OR_RETURN(InferredValues inferred, infer_values(g, input_shapes));

  std::shared_ptr<Plan> plan(new Plan());
  plan->graph_ = graph;
  plan->input_shapes_ = std::move(input_shapes);
  plan->folded_ = std::move(inferred.folded);
  plan->node_folded_ = std::move(inferred.node_folded);
  for (const auto& info : inferred.infos) {
    plan->value_dtypes_.push_back(info.dtype);
    plan->value_shapes_.push_back(info.shape);
  }
  plan->consumers_.resize(g.values.size());
  plan->fast_kernels_.resize(g.nodes.size());
  plan->window_kernel_nodes_.assign(g.nodes.size(), false);
  std::vector<bool> reference_only(g.nodes.size(), false);
  for (NodeId node : options.reference_nodes) {
    if (node >= 0 && static_cast<size_t>(node) < g.nodes.size()) reference_only[node] = true;
  }
  if (!options.kernel_nodes.empty()) {
    std::vector<bool> listed(g.nodes.size(), false);
    for (NodeId node : options.kernel_nodes) {
      if (node >= 0 && static_cast<size_t>(node) < g.nodes.size()) listed[node] = true;
    }
    for (size_t n = 0; n < g.nodes.size(); ++n) reference_only[n] = reference_only[n] || !listed[n];
  }
  const bool fuse =
      options.fuse_for_inference && options.use_fast_kernels && !options.window_kernels;
  std::vector<kernels::TensorInfo> inputs;
  std::vector<kernels::TensorInfo> outputs;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    for (ValueId input : node.inputs) {
      if (input != kNoValue) plan->consumers_[input].push_back(static_cast<NodeId>(n));
    }
    if (plan->node_folded_[n] || reference_only[n] || fuse) continue;
    if (!options.use_fast_kernels && !options.window_kernels) continue;
    inputs.clear();
    outputs.clear();
    for (ValueId input : node.inputs) {
      inputs.push_back(input == kNoValue ? kernels::TensorInfo{} : inferred.infos[input]);
    }
    for (ValueId output : node.outputs) outputs.push_back(inferred.infos[output]);
    if (options.window_kernels) {
      plan->fast_kernels_[n] = kernels::window::create_window_kernel(node, inputs, outputs);
      if (plan->fast_kernels_[n] != nullptr) {
        plan->window_kernel_nodes_[n] = true;
        continue;
      }
    }
    if (!options.use_fast_kernels) continue;
    kernels::FastKernelFactory factory = kernels::fast_kernel_factory(node.op);
    if (factory == nullptr) continue;
    plan->fast_kernels_[n] = factory(node, inputs, outputs);
  }
  if (fuse) {
    plan->fused_ = std::make_unique<kernels::FusedPlan>(kernels::build_fused_plan(
        g, inferred.infos, plan->node_folded_, reference_only, &plan->fast_kernels_));
  }
  return plan;
}

bool Plan::node_fused_away(NodeId node) const {
  return fused_ != nullptr && fused_->nodes[node].skipped;
}

DType Plan::value_dtype(ValueId value) const { return value_dtypes_[value]; }
const Shape& Plan::value_shape(ValueId value) const { return value_shapes_[value]; }

const Tensor* Plan::constant_value(ValueId value) const {
  if (graph_->values[value].is_constant()) return &graph_->values[value].constant;
  if (folded_[value].defined()) return &folded_[value];
  return nullptr;
}

std::vector<NodeId> Plan::downstream_nodes(std::span<const ValueId> changed,
                                           std::span<const NodeId> stop_nodes) const {
  const Graph& g = *graph_;
  std::vector<bool> dirty_node(g.nodes.size(), false);
  std::vector<bool> stop(g.nodes.size(), false);
  for (NodeId node : stop_nodes) stop[node] = true;
  for (ValueId value : changed) {
    for (NodeId consumer : consumers_[value]) dirty_node[consumer] = true;
  }
  // Node ids are a topological order, so one forward sweep suffices.
  std::vector<NodeId> result;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (!dirty_node[n] || node_folded_[n]) continue;
    result.push_back(static_cast<NodeId>(n));
    if (stop[n]) continue;
    for (ValueId output : g.nodes[n].outputs) {
      for (NodeId consumer : consumers_[output]) dirty_node[consumer] = true;
    }
  }
  return result;
}

}  // namespace nnfi
