// Reference kernels Selu, HardSigmoid, Softplus, Gelu: golden values (numpy
// float64 formulas evaluated offline and hard-coded), NaN/Inf propagation and
// what prepare rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::contains;
using testing::floats;
using testing::kInf;
using testing::kNaN;
using testing::prepare_error;
using testing::run1;
using testing::tensors_close;
using testing::with;

TEST(ActivationMore, SeluGolden) {
  // 1.0507009873554805 * (x if x > 0 else 1.6732632423543772 * expm1(x))
  Tensor y = run1(OpType::kSelu, {floats({-2, -0.5f, 0, 1, 3}, {5})});
  EXPECT_TRUE(tensors_close(y, floats({-1.5201665f, -0.6917582f, 0, 1.0507010f, 3.1521030f}, {5})));
  Attributes attrs = with("alpha", 2.0);
  attrs.set("gamma", 3.0);
  Tensor z = run1(OpType::kSelu, {floats({-1, 2}, {2})}, attrs);
  EXPECT_TRUE(tensors_close(z, floats({-3.7927234f, 6}, {2})));
}

TEST(ActivationMore, SeluPropagatesNaNAndInf) {
  Tensor y = run1(OpType::kSelu, {floats({kNaN, kInf, -kInf}, {3})});
  EXPECT_TRUE(std::isnan(y.data<float>()[0]));
  EXPECT_EQ(y.data<float>()[1], kInf);
  EXPECT_NEAR(y.data<float>()[2], -1.7580993f, 1e-6);
}

TEST(ActivationMore, SeluRejectsIntInput) {
  std::string error = prepare_error(OpType::kSelu, {Tensor::from_vector<int32_t>({1}, {1})});
  EXPECT_TRUE(contains(error, "expected float32")) << error;
}

}  // namespace
}  // namespace nnfi
