// The oneDNN MatMul and Gemm kernels against the reference kernels on random
// shapes from a fixed seed: batch dims and broadcasting, vectors, constant and
// computed B, Gemm's transA/transB, alpha, beta and every shape of C, row
// counts on both sides of the 16-row block.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/fast/fast_kernels.h"
#include "kernels/fast/onednn_common.h"
#include "kernels/fast_test_support.h"
#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::pick;
using testing::random_tensor;
using testing::tensors_close;

constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;

void expect_fast_matches_reference(OpType op, const std::vector<Tensor>& inputs,
                                   const Attributes& attrs, const std::vector<bool>& constant,
                                   const std::string& text) {
  SCOPED_TRACE(text);
  auto reference = testing::run_reference_op(op, inputs, attrs);
  ASSERT_TRUE(reference.has_value()) << reference.status().message();
  auto fast = testing::run_fast_op(op, inputs, attrs, constant);
  ASSERT_TRUE(fast.has_value()) << fast.status().message();
  EXPECT_TRUE(tensors_close(*fast, *reference, kRtol, kAtol));
}

TEST(FastMatMulTest, MatchesReferenceWithConstantMatrixB) {
  // The Dense-layer case: rows of A (any batch dims) times one packed B.
  std::mt19937 engine(7);
  for (uint32_t i = 0; i < 30; ++i) {
    const int64_t k = pick(engine, 1, 80);
    const int64_t n = pick(engine, 1, 70);
    Shape a_shape;
    const int64_t batch_rank = pick(engine, 0, 2);
    for (int64_t d = 0; d < batch_rank; ++d) a_shape.push_back(pick(engine, 1, 4));
    a_shape.push_back(pick(engine, 1, 40));
    a_shape.push_back(k);
    std::vector<Tensor> inputs = {random_tensor(a_shape, 100 + i), random_tensor({k, n}, 200 + i)};
    expect_fast_matches_reference(OpType::kMatMul, inputs, {}, {false, true},
                                  "A " + shape_to_string(a_shape) + " B [" + std::to_string(k) +
                                      ", " + std::to_string(n) + "]");
  }
}

TEST(FastMatMulTest, MatchesReferenceWithBatchedAndBroadcastOperands) {
  std::mt19937 engine(8);
  for (uint32_t i = 0; i < 30; ++i) {
    const int64_t m = pick(engine, 1, 20);
    const int64_t k = pick(engine, 1, 40);
    const int64_t n = pick(engine, 1, 30);
    const int64_t rank = pick(engine, 1, 2);
    Shape a_shape;
    Shape b_shape;
    for (int64_t d = 0; d < rank; ++d) {
      const int64_t size = pick(engine, 2, 3);
      switch (pick(engine, 0, 2)) {  // both, A broadcast, B broadcast
        case 0:
          a_shape.push_back(size);
          b_shape.push_back(size);
          break;
        case 1:
          a_shape.push_back(1);
          b_shape.push_back(size);
          break;
        default:
          a_shape.push_back(size);
          b_shape.push_back(1);
          break;
      }
    }
    if (pick(engine, 0, 2) == 0) a_shape.erase(a_shape.begin());  // lower rank broadcasts too
    a_shape.insert(a_shape.end(), {m, k});
    b_shape.insert(b_shape.end(), {k, n});
    std::vector<Tensor> inputs = {random_tensor(a_shape, 300 + i), random_tensor(b_shape, 400 + i)};
    const bool b_constant = pick(engine, 0, 1) == 1;
    expect_fast_matches_reference(OpType::kMatMul, inputs, {}, {false, b_constant},
                                  "A " + shape_to_string(a_shape) + " B " +
                                      shape_to_string(b_shape) + " B constant " +
                                      std::to_string(b_constant));
  }
}

TEST(FastMatMulTest, MatchesReferenceWithVectorOperands) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{7}, {7, 5}}, {{3, 7}, {7}}, {{2, 3, 7}, {7}}, {{7}, {2, 7, 5}}, {{7}, {7}}};
  uint32_t seed = 500;
  for (const auto& [a_shape, b_shape] : cases) {
    for (bool b_constant : {false, true}) {
      std::vector<Tensor> inputs = {random_tensor(a_shape, seed++), random_tensor(b_shape, seed++)};
      expect_fast_matches_reference(
          OpType::kMatMul, inputs, {}, {false, b_constant},
          "A " + shape_to_string(a_shape) + " B " + shape_to_string(b_shape));
    }
  }
}

TEST(FastGemmTest, MatchesReferenceOnRandomShapes) {
  std::mt19937 engine(9);
  for (uint32_t i = 0; i < 60; ++i) {
    const int64_t m = pick(engine, 1, 40);
    const int64_t k = pick(engine, 1, 60);
    const int64_t n = pick(engine, 1, 50);
    const bool trans_a = pick(engine, 0, 1) == 1;
    const bool trans_b = pick(engine, 0, 1) == 1;
    Attributes attrs;
    attrs.set("transA", static_cast<int64_t>(trans_a));
    attrs.set("transB", static_cast<int64_t>(trans_b));
    if (pick(engine, 0, 1) == 1) attrs.set("alpha", pick(engine, 0, 1) == 1 ? 0.5 : -1.25);
    if (pick(engine, 0, 1) == 1) attrs.set("beta", pick(engine, 0, 1) == 1 ? 2.0 : 0.0);
    // C: absent, scalar, (1), (n), (1, n), (m, 1), (m, n), (1, 1).
    Shape c_shape;
    const int64_t c_kind = pick(engine, 0, 7);
    switch (c_kind) {
      case 2: c_shape = {1}; break;
      case 3: c_shape = {n}; break;
      case 4: c_shape = {1, n}; break;
      case 5: c_shape = {m, 1}; break;
      case 6: c_shape = {m, n}; break;
      case 7: c_shape = {1, 1}; break;
      default: break;
    }
    std::vector<Tensor> inputs = {random_tensor(trans_a ? Shape{k, m} : Shape{m, k}, 600 + i),
                                  random_tensor(trans_b ? Shape{n, k} : Shape{k, n}, 700 + i),
                                  c_kind == 0 ? Tensor() : random_tensor(c_shape, 800 + i)};
    const bool b_constant = pick(engine, 0, 3) != 0;
    const bool c_constant = pick(engine, 0, 1) == 1;
    expect_fast_matches_reference(
        OpType::kGemm, inputs, attrs, {false, b_constant, c_constant},
        "m " + std::to_string(m) + " k " + std::to_string(k) + " n " + std::to_string(n) +
            " transA " + std::to_string(trans_a) + " transB " + std::to_string(trans_b) +
            " alpha " + std::to_string(attrs.get_float("alpha", 1)) + " beta " +
            std::to_string(attrs.get_float("beta", 1)) + " C " +
            (c_kind == 0 ? std::string("none") : shape_to_string(c_shape)) + " B constant " +
            std::to_string(b_constant) + " C constant " + std::to_string(c_constant));
  }
}

TEST(FastGemmTest, MatchesReferenceOnDenseLayerShape) {
  // Keras Dense / ONNX classifier head: (32, 512) x (512, 43)^T + bias.
  Attributes attrs;
  attrs.set("transB", int64_t{1});
  std::vector<Tensor> inputs = {random_tensor({32, 512}, 1), random_tensor({43, 512}, 2),
                                random_tensor({43}, 3)};
  expect_fast_matches_reference(OpType::kGemm, inputs, attrs, {false, true, true}, "dense");
}

TEST(FastGemmTest, PlanUsesFastKernelAndAgreesBitwise) {
  Attributes attrs;
  attrs.set("alpha", 0.75);
  std::vector<Tensor> inputs = {random_tensor({20, 30}, 4), random_tensor({30, 9}, 5),
                                random_tensor({20, 9}, 6)};
  testing::OpRunOptions options;
  options.use_fast_kernels = true;
  options.constant_inputs = {false, true, true};
  auto planned = testing::run_single_op(OpType::kGemm, inputs, attrs, 1, options);
  ASSERT_TRUE(planned.has_value()) << planned.status().message();
  auto direct = testing::run_fast_op(OpType::kGemm, inputs, attrs, {false, true, true});
  ASSERT_TRUE(direct.has_value()) << direct.status().message();
  EXPECT_TRUE((*planned)[0].bitwise_equal(*direct));
}

TEST(FastMatMulTest, RejectsIntegerOperands) {
  // prepare rejects these too; the factory must not rely on it.
  Node node;
  node.op = OpType::kMatMul;
  std::vector<kernels::TensorInfo> inputs = {{DType::kInt32, {2, 3}, nullptr},
                                             {DType::kInt32, {3, 4}, nullptr}};
  std::vector<kernels::TensorInfo> outputs = {{DType::kInt32, {2, 4}, nullptr}};
  EXPECT_EQ(kernels::create_onednn_matmul(node, inputs, outputs), nullptr);
}

TEST(FastGemmTest, RejectsMismatchedInnerDims) {
  Node node;
  node.op = OpType::kGemm;
  std::vector<kernels::TensorInfo> inputs = {{DType::kFloat32, {2, 3}, nullptr},
                                             {DType::kFloat32, {5, 4}, nullptr}};
  std::vector<kernels::TensorInfo> outputs = {{DType::kFloat32, {2, 4}, nullptr}};
  EXPECT_EQ(kernels::create_onednn_gemm(node, inputs, outputs), nullptr);
}

TEST(FastMatMulTest, RejectsEmptyRowsAndPlanFallsBackToReference) {
  std::vector<Tensor> inputs = {Tensor(DType::kFloat32, {0, 3}), random_tensor({3, 4}, 7)};
  auto built = testing::build_fast_kernel(OpType::kMatMul, inputs, {}, {false, true});
  ASSERT_TRUE(built.has_value()) << built.status().message();
  EXPECT_EQ(built->kernel, nullptr);
  testing::OpRunOptions options;
  options.use_fast_kernels = true;
  options.constant_inputs = {false, true};
  auto planned = testing::run_single_op(OpType::kMatMul, inputs, {}, 1, options);
  ASSERT_TRUE(planned.has_value()) << planned.status().message();
  EXPECT_EQ((*planned)[0].shape(), (Shape{0, 4}));
}

TEST(SharedPackedConstantTest, OneCopyPerConstantAndLayoutWhileHeld) {
  // Plans of one model at several batch sizes ask for the same packed weights.
  using dnnl::memory;
  const Tensor weights = random_tensor({64, 48}, 31);
  const memory::desc plain({64, 48}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc transposed({64, 48}, memory::data_type::f32, memory::format_tag::ba);
  auto first = kernels::onednn::shared_packed_constant(weights, plain, transposed);
  auto again = kernels::onednn::shared_packed_constant(weights, plain, transposed);
  EXPECT_EQ(first.get(), again.get());
  // The values were really packed: element (row, col) sits at col * 64 + row.
  const float* packed = static_cast<const float*>(first->get_data_handle());
  EXPECT_EQ(packed[5 * 64 + 3], weights.data<float>()[3 * 48 + 5]);

  // Another layout, or another tensor with equal values, is another copy.
  auto plain_copy = kernels::onednn::shared_packed_constant(weights, plain, plain);
  EXPECT_NE(plain_copy.get(), first.get());
  const Tensor twin = weights.clone();
  auto twin_packed = kernels::onednn::shared_packed_constant(twin, plain, transposed);
  EXPECT_NE(twin_packed.get(), first.get());

  // A storage shared by a reshaped view is the same constant.
  auto view = weights.reshaped({64, 48});
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(kernels::onednn::shared_packed_constant(*view, plain, transposed).get(), first.get());

  // Once nobody holds the packed copy it is gone; asking again packs anew.
  first.reset();
  again.reset();
  auto fresh = kernels::onednn::shared_packed_constant(weights, plain, transposed);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(static_cast<const float*>(fresh->get_data_handle())[5 * 64 + 3],
            weights.data<float>()[3 * 48 + 5]);
}

}  // namespace
}  // namespace nnfi
