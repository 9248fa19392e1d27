// Reference kernel GlobalMaxPool: channels first and channels last, NaN, and
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
using testing::values_of;
using testing::with;

TEST(GlobalMaxPool, ChannelsFirst) {
  // (1, 2, 2, 2): channel 0 = [1, -5, 3, 2], channel 1 = [-1, -2, -kInf, -0.5]
  Tensor y =
      run1(OpType::kGlobalMaxPool, {floats({1, -5, 3, 2, -1, -2, -kInf, -0.5f}, {1, 2, 2, 2})});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{3, -0.5f}));
}

TEST(GlobalMaxPool, ChannelsLast) {
  // (2, 2, 1, 2) NHWC: image 0 pixels (1, 10), (4, -3); image 1 (0, 0), (-1, 5)
  Tensor y = run1(OpType::kGlobalMaxPool, {floats({1, 10, 4, -3, 0, 0, -1, 5}, {2, 2, 1, 2})},
                  with("channels_last", int64_t{1}));
  EXPECT_EQ(y.shape(), (Shape{2, 1, 1, 2}));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{4, 10, 0, 5}));
}

TEST(GlobalMaxPool, NaNAnywhereGivesNaN) {
  for (int position = 0; position < 3; ++position) {
    std::vector<float> values = {1, 2, 3};
    values[static_cast<size_t>(position)] = kNaN;
    Tensor y = run1(OpType::kGlobalMaxPool, {floats(values, {1, 1, 3})});
    EXPECT_TRUE(std::isnan(y.data<float>()[0])) << position;
    Tensor z = run1(OpType::kGlobalMaxPool, {floats(values, {1, 3, 1})},
                    with("channels_last", int64_t{1}));
    EXPECT_TRUE(std::isnan(z.data<float>()[0])) << position;
  }
}

TEST(GlobalMaxPool, RejectsRankTwo) {
  std::string error = prepare_error(OpType::kGlobalMaxPool, {floats({1, 2}, {1, 2})});
  EXPECT_TRUE(contains(error, "expected rank >= 3")) << error;
}

TEST(GlobalMaxPool, RejectsBadChannelsLast) {
  std::string error = prepare_error(OpType::kGlobalMaxPool, {floats({1, 2}, {1, 1, 2})},
                                    with("channels_last", int64_t{2}));
  EXPECT_TRUE(contains(error, "channels_last")) << error;
}

}  // namespace
}  // namespace nnfi
