// Plain-loop NHWC reference implementations of the Keras layers the tests
// build, written from Keras/TensorFlow's definitions (in double, rounded
// once), independent of nnfi's kernels and importer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "nnfi/tensor.h"

namespace nnfi::testing::ref {

inline float at(const Tensor& t, std::initializer_list<int64_t> index) {
  int64_t offset = 0;
  size_t d = 0;
  for (int64_t i : index) offset = offset * t.dim(d++) + i;
  return t.data<float>()[offset];
}

// TF SAME: total padding max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0), the
// smaller half before. VALID: none. Returns (pad_before, output size).
inline std::pair<int64_t, int64_t> window(int64_t in, int64_t k, int64_t s, int64_t d, bool same) {
  const int64_t extent = (k - 1) * d + 1;
  if (!same) return {0, (in - extent) / s + 1};
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>((out - 1) * s + extent - in, 0);
  return {total / 2, out};
}

// Keras Conv2D: x (N,H,W,C), kernel (kh,kw,C/groups,F), bias (F) or undefined.
inline Tensor conv2d(const Tensor& x, const Tensor& kernel, const Tensor& bias, int64_t sh,
                     int64_t sw, int64_t dh, int64_t dw, bool same, int64_t groups = 1) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const int64_t kh = kernel.dim(0), kw = kernel.dim(1), cg = kernel.dim(2), f = kernel.dim(3);
  auto [ph, oh] = window(h, kh, sh, dh, same);
  auto [pw, ow] = window(w, kw, sw, dw, same);
  const int64_t fg = f / groups;
  Tensor y(DType::kFloat32, {n, oh, ow, f});
  float* out = y.data<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < f; ++o) {
          const int64_t g = o / fg;
          double sum = bias.defined() ? bias.data<float>()[o] : 0.0;
          for (int64_t u = 0; u < kh; ++u)
            for (int64_t v = 0; v < kw; ++v) {
              const int64_t yy = i * sh - ph + u * dh, xx = j * sw - pw + v * dw;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              for (int64_t ci = 0; ci < cg; ++ci) {
                sum += double(at(x, {b, yy, xx, g * cg + ci})) * at(kernel, {u, v, ci, o});
              }
            }
          *out++ = static_cast<float>(sum);
        }
  (void)c;
  return y;
}

// Keras DepthwiseConv2D: kernel (kh,kw,C,M); output channel c*M+m.
inline Tensor depthwise2d(const Tensor& x, const Tensor& kernel, const Tensor& bias, int64_t s,
                          bool same) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const int64_t kh = kernel.dim(0), kw = kernel.dim(1), m = kernel.dim(3);
  auto [ph, oh] = window(h, kh, s, 1, same);
  auto [pw, ow] = window(w, kw, s, 1, same);
  Tensor y(DType::kFloat32, {n, oh, ow, c * m});
  float* out = y.data<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t ci = 0; ci < c; ++ci)
          for (int64_t mi = 0; mi < m; ++mi) {
            double sum = bias.defined() ? bias.data<float>()[ci * m + mi] : 0.0;
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t yy = i * s - ph + u, xx = j * s - pw + v;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                sum += double(at(x, {b, yy, xx, ci})) * at(kernel, {u, v, ci, mi});
              }
            *out++ = static_cast<float>(sum);
          }
  return y;
}

// Keras Conv1D: x (N,L,C), kernel (k,C,F); causal pads (k-1)*d on the left.
inline Tensor conv1d(const Tensor& x, const Tensor& kernel, const Tensor& bias, int64_t s,
                     int64_t d, const std::string& padding) {
  const int64_t n = x.dim(0), l = x.dim(1), c = x.dim(2);
  const int64_t k = kernel.dim(0), f = kernel.dim(2);
  int64_t pad = 0, ol = 0;
  if (padding == "causal") {
    pad = (k - 1) * d;
    ol = (l + pad - ((k - 1) * d + 1)) / s + 1;
  } else {
    std::tie(pad, ol) = window(l, k, s, d, padding == "same");
  }
  Tensor y(DType::kFloat32, {n, ol, f});
  float* out = y.data<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < ol; ++i)
      for (int64_t o = 0; o < f; ++o) {
        double sum = bias.defined() ? bias.data<float>()[o] : 0.0;
        for (int64_t u = 0; u < k; ++u) {
          const int64_t t = i * s - pad + u * d;
          if (t < 0 || t >= l) continue;
          for (int64_t ci = 0; ci < c; ++ci)
            sum += double(at(x, {b, t, ci})) * at(kernel, {u, ci, o});
        }
        *out++ = static_cast<float>(sum);
      }
  return y;
}

// Keras Dense on the last axis: kernel (in, units).
inline Tensor dense(const Tensor& x, const Tensor& kernel, const Tensor& bias) {
  const int64_t in = kernel.dim(0), units = kernel.dim(1);
  const int64_t rows = x.num_elements() / in;
  Shape shape = x.shape();
  shape.back() = units;
  Tensor y(DType::kFloat32, shape);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double sum = bias.defined() ? bias.data<float>()[u] : 0.0;
      for (int64_t i = 0; i < in; ++i) {
        sum += double(x.data<float>()[r * in + i]) * kernel.data<float>()[i * units + u];
      }
      y.data<float>()[r * units + u] = static_cast<float>(sum);
    }
  return y;
}

// TF pooling (average over real inputs only).
inline Tensor pool2d(const Tensor& x, int64_t k, int64_t s, bool same, bool max) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  auto [ph, oh] = window(h, k, s, 1, same);
  auto [pw, ow] = window(w, k, s, 1, same);
  Tensor y(DType::kFloat32, {n, oh, ow, c});
  float* out = y.data<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t ch = 0; ch < c; ++ch) {
          double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
          int count = 0;
          for (int64_t u = 0; u < k; ++u)
            for (int64_t v = 0; v < k; ++v) {
              const int64_t yy = i * s - ph + u, xx = j * s - pw + v;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              const double value = at(x, {b, yy, xx, ch});
              acc = max ? std::max(acc, value) : acc + value;
              ++count;
            }
          *out++ = static_cast<float>(max ? acc : acc / count);
        }
  return y;
}

inline Tensor map(const Tensor& x, const std::function<double(double)>& fn) {
  Tensor y(DType::kFloat32, x.shape());
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    y.data<float>()[i] = static_cast<float>(fn(x.data<float>()[i]));
  }
  return y;
}

// Softmax over the last axis.
inline Tensor softmax(const Tensor& x) {
  const int64_t c = x.shape().back(), rows = x.num_elements() / c;
  Tensor y(DType::kFloat32, x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x.data<float>() + r * c;
    double max = in[0], sum = 0;
    for (int64_t i = 1; i < c; ++i) max = std::max<double>(max, in[i]);
    for (int64_t i = 0; i < c; ++i) sum += std::exp(in[i] - max);
    for (int64_t i = 0; i < c; ++i) {
      y.data<float>()[r * c + i] = static_cast<float>(std::exp(in[i] - max) / sum);
    }
  }
  return y;
}

// Keras's activation by name, in double.
inline double activation(const std::string& name, double x, int keras_major = 2) {
  const double pi = 3.14159265358979323846;
  if (name == "relu") return std::max(x, 0.0);
  if (name == "relu6") return std::min(std::max(x, 0.0), 6.0);
  if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (name == "hard_sigmoid") {
    return keras_major >= 3 ? std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0
                            : std::min(std::max(0.2 * x + 0.5, 0.0), 1.0);
  }
  if (name == "tanh") return std::tanh(x);
  if (name == "elu") return x > 0 ? x : std::expm1(x);
  if (name == "selu") {
    return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * std::expm1(x));
  }
  if (name == "swish" || name == "silu") return x / (1.0 + std::exp(-x));
  if (name == "gelu") return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  if (name == "softplus") return std::log1p(std::exp(x));
  (void)pi;
  return x;  // linear
}

}  // namespace nnfi::testing::ref
