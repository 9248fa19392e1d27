// Factories of the optimised kernels (oneDNN or tuned C++), see kernel.h.
// Each returns nullptr where it does not cover the node (the reference
// kernel then runs); none lets an exception escape.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "kernels/kernel.h"

namespace nnfi::kernels {

#define NNFI_FAST_FACTORY(name)                                                          \
  std::unique_ptr<FastKernel> name(const Node& node, std::span<const TensorInfo> inputs, \
                                   std::span<const TensorInfo> outputs)

// oneDNN: onednn_conv.cc, onednn_matmul.cc, onednn_pool.cc.
NNFI_FAST_FACTORY(create_onednn_conv);
NNFI_FAST_FACTORY(create_onednn_matmul);
NNFI_FAST_FACTORY(create_onednn_gemm);
NNFI_FAST_FACTORY(create_onednn_average_pool);
NNFI_FAST_FACTORY(create_onednn_global_average_pool);
// Tuned C++: max_pool.cc.
NNFI_FAST_FACTORY(create_tuned_max_pool);

#undef NNFI_FAST_FACTORY

// Fused variants for plans made with PlanOptions::fuse_for_inference
// (inference_fusion.cc decides what is fused; these build the kernels).

// An activation applied to a Conv/Gemm/MatMul result as a oneDNN post-op.
struct FusedActivation {
  enum class Kind { kNone, kRelu, kLeakyRelu, kClip };
  Kind kind = Kind::kNone;
  float alpha = 0.0f;  // LeakyRelu slope; Clip lower bound
  float beta = 0.0f;   // Clip upper bound
};

struct ConvFusion {
  // Memory layouts of a channels-first rank-4 node's tensors: false is the
  // IR's NCHW, true is NHWC (a fused plan's internal layout). The residual
  // has its own layout.
  bool src_nhwc = false;
  bool dst_nhwc = false;
  bool residual_nhwc = false;
  // Input 3 (Y's shape) is added to the conv result before the activation.
  bool residual = false;
  FusedActivation activation;
};

// Conv (+ residual Add) (+ activation). inputs: X, W, B (may be absent) and,
// with fusion.residual, the residual; outputs: the group's last value.
// Channels-first rank-4 convs run their primitive in NHWC (reordering per
// image where a tensor is NCHW). nullptr where not covered.
std::unique_ptr<FastKernel> create_onednn_conv_fused(const Node& node,
                                                     std::span<const TensorInfo> inputs,
                                                     std::span<const TensorInfo> outputs,
                                                     const ConvFusion& fusion);
// Gemm / MatMul followed by `activation`.
std::unique_ptr<FastKernel> create_onednn_matmul_fused(const Node& node,
                                                       std::span<const TensorInfo> inputs,
                                                       std::span<const TensorInfo> outputs,
                                                       const FusedActivation& activation);
// A channels-first 2-D MaxPool whose input is stored NHWC; the output is
// stored NHWC too, or NCHW with `plain_output`.
std::unique_ptr<FastKernel> create_tuned_max_pool_nhwc(const Node& node,
                                                       std::span<const TensorInfo> inputs,
                                                       std::span<const TensorInfo> outputs,
                                                       bool plain_output);
// A channels-first GlobalAveragePool whose input is stored NHWC (its (N, C,
// 1, 1) output is the same in both layouts).
std::unique_ptr<FastKernel> create_onednn_global_average_pool_nhwc(
    const Node& node, std::span<const TensorInfo> inputs, std::span<const TensorInfo> outputs);

// The pool nodes the fast pools cover: one float32 input and output of rank 3
// or 4 (1-D or 2-D), channels_last 0 or 1, positive batch and channels that
// the output keeps. nullopt otherwise.
struct PoolShape {
  bool channels_last = false;
  int64_t batch = 0;
  int64_t channels = 0;
  std::vector<int64_t> input_spatial;
};
std::optional<PoolShape> covered_pool_shape(const Node& node, std::span<const TensorInfo> inputs,
                                            std::span<const TensorInfo> outputs);

}  // namespace nnfi::kernels
