// MaxPool in tuned C++ rather than oneDNN: oneDNN 2.6's max pooling skips
// NaN (its compare-and-blend never picks one), while the IR says a NaN in
// the window gives NaN, and a fault injector must carry injected NaNs on.
// This kernel follows the reference rule exactly (taps in (kh, kw) order,
// padding skipped, `v > best || isnan(v)` replaces), so it is bit-identical
// to the reference. It vectorises over channels (channels_last) or output
// columns (channels_first), is compiled for AVX-512, AVX2 and baseline x86-64
// (picked at load time), and splits the batch over threads by image.
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "kernels/fast/fast_kernels.h"
#include "kernels/fast/onednn_common.h"
#include "kernels/reference/conv_geometry.h"

// One copy per instruction set, chosen when the library loads.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NNFI_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define NNFI_TARGET_CLONES_AVX2 __attribute__((target_clones("avx2", "default")))
#else
#define NNFI_TARGET_CLONES
#define NNFI_TARGET_CLONES_AVX2
#endif
#define NNFI_INLINE inline __attribute__((always_inline))

namespace nnfi::kernels {
namespace {

constexpr float kLowest = -std::numeric_limits<float>::infinity();

// The reference's replacement rule, written so that it vectorises.
NNFI_INLINE float max_step(float best, float v) { return (v > best || v != v) ? v : best; }

struct PoolGeometry {
  int64_t channels = 0;
  WindowAxis rows;  // size 1 for a 1-D pool
  WindowAxis cols;
};

// Output columns [*lo, *hi) whose tap at input offset `offset` (= kw *
// dilation - pad_begin) lands inside the row: 0 <= ow * stride + offset < input.
NNFI_INLINE void valid_columns(const WindowAxis& axis, int64_t offset, int64_t* lo, int64_t* hi) {
  *lo = offset < 0 ? (-offset + axis.stride - 1) / axis.stride : 0;
  *hi = axis.input - 1 - offset < 0
            ? 0
            : std::min(axis.output, (axis.input - 1 - offset) / axis.stride + 1);
}

// Every output element sees its taps in (kh, kw) order: a row of outputs is
// updated one tap (kh, kw) at a time.
NNFI_TARGET_CLONES
void max_pool_image_channels_last(const PoolGeometry& g, const float* x, float* y) {
  const WindowAxis& rows = g.rows;
  const WindowAxis& cols = g.cols;
  const int64_t c_count = g.channels;
  const int64_t stride = cols.stride;
  for (int64_t oh = 0; oh < rows.output; ++oh) {
    float* out = y + oh * cols.output * c_count;
    std::fill(out, out + cols.output * c_count, kLowest);
    for (int64_t kh = 0; kh < rows.kernel; ++kh) {
      const int64_t ih = rows.window_start(oh) + kh * rows.dilation;
      if (ih < 0 || ih >= rows.input) continue;
      const float* in_row = x + ih * cols.input * c_count;
      for (int64_t kw = 0; kw < cols.kernel; ++kw) {
        const int64_t offset = kw * cols.dilation - cols.pad_begin;
        int64_t lo = 0;
        int64_t hi = 0;
        valid_columns(cols, offset, &lo, &hi);
        if (stride == 1) {  // the taps of [lo, hi) are one contiguous run
          float* o = out + lo * c_count;
          const float* in = in_row + (lo + offset) * c_count;
          const int64_t count = (hi - lo) * c_count;
#pragma omp simd
          for (int64_t i = 0; i < count; ++i) o[i] = max_step(o[i], in[i]);
          continue;
        }
        for (int64_t ow = lo; ow < hi; ++ow) {
          float* o = out + ow * c_count;
          const float* in = in_row + (ow * stride + offset) * c_count;
#pragma omp simd
          for (int64_t c = 0; c < c_count; ++c) o[c] = max_step(o[c], in[c]);
        }
      }
    }
  }
}

// out[ow] = max_step(out[ow], row[ow * stride + offset]) for ow in [lo, hi);
// a compile-time stride of 1 or 2 vectorises with loads and permutes rather
// than gathers.
template <int64_t kStride>
NNFI_INLINE void max_tap(float* out, const float* row, int64_t stride, int64_t offset, int64_t lo,
                         int64_t hi) {
  const int64_t s = kStride > 0 ? kStride : stride;
#pragma omp simd
  for (int64_t ow = lo; ow < hi; ++ow) out[ow] = max_step(out[ow], row[ow * s + offset]);
}

// All kKernel taps of one undilated kernel row, in kw order, for columns
// [lo, hi) where every tap is inside the row: out is read and written once,
// not kKernel times, and the taps form one interleaved load group.
template <int64_t kStride, int64_t kKernel>
NNFI_INLINE void max_row(float* out, const float* row, int64_t first_offset, int64_t lo,
                         int64_t hi) {
  const float* base = row + first_offset;
#pragma omp simd
  for (int64_t ow = lo; ow < hi; ++ow) {
    float best = out[ow];
    for (int64_t kw = 0; kw < kKernel; ++kw) best = max_step(best, base[ow * kStride + kw]);
    out[ow] = best;
  }
}

NNFI_TARGET_CLONES_AVX2
void max_pool_image_channels_first(const PoolGeometry& g, const float* x, float* y) {
  const WindowAxis& rows = g.rows;
  const WindowAxis& cols = g.cols;
  const int64_t in_plane = rows.input * cols.input;
  const int64_t out_plane = rows.output * cols.output;
  const int64_t stride = cols.stride;
  // Fused kernel rows for the common pools: 2 or 3 wide, stride 1 or 2, no dilation.
  const int fused = (cols.kernel == 2 || cols.kernel == 3) && stride <= 2 && cols.dilation == 1
                        ? static_cast<int>(10 * stride + cols.kernel)
                        : 0;
  // Columns where every tap of a kernel row is inside the row.
  const int64_t first_offset = -cols.pad_begin;
  const int64_t last_offset = (cols.kernel - 1) * cols.dilation - cols.pad_begin;
  int64_t lo = 0;
  int64_t hi = 0;
  int64_t unused = 0;
  valid_columns(cols, first_offset, &lo, &unused);  // the first tap bounds from below
  valid_columns(cols, last_offset, &unused, &hi);   // the last from above
  const int64_t inner_lo = std::min(lo, cols.output);
  const int64_t inner_hi = std::max(inner_lo, std::min(hi, cols.output));
  for (int64_t c = 0; c < g.channels; ++c) {
    const float* x_c = x + c * in_plane;
    for (int64_t oh = 0; oh < rows.output; ++oh) {
      float* out = y + c * out_plane + oh * cols.output;
      std::fill(out, out + cols.output, kLowest);
      for (int64_t kh = 0; kh < rows.kernel; ++kh) {
        const int64_t ih = rows.window_start(oh) + kh * rows.dilation;
        if (ih < 0 || ih >= rows.input) continue;
        const float* row = x_c + ih * cols.input;
        switch (fused) {
          case 12: max_row<1, 2>(out, row, first_offset, inner_lo, inner_hi); break;
          case 13: max_row<1, 3>(out, row, first_offset, inner_lo, inner_hi); break;
          case 22: max_row<2, 2>(out, row, first_offset, inner_lo, inner_hi); break;
          case 23: max_row<2, 3>(out, row, first_offset, inner_lo, inner_hi); break;
          default: break;
        }
        for (int64_t kw = 0; kw < cols.kernel; ++kw) {
          const int64_t offset = kw * cols.dilation - cols.pad_begin;
          int64_t tap_lo = 0;
          int64_t tap_hi = 0;
          valid_columns(cols, offset, &tap_lo, &tap_hi);
          if (fused != 0) {
            // Only the edge columns outside the fused range, each in kw order.
            const int64_t left_hi = std::min(tap_hi, inner_lo);
            const int64_t right_lo = std::max(tap_lo, inner_hi);
            for (int64_t ow = tap_lo; ow < left_hi; ++ow) {
              out[ow] = max_step(out[ow], row[ow * stride + offset]);
            }
            for (int64_t ow = right_lo; ow < tap_hi; ++ow) {
              out[ow] = max_step(out[ow], row[ow * stride + offset]);
            }
          } else if (stride == 1) {
            max_tap<1>(out, row, stride, offset, tap_lo, tap_hi);
          } else if (stride == 2) {
            max_tap<2>(out, row, stride, offset, tap_lo, tap_hi);
          } else {
            max_tap<0>(out, row, stride, offset, tap_lo, tap_hi);
          }
        }
      }
    }
  }
}

class TunedMaxPool : public FastKernel {
 public:
  Status eval(EvalContext& context) override {
    const float* x = context.inputs[0]->data<float>();
    float* y = context.outputs[0]->data<float>();
    const int64_t src_image = geometry.channels * geometry.rows.input * geometry.cols.input;
    const int64_t dst_image = geometry.channels * geometry.rows.output * geometry.cols.output;
    return onednn::parallel_units(batch, "MaxPool", [&](int64_t begin, int64_t end) {
      const int64_t out_pixels = geometry.rows.output * geometry.cols.output;
      float* hwc = plain_output ? static_cast<float*>(onednn::thread_scratch(
                                      onednn::ScratchSlot::kDestination, dst_image * sizeof(float)))
                                : nullptr;
      for (int64_t n = begin; n < end; ++n) {
        if (plain_output) {  // NHWC in, NCHW out: pool into scratch, then transpose
          max_pool_image_channels_last(geometry, x + n * src_image, hwc);
          float* out = y + n * dst_image;
          for (int64_t c = 0; c < geometry.channels; ++c) {
            for (int64_t p = 0; p < out_pixels; ++p) {
              out[c * out_pixels + p] = hwc[p * geometry.channels + c];
            }
          }
        } else if (channels_last) {
          max_pool_image_channels_last(geometry, x + n * src_image, y + n * dst_image);
        } else {
          max_pool_image_channels_first(geometry, x + n * src_image, y + n * dst_image);
        }
      }
    });
  }

  int64_t batch = 0;
  bool channels_last = false;  // how the images are stored (and pooled)
  bool plain_output = false;   // channels_last input, channels-first output
  PoolGeometry geometry;
};

// nhwc: a channels-first node whose input is stored NHWC (a fused plan's
// internal layout); its output is stored NHWC too, or NCHW with plain_output.
std::unique_ptr<FastKernel> build_max_pool(const Node& node, std::span<const TensorInfo> inputs,
                                           std::span<const TensorInfo> outputs, bool nhwc,
                                           bool plain_output) {
  // Only output 0 (no Indices).
  std::optional<PoolShape> shape = covered_pool_shape(node, inputs, outputs);
  if (!shape) return nullptr;
  if (nhwc && (shape->channels_last || shape->input_spatial.size() != 2)) return nullptr;
  auto kernel = std::make_unique<TunedMaxPool>();
  kernel->channels_last = shape->channels_last || nhwc;
  kernel->plain_output = nhwc && plain_output;
  kernel->batch = shape->batch;
  PoolGeometry& g = kernel->geometry;
  g.channels = shape->channels;
  const size_t spatial_rank = shape->input_spatial.size();

  WindowParams params;
  params.kernel = node.attributes.get_ints("kernel_shape");
  std::vector<WindowAxis> axes;
  if (!read_window_attributes(node.attributes, spatial_rank, &params).is_ok() ||
      !compute_window_geometry(params, shape->input_spatial, &axes).is_ok()) {
    return nullptr;
  }
  g.rows = spatial_rank == 2 ? axes[0] : WindowAxis{1, 1, 1, 1, 0, 0, 1};
  g.cols = axes.back();
  Shape expected = {kernel->batch};  // the IR shape, whatever the storage
  if (!shape->channels_last) expected.push_back(g.channels);
  for (const WindowAxis& axis : axes) expected.push_back(axis.output);
  if (shape->channels_last) expected.push_back(g.channels);
  if (outputs[0].shape != expected) return nullptr;
  return kernel;
}

}  // namespace

std::unique_ptr<FastKernel> create_tuned_max_pool(const Node& node,
                                                  std::span<const TensorInfo> inputs,
                                                  std::span<const TensorInfo> outputs) {
  return build_max_pool(node, inputs, outputs, false, false);
}

std::unique_ptr<FastKernel> create_tuned_max_pool_nhwc(const Node& node,
                                                       std::span<const TensorInfo> inputs,
                                                       std::span<const TensorInfo> outputs,
                                                       bool plain_output) {
  return build_max_pool(node, inputs, outputs, true, plain_output);
}

}  // namespace nnfi::kernels
