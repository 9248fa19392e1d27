// The fusion and layout pass of fused plans; see inference_fusion.h.
#include "kernels/fast/inference_fusion.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "kernels/fast/fast_kernels.h"

namespace nnfi::kernels {
namespace {

constexpr float kInfinity = std::numeric_limits<float>::infinity();

struct Group {
  NodeId head = kNoNode;  // Conv, Gemm or MatMul
  NodeId add = kNoNode;   // residual Add (Conv only)
  ValueId residual = kNoValue;
  NodeId activation = kNoNode;
  FusedActivation act;
  NodeId tail() const { return activation != kNoNode ? activation : add != kNoNode ? add : head; }
};

class Fuser {
 public:
  Fuser(const Graph& graph, std::span<const TensorInfo> infos, const std::vector<bool>& folded,
        const std::vector<bool>& reference_only)
      : g_(graph), infos_(infos), folded_(folded), reference_only_(reference_only) {
    consumers_.resize(g_.values.size());
    for (size_t n = 0; n < g_.nodes.size(); ++n) {
      if (folded_[n]) continue;
      for (ValueId input : g_.nodes[n].inputs) {
        if (input != kNoValue) consumers_[input].push_back(static_cast<NodeId>(n));
      }
    }
    kept_.assign(g_.values.size(), false);
    for (ValueId v : g_.outputs) kept_[v] = true;
    for (ValueId v : g_.inputs) kept_[v] = true;
  }

  // One attempt: nullopt when a kernel could not be built (its node is then
  // excluded from fusion and layouts, and the caller tries again).
  std::optional<FusedPlan> attempt(std::vector<std::unique_ptr<FastKernel>>* kernels);

 private:
  bool runs(NodeId n) const { return !folded_[n] && !reference_only_[n] && !excluded_.count(n); }
  // A node that may join a group: it runs and is in none yet.
  bool free(std::optional<NodeId> n) const { return n && runs(*n) && group_of_[*n] < 0; }
  bool is_f32(ValueId v) const { return v != kNoValue && infos_[v].dtype == DType::kFloat32; }
  // Consumed by exactly one node and not kept for the caller.
  std::optional<NodeId> sole_consumer(ValueId v) const {
    if (kept_[v] || consumers_[v].size() != 1) return std::nullopt;
    return consumers_[v][0];
  }
  bool channels_first_2d(const Node& node) const {
    return node.attributes.get_int("channels_last", 0) == 0 && !node.inputs.empty() &&
           is_f32(node.inputs[0]) && infos_[node.inputs[0]].shape.size() == 4;
  }
  std::optional<FusedActivation> activation_of(const Node& node) const;
  void find_groups();
  bool reads_nhwc(NodeId consumer, ValueId v) const;
  void choose_layouts();
  bool build(std::vector<std::unique_ptr<FastKernel>>* kernels, FusedPlan* plan);

  const Graph& g_;
  std::span<const TensorInfo> infos_;
  const std::vector<bool>& folded_;
  const std::vector<bool>& reference_only_;
  std::vector<std::vector<NodeId>> consumers_;  // per value, nodes that run
  std::vector<bool> kept_;                      // graph inputs and outputs
  std::set<NodeId> excluded_;
  std::vector<Group> groups_;
  std::vector<int> group_of_;  // per node: index into groups_, -1 if none
  std::vector<bool> nhwc_;     // per value
};

std::optional<FusedActivation> Fuser::activation_of(const Node& node) const {
  FusedActivation act;
  switch (node.op) {
    case OpType::kRelu: act.kind = FusedActivation::Kind::kRelu; return act;
    case OpType::kLeakyRelu:
      act.kind = FusedActivation::Kind::kLeakyRelu;
      act.alpha = static_cast<float>(node.attributes.get_float("alpha", 0.01));
      return act;
    case OpType::kClip: {
      act.kind = FusedActivation::Kind::kClip;
      act.alpha = static_cast<float>(node.attributes.get_float("min", -kInfinity));
      act.beta = static_cast<float>(node.attributes.get_float("max", kInfinity));
      for (size_t i = 1; i < node.inputs.size() && i < 3; ++i) {
        if (node.inputs[i] == kNoValue) continue;
        const Tensor* bound = infos_[node.inputs[i]].constant;
        if (bound == nullptr || bound->dtype() != DType::kFloat32 || bound->num_elements() != 1) {
          return std::nullopt;  // a bound computed at run time
        }
        (i == 1 ? act.alpha : act.beta) = bound->data<float>()[0];
      }
      return act;
    }
    default: return std::nullopt;
  }
}

void Fuser::find_groups() {
  groups_.clear();
  group_of_.assign(g_.nodes.size(), -1);
  for (size_t n = 0; n < g_.nodes.size(); ++n) {
    const Node& node = g_.nodes[n];
    const bool conv = node.op == OpType::kConv;
    if ((!conv && node.op != OpType::kGemm && node.op != OpType::kMatMul) || group_of_[n] >= 0 ||
        !runs(static_cast<NodeId>(n)) || node.outputs.size() != 1 || !is_f32(node.outputs[0])) {
      continue;
    }
    Group group;
    group.head = static_cast<NodeId>(n);
    ValueId current = node.outputs[0];
    std::optional<NodeId> next = sole_consumer(current);
    if (conv && free(next) && g_.nodes[*next].op == OpType::kAdd) {
      const Node& add = g_.nodes[*next];
      const ValueId other =
          add.inputs.size() == 2 && add.inputs[0] == current ? add.inputs[1] : add.inputs[0];
      if (add.inputs.size() == 2 && other != current && is_f32(other) &&
          infos_[other].shape == infos_[current].shape && is_f32(add.outputs[0]) &&
          infos_[add.outputs[0]].shape == infos_[current].shape) {
        group.add = *next;
        group.residual = other;
        current = add.outputs[0];
        next = sole_consumer(current);
      }
    }
    if (free(next) && g_.nodes[*next].inputs.size() >= 1 && g_.nodes[*next].inputs[0] == current &&
        is_f32(g_.nodes[*next].outputs[0])) {
      if (std::optional<FusedActivation> act = activation_of(g_.nodes[*next])) {
        group.activation = *next;
        group.act = *act;
      }
    }
    const int index = static_cast<int>(groups_.size());
    for (NodeId member : {group.head, group.add, group.activation}) {
      if (member != kNoNode) group_of_[member] = index;
    }
    groups_.push_back(group);
  }
}

// Whether `consumer` can read `v` stored NHWC.
bool Fuser::reads_nhwc(NodeId consumer, ValueId v) const {
  const int index = group_of_[consumer];
  if (index >= 0) {
    const Group& group = groups_[index];
    const Node& head = g_.nodes[group.head];
    if (consumer == group.add && v == group.residual) return true;  // any layout
    return consumer == group.head && head.op == OpType::kConv && head.inputs[0] == v &&
           channels_first_2d(head);
  }
  const Node& node = g_.nodes[consumer];
  if (!runs(consumer) || node.inputs.empty() || node.inputs[0] != v) return false;
  if (node.op != OpType::kMaxPool && node.op != OpType::kGlobalAveragePool) return false;
  return node.outputs.size() == 1 && channels_first_2d(node);
}

void Fuser::choose_layouts() {
  nhwc_.assign(g_.values.size(), false);
  for (size_t n = 0; n < g_.nodes.size(); ++n) {
    const auto id = static_cast<NodeId>(n);
    const Node& node = g_.nodes[n];
    ValueId out = kNoValue;
    if (group_of_[n] >= 0) {
      const Group& group = groups_[group_of_[n]];
      const Node& head = g_.nodes[group.head];
      if (id != group.tail() || head.op != OpType::kConv || !channels_first_2d(head)) continue;
      out = node.outputs[0];
    } else if (node.op == OpType::kMaxPool && runs(id) && channels_first_2d(node) &&
               nhwc_[node.inputs[0]] && node.outputs.size() == 1) {
      out = node.outputs[0];
    } else {
      continue;
    }
    const Shape& shape = infos_[out].shape;
    // (N, C, 1, 1) or (N, 1, H, W) is the same in both layouts: keep it plain.
    if (kept_[out] || consumers_[out].empty() || shape.size() != 4 || shape[1] <= 1 ||
        shape[2] * shape[3] <= 1) {
      continue;
    }
    bool all_read = true;
    for (NodeId consumer : consumers_[out]) all_read = all_read && reads_nhwc(consumer, out);
    nhwc_[out] = all_read;
  }
}

// Builds every kernel; false (after excluding the culprit) if one failed.
bool Fuser::build(std::vector<std::unique_ptr<FastKernel>>* kernels, FusedPlan* plan) {
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  auto infos_of = [&](const std::vector<ValueId>& values, std::vector<TensorInfo>* result) {
    result->clear();
    for (ValueId v : values) result->push_back(v == kNoValue ? TensorInfo{} : infos_[v]);
  };
  for (size_t n = 0; n < g_.nodes.size(); ++n) {
    const auto id = static_cast<NodeId>(n);
    const Node& node = g_.nodes[n];
    FusedNode& fused = plan->nodes[n];
    std::unique_ptr<FastKernel>& kernel = (*kernels)[n];
    if (folded_[n] || reference_only_[n]) continue;
    for (ValueId out : node.outputs) fused.altered = fused.altered || (out >= 0 && nhwc_[out]);
    if (group_of_[n] >= 0) {
      const Group& group = groups_[group_of_[n]];
      if (id != group.tail()) {
        fused.skipped = true;
        fused.altered = true;
        ++plan->skipped_nodes;
        continue;
      }
      const Node& head = g_.nodes[group.head];
      fused.inputs = head.inputs;
      fused.outputs = node.outputs;
      if (head.op == OpType::kConv) {
        fused.inputs.resize(3, kNoValue);
        ConvFusion fusion;
        fusion.src_nhwc = nhwc_[head.inputs[0]];
        fusion.dst_nhwc = nhwc_[node.outputs[0]];
        fusion.activation = group.act;
        if (group.residual != kNoValue) {
          fusion.residual = true;
          fusion.residual_nhwc = nhwc_[group.residual];
          fused.inputs.push_back(group.residual);
        }
        infos_of(fused.inputs, &inputs);
        infos_of(fused.outputs, &outputs);
        kernel = create_onednn_conv_fused(head, inputs, outputs, fusion);
      } else {
        infos_of(fused.inputs, &inputs);
        infos_of(fused.outputs, &outputs);
        kernel = create_onednn_matmul_fused(head, inputs, outputs, group.act);
      }
      if (kernel == nullptr) {
        excluded_.insert(group.head);
        return false;
      }
      continue;
    }
    infos_of(node.inputs, &inputs);
    infos_of(node.outputs, &outputs);
    const bool nhwc_input = !node.inputs.empty() && node.inputs[0] >= 0 && nhwc_[node.inputs[0]];
    if (nhwc_input && node.op == OpType::kMaxPool) {
      kernel = create_tuned_max_pool_nhwc(node, inputs, outputs, !nhwc_[node.outputs[0]]);
    } else if (nhwc_input && node.op == OpType::kGlobalAveragePool) {
      kernel = create_onednn_global_average_pool_nhwc(node, inputs, outputs);
    } else if (FastKernelFactory factory = fast_kernel_factory(node.op)) {
      kernel = factory(node, inputs, outputs);
      continue;  // the plain kernel, or the reference where none covers it
    } else {
      continue;
    }
    if (kernel == nullptr) {
      excluded_.insert(id);
      return false;
    }
  }
  return true;
}

std::optional<FusedPlan> Fuser::attempt(std::vector<std::unique_ptr<FastKernel>>* kernels) {
  find_groups();
  choose_layouts();
  FusedPlan plan;
  plan.nodes.resize(g_.nodes.size());
  for (auto& kernel : *kernels) kernel.reset();
  if (!build(kernels, &plan)) return std::nullopt;
  plan.nhwc_values = static_cast<int>(std::count(nhwc_.begin(), nhwc_.end(), true));
  return plan;
}

}  // namespace

FusedPlan build_fused_plan(const Graph& graph, std::span<const TensorInfo> infos,
                           const std::vector<bool>& folded, const std::vector<bool>& reference_only,
                           std::vector<std::unique_ptr<FastKernel>>* kernels) {
  kernels->resize(graph.nodes.size());
  Fuser fuser(graph, infos, folded, reference_only);
  // Each failed attempt excludes one more node, so this ends.
  for (;;) {
    if (std::optional<FusedPlan> plan = fuser.attempt(kernels)) return std::move(*plan);
  }
}

}  // namespace nnfi::kernels
