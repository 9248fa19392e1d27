// The table of optimised kernels: one line per op that has one.
#include "kernels/fast/fast_kernels.h"

namespace nnfi::kernels {

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
