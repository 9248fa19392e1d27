// Reference kernels: Selu, HardSigmoid, Softplus (ONNX) and Gelu (nnfi op:
// ONNX 1.12 has none; Keras's gelu, exact or tanh-approximate).
//
// NaN and Inf go through as the math says; comparisons are written so that a
// NaN input gives a NaN output.
#include <cmath>
#include <string>

#include "kernels/kernel.h"

namespace nnfi::kernels {
namespace {

// One float32 input X; Y like X.
Status prepare_float_unary(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  ctx.outputs[0] = {DType::kFloat32, ctx.inputs[0].shape, nullptr};
  return Status::ok();
}

template <typename Fn>
Status map_float(EvalContext& ctx, Fn fn) {
  const float* x = ctx.inputs[0]->data<float>();
  float* y = ctx.outputs[0]->data<float>();
  const int64_t n = ctx.inputs[0]->num_elements();
  for (int64_t i = 0; i < n; ++i) y[i] = fn(x[i]);
  return Status::ok();
}

// ONNX's Selu defaults (float32 of the exact constants, as Keras uses them).
constexpr double kSeluAlpha = 1.67326319217681884765625;
constexpr double kSeluGamma = 1.05070102214813232421875;

}  // namespace

// gamma * (x > 0 ? x : alpha * (exp(x) - 1)).
Status prepare_Selu(PrepareContext& ctx) { return prepare_float_unary(ctx); }
Status reference_Selu(EvalContext& ctx) {
  const auto alpha = static_cast<float>(ctx.node.attributes.get_float("alpha", kSeluAlpha));
  const auto gamma = static_cast<float>(ctx.node.attributes.get_float("gamma", kSeluGamma));
  return map_float(ctx, [alpha, gamma](float x) {
    return x > 0 ? gamma * x : gamma * (alpha * std::expm1(x));
  });
}

}  // namespace nnfi::kernels
