// The AVX-512 path of WindowConv::run, chosen at run time where the CPU has
// AVX-512F (window_conv.cc). Compiled with target attributes, so the rest of
// the library stays baseline x86-64 and CMakeLists needs nothing.
//
// Generic conv: output channels of a group in 16-lane vectors (masked tail);
// a register block of P output pixels of one row x V channel vectors; inner
// loop over the group's input channels with a broadcast of x and one fma per
// accumulator. Depthwise: vectors over channels, P pixels x V vectors.
// Pixels whose taps do not all land inside the input are blocked only with
// pixels whose valid tap ranges are the same, so every element sees exactly
// the portable path's sequence: taps kh, kw, c in order, padding skipped,
// acc = fma(x, w, acc) from 0, then acc + bias. The fma and the bias add are
// inline assembly with a fixed operand order (window_internal.h: NaN
// propagation), so every register-blocked variant gives the same bits.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/window/window_internal.h"

#define NNFI_AVX512 __attribute__((target("avx512f,fma")))
#define NNFI_AVX512_INLINE __attribute__((target("avx512f,fma"), always_inline)) inline

namespace nnfi::kernels::window::internal {
namespace {

// acc = x * w + acc, NaN priority acc, w, x (Intel operand order acc, w, x).
NNFI_AVX512_INLINE void fma_fixed(__m512& acc, __m512 w, __m512 x) {
  __asm__("vfmadd231ps %2, %1, %0" : "+v"(acc) : "v"(w), "v"(x));
}

// The same with x broadcast from memory by the fma itself (no separate
// broadcast instruction: 16-channel convs ran at half the FMA peak with one).
NNFI_AVX512_INLINE void fma_fixed_bcast(__m512& acc, __m512 w, const float* x) {
  __asm__("vfmadd231ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*x));
}

// The same where `mask` is all ones; acc untouched where it is zero (a
// skipped padding tap of one pixel of a block).
NNFI_AVX512_INLINE void fma_fixed_bcast_masked(__m512& acc, __m512 w, const float* x,
                                               __mmask16 mask) {
  __asm__("vfmadd231ps %2%{1to16%}, %1, %0%{%3%}" : "+v"(acc) : "v"(w), "m"(*x), "Yk"(mask));
}

// acc + b, NaN priority acc, b.
NNFI_AVX512_INLINE __m512 add_fixed(__m512 acc, __m512 b) {
  __m512 out;
  __asm__("vaddps %2, %1, %0" : "=v"(out) : "v"(acc), "v"(b));
  return out;
}

NNFI_AVX512_INLINE __mmask16 lanes_mask(int64_t lanes) {
  return lanes >= kLanes ? static_cast<__mmask16>(0xffff)
                         : static_cast<__mmask16>((1u << lanes) - 1u);
}

// Weights stream through the blocks in order; where they come from memory
// (a layer's first window, a dense layer's 411 MB) the hardware prefetcher
// alone leaves a core waiting on them. Asking for the line this many input
// channels ahead (16 KiB at 64 channels a chunk; 32 and 128 channels did worse) keeps them coming.
// A hint: never faults, even past the end of the weights.
constexpr int64_t kPrefetchChannels = 64;
// Only for chunks of this many bytes of weights or more (VGG16's conv3 on,
// dense layers): small ones stay in cache, and the extra instructions cost
// the GTSRB CNN 15% of its campaign speed.
constexpr int64_t kPrefetchFromBytes = int64_t{256} << 10;

NNFI_AVX512_INLINE void prefetch_weights(const float* at) {
  _mm_prefetch(reinterpret_cast<const char*>(at), _MM_HINT_T1);
}

// One register block of the generic path: P pixels of a row x V vectors of
// output channels, over taps [kh_lo, kh_hi) x [kw_lo, kw_hi) shared by all
// P pixels.
struct BlockArgs {
  const float* x;   // input at pixel 0, tap (kh_lo, kw_lo), channel 0 of the group
  int64_t x_pixel;  // floats between consecutive pixels (stride * C)
  int64_t x_kh;     // floats between consecutive kh taps (dilation rows)
  int64_t x_kw;     // floats between consecutive kw taps
  int64_t kh_count;
  int64_t kw_count;
  int64_t channels;    // input channels of the group
  const float* w;      // packed weights at tap (kh_lo, kw_lo), c 0, first vector
  int64_t w_c;         // floats between consecutive c (chunk width)
  int64_t w_kw;        // floats between consecutive kw taps
  int64_t w_kh;        // floats between consecutive kh taps
  const float* bias;   // at the first vector's channel, or nullptr
  float* y;            // output at pixel 0, first vector's channel
  int64_t y_pixel;     // floats between consecutive output pixels
  int64_t last_lanes;  // valid lanes of the last vector (1..16)
};

template <int P, int V, bool Prefetch = false>
NNFI_AVX512 void conv_block(const BlockArgs& a) {
  __m512 acc[P][V];
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[p][v] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < a.kh_count; ++i) {
    const float* x_row = a.x + i * a.x_kh;
    const float* w_row = a.w + i * a.w_kh;
    for (int64_t j = 0; j < a.kw_count; ++j) {
      const float* x_tap = x_row + j * a.x_kw;
      const float* w_tap = w_row + j * a.w_kw;
      for (int64_t c = 0; c < a.channels; ++c) {
        const float* wc = w_tap + c * a.w_c;
        __m512 w[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
          w[v] = _mm512_loadu_ps(wc + v * kLanes);
          if constexpr (Prefetch) prefetch_weights(wc + kPrefetchChannels * a.w_c + v * kLanes);
        }
#pragma GCC unroll 16
        for (int p = 0; p < P; ++p) {
          const float* xp = x_tap + p * a.x_pixel + c;
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) fma_fixed_bcast(acc[p][v], w[v], xp);
        }
      }
    }
  }
  const __mmask16 tail = lanes_mask(a.last_lanes);
  __m512 b[V];
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    const __mmask16 m = v == V - 1 ? tail : static_cast<__mmask16>(0xffff);
    b[v] = a.bias != nullptr ? _mm512_maskz_loadu_ps(m, a.bias + v * kLanes) : _mm512_setzero_ps();
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    float* y = a.y + p * a.y_pixel;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __m512 out = a.bias != nullptr ? add_fixed(acc[p][v], b[v]) : acc[p][v];
      if (v == V - 1) {
        _mm512_mask_storeu_ps(y + v * kLanes, tail, out);
      } else {
        _mm512_storeu_ps(y + v * kLanes, out);
      }
    }
  }
}

// A block of up to kMaxMaskedPixels arbitrary output pixels of the window
// (a border block, or pixels from several rows of a narrow window): the tap
// loops cover the union of the pixels' valid tap ranges, and each pixel's
// fmas are masked off (not executed) at the taps that are padding for it.
// x is addressed by offsets from `input`, formed only where valid.
constexpr int kMaxMaskedPixels = 6;  // one mask register per pixel (k1..k7)

struct PixelSet {
  const float* input;
  int64_t x0[kMaxMaskedPixels];  // offset of the pixel's tap (0, 0), channel 0 of the group
  int64_t kh_lo[kMaxMaskedPixels], kh_hi[kMaxMaskedPixels];  // valid taps per pixel
  int64_t kw_lo[kMaxMaskedPixels], kw_hi[kMaxMaskedPixels];
  float* y[kMaxMaskedPixels];                  // the pixel's output, first vector's channel
  int64_t kh_begin, kh_end, kw_begin, kw_end;  // union of the valid taps
};

template <int P, int V, bool Prefetch = false>
NNFI_AVX512 void conv_block_masked(const BlockArgs& a, const PixelSet& t) {
  __m512 acc[P][V];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[p][v] = _mm512_setzero_ps();
  }
  for (int64_t kh = t.kh_begin; kh < t.kh_end; ++kh) {
    for (int64_t kw = t.kw_begin; kw < t.kw_end; ++kw) {
      __mmask16 mask[P];
      const float* x_tap[P];
      int first = -1;
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        const bool valid =
            kh >= t.kh_lo[p] && kh < t.kh_hi[p] && kw >= t.kw_lo[p] && kw < t.kw_hi[p];
        mask[p] = valid ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>(0);
        if (valid && first < 0) first = p;
      }
      if (first < 0) continue;  // padding for every pixel of the block
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        // A skipped pixel reads a valid pixel's x (its fma is masked off).
        const int q = mask[p] != 0 ? p : first;
        x_tap[p] = t.input + t.x0[q] + kh * a.x_kh + kw * a.x_kw;
      }
      const float* w_tap = a.w + kh * a.w_kh + kw * a.w_kw;
      for (int64_t c = 0; c < a.channels; ++c) {
        const float* wc = w_tap + c * a.w_c;
        __m512 w[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
          w[v] = _mm512_loadu_ps(wc + v * kLanes);
          if constexpr (Prefetch) prefetch_weights(wc + kPrefetchChannels * a.w_c + v * kLanes);
        }
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v)
            fma_fixed_bcast_masked(acc[p][v], w[v], x_tap[p] + c, mask[p]);
        }
      }
    }
  }
  const __mmask16 tail = lanes_mask(a.last_lanes);
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __mmask16 m = v == V - 1 ? tail : static_cast<__mmask16>(0xffff);
      __m512 out = acc[p][v];
      if (a.bias != nullptr) out = add_fixed(out, _mm512_maskz_loadu_ps(m, a.bias + v * kLanes));
      _mm512_mask_storeu_ps(t.y[p] + v * kLanes, m, out);
    }
  }
}

// Largest pixel block per vector count: P * V accumulators within 32 registers.
constexpr int kMaxPixels[5] = {0, 16, 12, 8, 6};

using BlockFn = void (*)(const BlockArgs&);

template <int V, bool Prefetch, int... P>
constexpr std::array<BlockFn, sizeof...(P)> block_table(std::integer_sequence<int, P...>) {
  return {&conv_block<P + 1, V, Prefetch>...};
}

// Prefetching variants for whole 64-channel chunks only (V = 4): large
// weights come in such chunks.
const BlockFn* blocks_for(int v, bool prefetch) {
  static constexpr auto k1 =
      block_table<1, false>(std::make_integer_sequence<int, kMaxPixels[1]>());
  static constexpr auto k2 =
      block_table<2, false>(std::make_integer_sequence<int, kMaxPixels[2]>());
  static constexpr auto k3 =
      block_table<3, false>(std::make_integer_sequence<int, kMaxPixels[3]>());
  static constexpr auto k4 =
      block_table<4, false>(std::make_integer_sequence<int, kMaxPixels[4]>());
  static constexpr auto k4p =
      block_table<4, true>(std::make_integer_sequence<int, kMaxPixels[4]>());
  switch (v) {
    case 1: return k1.data();
    case 2: return k2.data();
    case 3: return k3.data();
    default: return prefetch ? k4p.data() : k4.data();
  }
}

using MaskedFn = void (*)(const BlockArgs&, const PixelSet&);

template <int V, bool Prefetch, int... P>
constexpr std::array<MaskedFn, sizeof...(P)> masked_table(std::integer_sequence<int, P...>) {
  return {&conv_block_masked<P + 1, V, Prefetch>...};
}

const MaskedFn* masked_blocks_for(int v, bool prefetch) {
  using Seq = std::make_integer_sequence<int, kMaxMaskedPixels>;
  static constexpr auto k1 = masked_table<1, false>(Seq());
  static constexpr auto k2 = masked_table<2, false>(Seq());
  static constexpr auto k3 = masked_table<3, false>(Seq());
  static constexpr auto k4 = masked_table<4, false>(Seq());
  static constexpr auto k4p = masked_table<4, true>(Seq());
  switch (v) {
    case 1: return k1.data();
    case 2: return k2.data();
    case 3: return k3.data();
    default: return prefetch ? k4p.data() : k4.data();
  }
}

// Generic conv over the output window: its pixels in row-major order, in
// balanced blocks of up to kMaxPixels. A block within one row whose pixels
// share their valid taps runs unmasked (strided pixels); any other block
// (borders, or spanning rows of a narrow window) runs masked.
void conv_window(const ConvArgs& a, const PackedLayout& p) {
  const ConvGeometry& g = *a.geometry;
  const WindowAxis& rows = g.rows;
  const WindowAxis& cols = g.cols;
  const int64_t in_c = g.in_channels;
  const Window& out = a.out;
  BlockArgs b;
  b.x_pixel = cols.stride * in_c;
  b.x_kh = rows.dilation * a.in.cols() * in_c;
  b.x_kw = cols.dilation * in_c;
  b.channels = p.in_per_group;
  b.y_pixel = g.out_channels;
  // Offset of output pixel (oh, ow)'s tap (0, 0), channel 0, from a.input (maybe outside it).
  auto x_offset = [&](int64_t oh, int64_t ow) {
    return ((rows.window_start(oh) - a.in.row_begin) * a.in.cols() + cols.window_start(ow) -
            a.in.col_begin) *
           in_c;
  };
  const int64_t area = out.area();
  // Valid tap ranges of every output row and column of the window, once
  // (thread-local scratch: grows to the largest window, then stays).
  thread_local std::vector<int64_t> ranges;
  if (ranges.size() < static_cast<size_t>(2 * (out.rows() + out.cols()))) {
    ranges.resize(static_cast<size_t>(2 * (out.rows() + out.cols())));
  }
  int64_t* row_lo = ranges.data();
  int64_t* row_hi = row_lo + out.rows();
  int64_t* col_lo = row_hi + out.rows();
  int64_t* col_hi = col_lo + out.cols();
  for (int64_t r = 0; r < out.rows(); ++r)
    tap_range(rows, out.row_begin + r, &row_lo[r], &row_hi[r]);
  for (int64_t c = 0; c < out.cols(); ++c)
    tap_range(cols, out.col_begin + c, &col_lo[c], &col_hi[c]);
  const int64_t chunk_floats = kChunkVectors * kLanes;
  for (int64_t grp = 0; grp < g.group; ++grp) {
    const int64_t channel0 = grp * p.in_per_group;
    for (int64_t chunk = a.chunk_begin;
         chunk < a.chunk_end && chunk * chunk_floats < p.out_per_group; ++chunk) {
      const int64_t width = p.chunk_width(chunk);
      b.w_c = width;
      b.w_kw = p.in_per_group * width;
      b.w_kh = cols.kernel * b.w_kw;
      const int64_t o_first = chunk * chunk_floats;  // within the group
      const int64_t o_count = std::min(chunk_floats, p.out_per_group - o_first);
      const int v = static_cast<int>((o_count + kLanes - 1) / kLanes);
      const float* w_chunk = a.packed + p.chunk_offset(grp, chunk);
      const bool prefetch = static_cast<int64_t>(sizeof(float)) * p.taps * p.in_per_group * width >=
                            kPrefetchFromBytes;
      b.bias = a.bias != nullptr ? a.bias + grp * p.out_per_group + o_first : nullptr;
      b.last_lanes = o_count - (v - 1) * kLanes;
      const BlockFn* table = blocks_for(v, prefetch);
      const MaskedFn* masked = masked_blocks_for(v, prefetch);
      const int64_t y_channel = grp * p.out_per_group + o_first;
      auto y_of = [&](int64_t oh, int64_t ow) {
        return a.output +
               ((oh - out.row_begin) * out.cols() + ow - out.col_begin) * g.out_channels +
               y_channel;
      };
      // Pixels [first, first + n) of the window (row-major index); true when
      // the block needs masks but has more pixels than mask registers.
      auto run_block = [&](int64_t first, int64_t n, bool allow_masked) {
        int64_t oh[16], ow[16], kh_lo[16], kh_hi[16], kw_lo[16], kw_hi[16];
        bool uniform = true;
        int64_t r = first / out.cols();
        int64_t c = first % out.cols();
        for (int64_t q = 0; q < n; ++q) {
          oh[q] = out.row_begin + r;
          ow[q] = out.col_begin + c;
          kh_lo[q] = row_lo[r];
          kh_hi[q] = row_hi[r];
          kw_lo[q] = col_lo[c];
          kw_hi[q] = col_hi[c];
          uniform = uniform && oh[q] == oh[0] && kh_lo[q] == kh_lo[0] && kh_hi[q] == kh_hi[0] &&
                    kw_lo[q] == kw_lo[0] && kw_hi[q] == kw_hi[0];
          if (++c == out.cols()) {
            c = 0;
            ++r;
          }
        }
        if (uniform) {
          b.kh_count = kh_hi[0] - kh_lo[0];
          b.kw_count = kw_hi[0] - kw_lo[0];
          b.w = w_chunk + kh_lo[0] * b.w_kh + kw_lo[0] * b.w_kw;
          // Never read when there are no taps.
          b.x = b.kh_count > 0 && b.kw_count > 0
                    ? a.input + x_offset(oh[0], ow[0]) + kh_lo[0] * b.x_kh + kw_lo[0] * b.x_kw +
                          channel0
                    : a.input;
          b.y = y_of(oh[0], ow[0]);
          table[n - 1](b);
          return false;
        }
        if (!allow_masked) return true;
        PixelSet t;
        t.input = a.input;
        t.kh_begin = rows.kernel;
        t.kh_end = 0;
        t.kw_begin = cols.kernel;
        t.kw_end = 0;
        for (int64_t q = 0; q < n; ++q) {
          t.x0[q] = x_offset(oh[q], ow[q]) + channel0;
          t.kh_lo[q] = kh_lo[q];
          t.kh_hi[q] = kh_hi[q];
          t.kw_lo[q] = kw_lo[q];
          t.kw_hi[q] = kw_hi[q];
          t.y[q] = y_of(oh[q], ow[q]);
          if (kh_lo[q] < kh_hi[q] && kw_lo[q] < kw_hi[q]) {
            t.kh_begin = std::min(t.kh_begin, kh_lo[q]);
            t.kh_end = std::max(t.kh_end, kh_hi[q]);
            t.kw_begin = std::min(t.kw_begin, kw_lo[q]);
            t.kw_end = std::max(t.kw_end, kw_hi[q]);
          }
        }
        b.w = w_chunk;
        masked[n - 1](b, t);
        return false;
      };
      // Pixels [begin, begin + count) in blocks of nearly equal size (a short
      // tail block would waste its weight loads).
      const int64_t max_pixels = kMaxPixels[v];
      auto run_range = [&](int64_t begin, int64_t count) {
        const int64_t blocks = (count + max_pixels - 1) / max_pixels;
        int64_t at = begin;
        for (int64_t k = 0; k < blocks; ++k) {
          const int64_t n = count / blocks + (k < count % blocks ? 1 : 0);
          if (run_block(at, n, n <= kMaxMaskedPixels)) {
            // Too many pixels for the mask registers: split.
            const int64_t parts = (n + kMaxMaskedPixels - 1) / kMaxMaskedPixels;
            int64_t sub = at;
            for (int64_t j = 0; j < parts; ++j) {
              const int64_t m = n / parts + (j < n % parts ? 1 : 0);
              run_block(sub, m, true);
              sub += m;
            }
          }
          at += n;
        }
      };
      // Blocks spanning rows (masked) where that saves blocks, i.e. weight
      // passes, on narrow windows; with few input channels the per-tap mask
      // work would cost more than it saves.
      const int64_t row_blocks = out.rows() * ((out.cols() + max_pixels - 1) / max_pixels);
      if (p.in_per_group >= 16 && (area + max_pixels - 1) / max_pixels < row_blocks) {
        run_range(0, area);
      } else {
        for (int64_t r = 0; r < out.rows(); ++r) run_range(r * out.cols(), out.cols());
      }
    }
  }
}

// Depthwise: P pixels x V channel vectors; x loads masked on the channel tail.
struct DepthwiseArgs {
  const float* x;  // input at pixel 0, tap (kh_lo, kw_lo), first channel of the block
  int64_t x_pixel, x_kh, x_kw, kh_count, kw_count;
  const float* w;  // packed at tap (kh_lo, kw_lo), first channel
  int64_t w_kw, w_kh;
  const float* bias;
  float* y;
  int64_t y_pixel;
  int64_t last_lanes;
};

template <int P, int V>
NNFI_AVX512 void depthwise_block(const DepthwiseArgs& a) {
  const __mmask16 tail = lanes_mask(a.last_lanes);
  __m512 acc[P][V];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[p][v] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < a.kh_count; ++i) {
    for (int64_t j = 0; j < a.kw_count; ++j) {
      const float* x_tap = a.x + i * a.x_kh + j * a.x_kw;
      const float* w_tap = a.w + i * a.w_kh + j * a.w_kw;
      __m512 w[V];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) w[v] = _mm512_loadu_ps(w_tap + v * kLanes);
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
          const float* x = x_tap + p * a.x_pixel + v * kLanes;
          const __m512 xv = v == V - 1 ? _mm512_maskz_loadu_ps(tail, x) : _mm512_loadu_ps(x);
          fma_fixed(acc[p][v], w[v], xv);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __mmask16 m = v == V - 1 ? tail : static_cast<__mmask16>(0xffff);
      __m512 out = acc[p][v];
      if (a.bias != nullptr) out = add_fixed(out, _mm512_maskz_loadu_ps(m, a.bias + v * kLanes));
      _mm512_mask_storeu_ps(a.y + p * a.y_pixel + v * kLanes, m, out);
    }
  }
}

constexpr int kDepthwisePixels = 4;
constexpr int kDepthwiseVectors = 4;

template <int V, int... P>
constexpr std::array<void (*)(const DepthwiseArgs&), sizeof...(P)> depthwise_table(
    std::integer_sequence<int, P...>) {
  return {&depthwise_block<P + 1, V>...};
}

void depthwise_run(const ConvArgs& a, const PackedLayout& p, int64_t oh, int64_t kh_lo,
                   int64_t kh_hi, int64_t ow0, int64_t ow1, int64_t kw_lo, int64_t kw_hi) {
  using Fn = void (*)(const DepthwiseArgs&);
  static constexpr auto kTables = std::array<std::array<Fn, kDepthwisePixels>, kDepthwiseVectors>{
      depthwise_table<1>(std::make_integer_sequence<int, kDepthwisePixels>()),
      depthwise_table<2>(std::make_integer_sequence<int, kDepthwisePixels>()),
      depthwise_table<3>(std::make_integer_sequence<int, kDepthwisePixels>()),
      depthwise_table<4>(std::make_integer_sequence<int, kDepthwisePixels>())};
  const ConvGeometry& g = *a.geometry;
  const WindowAxis& rows = g.rows;
  const WindowAxis& cols = g.cols;
  const int64_t ch = g.in_channels;
  const int64_t ih = rows.window_start(oh) + kh_lo * rows.dilation;
  const int64_t iw = cols.window_start(ow0) + kw_lo * cols.dilation;
  DepthwiseArgs d;
  d.x_pixel = cols.stride * ch;
  d.x_kh = rows.dilation * a.in.cols() * ch;
  d.x_kw = cols.dilation * ch;
  d.kh_count = kh_hi - kh_lo;
  d.kw_count = kw_hi - kw_lo;
  d.w_kw = p.out_padded;
  d.w_kh = cols.kernel * p.out_padded;
  d.y_pixel = ch;
  const float* x0 = a.input + ((ih - a.in.row_begin) * a.in.cols() + iw - a.in.col_begin) * ch;
  float* y0 = a.output + ((oh - a.out.row_begin) * a.out.cols() + ow0 - a.out.col_begin) * ch;
  const float* w0 = a.packed + (kh_lo * cols.kernel + kw_lo) * p.out_padded;
  const int64_t block_channels = kDepthwiseVectors * kLanes;
  for (int64_t c0 = 0; c0 < ch; c0 += block_channels) {
    const int64_t count = std::min(block_channels, ch - c0);
    const int v = static_cast<int>((count + kLanes - 1) / kLanes);
    d.last_lanes = count - (v - 1) * kLanes;
    d.w = w0 + c0;
    d.bias = a.bias != nullptr ? a.bias + c0 : nullptr;
    for (int64_t ow = ow0; ow < ow1; ow += kDepthwisePixels) {
      const int64_t n = std::min<int64_t>(kDepthwisePixels, ow1 - ow);
      d.x = x0 + (ow - ow0) * d.x_pixel + c0;
      d.y = y0 + (ow - ow0) * ch + c0;
      kTables[v - 1][n - 1](d);
    }
  }
}

}  // namespace

void run_conv_avx512(const ConvArgs& a) {
  const ConvGeometry& g = *a.geometry;
  const PackedLayout& p = *a.layout;
  if (!p.depthwise) {
    conv_window(a, p);
    return;
  }
  for (int64_t oh = a.out.row_begin; oh < a.out.row_end; ++oh) {
    int64_t kh_lo = 0;
    int64_t kh_hi = 0;
    tap_range(g.rows, oh, &kh_lo, &kh_hi);
    // Depthwise: runs of pixels with the same valid kw taps (the interior is one run).
    int64_t ow = a.out.col_begin;
    while (ow < a.out.col_end) {
      int64_t kw_lo = 0;
      int64_t kw_hi = 0;
      tap_range(g.cols, ow, &kw_lo, &kw_hi);
      int64_t end = ow + 1;
      while (end < a.out.col_end) {
        int64_t lo = 0;
        int64_t hi = 0;
        tap_range(g.cols, end, &lo, &hi);
        if (lo != kw_lo || hi != kw_hi) break;
        ++end;
      }
      depthwise_run(a, p, oh, kh_lo, kh_hi, ow, end, kw_lo, kw_hi);
      ow = end;
    }
  }
}

}  // namespace nnfi::kernels::window::internal
