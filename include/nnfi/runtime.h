// Running a graph: a Plan fixes the input shapes and picks a kernel per node;
// an Executor owns one buffer per value and runs any range or subset of the
// plan's nodes, calling hooks after the nodes they asked for.
//
// Hooks follow ask-then-observe: each hook says once, when it is added,
// which nodes it wants to see; every other node runs without a check.
// A hook may change the outputs it is shown (that is how faults get in).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "nnfi/graph.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi {

namespace kernels {
struct TensorInfo;
class FastKernel;
struct FusedPlan;
}  // namespace kernels

struct PlanOptions {
  // Use optimised kernels (oneDNN) where one covers the node; otherwise every
  // node runs its reference kernel.
  bool use_fast_kernels = true;
  // Nodes that always run their reference kernel. Fast kernels copy their
  // weights when the plan is made; reference kernels read them at every run,
  // so a weight swapped in with Executor::bind_value (a weight fault) is seen.
  std::vector<NodeId> reference_nodes;
  // Use the position-invariant window kernels (src/kernels/window) for the
  // Conv, pool, and Gemm/MatMul (constant weights) nodes they cover, before
  // any other fast kernel: each output
  // element is then computed the same way whatever part of the tensor is
  // computed, so a campaign can recompute only the window a fault reaches
  // (reference_nodes still take precedence).
  bool window_kernels = false;
  // When not empty: only these nodes get fast or window kernels, the others
  // run reference kernels (a plan that only ever runs the end of a network,
  // like a campaign's batched tails, then copies no other weights).
  std::vector<NodeId> kernel_nodes;
  // Plain inference only (nnfi infer/eval, the benchmark): fuse Conv/Gemm with
  // a following residual Add and activation into one kernel, and keep
  // activations between convs in oneDNN's layout (src/kernels/fast/
  // inference_fusion.h). Fused-away nodes do not run and intermediate values
  // are not the IR's, so hooks on those nodes are refused; graph outputs are
  // exact as ever. Needs use_fast_kernels; ignored with window_kernels.
  bool fuse_for_inference = false;
};

class Plan {
 public:
  // input_shapes: one per graph input, every dim known.
  static Expected<std::shared_ptr<Plan>> create(std::shared_ptr<const Graph> graph,
                                                std::vector<Shape> input_shapes,
                                                PlanOptions options = {});
  ~Plan();

  const Graph& graph() const { return *graph_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  DType value_dtype(ValueId value) const;
  const Shape& value_shape(ValueId value) const;
  // Folded nodes (shape arithmetic on constants) never run.
  bool node_folded(NodeId node) const { return node_folded_[node]; }
  bool node_uses_fast_kernel(NodeId node) const { return fast_kernels_[node] != nullptr; }
  // The node runs a window kernel (PlanOptions::window_kernels).
  bool node_uses_window_kernel(NodeId node) const { return window_kernel_nodes_[node]; }
  // PlanOptions::fuse_for_inference: the node was fused into another node's
  // kernel and does not run.
  bool node_fused_away(NodeId node) const;
  // The constant or plan-time folded value, or nullptr.
  const Tensor* constant_value(ValueId value) const;

  // Nodes that depend (transitively) on any of `changed` values, in plan
  // order, not going past `stop_nodes` (which are included). Resuming a trial
  // from a changed value runs exactly these.
  std::vector<NodeId> downstream_nodes(std::span<const ValueId> changed,
                                       std::span<const NodeId> stop_nodes = {}) const;

 private:
  friend class Executor;
  Plan() = default;
  std::shared_ptr<const Graph> graph_;
  std::vector<Shape> input_shapes_;
  std::vector<DType> value_dtypes_;
  std::vector<Shape> value_shapes_;
  std::vector<Tensor> folded_;
  std::vector<bool> node_folded_;
  std::vector<bool> window_kernel_nodes_;
  std::vector<std::unique_ptr<kernels::FastKernel>> fast_kernels_;
  std::vector<std::vector<NodeId>> consumers_;  // per value
  std::unique_ptr<kernels::FusedPlan> fused_;   // fuse_for_inference only
};

class Hook {
 public:
  virtual ~Hook() = default;
  // Asked once, when the hook is added to an executor.
  virtual std::vector<NodeId> nodes_to_observe(const Plan& plan) = 0;
  // Called after an observed node ran; may modify the outputs in place.
  virtual Status on_node_done(NodeId node, std::span<Tensor* const> outputs) = 0;
};

class Executor {
 public:
  // Allocates one buffer per non-constant value, once.
  explicit Executor(std::shared_ptr<const Plan> plan);
  // Gives buffers of their own to `keep`, the graph inputs and outputs and
  // values no node writes only; the other values share buffers where their
  // lifetimes in a full run() (node order) do not overlap, so after a run
  // they hold whatever a later node wrote there. For runs that read back a
  // few values: inference, a campaign's golden run. Partial runs (run_nodes,
  // run_range) see the same sharing: only ever in node order, from values a
  // full run would have.
  Executor(std::shared_ptr<const Plan> plan, const std::vector<ValueId>& keep);
  ~Executor();

  const Plan& plan() const { return *plan_; }

  void add_hook(Hook* hook);
  void clear_hooks();

  // Copies `tensor` into graph input `index` (dtype and shape must match the plan).
  Status set_input(size_t index, const Tensor& tensor);
  // The buffer of any value; write into it to start from given values.
  Tensor& value(ValueId value) { return *values_[value]; }
  const Tensor& value(ValueId value) const { return *values_[value]; }
  // Overwrites a value (dtype and shape must match), e.g. a golden activation.
  Status set_value(ValueId value, const Tensor& tensor);

  // Makes `value` read from `tensor` (same dtype and shape; the caller keeps it
  // alive) instead of its own buffer or the plan's constant, until
  // unbind_value. For weight faults: a corrupted copy of a weight, seen by
  // consumers planned with reference kernels (PlanOptions::reference_nodes).
  Status bind_value(ValueId value, Tensor* tensor);
  void unbind_value(ValueId value);

  // Runs every node of the plan in order.
  Status run();
  // Runs the given nodes in the given order (e.g. Plan::downstream_nodes).
  Status run_nodes(std::span<const NodeId> nodes);
  // Runs nodes with ids in [first, last).
  Status run_range(NodeId first, NodeId last);

 private:
  // Buffers for every non-constant value; with `keep`, shared as above.
  void allocate(const std::vector<ValueId>* keep);
  // Per node, the values its kernel reads (or writes): a fused plan's own lists.
  std::vector<std::vector<ValueId>> node_reads_and_writes(bool reads) const;
  Status run_node(NodeId node);

  std::shared_ptr<const Plan> plan_;
  std::vector<Tensor> owned_;                  // buffers of computed values
  std::vector<Tensor> shared_blocks_;          // storage of shared buffers (owned_ views it)
  std::vector<Tensor*> values_;                // per value: owned buffer or plan constant
  std::vector<std::vector<Hook*>> observers_;  // per node
  std::vector<const Tensor*> input_scratch_;
  std::vector<Tensor*> output_scratch_;
};

}  // namespace nnfi
