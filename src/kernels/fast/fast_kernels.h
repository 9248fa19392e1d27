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
