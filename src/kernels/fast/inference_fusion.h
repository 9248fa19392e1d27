// Fused plans (PlanOptions::fuse_for_inference), for plain inference only.
//
// A Conv followed by a residual Add and/or an activation (Relu, LeakyRelu,
// Clip), and a Gemm/MatMul followed by an activation, run as one oneDNN
// primitive with post-ops; the other nodes of such a group do not run. The
// fused kernel runs at the group's last node, so that a residual computed
// after the Conv (a ResNet shortcut) is ready. Values between channels-first
// 2-D Convs and the pools that can read them are stored NHWC, oneDNN's
// preferred layout here, so that no image is reordered between two convs.
//
// So in a fused plan the values inside a group are never computed and NHWC
// values do not hold the IR layout: nodes with such outputs are "altered" and
// the executor refuses hooks on them. Graph inputs and outputs always keep the
// IR layout. Every fused kernel still works image by image with primitives
// built for one image and one thread, so an image's outputs stay bit-identical
// whatever the batch and thread count (DESIGN.md, principle 7).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "kernels/kernel.h"

namespace nnfi::kernels {

struct FusedNode {
  bool skipped = false;  // folded into another node's kernel: does not run
  bool altered = false;  // its outputs are not computed, or not stored in the IR layout
  // Where non-empty, what its kernel reads and writes instead of the node's own values.
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
};

struct FusedPlan {
  std::vector<FusedNode> nodes;  // per node
  int skipped_nodes = 0;
  int nhwc_values = 0;
};

// Picks the groups and layouts and builds every node's kernel into `kernels`
// (sized to the nodes; nullptr where the reference kernel runs). infos: per
// value, as shape inference gives them. Folded and reference-only nodes are
// left alone and never fused.
FusedPlan build_fused_plan(const Graph& graph, std::span<const TensorInfo> infos,
                           const std::vector<bool>& folded, const std::vector<bool>& reference_only,
                           std::vector<std::unique_ptr<FastKernel>>* kernels);

}  // namespace nnfi::kernels
