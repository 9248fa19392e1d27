// Reference kernels: Conv.
#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_Conv(PrepareContext&) {
  return unsupported("op Conv is not implemented yet");
}
Status reference_Conv(EvalContext&) { return unsupported("op Conv is not implemented yet"); }

}  // namespace nnfi::kernels
