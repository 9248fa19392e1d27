// MaxPool and AveragePool on a window of one channels-last image. Each output
// element reduces its non-padding taps in (kh, kw) order (window_kernels.h):
// max by the NaN-carrying compare-and-select, average by a float sum from 0
// (adds with the bias add's NaN rule, window_internal.h) and one division.
// An AVX-512 path (over channels, masked tail) and a portable path, chosen
// like WindowConv's; both give the same bits.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/window/window_internal.h"
#include "kernels/window/window_kernels.h"

#define NNFI_AVX512 __attribute__((target("avx512f")))

namespace nnfi::kernels::window {
namespace {

using internal::kLanes;

// Taps of output o on one axis inside [low, high) (count_include_pad: the
// declared padding counts, the ceil_mode overhang past it does not), as the
// reference kernel counts them.
int64_t taps_within(const WindowAxis& axis, int64_t o, int64_t low, int64_t high) {
  int64_t count = 0;
  for (int64_t k = 0; k < axis.kernel; ++k) {
    const int64_t i = axis.window_start(o) + k * axis.dilation;
    if (i >= low && i < high) ++count;
  }
  return count;
}

// One output pixel: taps [0, kh_count) x [0, kw_count) from x (the first
// non-padding tap), all channels.
struct PixelArgs {
  const float* x;
  int64_t kh_count, x_kh, kw_count, x_kw, channels;
  float divisor;  // average only
  float* y;
};

template <bool kMax>
void pool_pixel_portable(const PixelArgs& a) {
  const int64_t channels = a.channels;
  float* y = a.y;
  if (a.kh_count == 0 || a.kw_count == 0) {  // no tap inside the input
    for (int64_t c = 0; c < channels; ++c) y[c] = kMax ? -__builtin_inff() : 0.0f / a.divisor;
    return;
  }
  for (int64_t c = 0; c < channels; ++c) y[c] = kMax ? a.x[c] : internal::add_ordered(0.0f, a.x[c]);
  for (int64_t i = 0; i < a.kh_count; ++i) {
    for (int64_t j = i == 0 ? 1 : 0; j < a.kw_count; ++j) {
      const float* x = a.x + i * a.x_kh + j * a.x_kw;
      for (int64_t c = 0; c < channels; ++c) {
        if constexpr (kMax) {
          const float v = x[c];
          if (v > y[c] || v != v) y[c] = v;
        } else {
          y[c] = internal::add_ordered(y[c], x[c]);
        }
      }
    }
  }
  if constexpr (!kMax) {
    for (int64_t c = 0; c < channels; ++c) y[c] = y[c] / a.divisor;
  }
}

// V vectors of channels from c0 (the last one masked to `tail`).
template <bool kMax, int V>
NNFI_AVX512 void pool_block_avx512(const PixelArgs& a, int64_t c0, __mmask16 tail) {
  __m512 acc[V];
  auto load = [&](const float* x, int v) NNFI_AVX512 {
    return v == V - 1 ? _mm512_maskz_loadu_ps(tail, x + c0 + v * kLanes)
                      : _mm512_loadu_ps(x + c0 + v * kLanes);
  };
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    if constexpr (kMax) {
      acc[v] = load(a.x, v);
    } else {
      acc[v] = _mm512_setzero_ps();
      const __m512 x = load(a.x, v);
      __asm__("vaddps %2, %1, %0" : "=v"(acc[v]) : "v"(acc[v]), "v"(x));
    }
  }
  for (int64_t i = 0; i < a.kh_count; ++i) {
    for (int64_t j = i == 0 ? 1 : 0; j < a.kw_count; ++j) {
      const float* x = a.x + i * a.x_kh + j * a.x_kw;
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) {
        const __m512 value = load(x, v);
        if constexpr (kMax) {
          // m = (v > m || v is NaN) ? v : m
          const __mmask16 take = _mm512_cmp_ps_mask(value, acc[v], _CMP_GT_OQ) |
                                 _mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q);
          acc[v] = _mm512_mask_blend_ps(take, acc[v], value);
        } else {
          __asm__("vaddps %2, %1, %0" : "=v"(acc[v]) : "v"(acc[v]), "v"(value));
        }
      }
    }
  }
  const __m512 divisor = _mm512_set1_ps(a.divisor);
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    const __m512 out = kMax ? acc[v] : _mm512_div_ps(acc[v], divisor);
    const __mmask16 m = v == V - 1 ? tail : static_cast<__mmask16>(0xffff);
    _mm512_mask_storeu_ps(a.y + c0 + v * kLanes, m, out);
  }
}

template <bool kMax>
void pool_pixel_avx512(const PixelArgs& a) {
  if (a.kh_count == 0 || a.kw_count == 0) {
    pool_pixel_portable<kMax>(a);
    return;
  }
  constexpr int64_t kBlock = 4 * kLanes;
  for (int64_t c0 = 0; c0 < a.channels; c0 += kBlock) {
    const int64_t count = std::min(kBlock, a.channels - c0);
    const int v = static_cast<int>((count + kLanes - 1) / kLanes);
    const int64_t last = count - (v - 1) * kLanes;
    const __mmask16 tail = static_cast<__mmask16>(last >= kLanes ? 0xffff : (1u << last) - 1u);
    switch (v) {
      case 1: pool_block_avx512<kMax, 1>(a, c0, tail); break;
      case 2: pool_block_avx512<kMax, 2>(a, c0, tail); break;
      case 3: pool_block_avx512<kMax, 3>(a, c0, tail); break;
      default: pool_block_avx512<kMax, 4>(a, c0, tail); break;
    }
  }
}

template <bool kMax>
void pool_window(const PoolGeometry& g, const float* input, const Window& in, const Window& out,
                 float* output) {
  if (out.empty()) return;
  const WindowAxis& rows = g.rows;
  const WindowAxis& cols = g.cols;
  void (*pixel)(const PixelArgs&) =
      window_kernels_use_avx512() ? &pool_pixel_avx512<kMax> : &pool_pixel_portable<kMax>;
  PixelArgs a;
  a.channels = g.channels;
  a.x_kh = rows.dilation * in.cols() * g.channels;
  a.x_kw = cols.dilation * g.channels;
  a.divisor = 1.0f;
  for (int64_t oh = out.row_begin; oh < out.row_end; ++oh) {
    int64_t kh_lo = 0;
    int64_t kh_hi = 0;
    internal::tap_range(rows, oh, &kh_lo, &kh_hi);
    const int64_t ih = rows.window_start(oh) + kh_lo * rows.dilation;
    for (int64_t ow = out.col_begin; ow < out.col_end; ++ow) {
      int64_t kw_lo = 0;
      int64_t kw_hi = 0;
      internal::tap_range(cols, ow, &kw_lo, &kw_hi);
      const int64_t iw = cols.window_start(ow) + kw_lo * cols.dilation;
      a.kh_count = kh_hi - kh_lo;
      a.kw_count = kw_hi - kw_lo;
      a.x = a.kh_count > 0 && a.kw_count > 0
                ? input + ((ih - in.row_begin) * in.cols() + iw - in.col_begin) * g.channels
                : nullptr;
      a.y = output + ((oh - out.row_begin) * out.cols() + ow - out.col_begin) * g.channels;
      if constexpr (!kMax) {
        int64_t divisor = a.kh_count * a.kw_count;
        if (g.count_include_pad) {
          divisor = taps_within(rows, oh, -rows.pad_begin, rows.input + rows.pad_end) *
                    taps_within(cols, ow, -cols.pad_begin, cols.input + cols.pad_end);
        }
        a.divisor = static_cast<float>(divisor);
      }
      pixel(a);
    }
  }
}

}  // namespace

void max_pool_window(const PoolGeometry& geometry, const float* input, const Window& in,
                     const Window& out, float* output) {
  pool_window<true>(geometry, input, in, out, output);
}

void average_pool_window(const PoolGeometry& geometry, const float* input, const Window& in,
                         const Window& out, float* output) {
  pool_window<false>(geometry, input, in, out, output);
}

}  // namespace nnfi::kernels::window
