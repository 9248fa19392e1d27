// Which nodes a trial can recompute window by window (issue 7, DESIGN.md
// principle 5), worked out once per campaign from the batch-1 plan.
//
// A fault in one element of a conv or pool output reaches only a window of
// the next spatial tensors. Nodes whose every output element is computed the
// same way whatever part of the tensor is computed can recompute just that
// window bit-identically: Conv and the pools on window kernels
// (PlanOptions::window_kernels) and pointwise ops on reference kernels
// (Relu, Add with a per-channel constant, BatchNormalization, ...). Windows
// live on rank-4 values whose layout (channels first or last) is known.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/window/window_kernels.h"
#include "nnfi/runtime.h"

namespace nnfi::campaign {

using kernels::window::Window;

// One image of a rank-4 value: [C, H, W] (channels first) or [H, W, C].
struct ImageLayout {
  bool known = false;
  bool channels_last = false;
  int64_t channels = 0, height = 0, width = 0;
  int64_t elements() const { return channels * height * width; }
  Window full() const { return Window{0, height, 0, width}; }
  // (row, col) of flat element `index` of the image.
  void position(int64_t index, int64_t* row, int64_t* col) const;
};

enum class RegionOp { kNone, kConv, kMaxPool, kAveragePool, kPointwise };

struct RegionNode {
  RegionOp op = RegionOp::kNone;
  std::unique_ptr<kernels::window::WindowConv> conv;
  kernels::window::PoolGeometry pool;
  kernels::WindowAxis rows, cols;  // conv/pool geometry on the two spatial axes
  // Pointwise: per input, true where it is an activation of the output's
  // shape (cut to the window), false for a value passed whole: a constant,
  // or a value computed from constants only (TF1's unfused batch norm
  // computes gamma * rsqrt(variance + eps) at every run), which a trial
  // reads from the golden run.
  std::vector<char> windowed_input;
  // Conv / pool: the chain of pointwise nodes that run on the output window
  // straight after the kernel (their outputs but the last are then never
  // stored or compared). Each alone reads the previous one's output and
  // either needs nothing of its layout (no other windowed input, other
  // inputs single-element constants: Relu, Clip, LeakyRelu, ...) or, on a
  // channels-last value, reads no other window (a batch norm or bias add
  // after a Keras or TF conv, TF1's Mul and Add of an unfused one). Empty if
  // none.
  std::vector<NodeId> fused_pointwise;
};

class RegionModel {
 public:
  // `plan`: a batch-1 plan of the campaign's graph (shapes and constants;
  // its kernels do not matter). The campaign's plans use window kernels for
  // every Conv and pool they cover except `reference_nodes`, and no fast
  // kernel for pointwise ops (fast_kernels.cc has none).
  RegionModel(const Plan& plan, const std::vector<NodeId>& reference_nodes);
  const RegionNode& node(NodeId node) const { return nodes_[node]; }
  bool capable(NodeId node) const { return nodes_[node].op != RegionOp::kNone; }
  const ImageLayout& layout(ValueId value) const { return layouts_[value]; }
  // How many nodes can run window by window (for messages and tests).
  int64_t capable_count() const;

 private:
  std::vector<RegionNode> nodes_;
  std::vector<ImageLayout> layouts_;
};

}  // namespace nnfi::campaign
