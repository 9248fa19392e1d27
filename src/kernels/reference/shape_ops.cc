// Reference kernels: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Pad, Identity, Dropout, Shape.
#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_Reshape(PrepareContext&) {
  return unsupported("op Reshape is not implemented yet");
}
Status reference_Reshape(EvalContext&) { return unsupported("op Reshape is not implemented yet"); }

Status prepare_Flatten(PrepareContext&) {
  return unsupported("op Flatten is not implemented yet");
}
Status reference_Flatten(EvalContext&) { return unsupported("op Flatten is not implemented yet"); }

Status prepare_Squeeze(PrepareContext&) {
  return unsupported("op Squeeze is not implemented yet");
}
Status reference_Squeeze(EvalContext&) { return unsupported("op Squeeze is not implemented yet"); }

Status prepare_Unsqueeze(PrepareContext&) {
  return unsupported("op Unsqueeze is not implemented yet");
}
Status reference_Unsqueeze(EvalContext&) { return unsupported("op Unsqueeze is not implemented yet"); }

Status prepare_Transpose(PrepareContext&) {
  return unsupported("op Transpose is not implemented yet");
}
Status reference_Transpose(EvalContext&) { return unsupported("op Transpose is not implemented yet"); }

Status prepare_Concat(PrepareContext&) {
  return unsupported("op Concat is not implemented yet");
}
Status reference_Concat(EvalContext&) { return unsupported("op Concat is not implemented yet"); }

Status prepare_Pad(PrepareContext&) {
  return unsupported("op Pad is not implemented yet");
}
Status reference_Pad(EvalContext&) { return unsupported("op Pad is not implemented yet"); }

Status prepare_Identity(PrepareContext&) {
  return unsupported("op Identity is not implemented yet");
}
Status reference_Identity(EvalContext&) { return unsupported("op Identity is not implemented yet"); }

Status prepare_Dropout(PrepareContext&) {
  return unsupported("op Dropout is not implemented yet");
}
Status reference_Dropout(EvalContext&) { return unsupported("op Dropout is not implemented yet"); }

Status prepare_Shape(PrepareContext&) {
  return unsupported("op Shape is not implemented yet");
}
Status reference_Shape(EvalContext&) { return unsupported("op Shape is not implemented yet"); }

}  // namespace nnfi::kernels
