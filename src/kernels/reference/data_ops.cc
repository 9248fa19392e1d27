// Reference kernels: Gather, Cast, ArgMax, ReduceMean.
#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_Gather(PrepareContext&) {
  return unsupported("op Gather is not implemented yet");
}
Status reference_Gather(EvalContext&) { return unsupported("op Gather is not implemented yet"); }

Status prepare_Cast(PrepareContext&) {
  return unsupported("op Cast is not implemented yet");
}
Status reference_Cast(EvalContext&) { return unsupported("op Cast is not implemented yet"); }

Status prepare_ArgMax(PrepareContext&) {
  return unsupported("op ArgMax is not implemented yet");
}
Status reference_ArgMax(EvalContext&) { return unsupported("op ArgMax is not implemented yet"); }

Status prepare_ReduceMean(PrepareContext&) {
  return unsupported("op ReduceMean is not implemented yet");
}
Status reference_ReduceMean(EvalContext&) { return unsupported("op ReduceMean is not implemented yet"); }

}  // namespace nnfi::kernels
