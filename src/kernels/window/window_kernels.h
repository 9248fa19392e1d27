// Position-invariant sliding-window kernels for campaigns (issue 7, DESIGN.md
// principle 5). Every output element is computed by the same sequence of
// float operations whatever window of the output is being computed, whatever
// the batch, the thread count and the CPU (AVX-512 path or portable path). A
// trial can then recompute only the window of a tensor that a fault reaches
// and get exactly the bits a full recompute gives. oneDNN cannot promise that
// (it picks blocking, algorithms and padding handling by shape), which is why
// these kernels are written by hand. Campaign plans use them for the full
// tensors too (PlanOptions::window_kernels), so golden runs, naive re-runs and
// windowed recomputes agree bit for bit.
//
// All data here is channels last: one image, x[row][col][channel].
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reference/conv_geometry.h"

namespace nnfi::kernels::window {

// Positions [row_begin, row_end) x [col_begin, col_end) on the two spatial axes.
struct Window {
  int64_t row_begin = 0;
  int64_t row_end = 0;
  int64_t col_begin = 0;
  int64_t col_end = 0;
  int64_t rows() const { return row_end - row_begin; }
  int64_t cols() const { return col_end - col_begin; }
  bool empty() const { return row_end <= row_begin || col_end <= col_begin; }
  int64_t area() const { return empty() ? 0 : rows() * cols(); }
  bool operator==(const Window&) const = default;
};

// The smallest window holding both (an empty one adds nothing).
Window window_union(const Window& a, const Window& b);

// Input positions read by the output window `out` (padding excluded, clamped
// to the input), and the output positions that read any position of the input
// window `in` (clamped to the output). Empty in, empty out.
Window input_window(const WindowAxis& rows, const WindowAxis& cols, const Window& out);
Window output_window(const WindowAxis& rows, const WindowAxis& cols, const Window& in);

// A 2-D convolution (rows/cols as WindowAxis from conv_geometry.h: input and
// output sizes, kernel, stride, dilation, pad_begin).
struct ConvGeometry {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t group = 1;
  WindowAxis rows;
  WindowAxis cols;
};

// Output element (oh, ow, o), in group g = o / (out_channels / group):
//   acc = 0.0f; for kh, then kw, then c over the group's input channels in
//   increasing order, skipping taps in the padding: acc = fma(x[ih][iw][c],
//   w[o][c - g * in_per_group][kh][kw], acc); y = acc + bias[o] (a separate,
//   rounded add; without bias y = acc).
class WindowConv {
 public:
  // weights [out_channels, in_channels / group, kh, kw]; bias [out_channels]
  // or nullptr. Both are copied (packed).
  WindowConv(const ConvGeometry& geometry, const float* weights, const float* bias);
  ~WindowConv();
  const ConvGeometry& geometry() const { return geometry_; }

  // Output window `out` of one image. `input` holds the input window `in`,
  // which must contain input_window(rows, cols, out):
  //   x[ih][iw][c] = input[((ih - in.row_begin) * in.cols() + iw - in.col_begin) * in_channels + c]
  // Writes y[oh][ow][o] to
  //   output[((oh - out.row_begin) * out.cols() + ow - out.col_begin) * out_channels + o].
  // Single-threaded; callers parallelise over images or windows.
  void run(const float* input, const Window& in, const Window& out, float* output) const;
  // The same for the output channels of chunks [chunk_begin, chunk_end) of
  // each group only (a chunk: 64 channels; depthwise convs have one chunk);
  // the other channels of `output` are left as they are. Threads computing
  // disjoint chunks read disjoint weights: a dense layer's weights then
  // stream from memory once, not once per thread.
  int64_t chunks() const;
  // The fused multiply-adds one run over output window `out` performs (taps
  // in the padding are skipped, so border pixels count fewer): the work a
  // windowed recompute costs, for the campaign's counters.
  int64_t multiply_adds(const Window& out) const;
  void run_chunks(const float* input, const Window& in, const Window& out, float* output,
                  int64_t chunk_begin, int64_t chunk_end) const;

 private:
  ConvGeometry geometry_;
  std::unique_ptr<float[]> packed_;  // layout private to the implementation
  std::vector<float> bias_;
  bool has_bias_ = false;
};

// MaxPool / AveragePool on one image, same window contract as WindowConv.
//   max: m = first non-padding tap in (kh, kw) order; for each later tap v:
//        m = (v > m || v is NaN) ? v : m  (a NaN, once in m, stays).
//   average: sum = 0.0f; sum += v over the non-padding taps in (kh, kw)
//        order; y = sum / count, count = kernel area if count_include_pad
//        (padding cells of the declared pads counted, as ONNX) else the
//        number of non-padding taps.
struct PoolGeometry {
  int64_t channels = 0;
  WindowAxis rows;
  WindowAxis cols;
  bool count_include_pad = false;
};
void max_pool_window(const PoolGeometry& geometry, const float* input, const Window& in,
                     const Window& out, float* output);
void average_pool_window(const PoolGeometry& geometry, const float* input, const Window& in,
                         const Window& out, float* output);

// The nodes these kernels cover: float32 2-D Conv (any group, stride,
// dilation, pads, optional bias; weights and bias constant), MaxPool with one
// output, AveragePool; rank 4, channels_last 0 or 1. nullopt otherwise.
std::optional<ConvGeometry> window_conv_geometry(const Node& node,
                                                 std::span<const TensorInfo> inputs,
                                                 std::span<const TensorInfo> outputs);
std::optional<PoolGeometry> window_pool_geometry(const Node& node,
                                                 std::span<const TensorInfo> inputs,
                                                 std::span<const TensorInfo> outputs);

// Full-tensor kernels built on the window kernels (whole output window per
// image; NCHW tensors are transposed per image), for PlanOptions::
// window_kernels. nullptr where the node is not covered.
std::unique_ptr<FastKernel> create_window_kernel(const Node& node,
                                                 std::span<const TensorInfo> inputs,
                                                 std::span<const TensorInfo> outputs);

// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows, j < cols
// (float matrices; 16x16 register blocks where the CPU has AVX-512).
void transpose(const float* src, int64_t src_stride, int64_t rows, int64_t cols, float* dst,
               int64_t dst_stride);

// For tests and benchmarks: true makes WindowConv::run take the portable path
// even where the CPU has AVX-512 (process-wide; results are the same bits).
void force_portable_window_kernels(bool portable);
// For tests: true makes the portable path skip its AVX2 loops too (plain
// scalar code, as on a CPU without AVX2; the same bits again).
void force_scalar_window_kernels(bool scalar);
// Whether WindowConv::run takes the AVX-512 path now.
bool window_kernels_use_avx512();

}  // namespace nnfi::kernels::window
