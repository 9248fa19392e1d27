// MaxPool in tuned C++ rather than oneDNN: oneDNN 2.6's max pooling skips
// NaN (its compare-and-blend never picks one), while the IR says a NaN in
// the window gives NaN, and a fault injector must carry injected NaNs on.
// This kernel follows the reference rule exactly (taps in (kh, kw) order,
// padding skipped, `v > best || isnan(v)` replaces), so it is bit-identical
// to the reference; it vectorises over channels (channels_last) or output
// columns (channels_first) and splits the batch over threads by image.
#include <algorithm>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "kernels/fast/fast_kernels.h"
#include "kernels/fast/onednn_common.h"
#include "kernels/reference/conv_geometry.h"

namespace nnfi::kernels {
namespace {

constexpr float kLowest = -std::numeric_limits<float>::infinity();

// The reference's replacement rule, written so that it vectorises.
inline float max_step(float best, float v) { return (v > best || v != v) ? v : best; }

class TunedMaxPool : public FastKernel {
 public:
  Status eval(EvalContext& context) override;

  int64_t batch = 0;
  int64_t channels = 0;
  bool channels_last = false;
  WindowAxis rows;  // size 1 for a 1-D pool
  WindowAxis cols;

 private:
  void image_channels_last(const float* x, float* y) const;
  void image_channels_first(const float* x, float* y) const;
};

void TunedMaxPool::image_channels_last(const float* x, float* y) const {
  const int64_t c_count = channels;
  for (int64_t oh = 0; oh < rows.output; ++oh) {
    for (int64_t ow = 0; ow < cols.output; ++ow) {
      float* out = y + (oh * cols.output + ow) * c_count;
      std::fill(out, out + c_count, kLowest);
      for (int64_t kh = 0; kh < rows.kernel; ++kh) {
        const int64_t ih = rows.window_start(oh) + kh * rows.dilation;
        if (ih < 0 || ih >= rows.input) continue;
        for (int64_t kw = 0; kw < cols.kernel; ++kw) {
          const int64_t iw = cols.window_start(ow) + kw * cols.dilation;
          if (iw < 0 || iw >= cols.input) continue;
          const float* in = x + (ih * cols.input + iw) * c_count;
#pragma omp simd
          for (int64_t c = 0; c < c_count; ++c) out[c] = max_step(out[c], in[c]);
        }
      }
    }
  }
}

void TunedMaxPool::image_channels_first(const float* x, float* y) const {
  const int64_t in_plane = rows.input * cols.input;
  const int64_t out_plane = rows.output * cols.output;
  const int64_t stride = cols.stride;
  for (int64_t c = 0; c < channels; ++c) {
    const float* x_c = x + c * in_plane;
    for (int64_t oh = 0; oh < rows.output; ++oh) {
      float* out = y + c * out_plane + oh * cols.output;
      std::fill(out, out + cols.output, kLowest);
      for (int64_t kh = 0; kh < rows.kernel; ++kh) {
        const int64_t ih = rows.window_start(oh) + kh * rows.dilation;
        if (ih < 0 || ih >= rows.input) continue;
        const float* in = x_c + ih * cols.input;
        for (int64_t kw = 0; kw < cols.kernel; ++kw) {
          // Output columns whose tap kw lands inside the row: 0 <= ow*stride + offset < input.
          const int64_t offset = kw * cols.dilation - cols.pad_begin;
          const int64_t lo = offset < 0 ? (-offset + stride - 1) / stride : 0;
          const int64_t hi = cols.input - 1 - offset < 0
                                 ? 0
                                 : std::min(cols.output, (cols.input - 1 - offset) / stride + 1);
          if (stride == 1) {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) out[ow] = max_step(out[ow], in[ow + offset]);
          } else {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) {
              out[ow] = max_step(out[ow], in[ow * stride + offset]);
            }
          }
        }
      }
    }
  }
}

Status TunedMaxPool::eval(EvalContext& context) {
  const float* x = context.inputs[0]->data<float>();
  float* y = context.outputs[0]->data<float>();
  const int64_t src_image = channels * rows.input * cols.input;
  const int64_t dst_image = channels * rows.output * cols.output;
  return onednn::parallel_units(batch, "MaxPool", [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      if (channels_last) {
        image_channels_last(x + n * src_image, y + n * dst_image);
      } else {
        image_channels_first(x + n * src_image, y + n * dst_image);
      }
    }
  });
}

}  // namespace

std::unique_ptr<FastKernel> create_tuned_max_pool(const Node& node,
                                                  std::span<const TensorInfo> inputs,
                                                  std::span<const TensorInfo> outputs) {
  // Only output 0 (no Indices).
  if (inputs.size() != 1 || outputs.size() != 1) return nullptr;
  const TensorInfo& x = inputs[0];
  const TensorInfo& y = outputs[0];
  const size_t rank = x.shape.size();
  if (x.dtype != DType::kFloat32 || y.dtype != DType::kFloat32 || (rank != 3 && rank != 4) ||
      y.shape.size() != rank) {
    return nullptr;
  }
  const int64_t channels_last = node.attributes.get_int("channels_last", 0);
  if (channels_last != 0 && channels_last != 1) return nullptr;
  auto kernel = std::make_unique<TunedMaxPool>();
  kernel->channels_last = channels_last == 1;
  const size_t spatial_rank = rank - 2;
  const size_t first_spatial = kernel->channels_last ? 1 : 2;
  kernel->batch = x.shape[0];
  kernel->channels = kernel->channels_last ? x.shape[rank - 1] : x.shape[1];
  if (kernel->batch <= 0 || kernel->channels <= 0) return nullptr;

  WindowParams params;
  params.kernel = node.attributes.get_ints("kernel_shape");
  std::vector<int64_t> input_spatial(x.shape.begin() + first_spatial,
                                     x.shape.begin() + first_spatial + spatial_rank);
  std::vector<WindowAxis> axes;
  if (!read_window_attributes(node.attributes, spatial_rank, &params).is_ok() ||
      !compute_window_geometry(params, input_spatial, &axes).is_ok()) {
    return nullptr;
  }
  kernel->rows = spatial_rank == 2 ? axes[0] : WindowAxis{1, 1, 1, 1, 0, 0, 1};
  kernel->cols = axes.back();
  Shape expected = {kernel->batch};
  if (!kernel->channels_last) expected.push_back(kernel->channels);
  for (const WindowAxis& axis : axes) expected.push_back(axis.output);
  if (kernel->channels_last) expected.push_back(kernel->channels);
  if (y.shape != expected) return nullptr;
  return kernel;
}

}  // namespace nnfi::kernels
