// Full-tensor Conv / MaxPool / AveragePool kernels built on the window
// kernels (PlanOptions::window_kernels). The batch is split into units of
// (image, block of output rows), spread over OpenMP threads; each unit runs
// the window kernel on its rows. Every element is computed by the same code
// whatever the split, so results do not depend on batch or thread count.
// Channels-first tensors are transposed per unit (just the input rows the
// unit reads) into thread-local channels-last scratch and back.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "kernels/window/window_internal.h"
#include "kernels/window/window_kernels.h"

namespace nnfi::kernels::window {
namespace {

// Thread-local scratch that grows to the largest request, then stays.
float* scratch(int slot, size_t floats) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& buffer = buffers[slot];
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

// dst[j * dst_stride + i] = src[i * src_stride + j] for i < rows, j < cols.
void transpose_portable(const float* src, int64_t src_stride, int64_t rows, int64_t cols,
                        float* dst, int64_t dst_stride) {
  constexpr int64_t kBlock = 16;
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock) {
    const int64_t i1 = std::min(rows, i0 + kBlock);
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
      const int64_t j1 = std::min(cols, j0 + kBlock);
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t j = j0; j < j1; ++j) dst[j * dst_stride + i] = src[i * src_stride + j];
      }
    }
  }
}

// The same with 16-lane gathers down the columns of src (exact copies).
__attribute__((target("avx512f"))) void transpose_avx512(const float* src, int64_t src_stride,
                                                         int64_t rows, int64_t cols, float* dst,
                                                         int64_t dst_stride) {
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i offsets =
      _mm512_mullo_epi32(lanes, _mm512_set1_epi32(static_cast<int>(src_stride)));
  for (int64_t i0 = 0; i0 < rows; i0 += 16) {
    const int64_t n = std::min<int64_t>(16, rows - i0);
    const __mmask16 mask = static_cast<__mmask16>(n == 16 ? 0xffff : (1u << n) - 1u);
    const float* column = src + i0 * src_stride;
    for (int64_t j = 0; j < cols; ++j) {
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, offsets, column + j, 4);
      _mm512_mask_storeu_ps(dst + j * dst_stride + i0, mask, v);
    }
  }
}

void transpose(const float* src, int64_t src_stride, int64_t rows, int64_t cols, float* dst,
               int64_t dst_stride) {
  // Gather offsets are 32-bit: 15 rows of src_stride must fit.
  static const bool avx512 = internal::cpu_has_avx512();
  if (avx512 && src_stride <= (int64_t{1} << 31) / 16) {
    transpose_avx512(src, src_stride, rows, cols, dst, dst_stride);
  } else {
    transpose_portable(src, src_stride, rows, cols, dst, dst_stride);
  }
}

// The spatial and channel sizes of one node, whatever the op.
struct Sizes {
  int64_t batch = 0;
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  WindowAxis rows;
  WindowAxis cols;
  bool channels_last = false;
};

// Runs body(image, out_window, input, in_window, output) for every unit;
// input/output are channels-last buffers for that window.
template <typename Body>
void for_each_unit(const Sizes& s, const float* x, float* y, const Body& body) {
  const int64_t in_plane = s.rows.input * s.cols.input;
  const int64_t out_plane = s.rows.output * s.cols.output;
  const int64_t in_image = in_plane * s.in_channels;
  const int64_t out_image = out_plane * s.out_channels;
  const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  int64_t blocks = 1;
  if (s.batch < threads) blocks = std::min(s.rows.output, (threads + s.batch - 1) / s.batch);
  const int64_t units = s.batch * blocks;
  auto run_unit = [&](int64_t unit) {
    const int64_t n = unit / blocks;
    const int64_t b = unit % blocks;
    const int64_t r0 = s.rows.output * b / blocks;
    const int64_t r1 = s.rows.output * (b + 1) / blocks;
    const Window out{r0, r1, 0, s.cols.output};
    if (out.empty()) return;
    const float* x_n = x + n * in_image;
    float* y_n = y + n * out_image;
    if (s.channels_last) {
      body(x_n, Window{0, s.rows.input, 0, s.cols.input}, out,
           y_n + r0 * s.cols.output * s.out_channels);
      return;
    }
    const Window in = input_window(s.rows, s.cols, out);
    float* x_cl = scratch(0, static_cast<size_t>(std::max<int64_t>(1, in.area() * s.in_channels)));
    float* y_cl = scratch(1, static_cast<size_t>(out.area() * s.out_channels));
    for (int64_t ih = in.row_begin; ih < in.row_end; ++ih) {
      transpose(x_n + ih * s.cols.input + in.col_begin, in_plane, s.in_channels, in.cols(),
                x_cl + (ih - in.row_begin) * in.cols() * s.in_channels, s.in_channels);
    }
    body(x_cl, in, out, y_cl);
    // Rows [r0, r1) of every output channel are contiguous in each plane.
    transpose(y_cl, s.out_channels, out.area(), s.out_channels, y_n + r0 * s.cols.output,
              out_plane);
  };
  if (threads <= 1 || units <= 1) {
    for (int64_t unit = 0; unit < units; ++unit) run_unit(unit);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(static_cast <int>(std::min(threads, units)))
  for (int64_t unit = 0; unit < units; ++unit) run_unit(unit);
}

class ConvKernel : public FastKernel {
 public:
  ConvKernel(const Sizes& sizes, const ConvGeometry& geometry, const float* weights,
             const float* bias)
      : sizes_(sizes), conv_(geometry, weights, bias) {}

  Status eval(EvalContext& context) override {
    for_each_unit(sizes_, context.inputs[0]->data<float>(), context.outputs[0]->data<float>(),
                  [&](const float* input, const Window& in, const Window& out, float* output) {
                    conv_.run(input, in, out, output);
                  });
    return Status::ok();
  }

 private:
  Sizes sizes_;
  WindowConv conv_;
};

class PoolKernel : public FastKernel {
 public:
  PoolKernel(const Sizes& sizes, const PoolGeometry& geometry, bool max)
      : sizes_(sizes), geometry_(geometry), max_(max) {}

  Status eval(EvalContext& context) override {
    for_each_unit(sizes_, context.inputs[0]->data<float>(), context.outputs[0]->data<float>(),
                  [&](const float* input, const Window& in, const Window& out, float* output) {
                    if (max_) {
                      max_pool_window(geometry_, input, in, out, output);
                    } else {
                      average_pool_window(geometry_, input, in, out, output);
                    }
                  });
    return Status::ok();
  }

 private:
  Sizes sizes_;
  PoolGeometry geometry_;
  bool max_;
};

}  // namespace

std::unique_ptr<FastKernel> create_window_kernel(const Node& node,
                                                 std::span<const TensorInfo> inputs,
                                                 std::span<const TensorInfo> outputs) {
  Sizes s;
  s.channels_last = node.attributes.get_int("channels_last", 0) == 1;
  if (node.op == OpType::kConv) {
    std::optional<ConvGeometry> g = window_conv_geometry(node, inputs, outputs);
    if (!g) return nullptr;
    s.batch = inputs[0].shape[0];
    s.in_channels = g->in_channels;
    s.out_channels = g->out_channels;
    s.rows = g->rows;
    s.cols = g->cols;
    const float* bias =
        inputs.size() == 3 && inputs[2].present() ? inputs[2].constant->data<float>() : nullptr;
    return std::make_unique<ConvKernel>(s, *g, inputs[1].constant->data<float>(), bias);
  }
  if (node.op == OpType::kMaxPool || node.op == OpType::kAveragePool) {
    std::optional<PoolGeometry> g = window_pool_geometry(node, inputs, outputs);
    if (!g) return nullptr;
    s.batch = inputs[0].shape[0];
    s.in_channels = s.out_channels = g->channels;
    s.rows = g->rows;
    s.cols = g->cols;
    return std::make_unique<PoolKernel>(s, *g, node.op == OpType::kMaxPool);
  }
  return nullptr;
}

}  // namespace nnfi::kernels::window
