// Full-tensor Conv / MaxPool / AveragePool kernels built on the window
// kernels (PlanOptions::window_kernels). The batch is split into units of
// (image, block of output rows), spread over OpenMP threads; each unit runs
// the window kernel on its rows. Every element is computed by the same code
// whatever the split, so results do not depend on batch or thread count.
// Channels-first tensors are transposed per unit (just the input rows the
// unit reads) into thread-local channels-last scratch and back.
// Gemm / MatMul with constant weights run as a 1x1 convolution over a
// one-column image of M rows (row = pixel, K = input channels, N = output
// channels): every output element is then one fixed fma chain over k, so a
// row's result never depends on which other rows run with it (batched tails
// of any size, golden runs, naive re-runs agree bit for bit).
#include <omp.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "kernels/constant_cache.h"
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

// A WindowConv (packed weights) shared by every plan of a model that builds
// the same node (ConstantDerivedCache).
// `transposed_weights`: weights given as [in, out] (a MatMul's B), repacked.
std::shared_ptr<const WindowConv> shared_window_conv(const ConvGeometry& g, const Tensor& weights,
                                                     const Tensor* bias, bool transposed_weights) {
  // Geometry, weight layout and size.
  std::vector<int64_t> key = {g.in_channels, g.out_channels, g.group, transposed_weights,
                              static_cast<int64_t>(weights.num_bytes())};
  for (const WindowAxis& a : {g.rows, g.cols}) {
    key.insert(key.end(),
               {a.input, a.kernel, a.stride, a.dilation, a.pad_begin, a.pad_end, a.output});
  }
  static ConstantDerivedCache<std::vector<int64_t>, WindowConv> cache;
  return cache.get({&weights, bias}, key, [&] {
    const float* w = weights.data<float>();
    std::vector<float> repacked;
    if (transposed_weights) {  // [in, out] -> [out, in]
      repacked.resize(static_cast<size_t>(g.in_channels * g.out_channels));
      for (int64_t c = 0; c < g.in_channels; ++c) {
        for (int64_t o = 0; o < g.out_channels; ++o) {
          repacked[static_cast<size_t>(o * g.in_channels + c)] = w[c * g.out_channels + o];
        }
      }
      w = repacked.data();
    }
    return std::make_shared<const WindowConv>(g, w,
                                              bias != nullptr ? bias->data<float>() : nullptr);
  });
}

class ConvKernel : public FastKernel {
 public:
  // `dense`: a Gemm/MatMul as a one-column image (create_dense_kernel).
  ConvKernel(const Sizes& sizes, std::shared_ptr<const WindowConv> conv, bool dense = false)
      : sizes_(sizes), conv_(std::move(conv)), dense_(dense) {}

  Status eval(EvalContext& context) override {
    const float* x = context.inputs[0]->data<float>();
    float* y = context.outputs[0]->data<float>();
    const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    const int64_t chunks = conv_->chunks();
    if (dense_ && threads > 1 && chunks >= threads) {
      // Threads split the output channels, not the rows: each reads its own
      // part of the weights (VGG16's first dense layer: 411 MB), so they
      // stream from memory once, whatever the rows.
      const Window all{0, sizes_.rows.output, 0, 1};
#pragma omp parallel for schedule(static) num_threads(static_cast <int>(threads))
      for (int64_t t = 0; t < threads; ++t) {
        conv_->run_chunks(x, all, all, y, chunks * t / threads, chunks * (t + 1) / threads);
      }
      return Status::ok();
    }
    for_each_unit(sizes_, x, y,
                  [&](const float* input, const Window& in, const Window& out, float* output) {
                    conv_->run(input, in, out, output);
                  });
    return Status::ok();
  }

 private:
  Sizes sizes_;
  std::shared_ptr<const WindowConv> conv_;
  bool dense_;
};

// Gemm (alpha = beta = 1, no transA, B and C constant, C one row) and MatMul
// by a constant matrix, as a 1x1 convolution of an (M rows x 1 column)
// image: y[m][n] = fma chain over k of a[m][k] * b[k][n], then + c[n].
std::unique_ptr<FastKernel> create_dense_kernel(const Node& node,
                                                std::span<const TensorInfo> inputs,
                                                std::span<const TensorInfo> outputs) {
  if (inputs.size() < 2 || outputs.size() != 1) return nullptr;
  const TensorInfo& a = inputs[0];
  const TensorInfo& b = inputs[1];
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32 || b.constant == nullptr ||
      outputs[0].dtype != DType::kFloat32 || a.shape.size() < 2 || b.shape.size() != 2) {
    return nullptr;
  }
  bool b_is_in_by_out = true;  // B as [K, N]
  const Tensor* c = nullptr;
  if (node.op == OpType::kGemm) {
    if (a.shape.size() != 2 || node.attributes.get_int("transA", 0) != 0 ||
        node.attributes.get_float("alpha", 1.0) != 1.0) {
      return nullptr;
    }
    b_is_in_by_out = node.attributes.get_int("transB", 0) == 0;
    if (inputs.size() > 2 && inputs[2].present()) {
      c = inputs[2].constant;
      if (c == nullptr || inputs[2].dtype != DType::kFloat32 ||
          node.attributes.get_float("beta", 1.0) != 1.0) {
        return nullptr;
      }
    }
  } else if (node.op != OpType::kMatMul || inputs.size() != 2) {
    return nullptr;
  }
  const int64_t k = a.shape.back();
  const int64_t n = b_is_in_by_out ? b.shape[1] : b.shape[0];
  if ((b_is_in_by_out ? b.shape[0] : b.shape[1]) != k || k <= 0 || n <= 0) return nullptr;
  // C broadcast over rows only: [N] or [1, N].
  if (c != nullptr && !(c->num_elements() == n && (c->rank() == 1 || c->dim(0) == 1))) {
    return nullptr;
  }
  const int64_t rows = shape_num_elements(a.shape) / k;
  if (rows <= 0 || shape_num_elements(outputs[0].shape) != rows * n) return nullptr;
  ConvGeometry g;
  g.in_channels = k;
  g.out_channels = n;
  g.rows.input = g.rows.output = rows;
  g.cols.input = g.cols.output = 1;
  Sizes s;
  s.batch = 1;
  s.in_channels = k;
  s.out_channels = n;
  s.rows = g.rows;
  s.cols = g.cols;
  s.channels_last = true;
  // The shared conv must not depend on M (plans of several batch sizes share
  // it): its row axis is unbounded, the windows passed to run give the rows.
  ConvGeometry shared = g;
  shared.rows.input = shared.rows.output = std::numeric_limits<int32_t>::max();
  return std::make_unique<ConvKernel>(s, shared_window_conv(shared, *b.constant, c, b_is_in_by_out),
                                      /*dense=*/true);
}

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
    const Tensor* bias = inputs.size() == 3 && inputs[2].present() ? inputs[2].constant : nullptr;
    // Convs share their packed weights between plans too; the geometry is per
    // image, so the batch size is not part of it.
    return std::make_unique<ConvKernel>(s,
                                        shared_window_conv(*g, *inputs[1].constant, bias, false));
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
  if (node.op == OpType::kGemm || node.op == OpType::kMatMul) {
    return create_dense_kernel(node, inputs, outputs);
  }
  return nullptr;
}

}  // namespace nnfi::kernels::window
