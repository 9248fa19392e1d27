// Reference kernels: Selu, HardSigmoid, Softplus, ThresholdedRelu (ONNX) and
// Gelu (an nnfi op: ONNX 1.12 has none; it follows opset 20's Gelu, exact or
// tanh-approximate, as Keras's gelu).
//
// NaN and Inf go through as the math says; comparisons are written so that a
// NaN input gives a NaN output.
#include <cmath>
#include <string>
#include <variant>

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

// Gelu's "approximate": "none" (erf) or "tanh"; false for anything else.
bool read_approximate(const Node& node, bool* tanh) {
  const auto& all = node.attributes.all();
  auto it = all.find("approximate");
  if (it == all.end()) {
    *tanh = false;
    return true;
  }
  const auto* text = std::get_if<std::string>(&it->second);
  if (text == nullptr || (*text != "none" && *text != "tanh")) return false;
  *tanh = *text == "tanh";
  return true;
}

}  // namespace

// gamma * (x > 0 ? x : alpha * (exp(x) - 1)).
Status prepare_Selu(PrepareContext& ctx) { return prepare_float_unary(ctx); }
Status reference_Selu(EvalContext& ctx) {
  const auto alpha = static_cast<float>(ctx.node.attributes.get_float("alpha", kSeluAlpha));
  const auto gamma = static_cast<float>(ctx.node.attributes.get_float("gamma", kSeluGamma));
  return map_float(
      ctx, [alpha, gamma](float x) { return x > 0 ? gamma * x : gamma * (alpha * std::expm1(x)); });
}

// max(0, min(1, alpha * x + beta)), written so that NaN stays NaN.
Status prepare_HardSigmoid(PrepareContext& ctx) { return prepare_float_unary(ctx); }
Status reference_HardSigmoid(EvalContext& ctx) {
  const auto alpha = static_cast<float>(ctx.node.attributes.get_float("alpha", 0.2));
  const auto beta = static_cast<float>(ctx.node.attributes.get_float("beta", 0.5));
  return map_float(ctx, [alpha, beta](float x) {
    const float y = alpha * x + beta;
    return y < 0 ? 0.0f : (y > 1 ? 1.0f : y);
  });
}

// log(1 + exp(x)) in the form that neither overflows for large x nor loses
// the tiny values for very negative x: max(x, 0) + log1p(exp(-|x|)).
Status prepare_Softplus(PrepareContext& ctx) { return prepare_float_unary(ctx); }
Status reference_Softplus(EvalContext& ctx) {
  return map_float(ctx, [](float x) {
    const float positive = x > 0 ? x : 0.0f;
    return positive + std::log1p(std::exp(-std::fabs(x)));
  });
}

// x > alpha ? x : 0 (strictly greater, as ONNX and Keras's ReLU threshold).
Status prepare_ThresholdedRelu(PrepareContext& ctx) { return prepare_float_unary(ctx); }
Status reference_ThresholdedRelu(EvalContext& ctx) {
  const auto alpha = static_cast<float>(ctx.node.attributes.get_float("alpha", 1.0));
  return map_float(ctx, [alpha](float x) { return x > alpha || std::isnan(x) ? x : 0.0f; });
}

// approximate "none": 0.5 x (1 + erf(x / sqrt(2)));
// approximate "tanh": 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
Status prepare_Gelu(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(prepare_float_unary(ctx));
  bool tanh = false;
  if (!read_approximate(ctx.node, &tanh)) {
    return ctx.error("approximate must be the string \"none\" or \"tanh\"");
  }
  return Status::ok();
}
Status reference_Gelu(EvalContext& ctx) {
  bool tanh = false;
  read_approximate(ctx.node, &tanh);
  if (tanh) {
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    return map_float(ctx, [](float x) {
      return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    });
  }
  constexpr float kSqrt2 = 1.4142135623730951f;
  return map_float(ctx, [](float x) { return 0.5f * x * (1.0f + std::erf(x / kSqrt2)); });
}

}  // namespace nnfi::kernels
