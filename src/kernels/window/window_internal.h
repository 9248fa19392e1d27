// Private to src/kernels/window: the packed weight layout WindowConv shares
// between its portable and AVX-512 paths, and the tap-range arithmetic both
// use. Not part of the kernel contract.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/window/window_kernels.h"

namespace nnfi::kernels::window::internal {

constexpr int64_t kLanes = 16;        // floats in one AVX-512 vector
constexpr int64_t kChunkVectors = 4;  // output-channel vectors per packed chunk

inline int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// Taps [*lo, *hi) of output position o that land inside the input (the
// others are padding). Contiguous because positions grow with the tap index.
inline void tap_range(const WindowAxis& axis, int64_t o, int64_t* lo, int64_t* hi) {
  const int64_t start = axis.window_start(o);
  // First k with start + k * dilation >= 0.
  int64_t first = start >= 0 ? 0 : (-start + axis.dilation - 1) / axis.dilation;
  // First k with start + k * dilation >= input.
  int64_t end =
      axis.input - start <= 0 ? 0 : (axis.input - start + axis.dilation - 1) / axis.dilation;
  first = std::min(first, axis.kernel);
  end = std::min(end, axis.kernel);
  *lo = first;
  *hi = std::max(first, end);
}

// Packed weights. Depthwise (one input and one output channel per group):
//   [kh][kw][channel padded to kLanes].
// Otherwise, per group, the output channels of the group (padded to kLanes)
// split into chunks of up to kChunkVectors vectors, each chunk stored as
//   [kh][kw][c][chunk width]  (c: the group's input channels),
// so one chunk's weights are contiguous for the inner loops.
struct PackedLayout {
  bool depthwise = false;
  int64_t in_per_group = 0;
  int64_t out_per_group = 0;
  int64_t out_padded = 0;    // out_per_group rounded up to kLanes (depthwise: channels)
  int64_t taps = 0;          // kh * kw
  int64_t group_floats = 0;  // floats per group

  static PackedLayout of(const ConvGeometry& g) {
    PackedLayout p;
    p.in_per_group = g.in_channels / g.group;
    p.out_per_group = g.out_channels / g.group;
    p.depthwise = p.in_per_group == 1 && p.out_per_group == 1;
    p.taps = g.rows.kernel * g.cols.kernel;
    if (p.depthwise) {
      p.out_padded = round_up(g.out_channels, kLanes);
      p.group_floats = 0;
    } else {
      p.out_padded = round_up(p.out_per_group, kLanes);
      p.group_floats = p.taps * p.in_per_group * p.out_padded;
    }
    return p;
  }
  int64_t total_floats(int64_t group) const {
    return depthwise ? taps * out_padded : group * group_floats;
  }
  // First vector of chunk `chunk`, and the chunk's width in floats.
  int64_t chunk_width(int64_t chunk) const {
    return std::min(kChunkVectors * kLanes, out_padded - chunk * kChunkVectors * kLanes);
  }
  int64_t chunk_offset(int64_t group, int64_t chunk) const {
    return group * group_floats + taps * in_per_group * chunk * kChunkVectors * kLanes;
  }
  // Index of w[o][c][kh][kw] (o, c within group g) in the packed buffer.
  int64_t index(int64_t group, int64_t o, int64_t c, int64_t tap) const {
    if (depthwise) return tap * out_padded + group;
    const int64_t chunk = o / (kChunkVectors * kLanes);
    const int64_t lane = o % (kChunkVectors * kLanes);
    return chunk_offset(group, chunk) + (tap * in_per_group + c) * chunk_width(chunk) + lane;
  }
};

// NaN propagation, pinned. Where several operands of an fma (or of the bias
// add) are NaN, IEEE 754 leaves open which one the result carries; x86 CPUs
// decide by operand role or position, and not all vendors alike (measured on
// AMD Zen 4: w, then x, then acc for vfmadd231ps acc, w, x). The AVX-512 path
// pins one instruction form with inline assembly (vfmadd231ps acc, w, x;
// vaddps acc, acc, b), so every register-blocked variant gives the same
// bits; the portable path sends every fma or add that meets a NaN through
// the same instruction form (scalar) where the CPU has it, so both paths
// agree bit for bit, NaN payloads and signs included.
float fma_with_nan(float x, float w, float acc);
float add_with_nan(float acc, float b);

inline float fma_ordered(float x, float w, float acc) {
  if (__builtin_expect(acc != acc || w != w || x != x, 0)) return fma_with_nan(x, w, acc);
  return __builtin_fmaf(x, w, acc);
}

inline float add_ordered(float acc, float b) {
  if (__builtin_expect(acc != acc || b != b, 0)) return add_with_nan(acc, b);
  return acc + b;
}

// What the AVX-512 and portable paths get from WindowConv::run.
struct ConvArgs {
  const ConvGeometry* geometry;
  const PackedLayout* layout;
  const float* packed;
  const float* bias;  // nullptr without bias
  const float* input;
  Window in;
  Window out;
  float* output;
  // Only the output channels of chunks [chunk_begin, chunk_end) of each group
  // are computed (and written); the others are left alone.
  int64_t chunk_begin = 0;
  int64_t chunk_end = std::numeric_limits<int64_t>::max();
};

void run_conv_portable(const ConvArgs& args);
// Only where cpu_has_avx512() is true.
void run_conv_avx512(const ConvArgs& args);
bool cpu_has_avx512();

}  // namespace nnfi::kernels::window::internal
