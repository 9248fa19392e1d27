// Reference kernels: MatMul, Gemm.
#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_MatMul(PrepareContext&) {
  return unsupported("op MatMul is not implemented yet");
}
Status reference_MatMul(EvalContext&) { return unsupported("op MatMul is not implemented yet"); }

Status prepare_Gemm(PrepareContext&) {
  return unsupported("op Gemm is not implemented yet");
}
Status reference_Gemm(EvalContext&) { return unsupported("op Gemm is not implemented yet"); }

}  // namespace nnfi::kernels
