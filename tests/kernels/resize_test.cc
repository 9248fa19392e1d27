// Reference kernel Resize: the ONNX node-test cases that feed scales at run
// time (excluded from tests/conformance for that reason) with their scales as
// plan-time constants, values copied from the ONNX test data; Keras's
// UpSampling2D on NHWC (nearest = repeat, bilinear = TF half-pixel, values
// from numpy offline); what prepare rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::contains;
using testing::floats;
using testing::kNaN;
using testing::OpRunOptions;
using testing::prepare_error;
using testing::run1;
using testing::tensors_close;
using testing::values_of;

Tensor iota(int64_t n, Shape shape) {
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  return floats(values, std::move(shape));
}

Attributes resize_attrs(const std::string& mode, const std::string& transform = "half_pixel") {
  Attributes attrs;
  attrs.set("mode", mode);
  attrs.set("coordinate_transformation_mode", transform);
  return attrs;
}

OpRunOptions constant_scales() {
  OpRunOptions options;
  options.constant_inputs = {false, true, true, true};
  return options;
}

Tensor resize_scales(const Tensor& x, std::vector<float> scales, const Attributes& attrs) {
  const auto n = static_cast<int64_t>(scales.size());
  return run1(OpType::kResize, {x, Tensor(), floats(scales, {n})}, attrs, constant_scales());
}

TEST(Resize, OnnxUpsampleScalesLinear) {
  Tensor y = resize_scales(iota(4, {1, 1, 2, 2}), {1, 1, 2, 2}, resize_attrs("linear"));
  EXPECT_TRUE(tensors_close(y, floats({1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f,
                                       3.25f, 3.5f, 3, 3.25f, 3.75f, 4},
                                      {1, 1, 4, 4})));
}

TEST(Resize, OnnxDownsampleScalesLinearAlignCorners) {
  Tensor y = resize_scales(iota(8, {1, 1, 2, 4}), {1, 1, 0.6f, 0.6f},
                           resize_attrs("linear", "align_corners"));
  EXPECT_TRUE(tensors_close(y, floats({1, 3.142857f}, {1, 1, 1, 2})));
}

TEST(Resize, OnnxDownsampleScalesNearest) {
  Tensor y = resize_scales(iota(8, {1, 1, 2, 4}), {1, 1, 0.6f, 0.6f}, resize_attrs("nearest"));
  EXPECT_EQ(values_of<float>(y), (std::vector<float>{1, 3}));
}

TEST(Resize, OnnxUpsampleScalesCubicAsymmetric) {
  Tensor y =
      resize_scales(iota(16, {1, 1, 4, 4}), {1, 1, 2, 2}, resize_attrs("cubic", "asymmetric"));
  ASSERT_EQ(y.shape(), (Shape{1, 1, 8, 8}));
  const std::vector<float> first_rows = {1,      1.40625f, 2,      2.5f,     3,      3.59375f,
                                         4,      4.09375f, 2.625f, 3.03125f, 3.625f, 4.125f,
                                         4.625f, 5.21875f, 5.625f, 5.71875f};
  for (size_t i = 0; i < first_rows.size(); ++i) {
    EXPECT_NEAR(y.data<float>()[i], first_rows[i], 1e-5) << i;
  }
  EXPECT_NEAR(y.data<float>()[63], 16.46875f, 1e-5);
}

TEST(Resize, OnnxUpsampleScalesCubicExcludeOutside) {
  Attributes attrs = resize_attrs("cubic");
  attrs.set("cubic_coeff_a", -0.5);
  attrs.set("exclude_outside", int64_t{1});
  Tensor y = resize_scales(iota(16, {1, 1, 4, 4}), {1, 1, 2, 2}, attrs);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 8, 8}));
  EXPECT_NEAR(y.data<float>()[0], 0.5588235f, 1e-5);
  EXPECT_NEAR(y.data<float>()[1], 0.8149421f, 1e-5);
  EXPECT_NEAR(y.data<float>()[9], 1.839416f, 1e-5);
  EXPECT_NEAR(y.data<float>()[27], 7.25f, 1e-5);
  EXPECT_NEAR(y.data<float>()[63], 16.44118f, 1e-4);
}

// Keras UpSampling2D((2, 2)) on NHWC (1, 2, 2, 2): nearest repeats pixels.
TEST(Resize, ChannelsLastNearestRepeats) {
  Attributes attrs = resize_attrs("nearest", "asymmetric");
  attrs.set("nearest_mode", std::string("floor"));
  Tensor y = resize_scales(iota(8, {1, 2, 2, 2}), {1, 2, 2, 1}, attrs);
  ASSERT_EQ(y.shape(), (Shape{1, 4, 4, 2}));
  // Row 0: pixels (0,0) (0,0) (0,1) (0,1), channels interleaved.
  EXPECT_EQ(values_of<float>(y)[0], 1.0f);
  EXPECT_EQ(values_of<float>(y)[1], 2.0f);
  EXPECT_EQ(values_of<float>(y)[2], 1.0f);
  EXPECT_EQ(values_of<float>(y)[4], 3.0f);
  EXPECT_EQ(values_of<float>(y)[8], 1.0f);   // row 1 repeats row 0
  EXPECT_EQ(values_of<float>(y)[16], 5.0f);  // row 2 is input row 1
}

// tf.image.resize bilinear (half_pixel_centers) of channel 0 = [[1, 3], [5, 7]]
// to 4x4, computed offline with numpy.
TEST(Resize, ChannelsLastBilinearMatchesTf) {
  Tensor y = resize_scales(iota(8, {1, 2, 2, 2}), {1, 2, 2, 1}, resize_attrs("linear"));
  ASSERT_EQ(y.shape(), (Shape{1, 4, 4, 2}));
  const std::vector<float> channel0 = {1, 1.5f, 2.5f, 3, 2, 2.5f, 3.5f, 4,
                                       4, 4.5f, 5.5f, 6, 5, 5.5f, 6.5f, 7};
  for (size_t i = 0; i < channel0.size(); ++i) {
    EXPECT_NEAR(y.data<float>()[2 * i], channel0[i], 1e-6) << i;
    EXPECT_NEAR(y.data<float>()[2 * i + 1], channel0[i] + 1, 1e-6) << i;
  }
}

TEST(Resize, SizesInputAndNaNStaysLocal) {
  Tensor x = floats({1, 2, 3, kNaN}, {1, 1, 1, 4});
  Tensor sizes = Tensor::from_vector<int64_t>({1, 1, 1, 8}, {4});
  Tensor y = run1(OpType::kResize, {x, Tensor(), Tensor(), sizes}, resize_attrs("linear"),
                  constant_scales());
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 8}));
  EXPECT_EQ(y.data<float>()[0], 1.0f);
  EXPECT_FALSE(std::isnan(y.data<float>()[4]));  // between 2 and 3
  EXPECT_TRUE(std::isnan(y.data<float>()[7]));
}

TEST(Resize, RejectsBothScalesAndSizes) {
  std::string error =
      prepare_error(OpType::kResize, {iota(4, {1, 1, 2, 2}), Tensor(), floats({1, 1, 2, 2}, {4}),
                                      Tensor::from_vector<int64_t>({1, 1, 4, 4}, {4})});
  EXPECT_TRUE(contains(error, "exactly one of scales")) << error;
}

TEST(Resize, RejectsWrongScaleCount) {
  std::string error =
      prepare_error(OpType::kResize, {iota(4, {1, 1, 2, 2}), Tensor(), floats({2, 2}, {2})});
  EXPECT_TRUE(contains(error, "one value per axis")) << error;
}

TEST(Resize, RejectsNonPositiveScale) {
  std::string error =
      prepare_error(OpType::kResize, {iota(4, {1, 1, 2, 2}), Tensor(), floats({1, 1, 0, 2}, {4})});
  EXPECT_TRUE(contains(error, "expected a finite value > 0")) << error;
}

TEST(Resize, RejectsUnknownMode) {
  Attributes attrs = resize_attrs("area");
  std::string error = prepare_error(
      OpType::kResize, {iota(4, {1, 1, 2, 2}), Tensor(), floats({1, 1, 2, 2}, {4})}, attrs);
  EXPECT_TRUE(contains(error, "mode must be")) << error;
}

TEST(Resize, RejectsRunTimeScales) {
  auto result = testing::run_single_op(OpType::kResize,
                                       {iota(4, {1, 1, 2, 2}), Tensor(), floats({1, 1, 2, 2}, {4})},
                                       resize_attrs("linear"));
  ASSERT_FALSE(result.has_value());
  EXPECT_TRUE(contains(result.status().message(), "constant known at plan time"));
}

}  // namespace
}  // namespace nnfi
