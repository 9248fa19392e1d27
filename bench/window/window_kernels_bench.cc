// Full-tensor Conv: window kernels (AVX-512 and portable path) vs the oneDNN
// fast kernel vs the reference kernel, on VGG16-like and GTSRB CNN layers, at
// 1 and 2 threads; and the time of one small output window. Plain std::chrono
// with medians of repeated runs (the machine is shared and noisy).
//
//   nnfi_window_bench [--reps N] [--portable] [--reference] [--layers SUBSTRING]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/window/window_kernels.h"
#include "nnfi/tensor.h"

namespace {

using nnfi::DType;
using nnfi::Node;
using nnfi::OpType;
using nnfi::Shape;
using nnfi::Tensor;
namespace kernels = nnfi::kernels;
namespace window = nnfi::kernels::window;

struct Layer {
  const char* name;
  int64_t height, width, in_channels, out_channels, kernel;
  bool same;  // pads (k-1)/2, else VALID
};

Tensor random_tensor(const Shape& shape, uint32_t seed) {
  Tensor t(DType::kFloat32, shape);
  float* data = t.data<float>();
  uint32_t state = seed * 2654435761u + 1;
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    state = state * 1664525u + 1013904223u;
    data[i] = static_cast<float>(state >> 8) / static_cast<float>(1 << 24) - 0.5f;
  }
  return t;
}

// One Conv node with its tensors, ready for any kernel.
struct ConvSetup {
  Node node;
  Tensor x, w, b, y;
  std::vector<kernels::TensorInfo> inputs;
  std::vector<kernels::TensorInfo> outputs;

  ConvSetup(const Layer& l, int64_t batch, bool channels_last) {
    node.name = l.name;
    node.op = OpType::kConv;
    node.inputs = {0, 1, 2};
    node.outputs = {3};
    node.attributes.set("channels_last", static_cast<int64_t>(channels_last));
    const int64_t pad = l.same ? (l.kernel - 1) / 2 : 0;
    node.attributes.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
    x = random_tensor(channels_last ? Shape{batch, l.height, l.width, l.in_channels}
                                    : Shape{batch, l.in_channels, l.height, l.width},
                      1);
    w = random_tensor({l.out_channels, l.in_channels, l.kernel, l.kernel}, 2);
    b = random_tensor({l.out_channels}, 3);
    inputs = {
        {x.dtype(), x.shape(), nullptr}, {w.dtype(), w.shape(), &w}, {b.dtype(), b.shape(), &b}};
    outputs.resize(1);
    kernels::PrepareContext context{node, inputs, outputs};
    nnfi::Status status = kernels::op_def(OpType::kConv).prepare(context);
    if (!status.is_ok()) std::fprintf(stderr, "prepare: %s\n", status.message().c_str());
    y = Tensor(DType::kFloat32, outputs[0].shape);
  }

  void eval(kernels::FastKernel* kernel) {
    const Tensor* in[3] = {&x, &w, &b};
    Tensor* out[1] = {&y};
    kernels::EvalContext context{node, in, out};
    nnfi::Status status = kernel != nullptr ? kernel->eval(context)
                                            : kernels::op_def(OpType::kConv).reference(context);
    if (!status.is_ok()) std::fprintf(stderr, "eval: %s\n", status.message().c_str());
  }
};

// One MaxPool / AveragePool node with its tensors.
struct PoolSetup {
  Node node;
  Tensor x, y;
  std::vector<kernels::TensorInfo> inputs;
  std::vector<kernels::TensorInfo> outputs;

  PoolSetup(OpType op, int64_t size, int64_t channels, int64_t kernel, int64_t stride, int64_t pad,
            int64_t batch, bool channels_last) {
    node.name = "pool";
    node.op = op;
    node.inputs = {0};
    node.outputs = {1};
    node.attributes.set("channels_last", static_cast<int64_t>(channels_last));
    node.attributes.set("kernel_shape", std::vector<int64_t>{kernel, kernel});
    node.attributes.set("strides", std::vector<int64_t>{stride, stride});
    node.attributes.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
    x = random_tensor(
        channels_last ? Shape{batch, size, size, channels} : Shape{batch, channels, size, size}, 1);
    inputs = {{x.dtype(), x.shape(), nullptr}};
    outputs.resize(1);
    kernels::PrepareContext context{node, inputs, outputs};
    nnfi::Status status = kernels::op_def(op).prepare(context);
    if (!status.is_ok()) std::fprintf(stderr, "prepare: %s\n", status.message().c_str());
    y = Tensor(DType::kFloat32, outputs[0].shape);
  }

  void eval(kernels::FastKernel* kernel) {
    const Tensor* in[1] = {&x};
    Tensor* out[1] = {&y};
    kernels::EvalContext context{node, in, out};
    nnfi::Status status =
        kernel != nullptr ? kernel->eval(context) : kernels::op_def(node.op).reference(context);
    if (!status.is_ok()) std::fprintf(stderr, "eval: %s\n", status.message().c_str());
  }
};

template <typename F>
double median_ms(int reps, const F& f) {
  f();  // warm-up (scratch, caches)
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

// This core's fused multiply-add throughput, in float multiply-adds per
// second: 24 independent accumulators (enough to hide the latency) and the
// instruction form the window kernels use. The ceiling every window conv
// figure below is measured against.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) double fma_peak_avx512() {
  constexpr long kIterations = 20000000;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < kIterations; ++i) {
#define NNFI_FMA(r) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" #r "\n"
    __asm__ volatile(NNFI_FMA(0) NNFI_FMA(1) NNFI_FMA(2) NNFI_FMA(3) NNFI_FMA(4) NNFI_FMA(5)
                         NNFI_FMA(6) NNFI_FMA(7) NNFI_FMA(8) NNFI_FMA(9) NNFI_FMA(10) NNFI_FMA(11)
                             NNFI_FMA(12) NNFI_FMA(13) NNFI_FMA(14) NNFI_FMA(15) NNFI_FMA(16)
                                 NNFI_FMA(17) NNFI_FMA(18) NNFI_FMA(19) NNFI_FMA(20) NNFI_FMA(21)
                                     NNFI_FMA(22) NNFI_FMA(23)
                     :
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",
                       "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23");
#undef NNFI_FMA
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(kIterations) * 24 * 16 / seconds;
}
#endif

int main(int argc, char** argv) {
  int reps = 9;
  bool portable = false;
  bool reference = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    if (arg == "--portable") portable = true;
    if (arg == "--reference") reference = true;
    if (arg == "--layers" && i + 1 < argc) only = argv[++i];
  }
  const Layer layers[] = {
      {"vgg 56x56x256->256 3x3", 56, 56, 256, 256, 3, true},
      {"vgg 28x28x512->512 3x3", 28, 28, 512, 512, 3, true},
      {"vgg 14x14x512->512 3x3", 14, 14, 512, 512, 3, true},
      {"gtsrb 32x32x3->32 3x3", 32, 32, 3, 32, 3, false},
      {"gtsrb 30x30x32->32 3x3", 30, 30, 32, 32, 3, false},
      {"gtsrb 15x15x32->64 3x3", 15, 15, 32, 64, 3, false},
      {"resnet20 32x32x16->16 3x3", 32, 32, 16, 16, 3, true},
  };
  const int64_t batch = 2;
#if defined(__x86_64__) && defined(__GNUC__)
  if (window::window_kernels_use_avx512()) {
    std::printf("FMA peak, one thread: %.1f G float multiply-adds/s\n", fma_peak_avx512() * 1e-9);
  }
#endif
  std::printf("batch %lld, median of %d runs, ms per batch; AVX-512 path: %s\n",
              static_cast<long long>(batch), reps,
              window::window_kernels_use_avx512() ? "yes" : "no");
  std::printf("%-26s %-6s %3s %10s %10s %10s %8s\n", "layer", "layout", "thr", "window",
              portable ? "portable" : "-", "oneDNN", "win/dnn");
  for (const Layer& l : layers) {
    if (!only.empty() && std::string(l.name).find(only) == std::string::npos) continue;
    for (bool channels_last : {true, false}) {
      ConvSetup s(l, batch, channels_last);
      auto win = window::create_window_kernel(s.node, s.inputs, s.outputs);
      auto dnn = kernels::fast_kernel_factory(OpType::kConv)(s.node, s.inputs, s.outputs);
      for (int threads : {1, 2}) {
        omp_set_num_threads(threads);
        const double t_win = median_ms(reps, [&] { s.eval(win.get()); });
        double t_port = 0;
        if (portable) {
          window::force_portable_window_kernels(true);
          t_port = median_ms(std::max(1, reps / 3), [&] { s.eval(win.get()); });
          window::force_portable_window_kernels(false);
        }
        const double t_dnn = median_ms(reps, [&] { s.eval(dnn.get()); });
        std::printf("%-26s %-6s %3d %10.3f %10.3f %10.3f %8.2f\n", l.name,
                    channels_last ? "nhwc" : "nchw", threads, t_win, t_port, t_dnn, t_win / t_dnn);
        if (reference) {
          const double t_ref = median_ms(std::max(1, reps / 3), [&] { s.eval(nullptr); });
          std::printf("%-26s %-6s %3d reference %10.3f\n", l.name, channels_last ? "nhwc" : "nchw",
                      threads, t_ref);
        }
      }
    }
  }
  // Pools: window kernels vs the registered fast kernels vs the reference.
  struct PoolCase {
    const char* name;
    OpType op;
    int64_t size, channels, kernel, stride, pad;
  };
  const PoolCase pools[] = {
      {"vgg maxpool 112x112x64 2x2/2", OpType::kMaxPool, 112, 64, 2, 2, 0},
      {"vgg maxpool 28x28x512 2x2/2", OpType::kMaxPool, 28, 512, 2, 2, 0},
      {"gtsrb maxpool 30x30x32 2x2/2", OpType::kMaxPool, 30, 32, 2, 2, 0},
      {"avgpool 28x28x256 3x3/1 p1", OpType::kAveragePool, 28, 256, 3, 1, 1},
  };
  std::printf("%-30s %-6s %3s %10s %10s %10s\n", "pool", "layout", "thr", "window", "fast",
              "reference");
  for (const PoolCase& c : pools) {
    if (!only.empty() && std::string(c.name).find(only) == std::string::npos) continue;
    for (bool channels_last : {true, false}) {
      PoolSetup s(c.op, c.size, c.channels, c.kernel, c.stride, c.pad, batch, channels_last);
      auto win = window::create_window_kernel(s.node, s.inputs, s.outputs);
      kernels::FastKernelFactory factory = kernels::fast_kernel_factory(c.op);
      auto fast = factory != nullptr ? factory(s.node, s.inputs, s.outputs) : nullptr;
      for (int threads : {1, 2}) {
        omp_set_num_threads(threads);
        const double t_win = median_ms(reps, [&] { s.eval(win.get()); });
        const double t_fast = fast ? median_ms(reps, [&] { s.eval(fast.get()); }) : 0.0;
        const double t_ref = median_ms(std::max(1, reps / 3), [&] { s.eval(nullptr); });
        std::printf("%-30s %-6s %3d %10.3f %10.3f %10.3f\n", c.name,
                    channels_last ? "nhwc" : "nchw", threads, t_win, t_fast, t_ref);
      }
    }
  }
  // Small windows of the 28x28x512->512 conv, one image, one thread.
  {
    const Layer& l = layers[1];
    window::ConvGeometry g;
    g.in_channels = l.in_channels;
    g.out_channels = l.out_channels;
    g.rows = kernels::WindowAxis{l.height, 3, 1, 1, 1, 1, l.height};
    g.cols = g.rows;
    const Tensor w = random_tensor({l.out_channels, l.in_channels, 3, 3}, 2);
    const Tensor b = random_tensor({l.out_channels}, 3);
    window::WindowConv conv(g, w.data<float>(), b.data<float>());
    const Tensor x = random_tensor({l.height, l.width, l.in_channels}, 1);
    std::vector<float> full(static_cast<size_t>(l.height * l.width * l.out_channels));
    const window::Window all{0, l.height, 0, l.width};
    const double t_full =
        median_ms(reps, [&] { conv.run(x.data<float>(), all, all, full.data()); });
    std::printf("28x28x512->512 3x3, one image, one thread: full image %.3f ms\n", t_full);
    for (int64_t size : {1, 3, 5, 6, 7, 8, 10, 14}) {
      const window::Window out{10, 10 + size, 10, 10 + size};
      const window::Window in = window::input_window(g.rows, g.cols, out);
      std::vector<float> x_in(static_cast<size_t>(in.area() * l.in_channels));
      for (int64_t r = in.row_begin; r < in.row_end; ++r) {
        std::memcpy(&x_in[(r - in.row_begin) * in.cols() * l.in_channels],
                    x.data<float>() + (r * l.width + in.col_begin) * l.in_channels,
                    in.cols() * l.in_channels * sizeof(float));
      }
      std::vector<float> y(static_cast<size_t>(out.area() * l.out_channels));
      const double t = median_ms(reps * 5, [&] { conv.run(x_in.data(), in, out, y.data()); });
      std::printf(
          "  %2lldx%-2lld output window: %.3f ms (%.1f us per pixel; full image %.1f), %.1f G "
          "multiply-adds/s\n",
          static_cast<long long>(size), static_cast<long long>(size), t,
          1000.0 * t / static_cast<double>(out.area()),
          1000.0 * t_full / static_cast<double>(all.area()),
          static_cast<double>(conv.multiply_adds(out)) / t * 1e-6);
    }
    // The same windows with the weights cold: eight layers' weights (75 MB,
    // more than the L3) used in turn, as a trial walking conv4_1..conv5_3 does.
    std::vector<std::unique_ptr<window::WindowConv>> layers_in_turn;
    for (uint32_t k = 0; k < 8; ++k) {
      const Tensor wk = random_tensor({l.out_channels, l.in_channels, 3, 3}, 10 + k);
      layers_in_turn.push_back(
          std::make_unique<window::WindowConv>(g, wk.data<float>(), b.data<float>()));
    }
    for (int64_t size : {1, 3, 5, 6, 7, 8, 10, 14}) {
      const window::Window out{10, 10 + size, 10, 10 + size};
      const window::Window in = window::input_window(g.rows, g.cols, out);
      std::vector<float> x_in(static_cast<size_t>(in.area() * l.in_channels), 0.25f);
      std::vector<float> y(static_cast<size_t>(out.area() * l.out_channels));
      const double t = median_ms(reps * 5, [&] {
        for (const auto& conv_k : layers_in_turn) conv_k->run(x_in.data(), in, out, y.data());
      });
      std::printf("  %2lldx%-2lld output window, 8 layers in turn: %.1f us per pixel\n",
                  static_cast<long long>(size), static_cast<long long>(size),
                  1000.0 * t / static_cast<double>(8 * out.area()));
    }
  }
  // VGG16's first dense layer (25088 -> 4096, 411 MB of weights) on 30 rows,
  // two threads: each taking half the rows (both read every weight) or half
  // the output channels (each reads its half), as ConvKernel does for dense.
  {
    const int64_t m = 30, k = 25088, n = 4096;
    window::ConvGeometry g;
    g.in_channels = k;
    g.out_channels = n;
    g.rows = kernels::WindowAxis{m, 1, 1, 1, 0, 0, m};
    g.cols = kernels::WindowAxis{1, 1, 1, 1, 0, 0, 1};
    const Tensor w = random_tensor({n, k, 1, 1}, 41);
    const Tensor b = random_tensor({n}, 42);
    window::WindowConv dense(g, w.data<float>(), b.data<float>());
    const Tensor x = random_tensor({m, 1, k}, 43);
    std::vector<float> y(static_cast<size_t>(m * n));
    const window::Window all{0, m, 0, 1};
    omp_set_num_threads(2);
    const double by_rows = median_ms(reps, [&] {
#pragma omp parallel for num_threads(2)
      for (int t = 0; t < 2; ++t) {
        const window::Window half{m * t / 2, m * (t + 1) / 2, 0, 1};
        dense.run(x.data<float>() + half.row_begin * k, half, half, y.data() + half.row_begin * n);
      }
    });
    const int64_t chunks = dense.chunks();
    const double by_channels = median_ms(reps, [&] {
#pragma omp parallel for num_threads(2)
      for (int t = 0; t < 2; ++t) {
        dense.run_chunks(x.data<float>(), all, all, y.data(), chunks * t / 2, chunks * (t + 1) / 2);
      }
    });
    std::printf("dense 30x25088 -> 4096, 2 threads: rows split %.2f ms, channels split %.2f ms\n",
                by_rows, by_channels);
  }
  return 0;
}
