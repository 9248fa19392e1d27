// Reference kernels: BatchNormalization (inference).
//
// y = (x - mean) / sqrt(var + epsilon) * scale + B, in float32, in exactly the
// ONNX reference order (no folding into one multiply-add: that rounds
// differently). axis names the channel axis: 1 for (N, C, ...), -1 or rank-1
// for channels_last.
#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_BatchNormalization(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(5, 5));
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output (inference only), got " +
                     std::to_string(ctx.outputs.size()));
  }
  if (ctx.node.attributes.get_int("training_mode", 0) != 0) {
    return ctx.error("training_mode=1 is not supported (inference only)");
  }
  static const char* const kNames[] = {"X", "scale", "B", "mean", "var"};
  for (size_t i = 0; i < 5; ++i) {
    if (ctx.inputs[i].dtype != DType::kFloat32) {
      return ctx.error(std::string(kNames[i]) + " has dtype " +
                       std::string(dtype_name(ctx.inputs[i].dtype)) + ", expected float32");
    }
  }
  const Shape& x = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(x.size());
  int64_t axis = ctx.node.attributes.get_int("axis", 1);
  if (axis < -rank || axis >= rank) {
    return ctx.error("axis " + std::to_string(axis) + " is out of range for X " +
                     shape_to_string(x) + " of rank " + std::to_string(rank));
  }
  if (axis < 0) axis += rank;
  const Shape expected = {x[axis]};
  for (size_t i = 1; i < 5; ++i) {
    if (ctx.inputs[i].shape != expected) {
      return ctx.error(std::string(kNames[i]) + " has shape " +
                       shape_to_string(ctx.inputs[i].shape) + ", expected " +
                       shape_to_string(expected) + " (axis " + std::to_string(axis) + " of X " +
                       shape_to_string(x) + ")");
    }
  }
  const double epsilon = ctx.node.attributes.get_float("epsilon", 1e-5);
  if (!(epsilon >= 0.0) || !std::isfinite(epsilon)) {
    return ctx.error("epsilon is " + std::to_string(epsilon) + ", expected a finite value >= 0");
  }
  ctx.outputs[0] = {DType::kFloat32, x, nullptr};
  return Status::ok();
}

Status reference_BatchNormalization(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const float* scale = ctx.inputs[1]->data<float>();
  const float* bias = ctx.inputs[2]->data<float>();
  const float* mean = ctx.inputs[3]->data<float>();
  const float* var = ctx.inputs[4]->data<float>();
  const auto epsilon = static_cast<float>(ctx.node.attributes.get_float("epsilon", 1e-5));
  const Shape& shape = x.shape();
  const auto rank = static_cast<int64_t>(shape.size());
  int64_t axis = ctx.node.attributes.get_int("axis", 1);
  if (axis < 0) axis += rank;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= shape[d];
  const int64_t channels = shape[axis];
  const float* px = x.data<float>();
  float* py = ctx.outputs[0]->data<float>();
  // Channels in blocks whose constants live on the stack, so each block's
  // sqrt is computed once and the data is still walked in memory order; the
  // per-element formula is the same whatever the layout.
  constexpr int64_t kBlock = 256;
  float denoms[kBlock];
  for (int64_t c0 = 0; c0 < channels; c0 += kBlock) {
    const int64_t c1 = c0 + kBlock < channels ? c0 + kBlock : channels;
    for (int64_t c = c0; c < c1; ++c) denoms[c - c0] = std::sqrt(var[c] + epsilon);
    if (inner == 1) {
      // Channels last: the same formula along the channels, which the
      // compiler vectorizes (a campaign's windows on Keras models).
      for (int64_t o = 0; o < outer; ++o) {
        const float* xo = px + o * channels;
        float* yo = py + o * channels;
        for (int64_t c = c0; c < c1; ++c) {
          yo[c] = (xo[c] - mean[c]) / denoms[c - c0] * scale[c] + bias[c];
        }
      }
      continue;
    }
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t c = c0; c < c1; ++c) {
        const float m = mean[c];
        const float denom = denoms[c - c0];
        const float s = scale[c];
        const float b = bias[c];
        const int64_t base = (o * channels + c) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          py[base + i] = (px[base + i] - m) / denom * s + b;
        }
      }
    }
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
