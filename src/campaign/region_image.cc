#include "campaign/region_image.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/window/window_kernels.h"

namespace nnfi::campaign {
namespace {

// Calls fn(row, col_begin, col_end, inside) for the pieces of each row of
// `want`, `inside` telling whether the piece lies in `damage`.
template <typename Fn>
void for_each_piece(const Window& want, const Window& damage, Fn&& fn) {
  for (int64_t r = want.row_begin; r < want.row_end; ++r) {
    const bool row_hit = !damage.empty() && r >= damage.row_begin && r < damage.row_end;
    if (!row_hit) {
      fn(r, want.col_begin, want.col_end, false);
      continue;
    }
    const int64_t a = std::clamp(damage.col_begin, want.col_begin, want.col_end);
    const int64_t b = std::clamp(damage.col_end, want.col_begin, want.col_end);
    if (want.col_begin < a) fn(r, want.col_begin, a, false);
    if (a < b) fn(r, a, b, true);
    if (b < want.col_end) fn(r, b, want.col_end, false);
  }
}

size_t bytes(int64_t floats) { return sizeof(float) * static_cast<size_t>(floats); }

// Bit equality of n floats (NaN payloads and signed zeros included), without
// a library call per pixel.
inline bool same_bits(const float* a, const float* b, int64_t n) {
  uint32_t differ = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t x, y;
    std::memcpy(&x, a + i, sizeof x);
    std::memcpy(&y, b + i, sizeof y);
    differ |= x ^ y;
  }
  return differ == 0;
}

}  // namespace

void gather_channels_last(const ImageLayout& layout, const float* golden, const float* damaged,
                          const Window& damage, const Window& want, float* out) {
  const int64_t channels = layout.channels;
  const int64_t plane = layout.height * layout.width;
  const int64_t cols = want.cols();
  for_each_piece(want, damage, [&](int64_t r, int64_t c0, int64_t c1, bool inside) {
    const float* source = inside ? damaged : golden;
    float* target = out + ((r - want.row_begin) * cols + (c0 - want.col_begin)) * channels;
    if (layout.channels_last) {
      std::memcpy(target, source + (r * layout.width + c0) * channels, bytes((c1 - c0) * channels));
      return;
    }
    kernels::window::transpose(source + r * layout.width + c0, plane, channels, c1 - c0, target,
                               channels);
  });
}

void gather_patch(const ImageLayout& layout, const float* golden, const float* damaged,
                  const Window& damage, const Window& want, float* out) {
  if (layout.channels_last) {
    gather_channels_last(layout, golden, damaged, damage, want, out);
    return;
  }
  const int64_t plane = layout.height * layout.width;
  const int64_t patch_plane = want.area();
  for_each_piece(want, damage, [&](int64_t r, int64_t c0, int64_t c1, bool inside) {
    const float* source = (inside ? damaged : golden) + r * layout.width + c0;
    float* target = out + (r - want.row_begin) * want.cols() + (c0 - want.col_begin);
    for (int64_t ch = 0; ch < layout.channels; ++ch) {
      std::memcpy(target + ch * patch_plane, source + ch * plane, bytes(c1 - c0));
    }
  });
}

void scatter_channels_last(const ImageLayout& layout, const float* in, const Window& where,
                           float* image) {
  const int64_t channels = layout.channels;
  const int64_t plane = layout.height * layout.width;
  for (int64_t r = where.row_begin; r < where.row_end; ++r) {
    const float* source = in + (r - where.row_begin) * where.cols() * channels;
    if (layout.channels_last) {
      std::memcpy(image + (r * layout.width + where.col_begin) * channels, source,
                  bytes(where.cols() * channels));
      continue;
    }
    kernels::window::transpose(source, channels, where.cols(), channels,
                               image + r * layout.width + where.col_begin, plane);
  }
}

void scatter_patch(const ImageLayout& layout, const float* in, const Window& where, float* image) {
  if (layout.channels_last) {
    scatter_channels_last(layout, in, where, image);
    return;
  }
  const int64_t plane = layout.height * layout.width;
  const int64_t patch_plane = where.area();
  for (int64_t ch = 0; ch < layout.channels; ++ch) {
    for (int64_t r = where.row_begin; r < where.row_end; ++r) {
      std::memcpy(image + ch * plane + r * layout.width + where.col_begin,
                  in + ch * patch_plane + (r - where.row_begin) * where.cols(),
                  bytes(where.cols()));
    }
  }
}

void fill_from_golden(const ImageLayout& layout, const float* golden, const Window& kept,
                      const Window& grown, float* image) {
  const int64_t channels = layout.channels;
  const int64_t plane = layout.height * layout.width;
  for_each_piece(grown, kept, [&](int64_t r, int64_t c0, int64_t c1, bool inside) {
    if (inside) return;
    if (layout.channels_last) {
      const int64_t at = (r * layout.width + c0) * channels;
      std::memcpy(image + at, golden + at, bytes((c1 - c0) * channels));
      return;
    }
    for (int64_t ch = 0; ch < channels; ++ch) {
      const int64_t at = ch * plane + r * layout.width + c0;
      std::memcpy(image + at, golden + at, bytes(c1 - c0));
    }
  });
}

Window differing_window(const ImageLayout& layout, const float* image, const float* golden,
                        const Window& where) {
  Window found{where.row_end, where.row_begin, where.col_end, where.col_begin};
  const int64_t channels = layout.channels;
  const int64_t plane = layout.height * layout.width;
  auto mark = [&](int64_t r, int64_t c) {
    found.row_begin = std::min(found.row_begin, r);
    found.row_end = std::max(found.row_end, r + 1);
    found.col_begin = std::min(found.col_begin, c);
    found.col_end = std::max(found.col_end, c + 1);
  };
  if (layout.channels_last) {
    for (int64_t r = where.row_begin; r < where.row_end; ++r) {
      for (int64_t c = where.col_begin; c < where.col_end; ++c) {
        const int64_t at = (r * layout.width + c) * channels;
        if (!same_bits(image + at, golden + at, channels)) mark(r, c);
      }
    }
  } else {
    // Per pixel, the OR over channels of the bit differences: channel planes
    // are walked along their rows (contiguous), not pixel by pixel.
    thread_local std::vector<uint32_t> differ;
    const int64_t cols = where.cols();
    differ.assign(static_cast<size_t>(where.area()), 0);
    for (int64_t ch = 0; ch < channels; ++ch) {
      for (int64_t r = where.row_begin; r < where.row_end; ++r) {
        const int64_t at = ch * plane + r * layout.width + where.col_begin;
        uint32_t* row = differ.data() + (r - where.row_begin) * cols;
        for (int64_t c = 0; c < cols; ++c) {
          uint32_t x, y;
          std::memcpy(&x, image + at + c, sizeof x);
          std::memcpy(&y, golden + at + c, sizeof y);
          row[c] |= x ^ y;
        }
      }
    }
    for (int64_t r = where.row_begin; r < where.row_end; ++r) {
      for (int64_t c = where.col_begin; c < where.col_end; ++c) {
        if (differ[(r - where.row_begin) * cols + c - where.col_begin] != 0) mark(r, c);
      }
    }
  }
  if (found.empty()) return Window{};
  return found;
}

}  // namespace nnfi::campaign
