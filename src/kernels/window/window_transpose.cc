// Float matrix transposes for channels-first tensors on the window kernels
// (window_kernels.h: transpose): full-tensor kernels and the campaigns'
// window-by-window recompute move NCHW rows to and from channels-last.
// Exact copies, so the path taken (AVX-512 or portable) never shows in results.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/window/window_internal.h"
#include "kernels/window/window_kernels.h"

namespace nnfi::kernels::window {
namespace {

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

// The same in 16x16 blocks transposed in registers (exact copies): rows
// loaded whole, then unpacks and 128-bit lane shuffles. Gathers down the
// columns (the first version) cost about a quarter of a campaign's golden
// run on channels-first models.
// GCC 12 warns that the unpack intrinsics' own placeholder operand
// (_mm512_undefined_ps) "may be used uninitialized": a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) void transpose_block_avx512(const float* src, int64_t src_stride,
                                                               int64_t rows, int64_t cols,
                                                               float* dst, int64_t dst_stride) {
  const auto row_mask = static_cast<__mmask16>(rows == 16 ? 0xffff : (1u << rows) - 1u);
  const auto col_mask = static_cast<__mmask16>(cols == 16 ? 0xffff : (1u << cols) - 1u);
  __m512 r[16];
  for (int q = 0; q < 16; ++q) {
    r[q] = q < rows ? _mm512_maskz_loadu_ps(col_mask, src + q * src_stride) : _mm512_setzero_ps();
  }
  __m512 t[16];
  for (int q = 0; q < 8; ++q) {  // per 128-bit lane k: rows 2q, 2q+1 interleaved
    t[2 * q] = _mm512_unpacklo_ps(r[2 * q], r[2 * q + 1]);
    t[2 * q + 1] = _mm512_unpackhi_ps(r[2 * q], r[2 * q + 1]);
  }
  for (int q = 0; q < 4; ++q) {  // r[4q + m], lane k: rows 4q..4q+3 of column 4k + m
    const __m512d a = _mm512_castps_pd(t[4 * q]);
    const __m512d b = _mm512_castps_pd(t[4 * q + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * q + 2]);
    const __m512d d = _mm512_castps_pd(t[4 * q + 3]);
    r[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int m = 0; m < 4; ++m) {  // column 4k + m: lane k of r[m], r[4 + m], r[8 + m], r[12 + m]
    const __m512 u0 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x88);
    const __m512 u1 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xdd);
    const __m512 u2 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x88);
    const __m512 u3 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xdd);
    const __m512 columns[4] = {
        _mm512_shuffle_f32x4(u0, u2, 0x88), _mm512_shuffle_f32x4(u1, u3, 0x88),
        _mm512_shuffle_f32x4(u0, u2, 0xdd), _mm512_shuffle_f32x4(u1, u3, 0xdd)};
    for (int k = 0; k < 4; ++k) {
      const int column = 4 * k + m;
      if (column < cols) _mm512_mask_storeu_ps(dst + column * dst_stride, row_mask, columns[k]);
    }
  }
}

#pragma GCC diagnostic pop

__attribute__((target("avx512f"))) void transpose_avx512(const float* src, int64_t src_stride,
                                                         int64_t rows, int64_t cols, float* dst,
                                                         int64_t dst_stride) {
  for (int64_t i0 = 0; i0 < rows; i0 += 16) {
    for (int64_t j0 = 0; j0 < cols; j0 += 16) {
      transpose_block_avx512(src + i0 * src_stride + j0, src_stride,
                             std::min<int64_t>(16, rows - i0), std::min<int64_t>(16, cols - j0),
                             dst + j0 * dst_stride + i0, dst_stride);
    }
  }
}

}  // namespace

void transpose(const float* src, int64_t src_stride, int64_t rows, int64_t cols, float* dst,
               int64_t dst_stride) {
  static const bool avx512 = internal::cpu_has_avx512();
  if (avx512) {
    transpose_avx512(src, src_stride, rows, cols, dst, dst_stride);
  } else {
    transpose_portable(src, src_stride, rows, cols, dst, dst_stride);
  }
}

}  // namespace nnfi::kernels::window
