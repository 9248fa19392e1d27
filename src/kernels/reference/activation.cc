// Reference kernels: Abs, Neg, Sqrt, Rsqrt, Relu, Clip, LeakyRelu, PRelu, Elu, Sigmoid, Tanh, Softmax.
#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_Abs(PrepareContext&) {
  return unsupported("op Abs is not implemented yet");
}
Status reference_Abs(EvalContext&) { return unsupported("op Abs is not implemented yet"); }

Status prepare_Neg(PrepareContext&) {
  return unsupported("op Neg is not implemented yet");
}
Status reference_Neg(EvalContext&) { return unsupported("op Neg is not implemented yet"); }

Status prepare_Sqrt(PrepareContext&) {
  return unsupported("op Sqrt is not implemented yet");
}
Status reference_Sqrt(EvalContext&) { return unsupported("op Sqrt is not implemented yet"); }

Status prepare_Rsqrt(PrepareContext&) {
  return unsupported("op Rsqrt is not implemented yet");
}
Status reference_Rsqrt(EvalContext&) { return unsupported("op Rsqrt is not implemented yet"); }

Status prepare_Relu(PrepareContext&) {
  return unsupported("op Relu is not implemented yet");
}
Status reference_Relu(EvalContext&) { return unsupported("op Relu is not implemented yet"); }

Status prepare_Clip(PrepareContext&) {
  return unsupported("op Clip is not implemented yet");
}
Status reference_Clip(EvalContext&) { return unsupported("op Clip is not implemented yet"); }

Status prepare_LeakyRelu(PrepareContext&) {
  return unsupported("op LeakyRelu is not implemented yet");
}
Status reference_LeakyRelu(EvalContext&) { return unsupported("op LeakyRelu is not implemented yet"); }

Status prepare_PRelu(PrepareContext&) {
  return unsupported("op PRelu is not implemented yet");
}
Status reference_PRelu(EvalContext&) { return unsupported("op PRelu is not implemented yet"); }

Status prepare_Elu(PrepareContext&) {
  return unsupported("op Elu is not implemented yet");
}
Status reference_Elu(EvalContext&) { return unsupported("op Elu is not implemented yet"); }

Status prepare_Sigmoid(PrepareContext&) {
  return unsupported("op Sigmoid is not implemented yet");
}
Status reference_Sigmoid(EvalContext&) { return unsupported("op Sigmoid is not implemented yet"); }

Status prepare_Tanh(PrepareContext&) {
  return unsupported("op Tanh is not implemented yet");
}
Status reference_Tanh(EvalContext&) { return unsupported("op Tanh is not implemented yet"); }

Status prepare_Softmax(PrepareContext&) {
  return unsupported("op Softmax is not implemented yet");
}
Status reference_Softmax(EvalContext&) { return unsupported("op Softmax is not implemented yet"); }

}  // namespace nnfi::kernels
