// The table of optimised kernels: one line per op that has one.
#include "kernels/fast/fast_kernels.h"

namespace nnfi::kernels {

std::optional<PoolShape> covered_pool_shape(const Node& node, std::span<const TensorInfo> inputs,
                                            std::span<const TensorInfo> outputs) {
  if (inputs.size() != 1 || outputs.size() != 1) return std::nullopt;
  const TensorInfo& x = inputs[0];
  const TensorInfo& y = outputs[0];
  const size_t rank = x.shape.size();
  if (x.dtype != DType::kFloat32 || y.dtype != DType::kFloat32 || (rank != 3 && rank != 4) ||
      y.shape.size() != rank) {
    return std::nullopt;
  }
  const int64_t channels_last = node.attributes.get_int("channels_last", 0);
  if (channels_last != 0 && channels_last != 1) return std::nullopt;
  PoolShape shape;
  shape.channels_last = channels_last == 1;
  const size_t channel_axis = shape.channels_last ? rank - 1 : 1;
  shape.batch = x.shape[0];
  shape.channels = x.shape[channel_axis];
  if (shape.batch <= 0 || shape.channels <= 0 || y.shape[0] != shape.batch ||
      y.shape[channel_axis] != shape.channels) {
    return std::nullopt;
  }
  const size_t first_spatial = shape.channels_last ? 1 : 2;
  shape.input_spatial.assign(x.shape.begin() + first_spatial,
                             x.shape.begin() + first_spatial + (rank - 2));
  return shape;
}

FastKernelFactory fast_kernel_factory(OpType op) {
  switch (op) {
    case OpType::kConv: return &create_onednn_conv;
    case OpType::kMatMul: return &create_onednn_matmul;
    case OpType::kGemm: return &create_onednn_gemm;
    case OpType::kMaxPool: return &create_tuned_max_pool;
    case OpType::kAveragePool: return &create_onednn_average_pool;
    case OpType::kGlobalAveragePool: return &create_onednn_global_average_pool;
    default: return nullptr;
  }
}

}  // namespace nnfi::kernels
