// Reference kernels: MatMul (numpy semantics) and Gemm.
//
// Every output element is sum over k = 0..K-1 in this order of a[m, k] * b[k, n],
// accumulated in float32 from 0; Gemm then computes alpha * sum + beta * c.
// The order does not depend on transposes, the batch size or the batch row.
#include <algorithm>
#include <string>

#include "kernels/kernel.h"

namespace nnfi::kernels {
namespace {

// A matrix view: element (i, j) is data[i * row_stride + j * col_stride].
struct MatrixView {
  const float* data;
  int64_t row_stride;
  int64_t col_stride;
  float at(int64_t i, int64_t j) const { return data[i * row_stride + j * col_stride]; }
};

// y (M, N, dense) = a (M, K) * b (K, N).
void matmul_2d(MatrixView a, MatrixView b, int64_t m_size, int64_t n_size, int64_t k_size,
               float* y) {
  if (b.col_stride == 1) {
    // Stream rows of b into a row of y: vectorises over n.
    for (int64_t m = 0; m < m_size; ++m) {
      float* y_row = y + m * n_size;
      std::fill(y_row, y_row + n_size, 0.0f);
      for (int64_t k = 0; k < k_size; ++k) {
        const float a_mk = a.at(m, k);
        const float* b_row = b.data + k * b.row_stride;
        for (int64_t n = 0; n < n_size; ++n) y_row[n] += a_mk * b_row[n];
      }
    }
    return;
  }
  // b is transposed in memory (columns contiguous): several independent dot
  // products at once, each still summed in k order.
  constexpr int64_t kBlock = 8;
  for (int64_t m = 0; m < m_size; ++m) {
    float* y_row = y + m * n_size;
    for (int64_t n0 = 0; n0 < n_size; n0 += kBlock) {
      const int64_t count = std::min(kBlock, n_size - n0);
      float acc[kBlock] = {};
      for (int64_t k = 0; k < k_size; ++k) {
        const float a_mk = a.at(m, k);
        for (int64_t j = 0; j < count; ++j) acc[j] += a_mk * b.at(k, n0 + j);
      }
      std::copy(acc, acc + count, y_row + n0);
    }
  }
}

// MatMul's operands as batches of matrices; a 1-D A is (1, K), a 1-D B (K, 1).
struct MatMulDims {
  int64_t m = 1;
  int64_t n = 1;
  int64_t k = 1;
  size_t batch_rank = 0;  // output batch dims
};

int64_t batch_dim(const Shape& shape, size_t batch_rank, size_t d) {
  // Batch dims are right-aligned; missing ones are 1.
  const size_t own = shape.size() > 2 ? shape.size() - 2 : 0;
  const size_t missing = batch_rank - own;
  return d < missing ? 1 : shape[d - missing];
}

MatMulDims matmul_dims(const Shape& a, const Shape& b) {
  MatMulDims dims;
  dims.m = a.size() >= 2 ? a[a.size() - 2] : 1;
  dims.k = a.back();
  dims.n = b.size() >= 2 ? b.back() : 1;
  dims.batch_rank = std::max(a.size(), b.size());
  dims.batch_rank = dims.batch_rank > 2 ? dims.batch_rank - 2 : 0;
  return dims;
}

}  // namespace

Status prepare_MatMul(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 2));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(1, DType::kFloat32));
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  if (a.empty() || b.empty()) {
    return ctx.error("A " + shape_to_string(a) + " and B " + shape_to_string(b) +
                     " must both have rank >= 1");
  }
  const int64_t b_k = b.size() >= 2 ? b[b.size() - 2] : b[0];
  if (a.back() != b_k) {
    return ctx.error("A " + shape_to_string(a) + " has " + std::to_string(a.back()) +
                     " columns but B " + shape_to_string(b) + " has " + std::to_string(b_k) +
                     " rows: expected them equal");
  }
  const MatMulDims dims = matmul_dims(a, b);
  Shape y;
  for (size_t d = 0; d < dims.batch_rank; ++d) {
    const int64_t a_dim = batch_dim(a, dims.batch_rank, d);
    const int64_t b_dim = batch_dim(b, dims.batch_rank, d);
    if (a_dim != b_dim && a_dim != 1 && b_dim != 1) {
      return ctx.error("batch dims of A " + shape_to_string(a) + " and B " + shape_to_string(b) +
                       " do not broadcast: " + std::to_string(a_dim) + " vs " +
                       std::to_string(b_dim));
    }
    y.push_back(a_dim == 1 ? b_dim : a_dim);
  }
  if (a.size() >= 2) y.push_back(dims.m);
  if (b.size() >= 2) y.push_back(dims.n);
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  ctx.outputs[0] = {DType::kFloat32, y, nullptr};
  return Status::ok();
}

Status reference_MatMul(EvalContext& ctx) {
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  Tensor& y = *ctx.outputs[0];
  const MatMulDims dims = matmul_dims(a.shape(), b.shape());
  int64_t batches = 1;
  for (size_t d = 0; d < dims.batch_rank; ++d) batches *= y.dim(d);
  const int64_t a_matrix = dims.m * dims.k;
  const int64_t b_matrix = dims.k * dims.n;
  const int64_t y_matrix = dims.m * dims.n;
  for (int64_t batch = 0; batch < batches; ++batch) {
    // Offsets of this batch's matrices, broadcasting dims of size 1.
    int64_t rest = batch;
    int64_t a_index = 0;
    int64_t b_index = 0;
    int64_t a_stride = 1;
    int64_t b_stride = 1;
    for (size_t d = dims.batch_rank; d-- > 0;) {
      const int64_t out_dim = y.dim(d);
      const int64_t i = rest % out_dim;
      rest /= out_dim;
      const int64_t a_dim = batch_dim(a.shape(), dims.batch_rank, d);
      const int64_t b_dim = batch_dim(b.shape(), dims.batch_rank, d);
      if (a_dim != 1) a_index += i * a_stride;
      if (b_dim != 1) b_index += i * b_stride;
      a_stride *= a_dim;
      b_stride *= b_dim;
    }
    MatrixView a_view{a.data<float>() + a_index * a_matrix, dims.k, 1};
    MatrixView b_view{b.data<float>() + b_index * b_matrix, dims.n, 1};
    matmul_2d(a_view, b_view, dims.m, dims.n, dims.k, y.data<float>() + batch * y_matrix);
  }
  return Status::ok();
}

Status prepare_Gemm(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(2, 3));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(1, DType::kFloat32));
  const Shape& a = ctx.inputs[0].shape;
  const Shape& b = ctx.inputs[1].shape;
  if (a.size() != 2) return ctx.error("A has shape " + shape_to_string(a) + ", expected rank 2");
  if (b.size() != 2) return ctx.error("B has shape " + shape_to_string(b) + ", expected rank 2");
  const int64_t trans_a = ctx.node.attributes.get_int("transA", 0);
  const int64_t trans_b = ctx.node.attributes.get_int("transB", 0);
  if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1)) {
    return ctx.error("transA " + std::to_string(trans_a) + ", transB " + std::to_string(trans_b) +
                     ": expected 0 or 1");
  }
  const int64_t m = trans_a ? a[1] : a[0];
  const int64_t k = trans_a ? a[0] : a[1];
  const int64_t b_k = trans_b ? b[1] : b[0];
  const int64_t n = trans_b ? b[0] : b[1];
  if (k != b_k) {
    return ctx.error("A " + shape_to_string(a) + " (transA " + std::to_string(trans_a) +
                     ") gives K = " + std::to_string(k) + " but B " + shape_to_string(b) +
                     " (transB " + std::to_string(trans_b) + ") gives K = " + std::to_string(b_k) +
                     ": expected them equal");
  }
  if (ctx.inputs.size() == 3 && ctx.inputs[2].present()) {
    NNFI_RETURN_IF_ERROR(ctx.expect_dtype(2, DType::kFloat32));
    const Shape& c = ctx.inputs[2].shape;
    bool ok = c.size() <= 2;
    if (ok && !c.empty()) ok = c.back() == 1 || c.back() == n;
    if (ok && c.size() == 2) ok = c[0] == 1 || c[0] == m;
    if (!ok) {
      return ctx.error("C has shape " + shape_to_string(c) + ", expected it to broadcast to [" +
                       std::to_string(m) + ", " + std::to_string(n) + "]");
    }
  }
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  ctx.outputs[0] = {DType::kFloat32, Shape{m, n}, nullptr};
  return Status::ok();
}

Status reference_Gemm(EvalContext& ctx) {
  const Tensor& a = *ctx.inputs[0];
  const Tensor& b = *ctx.inputs[1];
  const Tensor* c = ctx.inputs.size() == 3 ? ctx.inputs[2] : nullptr;
  Tensor& y = *ctx.outputs[0];
  const bool trans_a = ctx.node.attributes.get_int("transA", 0) != 0;
  const bool trans_b = ctx.node.attributes.get_int("transB", 0) != 0;
  const auto alpha = static_cast<float>(ctx.node.attributes.get_float("alpha", 1.0));
  const auto beta = static_cast<float>(ctx.node.attributes.get_float("beta", 1.0));
  const int64_t m = y.dim(0);
  const int64_t n = y.dim(1);
  const int64_t k = trans_a ? a.dim(0) : a.dim(1);
  // A stored (M, K) or, transposed, (K, M); likewise B.
  MatrixView a_view =
      trans_a ? MatrixView{a.data<float>(), 1, m} : MatrixView{a.data<float>(), k, 1};
  MatrixView b_view =
      trans_b ? MatrixView{b.data<float>(), 1, k} : MatrixView{b.data<float>(), n, 1};
  float* out = y.data<float>();
  matmul_2d(a_view, b_view, m, n, k, out);
  if (c == nullptr) {
    for (int64_t i = 0; i < m * n; ++i) out[i] = alpha * out[i];
    return Status::ok();
  }
  // C broadcasts to (M, N): strides 0 along its dims of size 1 (or missing).
  const Shape& c_shape = c->shape();
  const int64_t c_cols = c_shape.empty() ? 1 : c_shape.back();
  const int64_t c_rows = c_shape.size() == 2 ? c_shape[0] : 1;
  const int64_t col_stride = c_cols == 1 ? 0 : 1;
  const int64_t row_stride = c_rows == 1 ? 0 : c_cols;
  const float* c_data = c->data<float>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      out[i * n + j] = alpha * out[i * n + j] + beta * c_data[i * row_stride + j * col_stride];
    }
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
