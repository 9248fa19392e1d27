// MaxPool, AveragePool and GlobalAveragePool reference kernels: golden arrays
// (values checked against PyTorch 1.13 and ONNX's node tests), ceil_mode,
// pads, count_include_pad, dilations, auto_pad, layouts, NaN, rejections.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::eval_single_op;
using testing::random_tensor;
using testing::tensors_close;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Tensor floats(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, std::move(shape));
}

Tensor ramp_4x4() {
  std::vector<float> values(16);
  for (int i = 0; i < 16; ++i) values[i] = static_cast<float>(i + 1);
  return floats(values, {1, 1, 4, 4});
}

Attributes window(std::vector<int64_t> kernel, std::vector<int64_t> strides = {},
                  std::vector<int64_t> pads = {}) {
  Attributes attrs;
  attrs.set("kernel_shape", kernel);
  if (!strides.empty()) attrs.set("strides", strides);
  if (!pads.empty()) attrs.set("pads", pads);
  return attrs;
}

Tensor run(OpType op, const Tensor& x, Attributes attrs) {
  auto result = eval_single_op(op, {x}, std::move(attrs));
  EXPECT_TRUE(result.has_value()) << result.status().message();
  return result.has_value() ? result.value()[0] : Tensor();
}

Status error(OpType op, const Tensor& x, Attributes attrs, size_t outputs = 1) {
  return testing::prepare_single_op(op, {x}, std::move(attrs), outputs).status();
}

TEST(PoolTest, MaxPoolGolden2x2Stride2) {
  EXPECT_TRUE(tensors_close(run(OpType::kMaxPool, ramp_4x4(), window({2, 2}, {2, 2})),
                            floats({6, 8, 14, 16}, {1, 1, 2, 2}), 0, 0));
}

TEST(PoolTest, CeilModeKeepsThePartialLastWindow) {
  Attributes attrs = window({3, 3}, {2, 2});
  attrs.set("ceil_mode", int64_t{1});
  EXPECT_TRUE(tensors_close(run(OpType::kMaxPool, ramp_4x4(), attrs),
                            floats({11, 12, 15, 16}, {1, 1, 2, 2}), 0, 0));
  EXPECT_TRUE(tensors_close(run(OpType::kAveragePool, ramp_4x4(), attrs),
                            floats({6, 7.5f, 12, 13.5f}, {1, 1, 2, 2}), 0, 0));
  // Without ceil_mode the partial windows are dropped.
  EXPECT_EQ(run(OpType::kMaxPool, ramp_4x4(), window({3, 3}, {2, 2})).shape(), (Shape{1, 1, 1, 1}));
}

TEST(PoolTest, AveragePoolCountIncludePad) {
  Attributes attrs = window({3, 3}, {1, 1}, {1, 1, 1, 1});
  Tensor excluded = run(OpType::kAveragePool, ramp_4x4(), attrs);
  EXPECT_EQ(excluded.shape(), (Shape{1, 1, 4, 4}));
  EXPECT_EQ(excluded.data<float>()[0], 3.5f);  // (1 + 2 + 5 + 6) / 4
  attrs.set("count_include_pad", int64_t{1});
  Tensor included = run(OpType::kAveragePool, ramp_4x4(), attrs);
  EXPECT_EQ(included.data<float>()[0], 14.0f / 9.0f);
  EXPECT_EQ(included.data<float>()[5], excluded.data<float>()[5]);  // interior: no padding
}

TEST(PoolTest, CeilModeOverhangPastThePadsIsNotCounted) {
  // 1-D [1 2 3 4], kernel 3, stride 2, pads 1: windows start at -1, 1, 3; the
  // last one reaches position 5, beyond the end pad.
  Attributes attrs = window({3}, {2}, {1, 1});
  attrs.set("ceil_mode", int64_t{1});
  Tensor x = floats({1, 2, 3, 4}, {1, 1, 4});
  EXPECT_TRUE(
      tensors_close(run(OpType::kAveragePool, x, attrs), floats({1.5f, 3, 4}, {1, 1, 3}), 0, 0));
  attrs.set("count_include_pad", int64_t{1});
  EXPECT_TRUE(
      tensors_close(run(OpType::kAveragePool, x, attrs), floats({1, 3, 2}, {1, 1, 3}), 0, 0));
}

TEST(PoolTest, MaxPoolIgnoresPaddingAndHonoursDilation) {
  Tensor negative = floats({-1, -2, -3, -4}, {1, 1, 4});
  EXPECT_TRUE(tensors_close(run(OpType::kMaxPool, negative, window({2}, {1}, {1, 1})),
                            floats({-1, -1, -2, -3, -4}, {1, 1, 5}), 0, 0));
  Attributes dilated = window({2});
  dilated.set("dilations", std::vector<int64_t>{2});
  EXPECT_TRUE(tensors_close(run(OpType::kMaxPool, floats({1, 5, 2, 4, 3}, {1, 1, 5}), dilated),
                            floats({2, 5, 3}, {1, 1, 3}), 0, 0));
}

TEST(PoolTest, SameUpperAveragePoolExcludesPadLikeTensorFlow) {
  Attributes attrs = window({2}, {2});
  attrs.set("auto_pad", std::string("SAME_UPPER"));
  EXPECT_TRUE(tensors_close(run(OpType::kAveragePool, floats({1, 2, 3, 4, 5}, {1, 1, 5}), attrs),
                            floats({1.5f, 3.5f, 5}, {1, 1, 3}), 0, 0));
  attrs.set("auto_pad", std::string("SAME_LOWER"));
  EXPECT_TRUE(tensors_close(run(OpType::kMaxPool, floats({1, 2, 3, 4, 5}, {1, 1, 5}), attrs),
                            floats({1, 3, 5}, {1, 1, 3}), 0, 0));
}

TEST(PoolTest, NaNAnywhereInTheWindowGivesNaN) {
  // Windows of 2: [NaN 1] [2 NaN] [3 -Inf] [Inf 4].
  Tensor x = floats({kNaN, 1, 2, kNaN, 3, -kInf, kInf, 4}, {1, 1, 8});
  Tensor max = run(OpType::kMaxPool, x, window({2}, {2}));
  EXPECT_TRUE(std::isnan(max.data<float>()[0]));
  EXPECT_TRUE(std::isnan(max.data<float>()[1]));
  EXPECT_EQ(max.data<float>()[2], 3.0f);
  EXPECT_EQ(max.data<float>()[3], kInf);
  Tensor avg = run(OpType::kAveragePool, x, window({2}, {2}));
  EXPECT_TRUE(std::isnan(avg.data<float>()[0]));
  EXPECT_TRUE(std::isnan(avg.data<float>()[1]));
  EXPECT_EQ(avg.data<float>()[2], -kInf);
  EXPECT_EQ(avg.data<float>()[3], kInf);
}

// (N, C, H, W) -> (N, H, W, C).
Tensor to_channels_last(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), p = x.num_elements() / (n * c);
  Shape shape{n};
  for (size_t d = 2; d < x.rank(); ++d) shape.push_back(x.dim(d));
  shape.push_back(c);
  Tensor y(DType::kFloat32, shape);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t q = 0; q < p; ++q)
        y.data<float>()[(i * p + q) * c + ch] = x.data<float>()[(i * c + ch) * p + q];
  return y;
}

TEST(PoolTest, ChannelsLastGivesTheSameBits) {
  Tensor x = random_tensor({2, 5, 7, 6}, 41);
  for (OpType op : {OpType::kMaxPool, OpType::kAveragePool, OpType::kGlobalAveragePool}) {
    Attributes attrs;
    if (op != OpType::kGlobalAveragePool) {
      attrs = window({3, 2}, {2, 1}, {1, 0, 1, 1});
      attrs.set("ceil_mode", int64_t{1});
    }
    Tensor first = run(op, x, attrs);
    attrs.set("channels_last", int64_t{1});
    Tensor last = run(op, to_channels_last(x), attrs);
    EXPECT_TRUE(last.bitwise_equal(to_channels_last(first))) << op_type_name(op);
  }
}

TEST(PoolTest, GlobalAveragePoolKeepsDims) {
  Tensor x = floats({1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2});
  EXPECT_TRUE(tensors_close(run(OpType::kGlobalAveragePool, x, {}),
                            floats({2.5f, 25}, {1, 2, 1, 1}), 0, 0));
  Attributes last;
  last.set("channels_last", int64_t{1});
  Tensor y = run(OpType::kGlobalAveragePool, random_tensor({3, 4, 4, 8}, 5), last);
  EXPECT_EQ(y.shape(), (Shape{3, 1, 1, 8}));
  EXPECT_EQ(run(OpType::kGlobalAveragePool, random_tensor({2, 3, 5}, 6), {}).shape(),
            (Shape{2, 3, 1}));
}

TEST(PoolTest, RejectsMaxPoolIndicesOutput) {
  Status status = error(OpType::kMaxPool, ramp_4x4(), window({2, 2}), 2);
  EXPECT_NE(status.message().find("Indices"), std::string::npos) << status.message();
}

TEST(PoolTest, RejectsMissingOrWrongKernelShape) {
  EXPECT_NE(error(OpType::kMaxPool, ramp_4x4(), {}).message().find("kernel_shape is missing"),
            std::string::npos);
  EXPECT_NE(error(OpType::kAveragePool, ramp_4x4(), window({2})).message().find("expected 2"),
            std::string::npos);
}

TEST(PoolTest, RejectsWrongRankAndDtype) {
  EXPECT_NE(error(OpType::kMaxPool, random_tensor({1, 1, 2, 2, 2}, 1), window({1, 1, 1}))
                .message()
                .find("expected rank 3"),
            std::string::npos);
  EXPECT_FALSE(
      error(OpType::kMaxPool, Tensor(DType::kInt32, {1, 1, 4, 4}), window({2, 2})).is_ok());
  EXPECT_FALSE(error(OpType::kGlobalAveragePool, Tensor(DType::kFloat32, {2, 3}), {}).is_ok());
}

TEST(PoolTest, RejectsKernelBiggerThanInputAndPadsNotSmallerThanKernel) {
  EXPECT_NE(error(OpType::kMaxPool, ramp_4x4(), window({5, 5})).message().find("larger than"),
            std::string::npos);
  EXPECT_NE(error(OpType::kAveragePool, ramp_4x4(), window({2, 2}, {}, {2, 0, 0, 0}))
                .message()
                .find("not smaller than the kernel extent"),
            std::string::npos);
  Attributes bad = window({2, 2});
  bad.set("count_include_pad", int64_t{3});
  EXPECT_FALSE(error(OpType::kAveragePool, ramp_4x4(), bad).is_ok());
  Attributes zero_stride = window({2, 2}, {0, 1});
  EXPECT_FALSE(error(OpType::kMaxPool, ramp_4x4(), zero_stride).is_ok());
}

}  // namespace
}  // namespace nnfi
