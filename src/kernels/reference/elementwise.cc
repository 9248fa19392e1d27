// Reference kernels: BiasAdd, Add, Sub, Mul, Div, Max, Min, Equal.
//
// Integer arithmetic wraps (two's complement) instead of being undefined, and
// integer division by zero gives 0: a flipped bit in shape arithmetic must
// never crash the process. Max/Min propagate NaN like numpy.maximum/minimum.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reference/broadcast.h"

namespace nnfi::kernels {
namespace {

// ---- element operations ----------------------------------------------------

template <typename T>
T wrapping(std::make_unsigned_t<T> value) {
  return static_cast<T>(value);  // modular since C++20
}

struct AddOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      using U = std::make_unsigned_t<T>;
      return wrapping<T>(static_cast<U>(a) + static_cast<U>(b));
    } else {
      return a + b;
    }
  }
};

struct SubOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      using U = std::make_unsigned_t<T>;
      return wrapping<T>(static_cast<U>(a) - static_cast<U>(b));
    } else {
      return a - b;
    }
  }
};

struct MulOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      using U = std::make_unsigned_t<T>;
      return wrapping<T>(static_cast<U>(a) * static_cast<U>(b));
    } else {
      return a * b;
    }
  }
};

// Integer division truncates toward zero (C++, ONNX Runtime); x / 0 = 0 and
// min / -1 = min (wrapped) so no input traps.
struct DivOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if (b == -1) return SubOp()(T{0}, a);
      return a / b;
    } else {
      return a / b;
    }
  }
};

// numpy.maximum: a NaN operand gives NaN.
struct MaxOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      // Branch-free so the loop vectorises; a + b is NaN when either is.
      return (std::isnan(a) || std::isnan(b)) ? a + b : (b > a ? b : a);
    } else {
      return b > a ? b : a;
    }
  }
};

struct MinOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      // Branch-free so the loop vectorises; a + b is NaN when either is.
      return (std::isnan(a) || std::isnan(b)) ? a + b : (b < a ? b : a);
    } else {
      return b < a ? b : a;
    }
  }
};

struct EqualOp {
  template <typename T>
  bool operator()(T a, T b) const {
    return a == b;
  }
};

// Bool tensors are read as bytes (a flipped bit may leave a byte that is
// neither 0 nor 1, which is not a valid bool): any non-zero byte is true.
struct EqualBoolOp {
  bool operator()(uint8_t a, uint8_t b) const { return (a != 0) == (b != 0); }
};

// ---- loops -------------------------------------------------------------------

// One row: a and b advance by sa and sb (0 = broadcast, 1 = contiguous).
template <typename T, typename R, typename Op>
void binary_row(const T* a, int64_t sa, const T* b, int64_t sb, R* out, int64_t n, Op op) {
  if (sa == 1 && sb == 1) {
    for (int64_t j = 0; j < n; ++j) out[j] = op(a[j], b[j]);
  } else if (sa == 1 && sb == 0) {
    const T bv = b[0];
    for (int64_t j = 0; j < n; ++j) out[j] = op(a[j], bv);
  } else if (sa == 0 && sb == 1) {
    const T av = a[0];
    for (int64_t j = 0; j < n; ++j) out[j] = op(av, b[j]);
  } else {
    for (int64_t j = 0; j < n; ++j) out[j] = op(a[j * sa], b[j * sb]);
  }
}

// out = op(a, b) with numpy broadcasting. `a` may be `out` itself (Max/Min fold).
template <typename T, typename R, typename Op>
void broadcast_binary(const Tensor& a, const Tensor& b, Tensor& out, Op op) {
  const T* pa = static_cast<const T*>(a.raw_data());
  const T* pb = static_cast<const T*>(b.raw_data());
  R* po = out.data<R>();
  if (a.shape() == b.shape()) {  // fast path: same shape
    binary_row(pa, 1, pb, 1, po, out.num_elements(), op);
    return;
  }
  BroadcastIterator<2> it(out.shape(), {&a.shape(), &b.shape()});
  const int64_t n = it.row_size();
  for (int64_t r = 0; r < it.num_rows(); ++r, it.next_row()) {
    binary_row(pa + it.offset(0), it.stride(0), pb + it.offset(1), it.stride(1), po, n, op);
    po += n;
  }
}

// out = a broadcast to out's shape (the first operand of Max/Min).
void broadcast_copy(const Tensor& a, Tensor& out) {
  const size_t size = dtype_size(a.dtype());
  if (a.shape() == out.shape()) {
    std::memcpy(out.raw_data(), a.raw_data(), out.num_bytes());
    return;
  }
  const auto* pa = static_cast<const std::byte*>(a.raw_data());
  auto* po = static_cast<std::byte*>(out.raw_data());
  BroadcastIterator<1> it(out.shape(), {&a.shape()});
  const int64_t n = it.row_size();
  for (int64_t r = 0; r < it.num_rows(); ++r, it.next_row()) {
    for (int64_t j = 0; j < n; ++j) {
      std::memcpy(po, pa + (it.offset(0) + j * it.stride(0)) * size, size);
      po += size;
    }
  }
}

template <typename Op>
Status eval_arith(EvalContext& ctx, Op op) {
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  Tensor& out = *ctx.outputs[0];
  switch (a.dtype()) {
    case DType::kFloat32: broadcast_binary<float, float>(a, b, out, op); break;
    case DType::kInt32: broadcast_binary<int32_t, int32_t>(a, b, out, op); break;
    case DType::kInt64: broadcast_binary<int64_t, int64_t>(a, b, out, op); break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(a.dtype())));
  }
  return Status::ok();
}

template <typename Op>
Status eval_variadic(EvalContext& ctx, Op op) {
  Tensor& out = *ctx.outputs[0];
  broadcast_copy(*ctx.inputs[0], out);
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    const Tensor& x = *ctx.inputs[i];
    switch (x.dtype()) {
      case DType::kFloat32: broadcast_binary<float, float>(out, x, out, op); break;
      case DType::kInt32: broadcast_binary<int32_t, int32_t>(out, x, out, op); break;
      case DType::kInt64: broadcast_binary<int64_t, int64_t>(out, x, out, op); break;
      default: return internal_error("unexpected dtype " + std::string(dtype_name(x.dtype())));
    }
  }
  return Status::ok();
}

// ---- prepare helpers -----------------------------------------------------------

bool is_arith_dtype(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kInt32 || dtype == DType::kInt64;
}

Status expect_one_output(PrepareContext& ctx) {
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  return Status::ok();
}

// Every input present, of one dtype that `allowed` accepts.
Status expect_same_dtype(PrepareContext& ctx, bool (*allowed)(DType), const char* allowed_text) {
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (!ctx.inputs[i].present()) return ctx.error("input " + std::to_string(i) + " is missing");
  }
  DType dtype = ctx.inputs[0].dtype;
  if (!allowed(dtype)) {
    return ctx.error("input 0 has dtype " + std::string(dtype_name(dtype)) + ", expected " +
                     allowed_text);
  }
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    if (ctx.inputs[i].dtype != dtype) {
      return ctx.error("input " + std::to_string(i) + " has dtype " +
                       std::string(dtype_name(ctx.inputs[i].dtype)) + ", expected " +
                       std::string(dtype_name(dtype)) + " like input 0");
    }
  }
  return Status::ok();
}

// Output 0: the broadcast of all inputs' shapes, with dtype `dtype`.
Status prepare_broadcast(PrepareContext& ctx, DType dtype) {
  std::vector<Shape> shapes;
  for (const TensorInfo& input : ctx.inputs) shapes.push_back(input.shape);
  Expected<Shape> shape = broadcast_shapes(shapes);
  if (!shape) return ctx.error(shape.status().message());
  ctx.outputs[0] = {dtype, std::move(*shape), nullptr};
  return Status::ok();
}

Status prepare_arith(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 2));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  NNFI_RETURN_IF_ERROR(expect_same_dtype(ctx, is_arith_dtype, "float32, int32 or int64"));
  return prepare_broadcast(ctx, ctx.inputs[0].dtype);
}

Status prepare_variadic(PrepareContext& ctx) {
  if (ctx.inputs.empty()) return ctx.error("expected at least 1 input, got 0");
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  NNFI_RETURN_IF_ERROR(expect_same_dtype(ctx, is_arith_dtype, "float32, int32 or int64"));
  return prepare_broadcast(ctx, ctx.inputs[0].dtype);
}

template <typename T>
void bias_add(const Tensor& x, const Tensor& bias, Tensor& out, int64_t axis) {
  const Shape& shape = x.shape();
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t channels = shape[axis];
  const T* px = x.data<T>();
  const T* pb = bias.data<T>();
  T* po = out.data<T>();
  AddOp add;
  if (inner == 1) {  // bias along the last axis: add the bias vector to each row
    for (int64_t o = 0; o < outer; ++o) {
      binary_row(px, 1, pb, 1, po, channels, add);
      px += channels;
      po += channels;
    }
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      binary_row(px, 1, pb + c, 0, po, inner, add);
      px += inner;
      po += inner;
    }
  }
}

}  // namespace

// ---- BiasAdd ---------------------------------------------------------------------

Status prepare_BiasAdd(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 2));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  NNFI_RETURN_IF_ERROR(expect_same_dtype(ctx, is_arith_dtype, "float32, int32 or int64"));
  const Shape& x = ctx.inputs[0].shape;
  const Shape& bias = ctx.inputs[1].shape;
  const auto rank = static_cast<int64_t>(x.size());
  int64_t axis = ctx.node.attributes.get_int("axis", -1);
  if (axis < -rank || axis >= rank) {
    return ctx.error("axis " + std::to_string(axis) + " is out of range for X of rank " +
                     std::to_string(rank));
  }
  if (axis < 0) axis += rank;
  if (bias.size() != 1 || bias[0] != x[axis]) {
    return ctx.error("bias has shape " + shape_to_string(bias) + ", expected [" +
                     std::to_string(x[axis]) + "] (axis " + std::to_string(axis) + " of X " +
                     shape_to_string(x) + ")");
  }
  ctx.outputs[0] = {ctx.inputs[0].dtype, x, nullptr};
  return Status::ok();
}

Status reference_BiasAdd(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  const Tensor& bias = *ctx.inputs[1];
  Tensor& out = *ctx.outputs[0];
  int64_t axis = ctx.node.attributes.get_int("axis", -1);
  if (axis < 0) axis += static_cast<int64_t>(x.rank());
  switch (x.dtype()) {
    case DType::kFloat32: bias_add<float>(x, bias, out, axis); break;
    case DType::kInt32: bias_add<int32_t>(x, bias, out, axis); break;
    case DType::kInt64: bias_add<int64_t>(x, bias, out, axis); break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(x.dtype())));
  }
  return Status::ok();
}

// ---- Add, Sub, Mul, Div ----------------------------------------------------------

Status prepare_Add(PrepareContext& ctx) { return prepare_arith(ctx); }
Status reference_Add(EvalContext& ctx) { return eval_arith(ctx, AddOp()); }

Status prepare_Sub(PrepareContext& ctx) { return prepare_arith(ctx); }
Status reference_Sub(EvalContext& ctx) { return eval_arith(ctx, SubOp()); }

Status prepare_Mul(PrepareContext& ctx) { return prepare_arith(ctx); }
Status reference_Mul(EvalContext& ctx) { return eval_arith(ctx, MulOp()); }

Status prepare_Div(PrepareContext& ctx) { return prepare_arith(ctx); }
Status reference_Div(EvalContext& ctx) { return eval_arith(ctx, DivOp()); }

// ---- Max, Min (variadic) ---------------------------------------------------------

Status prepare_Max(PrepareContext& ctx) { return prepare_variadic(ctx); }
Status reference_Max(EvalContext& ctx) { return eval_variadic(ctx, MaxOp()); }

Status prepare_Min(PrepareContext& ctx) { return prepare_variadic(ctx); }
Status reference_Min(EvalContext& ctx) { return eval_variadic(ctx, MinOp()); }

// ---- Equal -------------------------------------------------------------------------

Status prepare_Equal(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 2));
  NNFI_RETURN_IF_ERROR(expect_one_output(ctx));
  NNFI_RETURN_IF_ERROR(expect_same_dtype(
      ctx, [](DType dtype) { return is_arith_dtype(dtype) || dtype == DType::kBool; },
      "float32, int32, int64 or bool"));
  return prepare_broadcast(ctx, DType::kBool);
}

Status reference_Equal(EvalContext& ctx) {
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  Tensor& out = *ctx.outputs[0];
  switch (a.dtype()) {
    case DType::kFloat32: broadcast_binary<float, bool>(a, b, out, EqualOp()); break;
    case DType::kInt32: broadcast_binary<int32_t, bool>(a, b, out, EqualOp()); break;
    case DType::kInt64: broadcast_binary<int64_t, bool>(a, b, out, EqualOp()); break;
    case DType::kBool: broadcast_binary<uint8_t, bool>(a, b, out, EqualBoolOp()); break;
    default: return internal_error("unexpected dtype " + std::string(dtype_name(a.dtype())));
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
