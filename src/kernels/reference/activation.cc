// Reference kernels: Abs, Neg, Sqrt, Rsqrt, Relu, Clip, LeakyRelu, PRelu, Elu, Sigmoid, Tanh,
// Softmax.
//
// NaN and Inf go through as the math says: Relu(NaN) = NaN, Clip(NaN) = NaN,
// a NaN Clip bound gives NaN (numpy.clip), a softmax row holding +Inf is NaN.
// Integer Abs/Neg wrap (Abs(min) = min) instead of being undefined.
// Softmax sums in double, in the natural order along the axis, then rounds
// once to float (the same rule as ReduceMean).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "kernels/kernel.h"
#include "kernels/reference/broadcast.h"

namespace nnfi::kernels {
namespace {

Status expect_one_output(PrepareContext& ctx) {
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  return Status::ok();
}

bool is_arith_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kInt32 || dtype == DType::kInt64;
}

// One input X (float32, or also int32/int64 where `allow_int`); Y like X.
Status prepare_unary(PrepareContext& ctx, bool allow_int) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  DType dtype = ctx.inputs[0].dtype;
  if (allow_int ? !is_arith_dtype(dtype) : dtype != DType::kFloat32) {
    return ctx.error("input 0 has dtype " + std::string(dtype_name(dtype)) + ", expected " +
                     (allow_int ? "float32, int32 or int64" : "float32"));
  }
  ctx.outputs[0] = {dtype, ctx.inputs[0].shape, nullptr};
  return Status::ok();
}

template <typename T, typename Fn>
void map_unary(const Tensor& x, Tensor& y, Fn fn) {
  const T* px = x.data<T>();
  T* py = y.data<T>();
  const int64_t n = x.num_elements();
  for (int64_t i = 0; i < n; ++i) py[i] = fn(px[i]);
}

// Runs a generic lambda over float32, int32 or int64 elements.
template <typename Fn>
Status map_any(EvalContext& ctx, Fn fn) {
  const Tensor& x = *ctx.inputs[0];
  Tensor& y = *ctx.outputs[0];
  switch (x.dtype()) {
    case DType::kFloat32: map_unary<float>(x, y, fn); break;
    case DType::kInt32: map_unary<int32_t>(x, y, fn); break;
    case DType::kInt64: map_unary<int64_t>(x, y, fn); break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(x.dtype())));
  }
  return Status::ok();
}

template <typename Fn>
Status map_float(EvalContext& ctx, Fn fn) {
  map_unary<float>(*ctx.inputs[0], *ctx.outputs[0], fn);
  return Status::ok();
}

template <typename T>
T wrapping_neg(T x) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(U{0} - static_cast<U>(x));
  } else {
    return -x;
  }
}

// numpy.maximum / numpy.minimum: a NaN operand gives NaN.
template <typename T>
T nan_max(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return b > a ? b : a;
}

template <typename T>
T nan_min(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return b < a ? b : a;
}

// A Clip bound: input `index` if present, else attribute `name`, else `fallback`.
template <typename T>
T clip_bound(const EvalContext& ctx, size_t index, const char* name, T fallback) {
  if (index < ctx.inputs.size() && ctx.inputs[index] != nullptr) {
    return ctx.inputs[index]->data<T>()[0];
  }
  if (ctx.node.attributes.has(name)) {
    return static_cast<T>(ctx.node.attributes.get_float(name, 0.0));
  }
  return fallback;
}

template <typename T>
void clip(const EvalContext& ctx) {
  constexpr bool kFloat = std::is_floating_point_v<T>;
  const T lowest = kFloat ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  const T highest = kFloat ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  const T lo = clip_bound<T>(ctx, 1, "min", lowest);
  const T hi = clip_bound<T>(ctx, 2, "max", highest);
  // min(max(x, lo), hi) as numpy.clip: lo > hi gives hi everywhere.
  if constexpr (kFloat) {
    if (!std::isnan(lo) && !std::isnan(hi)) {
      // The same with bounds that are numbers, as selects the compiler
      // vectorizes (Relu6 runs on every window of a MobileNet campaign).
      map_unary<T>(*ctx.inputs[0], *ctx.outputs[0], [lo, hi](T x) {
        T m = lo > x ? lo : x;
        m = hi < m ? hi : m;
        return x != x ? x : m;
      });
      return;
    }
  }
  map_unary<T>(*ctx.inputs[0], *ctx.outputs[0],
               [lo, hi](T x) { return nan_min(nan_max(x, lo), hi); });
}

int64_t normalized_axis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

}  // namespace

// ---- simple unary ops ----------------------------------------------------------------

Status prepare_Abs(PrepareContext& ctx) { return prepare_unary(ctx, true); }
Status reference_Abs(EvalContext& ctx) {
  return map_any(ctx, [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) {
      return std::fabs(x);  // clears the sign bit: Abs(-0) = +0, NaN stays NaN
    } else {
      return x < 0 ? wrapping_neg(x) : x;
    }
  });
}

Status prepare_Neg(PrepareContext& ctx) { return prepare_unary(ctx, true); }
Status reference_Neg(EvalContext& ctx) {
  return map_any(ctx, [](auto x) { return wrapping_neg(x); });
}

Status prepare_Sqrt(PrepareContext& ctx) { return prepare_unary(ctx, false); }
Status reference_Sqrt(EvalContext& ctx) {
  return map_float(ctx, [](float x) { return std::sqrt(x); });
}

Status prepare_Rsqrt(PrepareContext& ctx) { return prepare_unary(ctx, false); }
Status reference_Rsqrt(EvalContext& ctx) {
  return map_float(ctx, [](float x) { return 1.0f / std::sqrt(x); });
}

// x < 0 ? 0 : x keeps NaN (a comparison with NaN is false) and -0.
Status prepare_Relu(PrepareContext& ctx) { return prepare_unary(ctx, true); }
Status reference_Relu(EvalContext& ctx) {
  return map_any(ctx, [](auto x) { return x < 0 ? decltype(x){0} : x; });
}

Status prepare_Sigmoid(PrepareContext& ctx) { return prepare_unary(ctx, false); }
Status reference_Sigmoid(EvalContext& ctx) {
  return map_float(ctx, [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
}

Status prepare_Tanh(PrepareContext& ctx) { return prepare_unary(ctx, false); }
Status reference_Tanh(EvalContext& ctx) {
  return map_float(ctx, [](float x) { return std::tanh(x); });
}

// ---- attribute-driven unary ops ------------------------------------------------------

// ONNX: x > 0 ? x : alpha * x (so a NaN x stays NaN).
Status prepare_LeakyRelu(PrepareContext& ctx) { return prepare_unary(ctx, false); }
Status reference_LeakyRelu(EvalContext& ctx) {
  const auto alpha = static_cast<float>(ctx.node.attributes.get_float("alpha", 0.01));
  return map_float(ctx, [alpha](float x) { return x > 0 ? x : x * alpha; });
}

// x > 0 ? x : alpha * (exp(x) - 1), with expm1 for accuracy near 0.
Status prepare_Elu(PrepareContext& ctx) { return prepare_unary(ctx, false); }
Status reference_Elu(EvalContext& ctx) {
  const auto alpha = static_cast<float>(ctx.node.attributes.get_float("alpha", 1.0));
  return map_float(ctx, [alpha](float x) { return x > 0 ? x : alpha * std::expm1(x); });
}

// ---- Clip ---------------------------------------------------------------------------

Status prepare_Clip(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 3));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  DType dtype = ctx.inputs[0].dtype;
  if (!is_arith_dtype(dtype)) {
    return ctx.error("input 0 has dtype " + std::string(dtype_name(dtype)) +
                     ", expected float32, int32 or int64");
  }
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    const TensorInfo& bound = ctx.inputs[i];
    if (!bound.present()) continue;
    const char* name = i == 1 ? "min" : "max";
    if (bound.dtype != dtype) {
      return ctx.error(std::string(name) + " has dtype " + std::string(dtype_name(bound.dtype)) +
                       ", expected " + std::string(dtype_name(dtype)) + " like X");
    }
    if (shape_num_elements(bound.shape) != 1) {
      return ctx.error(std::string(name) + " has shape " + shape_to_string(bound.shape) +
                       ", expected a scalar");
    }
  }
  if (dtype != DType::kFloat32) {
    // Attribute bounds are doubles: they must fit the integer type.
    const double limit = dtype == DType::kInt32 ? 2147483647.0 : 9.2e18;
    for (const char* name : {"min", "max"}) {
      if (!ctx.node.attributes.has(name)) continue;
      double bound = ctx.node.attributes.get_float(name, 0.0);
      if (!(bound >= -limit && bound <= limit)) {
        return ctx.error(std::string("attribute ") + name + " = " + std::to_string(bound) +
                         " does not fit " + std::string(dtype_name(dtype)));
      }
    }
  }
  ctx.outputs[0] = {dtype, ctx.inputs[0].shape, nullptr};
  return Status::ok();
}

Status reference_Clip(EvalContext& ctx) {
  switch (ctx.inputs[0]->dtype()) {
    case DType::kFloat32: clip<float>(ctx); break;
    case DType::kInt32: clip<int32_t>(ctx); break;
    case DType::kInt64: clip<int64_t>(ctx); break;
    default:
      return internal_error("unexpected dtype " + std::string(dtype_name(ctx.inputs[0]->dtype())));
  }
  return Status::ok();
}

// ---- PRelu ----------------------------------------------------------------------------

Status prepare_PRelu(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 2));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(1, DType::kFloat32));
  const Shape& x = ctx.inputs[0].shape;
  const Shape& slope = ctx.inputs[1].shape;
  if (!broadcasts_to(slope, x)) {
    return ctx.error("slope of shape " + shape_to_string(slope) +
                     " does not broadcast to X of shape " + shape_to_string(x));
  }
  if (x.size() > kMaxBroadcastRank) {
    return ctx.error("rank " + std::to_string(x.size()) + " exceeds the supported maximum " +
                     std::to_string(kMaxBroadcastRank));
  }
  ctx.outputs[0] = {DType::kFloat32, x, nullptr};
  return Status::ok();
}

namespace {

// ONNX: x > 0 ? x : slope * x (a NaN x stays NaN).
void prelu_row(const float* x, const float* slope, int64_t stride, float* y, int64_t n) {
  if (stride == 0) {  // one slope for the row (per-channel slope on NCHW)
    const float s = slope[0];
    for (int64_t j = 0; j < n; ++j) y[j] = x[j] > 0 ? x[j] : x[j] * s;
  } else {
    for (int64_t j = 0; j < n; ++j) y[j] = x[j] > 0 ? x[j] : x[j] * slope[j * stride];
  }
}

}  // namespace

Status reference_PRelu(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const Tensor& slope = *ctx.inputs[1];
  const float* px = x.data<float>();
  const float* ps = slope.data<float>();
  float* py = ctx.outputs[0]->data<float>();
  BroadcastIterator<2> it(x.shape(), {&x.shape(), &slope.shape()});
  const int64_t n = it.row_size();
  for (int64_t r = 0; r < it.num_rows(); ++r, it.next_row()) {
    const float* row_x = px + it.offset(0);
    const float* row_s = ps + it.offset(1);
    prelu_row(row_x, row_s, it.stride(1), py, n);
    py += n;
  }
  return Status::ok();
}

// ---- Softmax ------------------------------------------------------------------------

Status prepare_Softmax(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  const Shape& x = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(x.size());
  const int64_t axis = ctx.node.attributes.get_int("axis", -1);
  if (axis < -rank || axis >= rank) {
    return ctx.error("axis " + std::to_string(axis) + " is out of range for X of rank " +
                     std::to_string(rank) + " (expected " + std::to_string(-rank) + " to " +
                     std::to_string(rank - 1) + ")");
  }
  const int64_t legacy = ctx.node.attributes.get_int("legacy_flatten", 0);
  if (legacy != 0 && legacy != 1) {
    return ctx.error("legacy_flatten is " + std::to_string(legacy) + ", expected 0 or 1");
  }
  ctx.outputs[0] = {DType::kFloat32, x, nullptr};
  return Status::ok();
}

// Softmax over n elements spaced `inner` apart, for each (outer, inner) pair.
// legacy_flatten=1 treats all dims from axis on as the one axis (inner = 1).
Status reference_Softmax(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const Shape& shape = x.shape();
  const auto rank = static_cast<int64_t>(shape.size());
  const int64_t axis = normalized_axis(ctx.node.attributes.get_int("axis", -1), rank);
  const bool legacy = ctx.node.attributes.get_int("legacy_flatten", 0) != 0;
  int64_t outer = 1;
  int64_t n = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis) {
      outer *= shape[d];
    } else if (d == axis || legacy) {
      n *= shape[d];
    } else {
      inner *= shape[d];
    }
  }
  if (n == 0) return Status::ok();  // nothing to normalise
  const float* px = x.data<float>();
  float* py = ctx.outputs[0]->data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* row_x = px + o * n * inner + i;
      float* row_y = py + o * n * inner + i;
      // Subtract the max so exp never overflows; a NaN or +Inf in the row
      // makes the whole row NaN, as the math says.
      float max = row_x[0];
      for (int64_t k = 1; k < n; ++k) {
        if (row_x[k * inner] > max) max = row_x[k * inner];
      }
      double sum = 0.0;
      for (int64_t k = 0; k < n; ++k) {
        const float e = std::exp(row_x[k * inner] - max);
        row_y[k * inner] = e;
        sum += e;
      }
      for (int64_t k = 0; k < n; ++k) {
        row_y[k * inner] = static_cast<float>(row_y[k * inner] / sum);
      }
    }
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
