// Reference kernel: LayerNormalization (ONNX opset 17). Each row of the dims
// from `axis` on is normalised:
//   Y = (X - mean) / sqrt(var + epsilon) * Scale + B
// The optional outputs Mean and InvStdDev (1 / sqrt(var + epsilon)) have X's
// shape with the normalised dims set to 1.
// with mean and (biased) variance summed in double in memory order and
// rounded once to float, so a row's result never depends on the batch.
#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/kernel.h"
#include "kernels/reference/broadcast.h"

namespace nnfi::kernels {
namespace {

int64_t first_axis(const Node& node, int64_t rank) {
  const int64_t axis = node.attributes.get_int("axis", -1);
  return axis < 0 ? axis + rank : axis;
}

}  // namespace

Status prepare_LayerNormalization(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 3));
  if (ctx.outputs.empty() || ctx.outputs.size() > 3) {
    return ctx.error("expected 1 to 3 outputs (Y, Mean, InvStdDev), got " +
                     std::to_string(ctx.outputs.size()));
  }
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (ctx.inputs[i].present()) NNFI_RETURN_IF_ERROR(ctx.expect_dtype(i, DType::kFloat32));
  }
  const Shape& x = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(x.size());
  const int64_t given = ctx.node.attributes.get_int("axis", -1);
  if (given < -rank || given >= rank) {
    return ctx.error("axis " + std::to_string(given) + " is out of range for X " +
                     shape_to_string(x) + " of rank " + std::to_string(rank));
  }
  const int64_t axis = first_axis(ctx.node, rank);
  const Shape normalized(x.begin() + axis, x.end());
  if (rank > static_cast<int64_t>(kMaxBroadcastRank)) {
    return ctx.error("rank " + std::to_string(rank) + " exceeds the supported maximum " +
                     std::to_string(kMaxBroadcastRank));
  }
  static const char* const kNames[] = {"X", "Scale", "B"};
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    if (!ctx.inputs[i].present()) continue;
    if (!broadcasts_to(ctx.inputs[i].shape, normalized)) {
      return ctx.error(
          std::string(kNames[i]) + " has shape " + shape_to_string(ctx.inputs[i].shape) +
          ", expected one that broadcasts to the normalised dims " + shape_to_string(normalized));
    }
  }
  const double epsilon = ctx.node.attributes.get_float("epsilon", 1e-5);
  if (!(epsilon >= 0.0) || !std::isfinite(epsilon)) {
    return ctx.error("epsilon is " + std::to_string(epsilon) + ", expected a finite value >= 0");
  }
  if (ctx.node.attributes.get_int("stash_type", 1) != 1) {
    return ctx.error("stash_type must be 1 (float32 statistics)");
  }
  ctx.outputs[0] = {DType::kFloat32, x, nullptr};
  Shape stats = x;
  for (int64_t d = axis; d < rank; ++d) stats[d] = 1;
  for (size_t o = 1; o < ctx.outputs.size(); ++o)
    ctx.outputs[o] = {DType::kFloat32, stats, nullptr};
  return Status::ok();
}

Status reference_LayerNormalization(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const Tensor& scale = *ctx.inputs[1];
  const Tensor* bias = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  const Shape& shape = x.shape();
  const auto rank = static_cast<int64_t>(shape.size());
  const int64_t axis = first_axis(ctx.node, rank);
  int64_t rows = 1;
  int64_t n = 1;
  for (int64_t d = 0; d < rank; ++d) (d < axis ? rows : n) *= shape[d];
  if (n == 0) return Status::ok();
  const auto epsilon = static_cast<float>(ctx.node.attributes.get_float("epsilon", 1e-5));
  // Scale and B as flat rows over the normalised dims (broadcast once per
  // element index; prepare checked they broadcast).
  const Shape row_shape(shape.begin() + axis, shape.end());
  BroadcastIterator<2> it(row_shape,
                          {&scale.shape(), bias != nullptr ? &bias->shape() : &scale.shape()});
  const float* px = x.data<float>();
  float* py = ctx.outputs[0]->data<float>();
  const float* ps = scale.data<float>();
  const float* pb = bias != nullptr ? bias->data<float>() : nullptr;
  float* mean_out =
      ctx.outputs.size() > 1 && ctx.outputs[1] != nullptr ? ctx.outputs[1]->data<float>() : nullptr;
  float* inv_out =
      ctx.outputs.size() > 2 && ctx.outputs[2] != nullptr ? ctx.outputs[2]->data<float>() : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = px + r * n;
    float* out = py + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += row[i];
    const auto mean = static_cast<float>(sum / static_cast<double>(n));
    double squares = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(row[i]) - mean;
      squares += d * d;
    }
    const auto var = static_cast<float>(squares / static_cast<double>(n));
    const float denom = std::sqrt(var + epsilon);
    if (mean_out != nullptr) mean_out[r] = mean;
    if (inv_out != nullptr) inv_out[r] = 1.0f / denom;
    int64_t i = 0;
    for (int64_t k = 0; k < it.num_rows(); ++k, it.next_row()) {
      const float* s = ps + it.offset(0);
      const float* b = pb != nullptr ? pb + it.offset(1) : nullptr;
      for (int64_t j = 0; j < it.row_size(); ++j, ++i) {
        const float normed = (row[i] - mean) / denom * s[j * it.stride(0)];
        out[i] = b != nullptr ? normed + b[j * it.stride(1)] : normed;
      }
    }
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
