// Reference kernels BiasAdd, Add, Sub, Mul, Div, Max, Min, Equal: golden values,
// broadcasting, NaN/Inf propagation and what prepare rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/op_runner.h"
#include "kernels/reference/broadcast.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::contains;
using testing::eval_single_op;
using testing::floats;
using testing::kInf;
using testing::kNaN;
using testing::prepare_error;
using testing::prepare_single_op;
using testing::run1;
using testing::run_single_op;
using testing::values_of;

// ---- broadcast.h ---------------------------------------------------------------

TEST(ElementwiseBroadcast, ShapesFollowNumpy) {
  EXPECT_EQ(*kernels::broadcast_shapes({Shape{2, 3}, Shape{3}}), (Shape{2, 3}));
  EXPECT_EQ(*kernels::broadcast_shapes({Shape{4, 1, 5}, Shape{3, 1}}), (Shape{4, 3, 5}));
  EXPECT_EQ(*kernels::broadcast_shapes({Shape{}, Shape{2}}), (Shape{2}));
  EXPECT_EQ(*kernels::broadcast_shapes({Shape{0, 1}, Shape{1, 3}}), (Shape{0, 3}));
  EXPECT_TRUE(kernels::broadcasts_to({3, 1}, {2, 3, 4}));
  EXPECT_FALSE(kernels::broadcasts_to({2, 3, 4}, {3, 4}));
  EXPECT_FALSE(kernels::broadcasts_to({5}, {3, 4}));
}

TEST(ElementwiseBroadcast, RejectsIncompatibleShapesNamingThem) {
  auto result = kernels::broadcast_shapes({Shape{2, 3}, Shape{4}});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().message(),
            "inputs of shapes [2, 3] and [4] do not broadcast (axis -1: 3 vs 4)");
}

TEST(ElementwiseBroadcast, IteratorVisitsEveryOffsetInOrder) {
  // out [2, 3, 4]; a [3, 1]; b [2, 1, 4]: compare with direct index arithmetic.
  Shape out{2, 3, 4};
  Shape a{3, 1};
  Shape b{2, 1, 4};
  kernels::BroadcastIterator<2> it(out, {&a, &b});
  std::vector<int64_t> got_a;
  std::vector<int64_t> got_b;
  for (int64_t r = 0; r < it.num_rows(); ++r, it.next_row()) {
    for (int64_t j = 0; j < it.row_size(); ++j) {
      got_a.push_back(it.offset(0) + j * it.stride(0));
      got_b.push_back(it.offset(1) + j * it.stride(1));
    }
  }
  std::vector<int64_t> want_a;
  std::vector<int64_t> want_b;
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      for (int64_t k = 0; k < 4; ++k) {
        want_a.push_back(j);
        want_b.push_back(i * 4 + k);
      }
    }
  }
  EXPECT_EQ(got_a, want_a);
  EXPECT_EQ(got_b, want_b);
}

TEST(ElementwiseBroadcast, IteratorMergesContiguousDims) {
  Shape out{2, 3, 4};
  kernels::BroadcastIterator<2> it(out, {&out, &out});
  EXPECT_EQ(it.num_rows(), 1);
  EXPECT_EQ(it.row_size(), 24);
  Shape empty{2, 0, 4};
  kernels::BroadcastIterator<1> none(empty, {&empty});
  EXPECT_EQ(none.num_rows(), 0);
}

// ---- Add, Sub, Mul, Div ----------------------------------------------------------

TEST(Elementwise, AddSubMulDivGolden) {
  Tensor a = floats({1, 2, 3, 4}, {2, 2});
  Tensor b = floats({10, 20, 30, 40}, {2, 2});
  EXPECT_EQ(values_of<float>(run1(OpType::kAdd, {a, b})), (std::vector<float>{11, 22, 33, 44}));
  EXPECT_EQ(values_of<float>(run1(OpType::kSub, {a, b})), (std::vector<float>{-9, -18, -27, -36}));
  EXPECT_EQ(values_of<float>(run1(OpType::kMul, {a, b})), (std::vector<float>{10, 40, 90, 160}));
  EXPECT_EQ(values_of<float>(run1(OpType::kDiv, {b, a})), (std::vector<float>{10, 10, 10, 10}));
}

TEST(Elementwise, AddBroadcastsRowColumnAndScalar) {
  Tensor m = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = floats({10, 20, 30}, {3});
  Tensor col = floats({100, 200}, {2, 1});
  Tensor scalar = Tensor::scalar<float>(0.5f);
  Tensor y = run1(OpType::kAdd, {m, row});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(values_of<float>(run1(OpType::kAdd, {col, m})),
            (std::vector<float>{101, 102, 103, 204, 205, 206}));
  EXPECT_EQ(values_of<float>(run1(OpType::kSub, {scalar, m})),
            (std::vector<float>{-0.5f, -1.5f, -2.5f, -3.5f, -4.5f, -5.5f}));
  // Both sides broadcast: [2, 1] + [3] -> [2, 3].
  Tensor outer = run1(OpType::kMul, {col, row});
  EXPECT_EQ(outer.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<float>(outer), (std::vector<float>{1000, 2000, 3000, 2000, 4000, 6000}));
}

TEST(Elementwise, BroadcastMatchesPerElementIndexingOnRank4) {
  Tensor a = testing::random_tensor({2, 1, 3, 4}, 1);
  Tensor b = testing::random_tensor({5, 1, 4}, 2);
  Tensor y = run1(OpType::kSub, {a, b});
  ASSERT_EQ(y.shape(), (Shape{2, 5, 3, 4}));
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  const float* py = y.data<float>();
  for (int64_t n = 0; n < 2; ++n) {
    for (int64_t c = 0; c < 5; ++c) {
      for (int64_t h = 0; h < 3; ++h) {
        for (int64_t w = 0; w < 4; ++w) {
          float want = pa[(n * 3 + h) * 4 + w] - pb[c * 4 + w];
          ASSERT_EQ(py[((n * 5 + c) * 3 + h) * 4 + w], want) << n << c << h << w;
        }
      }
    }
  }
}

TEST(Elementwise, IntegerArithmeticTruncatesAndNeverTraps) {
  Tensor a = Tensor::from_vector<int64_t>({7, -7, 5, std::numeric_limits<int64_t>::min()}, {4});
  Tensor b = Tensor::from_vector<int64_t>({2, 2, 0, -1}, {4});
  // Truncation toward zero; x / 0 = 0; min / -1 wraps to min.
  EXPECT_EQ(values_of<int64_t>(run1(OpType::kDiv, {a, b})),
            (std::vector<int64_t>{3, -3, 0, std::numeric_limits<int64_t>::min()}));
  Tensor c = Tensor::from_vector<int32_t>({std::numeric_limits<int32_t>::max(), 3}, {2});
  Tensor one = Tensor::scalar<int32_t>(1);
  EXPECT_EQ(values_of<int32_t>(run1(OpType::kAdd, {c, one})),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), 4}));
  EXPECT_EQ(values_of<int32_t>(run1(OpType::kMul, {c, c}))[1], 9);
}

TEST(Elementwise, NaNAndInfPropagate) {
  Tensor a = floats({kNaN, kInf, kInf, 1, 0}, {5});
  Tensor b = floats({1, 1, -kInf, 0, 0}, {5});
  Tensor sum = run1(OpType::kAdd, {a, b});
  EXPECT_TRUE(std::isnan(sum.data<float>()[0]));
  EXPECT_EQ(sum.data<float>()[1], kInf);
  EXPECT_TRUE(std::isnan(sum.data<float>()[2]));  // Inf + -Inf
  Tensor quotient = run1(OpType::kDiv, {a, b});
  EXPECT_EQ(quotient.data<float>()[3], kInf);          // 1 / 0
  EXPECT_TRUE(std::isnan(quotient.data<float>()[4]));  // 0 / 0
}

TEST(Elementwise, FoldsWhenAllInputsConstantAndMatchesRuntime) {
  Tensor a = Tensor::from_vector<int64_t>({2, 3}, {2});
  Tensor b = Tensor::from_vector<int64_t>({4}, {1});
  auto folded = run_single_op(OpType::kMul, {a, b}, {}, 1, {.all_constant = true});
  ASSERT_TRUE(folded.has_value()) << folded.status().message();
  EXPECT_EQ(values_of<int64_t>(folded->front()), (std::vector<int64_t>{8, 12}));
}

TEST(Elementwise, DirectEvalAgreesWithGraphRun) {
  Tensor a = testing::random_tensor({3, 4}, 3);
  Tensor b = testing::random_tensor({4}, 4);
  auto direct = eval_single_op(OpType::kDiv, {a, b});
  ASSERT_TRUE(direct.has_value()) << direct.status().message();
  EXPECT_TRUE(direct->front().bitwise_equal(run1(OpType::kDiv, {a, b})));
}

TEST(Elementwise, ResultOfARowDoesNotDependOnTheBatch) {
  Tensor batch = testing::random_tensor({8, 5}, 5);
  Tensor bias = testing::random_tensor({5}, 6);
  Tensor all = run1(OpType::kMul, {batch, bias});
  for (int64_t r = 0; r < 8; ++r) {
    Tensor row(DType::kFloat32, {1, 5});
    for (int64_t j = 0; j < 5; ++j) row.data<float>()[j] = batch.data<float>()[r * 5 + j];
    Tensor one = run1(OpType::kMul, {row, bias});
    for (int64_t j = 0; j < 5; ++j) {
      ASSERT_EQ(one.data<float>()[j], all.data<float>()[r * 5 + j]);
    }
  }
}

TEST(Elementwise, AddRejectsNonBroadcastableShapes) {
  std::string error =
      prepare_error(OpType::kAdd, {floats({1, 2, 3, 4, 5, 6}, {2, 3}), floats({1, 2, 3, 4}, {4})});
  EXPECT_TRUE(contains(error, "inputs of shapes [2, 3] and [4] do not broadcast")) << error;
  auto run =
      run_single_op(OpType::kAdd, {floats({1, 2, 3, 4, 5, 6}, {2, 3}), floats({1, 2, 3, 4}, {4})});
  ASSERT_FALSE(run.has_value());
  EXPECT_TRUE(contains(run.status().message(), "node 'op' (Add)")) << run.status().message();
}

TEST(Elementwise, AddRejectsWrongInputCount) {
  std::string error = prepare_error(OpType::kAdd, {floats({1}, {1})});
  EXPECT_TRUE(contains(error, "expected 2 inputs, got 1")) << error;
}

TEST(Elementwise, SubRejectsMixedDtypes) {
  std::string error =
      prepare_error(OpType::kSub, {floats({1}, {1}), Tensor::from_vector<int64_t>({1}, {1})});
  EXPECT_TRUE(contains(error, "input 1 has dtype int64, expected float32")) << error;
}

TEST(Elementwise, MulRejectsBoolDtype) {
  Tensor t = Tensor::from_vector<bool>({true}, {1});
  std::string error = prepare_error(OpType::kMul, {t, t});
  EXPECT_TRUE(contains(error, "dtype bool")) << error;
}

// ---- BiasAdd -------------------------------------------------------------------

TEST(Elementwise, BiasAddAlongLastAxis) {
  Tensor x = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor bias = floats({10, 20, 30}, {3});
  EXPECT_EQ(values_of<float>(run1(OpType::kBiasAdd, {x, bias})),
            (std::vector<float>{11, 22, 33, 14, 25, 36}));
}

TEST(Elementwise, BiasAddAlongChannelAxisOfNCHW) {
  Tensor x = floats({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  Tensor bias = floats({100, -100}, {2});
  Attributes attrs;
  attrs.set("axis", int64_t{1});
  EXPECT_EQ(values_of<float>(run1(OpType::kBiasAdd, {x, bias}, attrs)),
            (std::vector<float>{101, 102, 103, 104, -95, -94, -93, -92}));
}

TEST(Elementwise, BiasAddPropagatesNaNFromBias) {
  Tensor x = floats({1, 2, 3, 4}, {2, 2});
  Tensor bias = floats({kNaN, 0}, {2});
  Tensor y = run1(OpType::kBiasAdd, {x, bias});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_TRUE(std::isnan(y.data<float>()[2]));
  EXPECT_EQ(y.data<float>()[3], 4.0f);
}

TEST(Elementwise, BiasAddRejectsBiasOfWrongLength) {
  std::string error =
      prepare_error(OpType::kBiasAdd, {floats({1, 2, 3, 4, 5, 6}, {2, 3}), floats({1, 2}, {2})});
  EXPECT_TRUE(contains(error, "bias has shape [2], expected [3]")) << error;
}

TEST(Elementwise, BiasAddRejectsBadAxis) {
  Attributes attrs;
  attrs.set("axis", int64_t{2});
  std::string error = prepare_error(
      OpType::kBiasAdd, {floats({1, 2, 3, 4, 5, 6}, {2, 3}), floats({1, 2, 3}, {3})}, attrs);
  EXPECT_TRUE(contains(error, "axis 2 is out of range")) << error;
}

// ---- Max, Min ------------------------------------------------------------------

TEST(Elementwise, MaxMinVariadicWithBroadcast) {
  Tensor a = floats({1, 5, 3, 7}, {2, 2});
  Tensor b = floats({4, 2}, {2});
  Tensor c = Tensor::scalar<float>(3.5f);
  EXPECT_EQ(values_of<float>(run1(OpType::kMax, {a, b, c})), (std::vector<float>{4, 5, 4, 7}));
  EXPECT_EQ(values_of<float>(run1(OpType::kMin, {a, b, c})), (std::vector<float>{1, 2, 3, 2}));
  // The first input may be the smaller one: the output takes the broadcast shape.
  Tensor y = run1(OpType::kMax, {c, a});
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{3.5f, 5, 3.5f, 7}));
}

TEST(Elementwise, MaxWithOneInputIsIdentity) {
  Tensor a = floats({1, -2}, {2});
  EXPECT_TRUE(run1(OpType::kMax, {a}).bitwise_equal(a));
}

TEST(Elementwise, MaxMinPropagateNaNFromEitherSide) {
  Tensor a = floats({kNaN, 1, 2, -kInf}, {4});
  Tensor b = floats({0, kNaN, 3, 5}, {4});
  for (OpType op : {OpType::kMax, OpType::kMin}) {
    for (bool swap : {false, true}) {
      Tensor y = swap ? run1(op, {b, a}) : run1(op, {a, b});
      EXPECT_TRUE(std::isnan(y.data<float>()[0])) << op_type_name(op) << swap;
      EXPECT_TRUE(std::isnan(y.data<float>()[1])) << op_type_name(op) << swap;
    }
  }
  EXPECT_EQ(run1(OpType::kMax, {a, b}).data<float>()[3], 5.0f);
  EXPECT_EQ(run1(OpType::kMin, {a, b}).data<float>()[3], -kInf);
}

TEST(Elementwise, MaxIntegers) {
  Tensor a = Tensor::from_vector<int32_t>({-3, 4}, {2});
  Tensor b = Tensor::from_vector<int32_t>({2}, {1});
  EXPECT_EQ(values_of<int32_t>(run1(OpType::kMax, {a, b})), (std::vector<int32_t>{2, 4}));
}

TEST(Elementwise, MaxRejectsNoInputs) {
  std::string error = prepare_error(OpType::kMax, {});
  EXPECT_TRUE(contains(error, "at least 1 input")) << error;
}

TEST(Elementwise, MinRejectsNonBroadcastableThirdInput) {
  std::string error =
      prepare_error(OpType::kMin, {floats({1, 2}, {2}), floats({1}, {1}), floats({1, 2, 3}, {3})});
  EXPECT_TRUE(contains(error, "inputs of shapes [2], [1] and [3] do not broadcast")) << error;
}

// ---- Equal ---------------------------------------------------------------------

TEST(Elementwise, EqualBroadcastsToBool) {
  Tensor a = floats({1, 2, 3, 4}, {2, 2});
  Tensor b = floats({1, 4}, {2});
  Tensor y = run1(OpType::kEqual, {a, b});
  EXPECT_EQ(y.dtype(), DType::kBool);
  EXPECT_EQ(values_of<bool>(y), (std::vector<bool>{true, false, false, true}));
}

TEST(Elementwise, EqualNaNIsNeverEqual) {
  Tensor a = floats({kNaN, kInf}, {2});
  EXPECT_EQ(values_of<bool>(run1(OpType::kEqual, {a, a})), (std::vector<bool>{false, true}));
}

TEST(Elementwise, EqualOnIntegersAndBools) {
  Tensor a = Tensor::from_vector<int64_t>({1, 2, 3}, {3});
  Tensor b = Tensor::scalar<int64_t>(2);
  EXPECT_EQ(values_of<bool>(run1(OpType::kEqual, {a, b})), (std::vector<bool>{false, true, false}));
  Tensor p = Tensor::from_vector<bool>({true, false}, {2});
  Tensor q = Tensor::from_vector<bool>({true, true}, {2});
  // A bool byte other than 0/1 (a flipped bit) still reads as true.
  static_cast<uint8_t*>(q.raw_data())[1] = 0x81;
  EXPECT_EQ(values_of<bool>(run1(OpType::kEqual, {p, q})), (std::vector<bool>{true, false}));
  static_cast<uint8_t*>(p.raw_data())[1] = 0x02;
  EXPECT_EQ(values_of<bool>(run1(OpType::kEqual, {p, q})), (std::vector<bool>{true, true}));
}

TEST(Elementwise, EqualRejectsMixedDtypes) {
  std::string error =
      prepare_error(OpType::kEqual, {floats({1}, {1}), Tensor::from_vector<int32_t>({1}, {1})});
  EXPECT_TRUE(contains(error, "input 1 has dtype int32")) << error;
}

TEST(Elementwise, EqualRejectsNonBroadcastableShapes) {
  std::string error = prepare_error(OpType::kEqual, {floats({1, 2}, {2}), floats({1, 2, 3}, {3})});
  EXPECT_TRUE(contains(error, "do not broadcast")) << error;
}

}  // namespace
}  // namespace nnfi
