// Reference kernels: Conv (1-D and 2-D, groups, strides, dilations, pads,
// auto_pad, optional bias, channels_first or channels_last).
//
// Every output element is
//   y[n, o, oh, ow] = (sum over c, kh, kw in this order of x * w) + b[o]
// accumulated in float32 from 0, taps that fall in the padding skipped. The
// order does not depend on the layout, the batch size or the batch row, so an
// image's outputs are bit-identical in any batch and in either layout
// (channels_last is computed through the channels_first loop on transposed
// copies of one image at a time).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reference/conv_geometry.h"

namespace nnfi::kernels {
namespace {

// Everything eval needs, derived from the node and the input shapes. A 1-D
// conv is a 2-D conv whose first spatial axis has size 1.
struct ConvShape {
  int64_t batch = 0;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t group = 1;
  bool channels_last = false;
  WindowAxis rows;  // spatial axis H (size 1 for 1-D)
  WindowAxis cols;  // spatial axis W
};

Status conv_shape(const Node& node, const Shape& x, const Shape& w, ConvShape* out) {
  const int64_t channels_last = node.attributes.get_int("channels_last", 0);
  if (channels_last != 0 && channels_last != 1) {
    return invalid_argument("channels_last " + std::to_string(channels_last) + ", expected 0 or 1");
  }
  if (x.size() != 3 && x.size() != 4) {
    return invalid_argument("X has shape " + shape_to_string(x) +
                            ", expected rank 3 (1-D conv) or 4 (2-D conv)");
  }
  if (w.size() != x.size()) {
    return invalid_argument("W has shape " + shape_to_string(w) + ", expected rank " +
                            std::to_string(x.size()) + " like X " + shape_to_string(x));
  }
  const size_t spatial_rank = x.size() - 2;
  out->channels_last = channels_last == 1;
  out->batch = x[0];
  out->in_channels = out->channels_last ? x.back() : x[1];

  out->group = node.attributes.get_int("group", 1);
  if (out->group <= 0) {
    return invalid_argument("group " + std::to_string(out->group) + ", expected > 0");
  }
  if (out->in_channels % out->group != 0) {
    return invalid_argument("X has " + std::to_string(out->in_channels) +
                            " channels, not divisible by group " + std::to_string(out->group));
  }
  const int64_t per_group = out->in_channels / out->group;
  if (w[1] != per_group) {
    return invalid_argument("W has " + std::to_string(w[1]) + " input channels per group, X has " +
                            std::to_string(out->in_channels) + " channels and group " +
                            std::to_string(out->group) + ": expected " + std::to_string(per_group));
  }
  out->out_channels = w[0];
  if (out->out_channels <= 0 || out->out_channels % out->group != 0) {
    return invalid_argument("W has " + std::to_string(w[0]) +
                            " output channels, expected a positive multiple of group " +
                            std::to_string(out->group));
  }

  const int64_t* kernel = w.data() + 2;
  if (const std::vector<int64_t>* given = find_ints_attribute(node.attributes, "kernel_shape")) {
    if (!std::equal(given->begin(), given->end(), kernel, kernel + spatial_rank)) {
      return invalid_argument("kernel_shape " + shape_to_string(*given) +
                              " does not match W's spatial dims " +
                              shape_to_string(Shape(w.begin() + 2, w.end())));
    }
  }
  if (node.attributes.get_int("ceil_mode", 0) != 0) {
    return invalid_argument("ceil_mode is not an attribute of Conv");
  }
  out->rows = WindowAxis{1, 1, 1, 1, 0, 0, 1};  // 1-D: a 2-D conv with one row
  WindowAxis* axes[2] = {&out->rows, &out->cols};
  for (size_t i = 0; i < spatial_rank; ++i) {
    const int64_t input = x[out->channels_last ? 1 + i : 2 + i];
    NNFI_RETURN_IF_ERROR(window_axis_from_attributes(node.attributes, spatial_rank, i, input,
                                                     kernel[i], axes[2 - spatial_rank + i]));
  }
  return Status::ok();
}

// Output positions [*lo, *hi) whose tap at input offset `offset` (= k *
// dilation - pad_begin) lands inside the input.
void valid_outputs(const WindowAxis& axis, int64_t offset, int64_t* lo, int64_t* hi) {
  // Need 0 <= o * stride + offset < input.
  int64_t first = 0;
  if (offset < 0) first = (-offset + axis.stride - 1) / axis.stride;
  int64_t last_plus_one = 0;
  if (axis.input - 1 - offset >= 0) last_plus_one = (axis.input - 1 - offset) / axis.stride + 1;
  *lo = first;
  *hi = std::min(axis.output, last_plus_one);
  if (*hi < *lo) *hi = *lo;
}

// y_j[i] += w[j] * x[i * stride] for i < n and j < kRows output rows. The
// rows never alias x or each other (__restrict lets the compiler vectorise).
template <int64_t kStride>
void axpy_rows4(float* __restrict y0, float* __restrict y1, float* __restrict y2,
                float* __restrict y3, const float* __restrict x, const float* w, int64_t n,
                int64_t stride) {
  const int64_t step = kStride > 0 ? kStride : stride;
  const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i * step];
    y0[i] += w0 * v;
    y1[i] += w1 * v;
    y2[i] += w2 * v;
    y3[i] += w3 * v;
  }
}

template <int64_t kStride>
void axpy_row(float* __restrict y, const float* __restrict x, float w, int64_t n, int64_t stride) {
  const int64_t step = kStride > 0 ? kStride : stride;
  for (int64_t i = 0; i < n; ++i) y[i] += w * x[i * step];
}

// Output rows oh of kBlock consecutive output channels (1 or 4) of one group:
// each element gets its taps in (c, kh, kw) order, then the bias. Doing four
// channels at once reads each input row once for all four.
template <int64_t kBlock>
void conv_rows(const ConvShape& s, const float* x_group, const float* w_block,
               const float* bias_block, float* y_block, int64_t oh) {
  const WindowAxis& r = s.rows;
  const WindowAxis& q = s.cols;
  const int64_t in_per_group = s.in_channels / s.group;
  const int64_t in_plane = r.input * q.input;
  const int64_t out_plane = r.output * q.output;
  const int64_t w_channel = in_per_group * r.kernel * q.kernel;  // W stride per output
  float* y[kBlock];
  for (int64_t j = 0; j < kBlock; ++j) {
    y[j] = y_block + j * out_plane + oh * q.output;
    std::fill(y[j], y[j] + q.output, 0.0f);
  }
  for (int64_t c = 0; c < in_per_group; ++c) {
    const float* x_c = x_group + c * in_plane;
    for (int64_t kh = 0; kh < r.kernel; ++kh) {
      const int64_t ih = oh * r.stride + kh * r.dilation - r.pad_begin;
      if (ih < 0 || ih >= r.input) continue;
      const float* x_row = x_c + ih * q.input;
      for (int64_t kw = 0; kw < q.kernel; ++kw) {
        const int64_t tap = (c * r.kernel + kh) * q.kernel + kw;
        float weights[kBlock];
        for (int64_t j = 0; j < kBlock; ++j) weights[j] = w_block[j * w_channel + tap];
        const int64_t offset = kw * q.dilation - q.pad_begin;
        int64_t lo = 0;
        int64_t hi = 0;
        valid_outputs(q, offset, &lo, &hi);
        if (hi <= lo) continue;
        const float* x_first = x_row + (lo * q.stride + offset);
        if constexpr (kBlock == 4) {
          if (q.stride == 1) {
            axpy_rows4<1>(y[0] + lo, y[1] + lo, y[2] + lo, y[3] + lo, x_first, weights, hi - lo, 1);
          } else {
            axpy_rows4<0>(y[0] + lo, y[1] + lo, y[2] + lo, y[3] + lo, x_first, weights, hi - lo,
                          q.stride);
          }
        } else {
          if (q.stride == 1) {
            axpy_row<1>(y[0] + lo, x_first, weights[0], hi - lo, 1);
          } else {
            axpy_row<0>(y[0] + lo, x_first, weights[0], hi - lo, q.stride);
          }
        }
      }
    }
  }
  if (bias_block != nullptr) {
    for (int64_t j = 0; j < kBlock; ++j) {
      const float b = bias_block[j];
      for (int64_t ow = 0; ow < q.output; ++ow) y[j][ow] += b;
    }
  }
}

// One image, channels first: x (C, H, W), y (O, OH, OW), w (O, C/group, KH, KW).
// Loops over output channels (four at a time within a group) and output rows,
// so the rows being summed stay in cache.
void conv_image_nchw(const ConvShape& s, const float* x, const float* w, const float* bias,
                     float* y) {
  const int64_t in_per_group = s.in_channels / s.group;
  const int64_t out_per_group = s.out_channels / s.group;
  const int64_t in_plane = s.rows.input * s.cols.input;
  const int64_t out_plane = s.rows.output * s.cols.output;
  const int64_t w_channel = in_per_group * s.rows.kernel * s.cols.kernel;
  for (int64_t g = 0; g < s.group; ++g) {
    const float* x_group = x + g * in_per_group * in_plane;
    for (int64_t o = g * out_per_group; o < (g + 1) * out_per_group;) {
      const float* w_block = w + o * w_channel;
      const float* b_block = bias != nullptr ? bias + o : nullptr;
      float* y_block = y + o * out_plane;
      if ((g + 1) * out_per_group - o >= 4) {
        for (int64_t oh = 0; oh < s.rows.output; ++oh) {
          conv_rows<4>(s, x_group, w_block, b_block, y_block, oh);
        }
        o += 4;
      } else {
        for (int64_t oh = 0; oh < s.rows.output; ++oh) {
          conv_rows<1>(s, x_group, w_block, b_block, y_block, oh);
        }
        o += 1;
      }
    }
  }
}

// A 1x1 conv with stride 1 and no padding maps each pixel to itself: run it
// as one long row, which keeps the inner loops long on small images.
void flatten_pointwise(ConvShape* s) {
  const WindowAxis& r = s->rows;
  const WindowAxis& q = s->cols;
  const bool pointwise = r.kernel == 1 && q.kernel == 1 && r.stride == 1 && q.stride == 1 &&
                         r.pad_begin == 0 && r.pad_end == 0 && q.pad_begin == 0 && q.pad_end == 0;
  if (!pointwise) return;
  const int64_t pixels = r.input * q.input;
  s->rows = WindowAxis{1, 1, 1, 1, 0, 0, 1};
  s->cols = WindowAxis{pixels, 1, 1, 1, 0, 0, pixels};
}

// (P, C) -> (C, P) and back, for one image of a channels_last tensor.
void transpose_2d(const float* in, int64_t rows, int64_t cols, float* out) {
  constexpr int64_t kBlock = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    const int64_t r1 = std::min(rows, r0 + kBlock);
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      const int64_t c1 = std::min(cols, c0 + kBlock);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) out[c * rows + r] = in[r * cols + c];
      }
    }
  }
}

// Per-thread scratch for the channels_last transposes: grows to the largest
// image seen once, then eval allocates nothing.
float* scratch(size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

}  // namespace

Status prepare_Conv(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 3));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(1, DType::kFloat32));
  const Shape& x = ctx.inputs[0].shape;
  const Shape& w = ctx.inputs[1].shape;
  ConvShape s;
  Status status = conv_shape(ctx.node, x, w, &s);
  if (!status.is_ok()) return ctx.error(status.message());
  const bool has_bias = ctx.inputs.size() == 3 && ctx.inputs[2].present();
  if (has_bias) {
    NNFI_RETURN_IF_ERROR(ctx.expect_dtype(2, DType::kFloat32));
    const Shape& b = ctx.inputs[2].shape;
    if (b.size() != 1 || b[0] != s.out_channels) {
      return ctx.error("B has shape " + shape_to_string(b) + ", expected [" +
                       std::to_string(s.out_channels) + "] (W's output channels)");
    }
  }
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  Shape y;
  const bool one_d = x.size() == 3;
  if (s.channels_last) {
    y = one_d ? Shape{s.batch, s.cols.output, s.out_channels}
              : Shape{s.batch, s.rows.output, s.cols.output, s.out_channels};
  } else {
    y = one_d ? Shape{s.batch, s.out_channels, s.cols.output}
              : Shape{s.batch, s.out_channels, s.rows.output, s.cols.output};
  }
  ctx.outputs[0] = {DType::kFloat32, y, nullptr};
  return Status::ok();
}

Status reference_Conv(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const Tensor& w = *ctx.inputs[1];
  const Tensor* b = ctx.inputs.size() == 3 ? ctx.inputs[2] : nullptr;
  Tensor& y = *ctx.outputs[0];
  ConvShape s;
  // Pure arithmetic on shapes prepare already accepted.
  NNFI_RETURN_IF_ERROR(conv_shape(ctx.node, x.shape(), w.shape(), &s));
  flatten_pointwise(&s);
  const float* bias = b != nullptr ? b->data<float>() : nullptr;
  const int64_t in_image = s.in_channels * s.rows.input * s.cols.input;
  const int64_t out_pixels = s.rows.output * s.cols.output;
  const int64_t out_image = s.out_channels * out_pixels;
  const float* x_data = x.data<float>();
  float* y_data = y.data<float>();
  if (!s.channels_last) {
    for (int64_t n = 0; n < s.batch; ++n) {
      conv_image_nchw(s, x_data + n * in_image, w.data<float>(), bias, y_data + n * out_image);
    }
    return Status::ok();
  }
  const int64_t in_pixels = s.rows.input * s.cols.input;
  float* x_chw = scratch(static_cast<size_t>(in_image + out_image));
  float* y_chw = x_chw + in_image;
  for (int64_t n = 0; n < s.batch; ++n) {
    transpose_2d(x_data + n * in_image, in_pixels, s.in_channels, x_chw);
    conv_image_nchw(s, x_chw, w.data<float>(), bias, y_chw);
    transpose_2d(y_chw, s.out_channels, out_pixels, y_data + n * out_image);
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
