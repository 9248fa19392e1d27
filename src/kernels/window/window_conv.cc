// WindowConv: weight packing, the choice between the AVX-512 and the portable
// path, and the portable path itself (8-lane AVX2 loops where the CPU has
// AVX2 and FMA: ~2-3x the AVX-512 path's time instead of ~40x for the scalar
// loops; bench/window --portable). All paths compute every output
// element with the sequence fixed in window_kernels.h (taps kh, kw, c in
// order, padding taps skipped, true fused multiply-adds from 0, then one
// rounded add of the bias), so they agree bit for bit with each other and
// with themselves on any window.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/window/window_internal.h"
#include "kernels/window/window_kernels.h"

namespace nnfi::kernels::window {
namespace {

std::atomic<bool> force_portable{false};
std::atomic<bool> force_scalar{false};

}  // namespace

void force_portable_window_kernels(bool portable) { force_portable.store(portable); }
void force_scalar_window_kernels(bool scalar) { force_scalar.store(scalar); }

bool window_kernels_use_avx512() { return !force_portable.load() && internal::cpu_has_avx512(); }

namespace internal {

bool cpu_has_avx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

namespace {

float quiet(float value) {
  uint32_t bits = 0;
  __builtin_memcpy(&bits, &value, sizeof(bits));
  bits |= 0x00400000u;
  __builtin_memcpy(&value, &bits, sizeof(bits));
  return value;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("fma"))) float fma231(float x, float w, float acc) {
  __asm__("vfmadd231ss %2, %1, %0" : "+x"(acc) : "x"(w), "x"(x));
  return acc;
}
#endif

}  // namespace

float fma_with_nan(float x, float w, float acc) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has_fma = __builtin_cpu_supports("fma");
  if (has_fma) return fma231(x, w, acc);
#endif
  return quiet(w != w ? w : (x != x ? x : acc));  // no FMA unit, hence no AVX-512 path
}

float add_with_nan(float acc, float b) {
#if defined(__x86_64__) && defined(__GNUC__)
  __asm__("addss %1, %0" : "+x"(acc) : "x"(b));  // acc first, as vaddps acc, acc, b
  return acc;
#else
  return quiet(acc != acc ? acc : b);
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
bool use_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has && !force_scalar.load();
}

// The portable path on CPUs with AVX2 and FMA but no AVX-512 (most laptops,
// AMD Zen 2/3): one output pixel's chunk of up to 64 output channels held in
// V 8-lane accumulators over all its taps and input channels, the (kh, kw, c)
// order of the contract. Every fma and the bias add use the instruction
// forms the AVX-512 path pins (vfmadd231ps acc, w, x; vaddps acc, acc, b),
// so NaN payloads come out the same. Weights are padded to 16 lanes, so
// whole vectors are read; only the chunk's real lanes are stored.
#define NNFI_AVX2 __attribute__((target("avx2,fma")))

template <int V>
NNFI_AVX2 void chunk_pixel_avx2(const float* x, int64_t x_kh, int64_t x_kw, int64_t kh_count,
                                int64_t kw_count, int64_t channels, const float* w, int64_t w_kh,
                                int64_t w_kw, int64_t width, const float* bias, float* y,
                                int64_t lanes) {
  __m256 acc[V];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) acc[v] = _mm256_setzero_ps();
  for (int64_t i = 0; i < kh_count; ++i) {
    for (int64_t j = 0; j < kw_count; ++j) {
      const float* x_tap = x + i * x_kh + j * x_kw;
      const float* w_tap = w + i * w_kh + j * w_kw;
      for (int64_t c = 0; c < channels; ++c) {
        const __m256 xv = _mm256_broadcast_ss(x_tap + c);
        const float* w_c = w_tap + c * width;
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
          const __m256 wv = _mm256_loadu_ps(w_c + 8 * v);
          __asm__("vfmadd231ps %2, %1, %0" : "+x"(acc[v]) : "x"(wv), "x"(xv));
        }
      }
    }
  }
  alignas(32) float out[8 * V];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) {
    if (bias != nullptr) {
      const __m256 bv = _mm256_loadu_ps(bias + 8 * v);
      __m256 sum;
      __asm__("vaddps %2, %1, %0" : "=x"(sum) : "x"(acc[v]), "x"(bv));
      acc[v] = sum;
    }
    _mm256_store_ps(out + 8 * v, acc[v]);
  }
  for (int64_t o = 0; o < lanes; ++o) y[o] = out[o];
}

using ChunkPixelFn = void (*)(const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                              const float*, int64_t, int64_t, int64_t, const float*, float*,
                              int64_t);
constexpr ChunkPixelFn kChunkPixel[8] = {
    &chunk_pixel_avx2<1>, &chunk_pixel_avx2<2>, &chunk_pixel_avx2<3>, &chunk_pixel_avx2<4>,
    &chunk_pixel_avx2<5>, &chunk_pixel_avx2<6>, &chunk_pixel_avx2<7>, &chunk_pixel_avx2<8>};

// Non-depthwise convs only (depthwise ones keep the scalar loop).
NNFI_AVX2 void run_conv_avx2(const ConvArgs& a) {
  const ConvGeometry& g = *a.geometry;
  const PackedLayout& p = *a.layout;
  const WindowAxis& rows = g.rows;
  const WindowAxis& cols = g.cols;
  const int64_t in_c = g.in_channels;
  const int64_t out_c = g.out_channels;
  const int64_t in_cols = a.in.cols();
  // The bias of a chunk is read as whole vectors: pad a copy.
  thread_local std::vector<float> bias_padded;
  if (a.bias != nullptr) {
    bias_padded.assign(static_cast<size_t>(out_c + kChunkVectors * kLanes), 0.0f);
    std::copy(a.bias, a.bias + out_c, bias_padded.begin());
  }
  for (int64_t oh = a.out.row_begin; oh < a.out.row_end; ++oh) {
    int64_t kh_lo = 0;
    int64_t kh_hi = 0;
    tap_range(rows, oh, &kh_lo, &kh_hi);
    for (int64_t ow = a.out.col_begin; ow < a.out.col_end; ++ow) {
      int64_t kw_lo = 0;
      int64_t kw_hi = 0;
      tap_range(cols, ow, &kw_lo, &kw_hi);
      float* y = a.output + ((oh - a.out.row_begin) * a.out.cols() + ow - a.out.col_begin) * out_c;
      const int64_t ih0 = rows.window_start(oh) + kh_lo * rows.dilation;
      const int64_t iw0 = cols.window_start(ow) + kw_lo * cols.dilation;
      const float* x =
          kh_hi > kh_lo && kw_hi > kw_lo
              ? a.input + ((ih0 - a.in.row_begin) * in_cols + iw0 - a.in.col_begin) * in_c
              : a.input;
      for (int64_t grp = 0; grp < g.group; ++grp) {
        for (int64_t chunk = a.chunk_begin;
             chunk < a.chunk_end && chunk * kChunkVectors * kLanes < p.out_per_group; ++chunk) {
          const int64_t width = p.chunk_width(chunk);
          const int64_t o0 = chunk * kChunkVectors * kLanes;
          const int64_t lanes = std::min(p.out_per_group, o0 + width) - o0;
          const int64_t w_kw = p.in_per_group * width;
          const float* w =
              a.packed + p.chunk_offset(grp, chunk) + (kh_lo * cols.kernel + kw_lo) * w_kw;
          const int64_t channel0 = grp * p.out_per_group + o0;
          kChunkPixel[(lanes + 7) / 8 - 1](
              x + grp * p.in_per_group, rows.dilation * in_cols * in_c, cols.dilation * in_c,
              kh_hi - kh_lo, kw_hi - kw_lo, p.in_per_group, w, cols.kernel * w_kw, w_kw, width,
              a.bias != nullptr ? bias_padded.data() + channel0 : nullptr, y + channel0, lanes);
        }
      }
    }
  }
}
#endif

// One output pixel of the generic (non-depthwise) case: out_per_group
// accumulators per group, taps in (kh, kw, c) order.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// Where the CPU has FMA the fmas are inlined instructions rather than libm
// calls (the same exact results).
__attribute__((target_clones("fma", "default")))
#endif
void run_conv_portable(const ConvArgs& a) {
  const ConvGeometry& g = *a.geometry;
  const PackedLayout& p = *a.layout;
#if defined(__x86_64__) && defined(__GNUC__)
  if (!p.depthwise && use_avx2()) {
    run_conv_avx2(a);
    return;
  }
#endif
  const WindowAxis& rows = g.rows;
  const WindowAxis& cols = g.cols;
  const int64_t in_c = g.in_channels;
  const int64_t out_c = g.out_channels;
  const int64_t in_cols = a.in.cols();
  const int64_t kw_count = cols.kernel;
  // Whether output channel o is in the chunks asked for (depthwise: all).
  auto computed = [&](int64_t o) {
    if (p.depthwise) return true;
    const int64_t chunk = o % p.out_per_group / (kChunkVectors * kLanes);
    return chunk >= a.chunk_begin && chunk < a.chunk_end;
  };
  for (int64_t oh = a.out.row_begin; oh < a.out.row_end; ++oh) {
    int64_t kh_lo = 0;
    int64_t kh_hi = 0;
    tap_range(rows, oh, &kh_lo, &kh_hi);
    for (int64_t ow = a.out.col_begin; ow < a.out.col_end; ++ow) {
      int64_t kw_lo = 0;
      int64_t kw_hi = 0;
      tap_range(cols, ow, &kw_lo, &kw_hi);
      float* y = a.output + ((oh - a.out.row_begin) * a.out.cols() + ow - a.out.col_begin) * out_c;
      // Accumulate in the output row itself: one float per element, as the
      // contract's acc.
      for (int64_t o = 0; o < out_c; ++o) {
        if (computed(o)) y[o] = 0.0f;
      }
      for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
        const int64_t ih = rows.window_start(oh) + kh * rows.dilation;
        for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
          const int64_t iw = cols.window_start(ow) + kw * cols.dilation;
          const float* x = a.input + ((ih - a.in.row_begin) * in_cols + iw - a.in.col_begin) * in_c;
          const int64_t tap = kh * kw_count + kw;
          if (p.depthwise) {
            const float* w = a.packed + tap * p.out_padded;
            for (int64_t o = 0; o < out_c; ++o) y[o] = fma_ordered(x[o], w[o], y[o]);
            continue;
          }
          for (int64_t grp = 0; grp < g.group; ++grp) {
            float* y_group = y + grp * p.out_per_group;
            const float* x_group = x + grp * p.in_per_group;
            for (int64_t chunk = a.chunk_begin;
                 chunk < a.chunk_end && chunk * kChunkVectors * kLanes < p.out_per_group; ++chunk) {
              const int64_t width = p.chunk_width(chunk);
              const int64_t o0 = chunk * kChunkVectors * kLanes;
              const int64_t o1 = std::min(p.out_per_group, o0 + width);
              const float* w = a.packed + p.chunk_offset(grp, chunk) + tap * p.in_per_group * width;
              for (int64_t c = 0; c < p.in_per_group; ++c) {
                const float xv = x_group[c];
                const float* wc = w + c * width - o0;
                for (int64_t o = o0; o < o1; ++o) y_group[o] = fma_ordered(xv, wc[o], y_group[o]);
              }
            }
          }
        }
      }
      if (a.bias != nullptr) {
        for (int64_t o = 0; o < out_c; ++o) {
          if (computed(o)) y[o] = add_ordered(y[o], a.bias[o]);
        }
      }
    }
  }
}

}  // namespace internal

WindowConv::WindowConv(const ConvGeometry& geometry, const float* weights, const float* bias)
    : geometry_(geometry) {
  const internal::PackedLayout p = internal::PackedLayout::of(geometry);
  const auto total = static_cast<size_t>(p.total_floats(geometry.group));
  packed_ = std::make_unique_for_overwrite<float[]>(total);
  // Writes output channels [begin, end) (and nothing else).
  auto pack = [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const int64_t grp = o / p.out_per_group;
      const int64_t o_local = o % p.out_per_group;
      for (int64_t c = 0; c < p.in_per_group; ++c) {
        for (int64_t tap = 0; tap < p.taps; ++tap) {
          packed_[static_cast<size_t>(p.index(grp, o_local, c, tap))] =
              weights[(o * p.in_per_group + c) * p.taps + tap];
        }
      }
    }
  };
  if (p.depthwise) {
    std::fill(packed_.get(), packed_.get() + total, 0.0f);  // lanes past the channels
    pack(0, geometry.out_channels);
  } else {
    // Chunk by chunk, each zeroed (its lanes past the group's channels stay
    // zero) and filled by one thread. Large layers' first touch of hundreds
    // of MB is most of a big model's setup (VGG16: 528 MB), and it splits
    // over the threads.
    const int64_t chunk_channels = internal::kChunkVectors * internal::kLanes;
    const int64_t chunks_per_group = chunks();
#pragma omp parallel for schedule(dynamic, 1) if (total >= (size_t{1} << 20))
    for (int64_t k = 0; k < geometry.group * chunks_per_group; ++k) {
      const int64_t grp = k / chunks_per_group;
      const int64_t chunk = k % chunks_per_group;
      float* begin = packed_.get() + p.chunk_offset(grp, chunk);
      std::fill(begin, begin + p.taps * p.in_per_group * p.chunk_width(chunk), 0.0f);
      const int64_t first = chunk * chunk_channels;  // within the group
      const int64_t o0 = grp * p.out_per_group + first;
      pack(o0, o0 + std::min(chunk_channels, p.out_per_group - first));
    }
  }
  has_bias_ = bias != nullptr;
  if (has_bias_) bias_.assign(bias, bias + geometry.out_channels);
}

WindowConv::~WindowConv() = default;

void WindowConv::run(const float* input, const Window& in, const Window& out, float* output) const {
  run_chunks(input, in, out, output, 0, chunks());
}

int64_t WindowConv::chunks() const {
  const internal::PackedLayout p = internal::PackedLayout::of(geometry_);
  if (p.depthwise) return 1;
  const int64_t chunk = internal::kChunkVectors * internal::kLanes;
  return (p.out_per_group + chunk - 1) / chunk;
}

int64_t WindowConv::multiply_adds(const Window& out) const {
  if (out.empty()) return 0;
  // Taps separate into rows and columns: the pixels' tap counts are the
  // products of a row's and a column's.
  auto taps = [](const WindowAxis& axis, int64_t begin, int64_t end) {
    int64_t sum = 0;
    for (int64_t o = begin; o < end; ++o) {
      int64_t lo = 0;
      int64_t hi = 0;
      internal::tap_range(axis, o, &lo, &hi);
      sum += hi - lo;
    }
    return sum;
  };
  return taps(geometry_.rows, out.row_begin, out.row_end) *
         taps(geometry_.cols, out.col_begin, out.col_end) * geometry_.out_channels *
         (geometry_.in_channels / geometry_.group);
}

void WindowConv::run_chunks(const float* input, const Window& in, const Window& out, float* output,
                            int64_t chunk_begin, int64_t chunk_end) const {
  if (out.empty() || chunk_begin >= chunk_end) return;
  const internal::PackedLayout p = internal::PackedLayout::of(geometry_);
  const float* bias = has_bias_ ? bias_.data() : nullptr;
  internal::ConvArgs args{&geometry_, &p, packed_.get(), bias, input, in, out, output};
  if (!p.depthwise) {
    args.chunk_begin = chunk_begin;
    args.chunk_end = chunk_end;
  }
  if (window_kernels_use_avx512()) {
    internal::run_conv_avx512(args);
  } else {
    internal::run_conv_portable(args);
  }
}

}  // namespace nnfi::kernels::window
