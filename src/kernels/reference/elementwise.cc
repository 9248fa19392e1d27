// Reference kernels: BiasAdd, Add, Sub, Mul, Div, Max, Min, Equal.
#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_BiasAdd(PrepareContext&) {
  return unsupported("op BiasAdd is not implemented yet");
}
Status reference_BiasAdd(EvalContext&) { return unsupported("op BiasAdd is not implemented yet"); }

Status prepare_Add(PrepareContext&) {
  return unsupported("op Add is not implemented yet");
}
Status reference_Add(EvalContext&) { return unsupported("op Add is not implemented yet"); }

Status prepare_Sub(PrepareContext&) {
  return unsupported("op Sub is not implemented yet");
}
Status reference_Sub(EvalContext&) { return unsupported("op Sub is not implemented yet"); }

Status prepare_Mul(PrepareContext&) {
  return unsupported("op Mul is not implemented yet");
}
Status reference_Mul(EvalContext&) { return unsupported("op Mul is not implemented yet"); }

Status prepare_Div(PrepareContext&) {
  return unsupported("op Div is not implemented yet");
}
Status reference_Div(EvalContext&) { return unsupported("op Div is not implemented yet"); }

Status prepare_Max(PrepareContext&) {
  return unsupported("op Max is not implemented yet");
}
Status reference_Max(EvalContext&) { return unsupported("op Max is not implemented yet"); }

Status prepare_Min(PrepareContext&) {
  return unsupported("op Min is not implemented yet");
}
Status reference_Min(EvalContext&) { return unsupported("op Min is not implemented yet"); }

Status prepare_Equal(PrepareContext&) {
  return unsupported("op Equal is not implemented yet");
}
Status reference_Equal(EvalContext&) { return unsupported("op Equal is not implemented yet"); }

}  // namespace nnfi::kernels
