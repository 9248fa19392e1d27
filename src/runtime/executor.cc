#include <algorithm>

#include "kernels/fast/inference_fusion.h"
#include "kernels/kernel.h"
#include "nnfi/runtime.h"
#include "runtime/buffer_sharing.h"

namespace nnfi {

Executor::~Executor() = default;

Executor::Executor(std::shared_ptr<const Plan> plan) : plan_(std::move(plan)) { allocate(nullptr); }

Executor::Executor(std::shared_ptr<const Plan> plan, const std::vector<ValueId>& keep)
    : plan_(std::move(plan)) {
  allocate(&keep);
}

void Executor::allocate(const std::vector<ValueId>* keep) {
  const Graph& graph = plan_->graph();
  owned_.resize(graph.values.size());
  values_.resize(graph.values.size(), nullptr);
  observers_.resize(graph.nodes.size());
  std::vector<size_t> bytes(graph.values.size(), 0);
  std::vector<char> may_share(graph.values.size(), 0);
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const auto id = static_cast<ValueId>(v);
    values_[v] = &owned_[v];  // an unused value: an undefined tensor
    if (const Tensor* constant = plan_->constant_value(id)) {
      // Kernels never write their inputs, so sharing the constant is safe.
      values_[v] = const_cast<Tensor*>(constant);
    } else if (plan_->value_dtype(id) != DType::kUndefined) {
      bytes[v] =
          static_cast<size_t>(std::max<int64_t>(0, shape_num_elements(plan_->value_shape(id)))) *
          dtype_size(plan_->value_dtype(id));
      may_share[v] = keep != nullptr ? 1 : 0;
    }
  }
  runtime::SharedBuffers shared;
  shared.block.assign(graph.values.size(), -1);
  if (keep != nullptr) {
    for (ValueId v : *keep) may_share[v] = 0;
    for (ValueId v : graph.inputs) may_share[v] = 0;
    for (ValueId v : graph.outputs) may_share[v] = 0;
    shared = runtime::share_buffers(node_reads_and_writes(true), node_reads_and_writes(false),
                                    bytes, may_share);
    for (size_t b = 0; b < shared.block_bytes.size(); ++b) {
      shared_blocks_.emplace_back(DType::kUInt8,
                                  Shape{static_cast<int64_t>(shared.block_bytes[b])});
    }
  }
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const auto id = static_cast<ValueId>(v);
    if (values_[v] != &owned_[v] || plan_->value_dtype(id) == DType::kUndefined) continue;
    if (shared.block[v] >= 0) {
      owned_[v] = Tensor::view(plan_->value_dtype(id), plan_->value_shape(id),
                               shared_blocks_[static_cast<size_t>(shared.block[v])].raw_data());
    } else {
      owned_[v] = Tensor(plan_->value_dtype(id), plan_->value_shape(id));
    }
  }
}

std::vector<std::vector<ValueId>> Executor::node_reads_and_writes(bool reads) const {
  const Graph& graph = plan_->graph();
  std::vector<std::vector<ValueId>> result(graph.nodes.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const auto id = static_cast<NodeId>(n);
    if (plan_->node_folded(id)) continue;
    const Node& node = graph.nodes[n];
    result[n] = reads ? node.inputs : node.outputs;
    if (plan_->fused_ != nullptr) {  // what the fused kernels really read and write
      const kernels::FusedNode& fused = plan_->fused_->nodes[id];
      const std::vector<ValueId>& instead = reads ? fused.inputs : fused.outputs;
      if (fused.skipped) {
        result[n].clear();
      } else if (!instead.empty()) {
        result[n] = instead;
      }
    }
  }
  return result;
}

void Executor::add_hook(Hook* hook) {
  for (NodeId node : hook->nodes_to_observe(*plan_)) observers_[node].push_back(hook);
}

void Executor::clear_hooks() {
  for (auto& list : observers_) list.clear();
}

Status Executor::set_input(size_t index, const Tensor& tensor) {
  const Graph& graph = plan_->graph();
  if (index >= graph.inputs.size()) {
    return invalid_argument("the model has " + std::to_string(graph.inputs.size()) +
                            " inputs, no input #" + std::to_string(index));
  }
  return set_value(graph.inputs[index], tensor);
}

Status Executor::set_value(ValueId value, const Tensor& tensor) {
  Tensor& target = *values_[value];
  if (tensor.dtype() != target.dtype() || tensor.shape() != target.shape()) {
    return invalid_argument(
        "value '" + plan_->graph().values[value].name + "' expects " +
        std::string(dtype_name(target.dtype())) + " " + shape_to_string(target.shape()) + ", got " +
        std::string(dtype_name(tensor.dtype())) + " " + shape_to_string(tensor.shape()));
  }
  if (&owned_[value] != &target) {
    return invalid_argument("value '" + plan_->graph().values[value].name + "' is a constant");
  }
  target.copy_from(tensor);
  return Status::ok();
}

Status Executor::bind_value(ValueId value, Tensor* tensor) {
  const Tensor& current = *values_[value];
  if (tensor == nullptr || tensor->dtype() != current.dtype() ||
      tensor->shape() != current.shape()) {
    return invalid_argument("value '" + plan_->graph().values[value].name + "' expects " +
                            std::string(dtype_name(current.dtype())) + " " +
                            shape_to_string(current.shape()) + " to be bound");
  }
  values_[value] = tensor;
  return Status::ok();
}

void Executor::unbind_value(ValueId value) {
  const Tensor* constant = plan_->constant_value(value);
  values_[value] = constant != nullptr ? const_cast<Tensor*>(constant) : &owned_[value];
}

Status Executor::run_node(NodeId id) {
  if (plan_->node_folded(id)) return Status::ok();
  const Node& node = plan_->graph().nodes[id];
  const std::vector<ValueId>* inputs = &node.inputs;
  const std::vector<ValueId>* outputs = &node.outputs;
  if (plan_->fused_ != nullptr) {  // PlanOptions::fuse_for_inference
    const kernels::FusedNode& fused = plan_->fused_->nodes[id];
    if (fused.altered && !observers_[id].empty()) {
      return unsupported("node '" + node.name +
                         "' cannot be observed by a hook: the plan fused it for inference "
                         "(PlanOptions::fuse_for_inference)");
    }
    if (fused.skipped) return Status::ok();
    if (!fused.inputs.empty()) inputs = &fused.inputs;
    if (!fused.outputs.empty()) outputs = &fused.outputs;
  }
  input_scratch_.clear();
  output_scratch_.clear();
  for (ValueId input : *inputs) {
    input_scratch_.push_back(input == kNoValue ? nullptr : values_[input]);
  }
  for (ValueId output : *outputs) output_scratch_.push_back(values_[output]);
  kernels::EvalContext context{node, input_scratch_, output_scratch_};
  Status status = plan_->fast_kernels_[id] != nullptr ? plan_->fast_kernels_[id]->eval(context)
                                                      : kernels::op_def(node.op).reference(context);
  if (!status.is_ok()) {
    return status.with_context("node '" + node.name + "' (" + std::string(op_type_name(node.op)) +
                               ")");
  }
  for (Hook* hook : observers_[id]) {
    NNFI_RETURN_IF_ERROR(hook->on_node_done(id, output_scratch_));
  }
  return Status::ok();
}

Status Executor::run() { return run_range(0, static_cast<NodeId>(plan_->graph().nodes.size())); }

Status Executor::run_nodes(std::span<const NodeId> nodes) {
  for (NodeId node : nodes) NNFI_RETURN_IF_ERROR(run_node(node));
  return Status::ok();
}

Status Executor::run_range(NodeId first, NodeId last) {
  for (NodeId node = first; node < last; ++node) NNFI_RETURN_IF_ERROR(run_node(node));
  return Status::ok();
}

}  // namespace nnfi
