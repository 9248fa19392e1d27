// MatMul and Gemm reference kernels: golden arrays, numpy 1-D and batch
// broadcasting rules, transpose flags, NaN/Inf, rejections.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::eval_single_op;
using testing::random_tensor;
using testing::tensors_close;

Tensor floats(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, std::move(shape));
}

Tensor run(OpType op, std::vector<Tensor> inputs, Attributes attrs = {}) {
  auto result = eval_single_op(op, inputs, std::move(attrs));
  EXPECT_TRUE(result.has_value()) << result.status().message();
  return result.has_value() ? result.value()[0] : Tensor();
}

Status error(OpType op, std::vector<Tensor> inputs, Attributes attrs = {}) {
  return testing::prepare_single_op(op, inputs, std::move(attrs)).status();
}

const Tensor kA = floats({1, 2, 3, 4, 5, 6}, {2, 3});
const Tensor kB = floats({7, 8, 9, 10, 11, 12}, {3, 2});

// (M, K) x (K, N), summing k in order from 0: the documented order.
Tensor naive_matmul(const float* a, const float* b, int64_t m, int64_t n, int64_t k) {
  Tensor y(DType::kFloat32, {m, n});
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t p = 0; p < k; ++p) acc += a[i * k + p] * b[p * n + j];
      y.data<float>()[i * n + j] = acc;
    }
  }
  return y;
}

Tensor transposed(const Tensor& x) {
  Tensor y(DType::kFloat32, {x.dim(1), x.dim(0)});
  for (int64_t i = 0; i < x.dim(0); ++i) {
    for (int64_t j = 0; j < x.dim(1); ++j) {
      y.data<float>()[j * x.dim(0) + i] = x.data<float>()[i * x.dim(1) + j];
    }
  }
  return y;
}

TEST(MatMulTest, Golden2D) {
  EXPECT_TRUE(
      tensors_close(run(OpType::kMatMul, {kA, kB}), floats({58, 64, 139, 154}, {2, 2}), 0, 0));
}

TEST(MatMulTest, OneDimensionalOperandsArePromotedThenDropped) {
  Tensor v = floats({1, 2, 3}, {3});
  EXPECT_TRUE(tensors_close(run(OpType::kMatMul, {v, kB}), floats({58, 64}, {2}), 0, 0));
  EXPECT_TRUE(tensors_close(run(OpType::kMatMul, {kA, floats({1, 1, 1}, {3})}),
                            floats({6, 15}, {2}), 0, 0));
  Tensor dot = run(OpType::kMatMul, {v, floats({4, 5, 6}, {3})});
  EXPECT_EQ(dot.shape(), Shape{});
  EXPECT_EQ(dot.data<float>()[0], 32.0f);
  // A 1-D operand against a batch of matrices broadcasts over the batch.
  Tensor batch = run(OpType::kMatMul, {v, random_tensor({4, 3, 5}, 1)});
  EXPECT_EQ(batch.shape(), (Shape{4, 5}));
}

TEST(MatMulTest, BatchDimsBroadcastBitForBit) {
  Tensor a = random_tensor({2, 1, 4, 5}, 11);
  Tensor b = random_tensor({3, 5, 6}, 12);
  Tensor y = run(OpType::kMatMul, {a, b});
  ASSERT_EQ(y.shape(), (Shape{2, 3, 4, 6}));
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      Tensor expected = naive_matmul(a.data<float>() + i * 20, b.data<float>() + j * 30, 4, 6, 5);
      EXPECT_EQ(0, std::memcmp(y.data<float>() + (i * 3 + j) * 24, expected.data<float>(),
                               24 * sizeof(float)))
          << "batch " << i << ", " << j;
    }
  }
}

TEST(MatMulTest, RowsDoNotDependOnTheBatch) {
  Tensor a = random_tensor({7, 33}, 21);
  Tensor b = random_tensor({33, 17}, 22);
  Tensor all = run(OpType::kMatMul, {a, b});
  for (int64_t row = 0; row < 7; ++row) {
    Tensor one(DType::kFloat32, {1, 33});
    std::copy_n(a.data<float>() + row * 33, 33, one.data<float>());
    Tensor y = run(OpType::kMatMul, {one, b});
    EXPECT_EQ(0, std::memcmp(y.data<float>(), all.data<float>() + row * 17, 17 * sizeof(float)));
  }
}

TEST(MatMulTest, NaNAndInfPropagate) {
  Tensor a = floats({0, 0, 0, 1, 2, std::numeric_limits<float>::quiet_NaN()}, {2, 3});
  Tensor b = floats({std::numeric_limits<float>::infinity(), 1, 1, 1, 1, 1}, {3, 2});
  Tensor y = run(OpType::kMatMul, {a, b});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));  // 0 * Inf
  EXPECT_EQ(y.data<float>()[1], 0.0f);
  EXPECT_TRUE(std::isnan(y.data<float>()[2]));
  EXPECT_TRUE(std::isnan(y.data<float>()[3]));
}

TEST(MatMulTest, RejectsMismatchedInnerDims) {
  Status status = error(OpType::kMatMul, {kA, kA});
  EXPECT_NE(status.message().find("has 3 columns but B [2, 3] has 2 rows"), std::string::npos)
      << status.message();
}

TEST(MatMulTest, RejectsBatchDimsThatDoNotBroadcast) {
  Status status = error(OpType::kMatMul,
                        {Tensor(DType::kFloat32, {2, 4, 3}), Tensor(DType::kFloat32, {3, 3, 5})});
  EXPECT_NE(status.message().find("do not broadcast: 2 vs 3"), std::string::npos)
      << status.message();
}

TEST(MatMulTest, RejectsScalarsAndNonFloat) {
  EXPECT_FALSE(error(OpType::kMatMul, {Tensor::scalar(1.0f), kB}).is_ok());
  EXPECT_FALSE(error(OpType::kMatMul, {Tensor(DType::kInt32, {2, 3}), kB}).is_ok());
}

TEST(GemmTest, GoldenAlphaBetaAndRowBias) {
  Attributes attrs;
  attrs.set("alpha", 2.0);
  attrs.set("beta", 0.5);
  Tensor y = run(OpType::kGemm, {kA, kB, floats({1, 2}, {2})}, attrs);
  EXPECT_TRUE(tensors_close(y, floats({116.5f, 129, 278.5f, 309}, {2, 2}), 0, 0));
}

TEST(GemmTest, TransposeFlagsGiveTheSameBits) {
  Tensor a = random_tensor({5, 19}, 31);
  Tensor b = random_tensor({19, 11}, 32);
  Tensor c = random_tensor({5, 11}, 33);
  Attributes attrs;
  attrs.set("alpha", 0.75);
  attrs.set("beta", 1.5);
  Tensor reference = run(OpType::kGemm, {a, b, c}, attrs);
  Tensor expected = naive_matmul(a.data<float>(), b.data<float>(), 5, 11, 19);
  for (int64_t i = 0; i < 55; ++i) {
    expected.data<float>()[i] = 0.75f * expected.data<float>()[i] + 1.5f * c.data<float>()[i];
  }
  EXPECT_TRUE(reference.bitwise_equal(expected));
  for (int64_t trans_a : {0, 1}) {
    for (int64_t trans_b : {0, 1}) {
      Attributes flags = attrs;
      flags.set("transA", trans_a);
      flags.set("transB", trans_b);
      Tensor y =
          run(OpType::kGemm, {trans_a ? transposed(a) : a, trans_b ? transposed(b) : b, c}, flags);
      EXPECT_TRUE(y.bitwise_equal(reference)) << "transA " << trans_a << " transB " << trans_b;
    }
  }
}

TEST(GemmTest, CBroadcastsFromScalarColumnAndRow) {
  Tensor ab = floats({58, 64, 139, 154}, {2, 2});
  EXPECT_TRUE(tensors_close(run(OpType::kGemm, {kA, kB, Tensor::scalar(1.0f)}),
                            floats({59, 65, 140, 155}, {2, 2}), 0, 0));
  EXPECT_TRUE(tensors_close(run(OpType::kGemm, {kA, kB, floats({1, 2}, {2, 1})}),
                            floats({59, 65, 141, 156}, {2, 2}), 0, 0));
  EXPECT_TRUE(tensors_close(run(OpType::kGemm, {kA, kB, floats({1, 2}, {1, 2})}),
                            floats({59, 66, 140, 156}, {2, 2}), 0, 0));
  EXPECT_TRUE(tensors_close(run(OpType::kGemm, {kA, kB}), ab, 0, 0));
  EXPECT_TRUE(tensors_close(run(OpType::kGemm, {kA, kB, Tensor()}), ab, 0, 0));
}

TEST(GemmTest, RejectsBadShapesAndFlags) {
  EXPECT_NE(error(OpType::kGemm, {Tensor(DType::kFloat32, {2, 2, 3}), kB})
                .message()
                .find("expected rank 2"),
            std::string::npos);
  Attributes trans_b;
  trans_b.set("transB", int64_t{1});
  EXPECT_NE(error(OpType::kGemm, {kA, kB}, trans_b).message().find("gives K = 2"),
            std::string::npos);
  EXPECT_NE(error(OpType::kGemm, {kA, kB, Tensor(DType::kFloat32, {3})})
                .message()
                .find("expected it to broadcast to [2, 2]"),
            std::string::npos);
  Attributes bad;
  bad.set("transA", int64_t{2});
  EXPECT_FALSE(error(OpType::kGemm, {kA, kB}, bad).is_ok());
}

}  // namespace
}  // namespace nnfi
