// MatMul and Gemm on oneDNN. One primitive computes a block of kRowBlock rows
// (Y[rows, N] = A[rows, K] x B[K, N]) configured for one thread; the rows of
// the batch are cut into such blocks, the last one padded with zeros in
// scratch, and the blocks spread over threads (see onednn_common.h). Each
// row therefore always meets the same primitive, whatever the batch size,
// its position in the batch or the thread count. A constant B is reordered
// once at plan time; a computed B is read in place.
#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "kernels/fast/fast_kernels.h"
#include "kernels/fast/onednn_common.h"

namespace nnfi::kernels {
namespace {

using dnnl::memory;
using Tag = dnnl::memory::format_tag;

// Rows per primitive call: big enough that B is streamed a few times per
// batch of 32, small enough that a lone image wastes little.
constexpr int64_t kRowBlock = 16;

class OnednnRowMatmul : public FastKernel {
 public:
  Status eval(EvalContext& context) override;

  const char* op_name = "MatMul";
  dnnl::matmul primitive;
  memory::desc src_desc;  // (kRowBlock, k) row-major
  memory::desc weights_desc;
  memory::desc dst_desc;  // (kRowBlock, n) row-major
  memory::desc scratchpad_desc;
  std::shared_ptr<const memory> weights;  // packed constant B; null when B is read at eval
  memory bias;                            // (1, n), empty if none
  int64_t k = 0;
  int64_t n = 0;
  int64_t rows = 0;                // rows per matrix
  std::vector<int64_t> a_offsets;  // per matrix of the batch, in elements
  std::vector<int64_t> b_offsets;
  bool trans_a = false;  // Gemm: A is (k, rows)
  // Gemm: Y starts as beta * C (broadcast), the primitive adds alpha * A x B.
  bool prefill = false;
  float beta = 1.0f;
  int64_t c_row_stride = 0;
  int64_t c_col_stride = 0;
  const float* c_constant = nullptr;  // else C is read at eval (input 2)
};

Status OnednnRowMatmul::eval(EvalContext& context) {
  const float* a = context.inputs[0]->data<float>();
  const float* b = context.inputs[1]->data<float>();
  const float* c = nullptr;
  if (prefill) c = c_constant != nullptr ? c_constant : context.inputs[2]->data<float>();
  float* y = context.outputs[0]->data<float>();
  const int64_t blocks_per_matrix = (rows + kRowBlock - 1) / kRowBlock;
  const int64_t units = blocks_per_matrix * static_cast<int64_t>(a_offsets.size());
  return onednn::parallel_units(units, op_name, [&](int64_t begin, int64_t end) {
    const dnnl::engine& engine = onednn::cpu_engine();
    memory src(src_desc, engine, const_cast<float*>(a));
    memory dst(dst_desc, engine, y);
    memory wei =
        weights ? onednn::alias(*weights) : memory(weights_desc, engine, const_cast<float*>(b));
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_WEIGHTS, wei},
        {DNNL_ARG_DST, dst},
        {DNNL_ARG_SCRATCHPAD, onednn::scratchpad_memory(scratchpad_desc)}};
    if (bias) args[DNNL_ARG_BIAS] = onednn::alias(bias);
    float* src_pad = nullptr;
    float* dst_pad = nullptr;
    dnnl::stream& stream = onednn::thread_stream();
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t matrix = unit / blocks_per_matrix;
      const int64_t first = (unit % blocks_per_matrix) * kRowBlock;
      const int64_t count = std::min(kRowBlock, rows - first);
      const float* a_matrix = a + a_offsets[matrix];
      float* y_rows = y + (matrix * rows + first) * n;
      const float* a_rows = a_matrix + first * k;
      if (count < kRowBlock || trans_a) {
        if (src_pad == nullptr) {
          src_pad = static_cast<float*>(
              onednn::thread_scratch(onednn::ScratchSlot::kSource, kRowBlock * k * sizeof(float)));
        }
        if (trans_a) {  // row i of A' is column first + i of A (k, rows)
          for (int64_t j = 0; j < k; ++j) {
            for (int64_t i = 0; i < count; ++i) src_pad[i * k + j] = a_matrix[j * rows + first + i];
          }
        } else {
          std::memcpy(src_pad, a_rows, count * k * sizeof(float));
        }
        std::fill(src_pad + count * k, src_pad + kRowBlock * k, 0.0f);
        a_rows = src_pad;
      }
      float* d_rows = y_rows;
      if (count < kRowBlock) {
        if (dst_pad == nullptr) {
          dst_pad = static_cast<float*>(onednn::thread_scratch(onednn::ScratchSlot::kDestination,
                                                               kRowBlock * n * sizeof(float)));
        }
        d_rows = dst_pad;
        std::fill(dst_pad + count * n, dst_pad + kRowBlock * n, 0.0f);
      }
      if (prefill) {
        for (int64_t i = 0; i < count; ++i) {
          const float* c_row = c + (first + i) * c_row_stride;
          float* d_row = d_rows + i * n;
          for (int64_t j = 0; j < n; ++j) d_row[j] = beta * c_row[j * c_col_stride];
        }
      }
      src.set_data_handle(const_cast<float*>(a_rows));
      dst.set_data_handle(d_rows);
      if (!weights) wei.set_data_handle(const_cast<float*>(b + b_offsets[matrix]));
      primitive.execute(stream, args);
      if (count < kRowBlock) std::memcpy(y_rows, d_rows, count * n * sizeof(float));
    }
    stream.wait();
  });
}

// Builds the row-block primitive. `constant_b` (k, n), stored transposed
// (n, k) when trans_b, is packed now; nullptr means B comes at eval, plain.
// bias: n values or empty. alpha scales A x B; sum adds what Y already holds.
// activation: a fused plan's activation, applied last.
bool build_primitive(OnednnRowMatmul* kernel, const Tensor* constant_b, bool trans_b,
                     const std::vector<float>& bias, float alpha, bool sum,
                     const FusedActivation& activation) {
  const memory::dim k = kernel->k;
  const memory::dim n = kernel->n;
  try {
    onednn::SingleThreadScope single;  // configure for one thread, whatever the thread count
    const dnnl::engine& engine = onednn::cpu_engine();
    const auto f32 = memory::data_type::f32;
    kernel->src_desc = memory::desc({kRowBlock, k}, f32, Tag::ab);
    kernel->dst_desc = memory::desc({kRowBlock, n}, f32, Tag::ab);
    memory::desc plain_b({k, n}, f32, trans_b ? Tag::ba : Tag::ab);
    memory::desc weights_request =
        constant_b != nullptr ? memory::desc({k, n}, f32, Tag::any) : plain_b;
    memory::desc bias_desc;
    if (!bias.empty()) bias_desc = memory::desc({1, n}, f32, Tag::ab);
    dnnl::post_ops post_ops;
    if (alpha != 1.0f) post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, alpha, 0.0f);
    if (sum) post_ops.append_sum(1.0f);
    onednn::append_activation(activation, &post_ops);
    dnnl::primitive_attr attr = onednn::default_attr();
    attr.set_post_ops(post_ops);
    dnnl::matmul::primitive_desc primitive_desc(
        dnnl::matmul::desc(kernel->src_desc, weights_request, bias_desc, kernel->dst_desc), attr,
        engine);
    kernel->primitive = dnnl::matmul(primitive_desc);
    kernel->scratchpad_desc = primitive_desc.scratchpad_desc();
    kernel->weights_desc = primitive_desc.weights_desc();
    if (constant_b != nullptr) {
      kernel->weights = onednn::shared_packed_constant(*constant_b, plain_b, kernel->weights_desc);
    }
    if (!bias.empty()) kernel->bias = onednn::reorder_constant(bias.data(), bias_desc, bias_desc);
  } catch (const dnnl::error&) {
    return false;  // oneDNN does not cover this case: the reference kernel runs
  }
  return true;
}

std::unique_ptr<FastKernel> build_matmul(std::span<const TensorInfo> inputs,
                                         std::span<const TensorInfo> outputs,
                                         const FusedActivation& activation) {
  if (inputs.size() != 2 || outputs.size() != 1) return nullptr;
  const TensorInfo& a = inputs[0];
  const TensorInfo& b = inputs[1];
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32 ||
      outputs[0].dtype != DType::kFloat32 || a.shape.empty() || b.shape.empty()) {
    return nullptr;
  }
  // numpy: a vector A is one row (1, K), a vector B one column (K, 1); Y
  // drops those dims but its memory layout is the same.
  Shape a_shape = a.shape.size() == 1 ? Shape{1, a.shape[0]} : a.shape;
  Shape b_shape = b.shape.size() == 1 ? Shape{b.shape[0], 1} : b.shape;
  const int64_t m = a_shape[a_shape.size() - 2];
  const int64_t k = a_shape.back();
  const int64_t n = b_shape.back();
  if (b_shape[b_shape.size() - 2] != k || m <= 0 || k <= 0 || n <= 0) return nullptr;
  const Shape a_batch(a_shape.begin(), a_shape.end() - 2);
  const Shape b_batch(b_shape.begin(), b_shape.end() - 2);

  auto kernel = std::make_unique<OnednnRowMatmul>();
  kernel->op_name = "MatMul";
  kernel->k = k;
  kernel->n = n;
  const bool b_is_matrix = shape_num_elements(b_batch) == 1;
  if (b_is_matrix) {
    // One B for every row of A, whatever A's batch dims: all rows are one matrix.
    kernel->rows = shape_num_elements(a_batch) * m;
    kernel->a_offsets = {0};
    kernel->b_offsets = {0};
  } else {
    // Broadcast the batch dims (aligned right), one (m, k) x (k, n) per output matrix.
    const size_t rank = std::max(a_batch.size(), b_batch.size());
    Shape a_dims(rank - a_batch.size(), 1);
    a_dims.insert(a_dims.end(), a_batch.begin(), a_batch.end());
    Shape b_dims(rank - b_batch.size(), 1);
    b_dims.insert(b_dims.end(), b_batch.begin(), b_batch.end());
    Shape out_dims(rank);
    for (size_t d = 0; d < rank; ++d) {
      if (a_dims[d] != b_dims[d] && a_dims[d] != 1 && b_dims[d] != 1) return nullptr;
      out_dims[d] = std::max(a_dims[d], b_dims[d]);
      if (out_dims[d] <= 0) return nullptr;
    }
    const int64_t matrices = shape_num_elements(out_dims);
    std::vector<int64_t> index(rank, 0);
    for (int64_t i = 0; i < matrices; ++i) {
      int64_t a_offset = 0;
      int64_t b_offset = 0;
      for (size_t d = 0; d < rank; ++d) {
        a_offset = a_offset * a_dims[d] + (a_dims[d] == 1 ? 0 : index[d]);
        b_offset = b_offset * b_dims[d] + (b_dims[d] == 1 ? 0 : index[d]);
      }
      kernel->a_offsets.push_back(a_offset * m * k);
      kernel->b_offsets.push_back(b_offset * k * n);
      for (size_t d = rank; d-- > 0;) {  // next index, last dim fastest
        if (++index[d] < out_dims[d]) break;
        index[d] = 0;
      }
    }
    kernel->rows = m;
  }
  const int64_t matrices = static_cast<int64_t>(kernel->a_offsets.size());
  if (shape_num_elements(outputs[0].shape) != matrices * kernel->rows * n) return nullptr;
  const Tensor* constant_b = b_is_matrix ? b.constant : nullptr;
  if (!build_primitive(kernel.get(), constant_b, false, {}, 1.0f, false, activation)) {
    return nullptr;
  }
  return kernel;
}

std::unique_ptr<FastKernel> build_gemm(const Node& node, std::span<const TensorInfo> inputs,
                                       std::span<const TensorInfo> outputs,
                                       const FusedActivation& activation) {
  if (inputs.size() < 2 || inputs.size() > 3 || outputs.size() != 1) return nullptr;
  const TensorInfo& a = inputs[0];
  const TensorInfo& b = inputs[1];
  const TensorInfo* c = inputs.size() == 3 && inputs[2].present() ? &inputs[2] : nullptr;
  if (a.dtype != DType::kFloat32 || b.dtype != DType::kFloat32 ||
      outputs[0].dtype != DType::kFloat32 || a.shape.size() != 2 || b.shape.size() != 2) {
    return nullptr;
  }
  const bool trans_a = node.attributes.get_int("transA", 0) != 0;
  const bool trans_b = node.attributes.get_int("transB", 0) != 0;
  const float alpha = static_cast<float>(node.attributes.get_float("alpha", 1.0));
  const float beta = static_cast<float>(node.attributes.get_float("beta", 1.0));
  const int64_t m = trans_a ? a.shape[1] : a.shape[0];
  const int64_t k = trans_a ? a.shape[0] : a.shape[1];
  const int64_t n = trans_b ? b.shape[0] : b.shape[1];
  if ((trans_b ? b.shape[1] : b.shape[0]) != k || m <= 0 || k <= 0 || n <= 0) return nullptr;
  if (outputs[0].shape != Shape{m, n}) return nullptr;

  auto kernel = std::make_unique<OnednnRowMatmul>();
  kernel->op_name = "Gemm";
  kernel->k = k;
  kernel->n = n;
  kernel->rows = m;
  kernel->a_offsets = {0};
  kernel->b_offsets = {0};
  kernel->trans_a = trans_a;
  std::vector<float> bias;
  if (c != nullptr) {
    // C broadcasts (unidirectionally) to (m, n).
    if (c->dtype != DType::kFloat32 || c->shape.size() > 2) return nullptr;
    const int64_t c_rows = c->shape.size() == 2 ? c->shape[0] : 1;
    const int64_t c_cols = c->shape.empty() ? 1 : c->shape.back();
    if ((c_rows != 1 && c_rows != m) || (c_cols != 1 && c_cols != n)) return nullptr;
    kernel->c_row_stride = c_rows == 1 ? 0 : c_cols;
    kernel->c_col_stride = c_cols == 1 ? 0 : 1;
    kernel->beta = beta;
    if (c->constant != nullptr && c_rows == 1 && alpha == 1.0f) {
      // Y = A x B + beta * C: beta * C is a bias row.
      const float* values = c->constant->data<float>();
      for (int64_t j = 0; j < n; ++j) bias.push_back(beta * values[j * kernel->c_col_stride]);
    } else {
      kernel->prefill = true;
      if (c->constant != nullptr) kernel->c_constant = c->constant->data<float>();
    }
  }
  const Tensor* constant_b = b.constant;
  if (!build_primitive(kernel.get(), constant_b, trans_b, bias, alpha, kernel->prefill,
                       activation)) {
    return nullptr;
  }
  return kernel;
}

}  // namespace

std::unique_ptr<FastKernel> create_onednn_matmul(const Node& node,
                                                 std::span<const TensorInfo> inputs,
                                                 std::span<const TensorInfo> outputs) {
  return build_matmul(inputs, outputs, {});
}

std::unique_ptr<FastKernel> create_onednn_gemm(const Node& node, std::span<const TensorInfo> inputs,
                                               std::span<const TensorInfo> outputs) {
  return build_gemm(node, inputs, outputs, {});
}

std::unique_ptr<FastKernel> create_onednn_matmul_fused(const Node& node,
                                                       std::span<const TensorInfo> inputs,
                                                       std::span<const TensorInfo> outputs,
                                                       const FusedActivation& activation) {
  if (node.op == OpType::kGemm) return build_gemm(node, inputs, outputs, activation);
  if (node.op == OpType::kMatMul) return build_matmul(inputs, outputs, activation);
  return nullptr;
}

}  // namespace nnfi::kernels
