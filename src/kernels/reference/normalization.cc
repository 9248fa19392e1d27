// Reference kernels: BatchNormalization.
#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_BatchNormalization(PrepareContext&) {
  return unsupported("op BatchNormalization is not implemented yet");
}
Status reference_BatchNormalization(EvalContext&) { return unsupported("op BatchNormalization is not implemented yet"); }

}  // namespace nnfi::kernels
