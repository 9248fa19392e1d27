// Reference kernel: GlobalMaxPool, channels first (ONNX) or channels last
// (attribute channels_last, as GlobalAveragePool). The maximum over all
// spatial positions in memory order; a NaN anywhere gives NaN (numpy.max).
#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/kernel.h"

namespace nnfi::kernels {

Status prepare_GlobalMaxPool(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  const int64_t channels_last = ctx.node.attributes.get_int("channels_last", 0);
  if (channels_last != 0 && channels_last != 1) {
    return ctx.error("channels_last " + std::to_string(channels_last) + ", expected 0 or 1");
  }
  const Shape& x = ctx.inputs[0].shape;
  if (x.size() < 3) {
    return ctx.error("X has shape " + shape_to_string(x) +
                     ", expected rank >= 3 (batch, channels and spatial dims)");
  }
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  Shape y(x.size(), 1);
  y[0] = x[0];
  if (channels_last == 1) {
    y.back() = x.back();
  } else {
    y[1] = x[1];
  }
  for (size_t d = 0; d < x.size(); ++d) {
    const bool channel_axis = channels_last == 1 ? d + 1 == x.size() : d == 1;
    if (d > 0 && !channel_axis && x[d] == 0) {
      return ctx.error("X has shape " + shape_to_string(x) +
                       ": an empty spatial dim has no maximum");
    }
  }
  ctx.outputs[0] = {DType::kFloat32, y, nullptr};
  return Status::ok();
}

Status reference_GlobalMaxPool(EvalContext& ctx) {
  const Tensor& x_tensor = *ctx.inputs[0];
  const bool channels_last = ctx.node.attributes.get_int("channels_last", 0) == 1;
  const Shape& shape = x_tensor.shape();
  const int64_t batch = shape[0];
  const int64_t channels = channels_last ? shape.back() : shape[1];
  if (batch * channels == 0) return Status::ok();
  const int64_t pixels = x_tensor.num_elements() / (batch * channels);
  const float* x = x_tensor.data<float>();
  float* y = ctx.outputs[0]->data<float>();
  // A NaN sticks: once the running max is NaN no comparison replaces it.
  auto take = [](float current, float value) {
    return !std::isnan(current) && !(value <= current) ? value : current;
  };
  for (int64_t n = 0; n < batch; ++n) {
    const float* image = x + n * channels * pixels;
    float* out = y + n * channels;
    if (channels_last) {
      for (int64_t c = 0; c < channels; ++c) out[c] = image[c];
      for (int64_t p = 1; p < pixels; ++p) {
        const float* row = image + p * channels;
        for (int64_t c = 0; c < channels; ++c) out[c] = take(out[c], row[c]);
      }
    } else {
      for (int64_t c = 0; c < channels; ++c) {
        const float* plane = image + c * pixels;
        float max = plane[0];
        for (int64_t p = 1; p < pixels; ++p) max = take(max, plane[p]);
        out[c] = max;
      }
    }
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
