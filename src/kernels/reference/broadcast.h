// Numpy-style broadcasting for the reference kernels.
//
//   broadcast_shapes({a, b, ...})  the output shape, or an error that names
//                                  the shapes ("inputs of shapes [2, 3] and [4]
//                                  do not broadcast (axis -1: 3 vs 4)");
//   broadcasts_to(from, to)        unidirectional check (PRelu slope, Gemm C);
//   BroadcastIterator<N>           walks an output row by row and gives each
//                                  input's offset; no heap, for eval.
//
// Typical eval loop (prepare has checked that the shapes broadcast):
//
//   BroadcastIterator<2> it(out.shape(), {&a.shape(), &b.shape()});
//   float* o = out.data<float>();
//   for (int64_t r = 0; r < it.num_rows(); ++r, it.next_row()) {
//     const float* pa = a_data + it.offset(0);
//     const float* pb = b_data + it.offset(1);
//     for (int64_t j = 0; j < it.row_size(); ++j) {
//       *o++ = pa[j * it.stride(0)] + pb[j * it.stride(1)];
//     }
//   }
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::kernels {

// Highest output rank BroadcastIterator handles (it keeps fixed-size arrays).
inline constexpr size_t kMaxBroadcastRank = 16;

// The numpy broadcast of `shapes`: shapes are right-aligned and each dim must
// equal the output dim or be 1. Unknown dims (-1) are not allowed.
inline Expected<Shape> broadcast_shapes(std::span<const Shape> shapes) {
  Shape out;
  for (const Shape& shape : shapes) {
    if (shape.size() > out.size()) out.insert(out.begin(), shape.size() - out.size(), 1);
  }
  for (const Shape& shape : shapes) {
    size_t lead = out.size() - shape.size();
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t dim = shape[d];
      int64_t& o = out[lead + d];
      if (dim == o || dim == 1) continue;
      if (o == 1) {
        o = dim;
        continue;
      }
      // Conflict: name every shape and the axis (counted from the right, as
      // broadcasting aligns them).
      std::string names;
      for (size_t i = 0; i < shapes.size(); ++i) {
        if (i > 0) names += i + 1 == shapes.size() ? " and " : ", ";
        names += shape_to_string(shapes[i]);
      }
      int64_t axis = static_cast<int64_t>(d) - static_cast<int64_t>(shape.size());
      return invalid_argument("inputs of shapes " + names + " do not broadcast (axis " +
                              std::to_string(axis) + ": " + std::to_string(o) + " vs " +
                              std::to_string(dim) + ")");
    }
  }
  if (out.size() > kMaxBroadcastRank) {
    return unsupported("broadcast rank " + std::to_string(out.size()) +
                       " exceeds the supported maximum " + std::to_string(kMaxBroadcastRank));
  }
  return out;
}

inline Expected<Shape> broadcast_shapes(std::initializer_list<Shape> shapes) {
  return broadcast_shapes(std::span<const Shape>(shapes.begin(), shapes.size()));
}

// True if `from` broadcasts to `to` and the result is `to` itself.
inline bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  size_t lead = to.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d) {
    if (from[d] != 1 && from[d] != to[lead + d]) return false;
  }
  return true;
}

// Walks an output of shape `out` (row-major) in rows: a row is the innermost
// run of output elements after merging dims that can be walked as one. For
// each input it gives the offset of the row's first element and the stride
// along the row (0 where the input is broadcast along it, else 1).
// Every input shape must broadcast to `out` and out.size() <= kMaxBroadcastRank
// (broadcast_shapes checks both). The shapes are read only by the constructor.
template <size_t N>
class BroadcastIterator {
 public:
  BroadcastIterator(const Shape& out, const std::array<const Shape*, N>& inputs) {
    std::array<int64_t, N> inner{};  // product of each input's dims walked so far
    inner.fill(1);
    const size_t out_rank = out.size();
    for (size_t k = 0; k < out_rank; ++k) {
      const size_t d = out_rank - 1 - k;  // innermost first
      const int64_t dim = out[d];
      if (dim == 0) num_rows_ = 0;
      if (dim == 1) continue;  // contributes nothing to any offset
      std::array<int64_t, N> stride{};
      for (size_t i = 0; i < N; ++i) {
        const Shape& shape = *inputs[i];
        int64_t in_dim = k < shape.size() ? shape[shape.size() - 1 - k] : 1;
        stride[i] = in_dim == 1 ? 0 : inner[i];
        inner[i] *= in_dim;
      }
      // Merge into the previous (inner) dim when every input walks both as
      // one contiguous or one broadcast run.
      bool merge = rank_ > 0;
      for (size_t i = 0; merge && i < N; ++i) {
        merge = stride[i] == strides_[i][rank_ - 1] * dims_[rank_ - 1];
      }
      if (merge) {
        dims_[rank_ - 1] *= dim;
      } else {
        dims_[rank_] = dim;
        for (size_t i = 0; i < N; ++i) strides_[i][rank_] = stride[i];
        ++rank_;
      }
    }
    if (rank_ == 0) {  // a scalar or all-ones output: one row of one element
      dims_[0] = 1;
      rank_ = 1;
    }
    if (num_rows_ != 0) {
      num_rows_ = 1;
      for (size_t r = 1; r < rank_; ++r) num_rows_ *= dims_[r];
    }
  }

  int64_t num_rows() const { return num_rows_; }
  int64_t row_size() const { return num_rows_ == 0 ? 0 : dims_[0]; }
  int64_t offset(size_t input) const { return offsets_[input]; }
  int64_t stride(size_t input) const { return strides_[input][0]; }

  // Moves to the next row (after the last one it wraps to the first).
  void next_row() {
    for (size_t r = 1; r < rank_; ++r) {
      for (size_t i = 0; i < N; ++i) offsets_[i] += strides_[i][r];
      if (++counters_[r] < dims_[r]) return;
      for (size_t i = 0; i < N; ++i) offsets_[i] -= strides_[i][r] * dims_[r];
      counters_[r] = 0;
    }
  }

 private:
  size_t rank_ = 0;        // merged dims, innermost first
  int64_t num_rows_ = -1;  // -1 until computed; 0 for an empty output
  std::array<int64_t, kMaxBroadcastRank> dims_{};
  std::array<int64_t, kMaxBroadcastRank> counters_{};
  std::array<std::array<int64_t, kMaxBroadcastRank>, N> strides_{};
  std::array<int64_t, N> offsets_{};
};

}  // namespace nnfi::kernels
