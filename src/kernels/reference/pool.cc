// Reference kernels: MaxPool, AveragePool (1-D and 2-D) and GlobalAveragePool,
// channels first or channels last.
//
// Every output element reduces its window's taps in (kh, kw) order, padding
// skipped: max (a NaN anywhere in the window gives NaN, like numpy) or a
// float32 sum from 0 divided by the tap count. Nothing depends on the layout,
// the batch size or the batch row.
#include <cmath>
#include <limits>
#include <string>

#include "kernels/kernel.h"
#include "kernels/reference/conv_geometry.h"

namespace nnfi::kernels {
namespace {

// A pooled tensor as (N, C, H, W) with strides, whatever the layout; a 1-D
// pool has H = 1.
struct PoolShape {
  int64_t batch = 0;
  int64_t channels = 0;
  bool channels_last = false;
  WindowAxis rows;
  WindowAxis cols;
};

// Longer than the small-string buffer: built once, so eval allocates nothing.
const std::string& count_include_pad_key() {
  static const std::string key = "count_include_pad";
  return key;
}

Status read_channels_last(const Node& node, bool* channels_last) {
  const int64_t value = node.attributes.get_int("channels_last", 0);
  if (value != 0 && value != 1) {
    return invalid_argument("channels_last " + std::to_string(value) + ", expected 0 or 1");
  }
  *channels_last = value == 1;
  return Status::ok();
}

Status pool_shape(const Node& node, const Shape& x, PoolShape* out) {
  NNFI_RETURN_IF_ERROR(read_channels_last(node, &out->channels_last));
  if (x.size() != 3 && x.size() != 4) {
    return invalid_argument("X has shape " + shape_to_string(x) +
                            ", expected rank 3 (1-D pool) or 4 (2-D pool)");
  }
  const size_t spatial_rank = x.size() - 2;
  out->batch = x[0];
  out->channels = out->channels_last ? x.back() : x[1];
  const std::vector<int64_t>* kernel = find_ints_attribute(node.attributes, "kernel_shape");
  if (kernel == nullptr || kernel->size() != spatial_rank) {
    return invalid_argument(
        "kernel_shape " +
        (kernel == nullptr ? std::string("is missing") : shape_to_string(*kernel)) + ", expected " +
        std::to_string(spatial_rank) + " values for X of shape " + shape_to_string(x));
  }
  if (node.op == OpType::kAveragePool) {
    const int64_t include = node.attributes.get_int(count_include_pad_key(), 0);
    if (include != 0 && include != 1) {
      return invalid_argument("count_include_pad " + std::to_string(include) + ", expected 0 or 1");
    }
  }
  out->rows = WindowAxis{1, 1, 1, 1, 0, 0, 1};  // 1-D: a 2-D pool with one row
  WindowAxis* axes[2] = {&out->rows, &out->cols};
  for (size_t i = 0; i < spatial_rank; ++i) {
    const int64_t input = x[out->channels_last ? 1 + i : 2 + i];
    WindowAxis* axis = axes[2 - spatial_rank + i];
    NNFI_RETURN_IF_ERROR(
        window_axis_from_attributes(node.attributes, spatial_rank, i, input, (*kernel)[i], axis));
    // A window lying wholly in the padding would have no taps.
    const int64_t extent = dilated_kernel(axis->kernel, axis->dilation);
    if (axis->pad_begin >= extent || axis->pad_end >= extent) {
      return invalid_argument("pads " + std::to_string(axis->pad_begin) + ", " +
                              std::to_string(axis->pad_end) + " on spatial axis " +
                              std::to_string(i) + " are not smaller than the kernel extent " +
                              std::to_string(extent));
    }
  }
  return Status::ok();
}

Shape pool_output_shape(const PoolShape& s, size_t rank) {
  if (rank == 3) {
    return s.channels_last ? Shape{s.batch, s.cols.output, s.channels}
                           : Shape{s.batch, s.channels, s.cols.output};
  }
  return s.channels_last ? Shape{s.batch, s.rows.output, s.cols.output, s.channels}
                         : Shape{s.batch, s.channels, s.rows.output, s.cols.output};
}

// Element strides of an (N, C, H, W) tensor stored channels first or last.
struct Strides {
  int64_t n, c, h, w;
};

Strides strides_of(int64_t channels, int64_t height, int64_t width, bool channels_last) {
  if (channels_last) return {height * width * channels, 1, width * channels, channels};
  return {channels * height * width, height * width, width, 1};
}

Status prepare_pool(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  if (ctx.node.op == OpType::kMaxPool && ctx.outputs.size() == 2) {
    return ctx.error("the 2nd output of MaxPool (Indices) is not supported, expected 1 output");
  }
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  PoolShape s;
  Status status = pool_shape(ctx.node, ctx.inputs[0].shape, &s);
  if (!status.is_ok()) return ctx.error(status.message());
  ctx.outputs[0] = {DType::kFloat32, pool_output_shape(s, ctx.inputs[0].shape.size()), nullptr};
  return Status::ok();
}

// Calls reduce(x_pixel_offset) for every in-input tap of output (oh, ow) in
// (kh, kw) order.
template <typename Reduce>
void for_each_tap(const PoolShape& s, const Strides& x, int64_t oh, int64_t ow, Reduce reduce) {
  const WindowAxis& r = s.rows;
  const WindowAxis& q = s.cols;
  for (int64_t kh = 0; kh < r.kernel; ++kh) {
    const int64_t ih = r.window_start(oh) + kh * r.dilation;
    if (ih < 0 || ih >= r.input) continue;
    for (int64_t kw = 0; kw < q.kernel; ++kw) {
      const int64_t iw = q.window_start(ow) + kw * q.dilation;
      if (iw < 0 || iw >= q.input) continue;
      reduce(ih * x.h + iw * x.w);
    }
  }
}

// Taps of one axis' window at output o inside [low, high) input positions.
int64_t taps_within(const WindowAxis& axis, int64_t o, int64_t low, int64_t high) {
  int64_t count = 0;
  for (int64_t k = 0; k < axis.kernel; ++k) {
    const int64_t i = axis.window_start(o) + k * axis.dilation;
    if (i >= low && i < high) ++count;
  }
  return count;
}

template <bool kMax>
Status reference_pool(EvalContext& ctx) {
  const Tensor& x_tensor = *ctx.inputs[0];
  Tensor& y_tensor = *ctx.outputs[0];
  PoolShape s;
  NNFI_RETURN_IF_ERROR(pool_shape(ctx.node, x_tensor.shape(), &s));
  const bool include_pad = ctx.node.attributes.get_int(count_include_pad_key(), 0) == 1;
  const Strides xs = strides_of(s.channels, s.rows.input, s.cols.input, s.channels_last);
  const Strides ys = strides_of(s.channels, s.rows.output, s.cols.output, s.channels_last);
  const float* x = x_tensor.data<float>();
  float* y = y_tensor.data<float>();
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t c = 0; c < s.channels; ++c) {
      const float* x_nc = x + n * xs.n + c * xs.c;
      float* y_nc = y + n * ys.n + c * ys.c;
      for (int64_t oh = 0; oh < s.rows.output; ++oh) {
        for (int64_t ow = 0; ow < s.cols.output; ++ow) {
          float result;
          if constexpr (kMax) {
            result = -std::numeric_limits<float>::infinity();
            for_each_tap(s, xs, oh, ow, [&](int64_t offset) {
              const float v = x_nc[offset];
              if (v > result || std::isnan(v)) result = v;
            });
          } else {
            float sum = 0.0f;
            int64_t count = 0;
            for_each_tap(s, xs, oh, ow, [&](int64_t offset) {
              sum += x_nc[offset];
              ++count;
            });
            if (include_pad) {
              // Padding counts, but not the overhang past it in ceil_mode.
              count = taps_within(s.rows, oh, -s.rows.pad_begin, s.rows.input + s.rows.pad_end) *
                      taps_within(s.cols, ow, -s.cols.pad_begin, s.cols.input + s.cols.pad_end);
            }
            result = sum / static_cast<float>(count);
          }
          y_nc[oh * ys.h + ow * ys.w] = result;
        }
      }
    }
  }
  return Status::ok();
}

}  // namespace

Status prepare_MaxPool(PrepareContext& ctx) { return prepare_pool(ctx); }
Status reference_MaxPool(EvalContext& ctx) { return reference_pool<true>(ctx); }

Status prepare_AveragePool(PrepareContext& ctx) { return prepare_pool(ctx); }
Status reference_AveragePool(EvalContext& ctx) { return reference_pool<false>(ctx); }

Status prepare_GlobalAveragePool(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  bool channels_last = false;
  Status status = read_channels_last(ctx.node, &channels_last);
  if (!status.is_ok()) return ctx.error(status.message());
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
  if (channels_last) {
    y.back() = x.back();
  } else {
    y[1] = x[1];
  }
  ctx.outputs[0] = {DType::kFloat32, y, nullptr};
  return Status::ok();
}

Status reference_GlobalAveragePool(EvalContext& ctx) {
  const Tensor& x_tensor = *ctx.inputs[0];
  Tensor& y_tensor = *ctx.outputs[0];
  const bool channels_last = ctx.node.attributes.get_int("channels_last", 0) == 1;
  const Shape& shape = x_tensor.shape();
  const int64_t batch = shape[0];
  const int64_t channels = channels_last ? shape.back() : shape[1];
  const int64_t pixels = batch * channels == 0 ? 0 : x_tensor.num_elements() / (batch * channels);
  const auto count = static_cast<float>(pixels);
  const float* x = x_tensor.data<float>();
  float* y = y_tensor.data<float>();
  for (int64_t n = 0; n < batch; ++n) {
    float* y_n = y + n * channels;
    if (channels_last) {
      // Pixel by pixel so the reads stream; each channel still sums in pixel order.
      const float* x_n = x + n * pixels * channels;
      for (int64_t c = 0; c < channels; ++c) y_n[c] = 0.0f;
      for (int64_t p = 0; p < pixels; ++p) {
        for (int64_t c = 0; c < channels; ++c) y_n[c] += x_n[p * channels + c];
      }
    } else {
      for (int64_t c = 0; c < channels; ++c) {
        const float* x_nc = x + (n * channels + c) * pixels;
        float sum = 0.0f;
        for (int64_t p = 0; p < pixels; ++p) sum += x_nc[p];
        y_n[c] = sum;
      }
    }
    for (int64_t c = 0; c < channels; ++c) y_n[c] = y_n[c] / count;
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
