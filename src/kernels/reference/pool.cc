// Reference kernels: MaxPool, AveragePool, GlobalAveragePool.
#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_MaxPool(PrepareContext&) {
  return unsupported("op MaxPool is not implemented yet");
}
Status reference_MaxPool(EvalContext&) { return unsupported("op MaxPool is not implemented yet"); }

Status prepare_AveragePool(PrepareContext&) {
  return unsupported("op AveragePool is not implemented yet");
}
Status reference_AveragePool(EvalContext&) { return unsupported("op AveragePool is not implemented yet"); }

Status prepare_GlobalAveragePool(PrepareContext&) {
  return unsupported("op GlobalAveragePool is not implemented yet");
}
Status reference_GlobalAveragePool(EvalContext&) { return unsupported("op GlobalAveragePool is not implemented yet"); }

}  // namespace nnfi::kernels
