// MaxPool and AveragePool on a window of one channels-last image. Each output
// element reduces its non-padding taps in (kh, kw) order (window_kernels.h);
// the loops run over channels innermost, so they vectorise without changing
// any element's sequence of operations (no fused operations: max, add,
// divide). Compiled for AVX-512, AVX2 and baseline x86-64, picked at load.
#include <algorithm>
#include <cstdint>

#include "kernels/window/window_internal.h"
#include "kernels/window/window_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NNFI_WINDOW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NNFI_WINDOW_CLONES
#endif

namespace nnfi::kernels::window {
namespace {

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

NNFI_WINDOW_CLONES
void max_pixel(const float* const* taps, int64_t tap_count, bool first, int64_t channels,
               float* __restrict y) {
  // The first tap starts m (window_kernels.h); a later chunk continues from y.
  if (first) {
    for (int64_t c = 0; c < channels; ++c) y[c] = taps[0][c];
  }
  for (int64_t t = first ? 1 : 0; t < tap_count; ++t) {
    const float* __restrict x = taps[t];
    for (int64_t c = 0; c < channels; ++c) {
      const float v = x[c];
      const float m = y[c];
      y[c] = (v > m || v != v) ? v : m;
    }
  }
}

NNFI_WINDOW_CLONES
void sum_pixel(const float* const* taps, int64_t tap_count, int64_t channels, float divisor,
               float* __restrict y) {
  for (int64_t c = 0; c < channels; ++c) y[c] = 0.0f;
  for (int64_t t = 0; t < tap_count; ++t) {
    const float* __restrict x = taps[t];
    for (int64_t c = 0; c < channels; ++c) y[c] += x[c];
  }
  for (int64_t c = 0; c < channels; ++c) y[c] = y[c] / divisor;
}

template <bool kMax>
void pool_window(const PoolGeometry& g, const float* input, const Window& in, const Window& out,
                 float* output) {
  if (out.empty()) return;
  const WindowAxis& rows = g.rows;
  const WindowAxis& cols = g.cols;
  const int64_t channels = g.channels;
  // Tap pointers of one output pixel; a pool kernel is small, so a fixed
  // stack buffer covers almost every case and the rest goes in chunks below.
  constexpr int64_t kMaxTaps = 256;
  const float* taps[kMaxTaps];
  for (int64_t oh = out.row_begin; oh < out.row_end; ++oh) {
    int64_t kh_lo = 0;
    int64_t kh_hi = 0;
    internal::tap_range(rows, oh, &kh_lo, &kh_hi);
    for (int64_t ow = out.col_begin; ow < out.col_end; ++ow) {
      int64_t kw_lo = 0;
      int64_t kw_hi = 0;
      internal::tap_range(cols, ow, &kw_lo, &kw_hi);
      float* y = output + ((oh - out.row_begin) * out.cols() + ow - out.col_begin) * channels;
      // Taps in (kh, kw) order, in chunks of kMaxTaps.
      int64_t count = 0;
      bool started = false;
      int64_t total = 0;
      auto flush = [&]() {
        if (count == 0) return;
        if constexpr (kMax) {
          max_pixel(taps, count, !started, channels, y);
        } else {
          // Partial sums continue from y: a chunk boundary adds nothing.
          if (!started) {
            for (int64_t c = 0; c < channels; ++c) y[c] = 0.0f;
          }
          for (int64_t t = 0; t < count; ++t) {
            for (int64_t c = 0; c < channels; ++c) y[c] += taps[t][c];
          }
        }
        started = true;
        total += count;
        count = 0;
      };
      const bool fits = (kh_hi - kh_lo) * (kw_hi - kw_lo) <= kMaxTaps;
      for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
        const int64_t ih = rows.window_start(oh) + kh * rows.dilation;
        for (int64_t kw = kw_lo; kw < kw_hi; ++kw) {
          const int64_t iw = cols.window_start(ow) + kw * cols.dilation;
          taps[count++] = input + ((ih - in.row_begin) * in.cols() + iw - in.col_begin) * channels;
          if (count == kMaxTaps && !fits) flush();
        }
      }
      if constexpr (kMax) {
        flush();
        if (total == 0) {  // no tap inside the input (pool geometry rules this out)
          for (int64_t c = 0; c < channels; ++c) y[c] = -__builtin_inff();
        }
      } else {
        int64_t divisor = (kh_hi - kh_lo) * (kw_hi - kw_lo);
        if (g.count_include_pad) {
          divisor = taps_within(rows, oh, -rows.pad_begin, rows.input + rows.pad_end) *
                    taps_within(cols, ow, -cols.pad_begin, cols.input + cols.pad_end);
        }
        if (fits) {
          sum_pixel(taps, count, channels, static_cast<float>(divisor), y);
        } else {
          flush();
          for (int64_t c = 0; c < channels; ++c) y[c] = y[c] / static_cast<float>(divisor);
        }
      }
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
