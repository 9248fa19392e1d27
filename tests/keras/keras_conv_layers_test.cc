// Keras convolution, dense, pooling, reshaping, padding and resampling layers
// in small models the tests write, against plain NHWC loops
// (reference_ops.h).
#include <gtest/gtest.h>

#include <limits>

#include "keras/keras_test_util.h"

namespace nnfi::testing {
namespace {

using ref::conv2d;

constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-5;

TEST_F(KerasTest, Conv2DValidWithRelu) {
  Tensor x = random_tensor({2, 6, 5, 3}, 1);
  Tensor k = random_tensor({3, 3, 3, 4}, 2), b = random_tensor({4}, 3);
  Tensor y = run_sequential({layer("Conv2D", "conv",
                                   {{"filters", 4},
                                    {"kernel_size", {3, 3}},
                                    {"strides", {1, 1}},
                                    {"padding", "valid"},
                                    {"activation", "relu"}},
                                   {{"kernel", k}, {"bias", b}})},
                            x);
  Tensor expected =
      ref::map(conv2d(x, k, b, 1, 1, 1, 1, false), [](double v) { return v > 0 ? v : 0; });
  EXPECT_TRUE(tensors_close(y, expected, kRtol, kAtol));
}

TEST_F(KerasTest, Conv2DSameStridesDilationsGroupsNoBias) {
  Tensor x = random_tensor({1, 7, 8, 4}, 4);
  Tensor k = random_tensor({3, 2, 2, 6}, 5);
  Tensor y = run_sequential({layer("Conv2D", "conv",
                                   {{"filters", 6},
                                    {"kernel_size", {3, 2}},
                                    {"strides", {2, 3}},
                                    {"padding", "same"},
                                    {"groups", 2},
                                    {"use_bias", false},
                                    {"activation", "linear"}},
                                   {{"kernel", k}})},
                            x);
  EXPECT_TRUE(tensors_close(y, conv2d(x, k, Tensor(), 2, 3, 1, 1, true, 2), kRtol, kAtol));
  Tensor kd = random_tensor({3, 3, 4, 2}, 6);
  Tensor yd = run_sequential({layer("Conv2D", "dilated",
                                    {{"filters", 2},
                                     {"kernel_size", 3},
                                     {"padding", "same"},
                                     {"dilation_rate", 2},
                                     {"use_bias", false}},
                                    {{"kernel", kd}})},
                             x);
  EXPECT_TRUE(tensors_close(yd, conv2d(x, kd, Tensor(), 1, 1, 2, 2, true), kRtol, kAtol));
}

TEST_F(KerasTest, Conv2DChannelsFirst) {
  Tensor x_nchw = random_tensor({2, 3, 5, 5}, 7);
  Tensor k = random_tensor({3, 3, 3, 2}, 8), b = random_tensor({2}, 9);
  Tensor y = run_sequential({layer("Conv2D", "conv",
                                   {{"filters", 2},
                                    {"kernel_size", 3},
                                    {"padding", "same"},
                                    {"data_format", "channels_first"}},
                                   {{"kernel", k}, {"bias", b}})},
                            x_nchw);
  Tensor expected = to_nchw(conv2d(to_nhwc(x_nchw), k, b, 1, 1, 1, 1, true));
  EXPECT_TRUE(tensors_close(y, expected, kRtol, kAtol));
}

TEST_F(KerasTest, DepthwiseConv2DWithMultiplier) {
  Tensor x = random_tensor({2, 6, 6, 3}, 10);
  Tensor k = random_tensor({3, 3, 3, 2}, 11), b = random_tensor({6}, 12);
  Tensor y = run_sequential(
      {layer(
          "DepthwiseConv2D", "dw",
          {{"kernel_size", {3, 3}}, {"strides", 2}, {"padding", "same"}, {"depth_multiplier", 2}},
          {{"depthwise_kernel", k}, {"bias", b}})},
      x);
  EXPECT_TRUE(tensors_close(y, ref::depthwise2d(x, k, b, 2, true), kRtol, kAtol));
}

TEST_F(KerasTest, SeparableConv2D) {
  Tensor x = random_tensor({1, 5, 5, 2}, 13);
  Tensor dk = random_tensor({3, 3, 2, 2}, 14), pk = random_tensor({1, 1, 4, 3}, 15);
  Tensor b = random_tensor({3}, 16);
  Tensor y =
      run_sequential({layer("SeparableConv2D", "sep",
                            {{"filters", 3},
                             {"kernel_size", 3},
                             {"padding", "valid"},
                             {"depth_multiplier", 2},
                             {"activation", "tanh"}},
                            {{"depthwise_kernel", dk}, {"pointwise_kernel", pk}, {"bias", b}})},
                     x);
  Tensor middle = ref::depthwise2d(x, dk, Tensor(), 1, false);
  Tensor expected =
      ref::map(conv2d(middle, pk, b, 1, 1, 1, 1, false), [](double v) { return std::tanh(v); });
  EXPECT_TRUE(tensors_close(y, expected, kRtol, kAtol));
}

TEST_F(KerasTest, Conv1DValidSameCausal) {
  Tensor x = random_tensor({2, 9, 3}, 17);
  Tensor k = random_tensor({3, 3, 4}, 18), b = random_tensor({4}, 19);
  for (const char* padding : {"valid", "same", "causal"}) {
    Tensor y = run_sequential(
        {layer("Conv1D", "conv1d",
               {{"filters", 4}, {"kernel_size", 3}, {"padding", padding}, {"dilation_rate", 2}},
               {{"kernel", k}, {"bias", b}})},
        x);
    EXPECT_TRUE(tensors_close(y, ref::conv1d(x, k, b, 1, 2, padding), kRtol, kAtol)) << padding;
  }
}

TEST_F(KerasTest, DenseOnRankTwoAndRankThree) {
  Tensor k = random_tensor({5, 3}, 20), b = random_tensor({3}, 21);
  auto dense = [&] {
    return layer("Dense", "dense", {{"units", 3}, {"activation", "sigmoid"}, {"use_bias", true}},
                 {{"kernel", k}, {"bias", b}});
  };
  auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  Tensor x2 = random_tensor({4, 5}, 22);
  EXPECT_TRUE(tensors_close(run_sequential({dense()}, x2), ref::map(ref::dense(x2, k, b), sigmoid),
                            kRtol, kAtol));
  Tensor x3 = random_tensor({2, 3, 5}, 23);  // Dense acts on the last axis
  Tensor y3 = run_sequential({dense()}, x3);
  EXPECT_EQ(y3.shape(), (Shape{2, 3, 3}));
  EXPECT_TRUE(tensors_close(y3, ref::map(ref::dense(x3, k, b), sigmoid), kRtol, kAtol));
}

TEST_F(KerasTest, MaxAndAveragePoolingBothPaddings) {
  Tensor x = random_tensor({2, 5, 7, 3}, 24);
  for (bool same : {false, true}) {
    const char* padding = same ? "same" : "valid";
    Tensor max =
        run_sequential({layer("MaxPooling2D", "pool",
                              {{"pool_size", {2, 2}}, {"strides", nullptr}, {"padding", padding}})},
                       x);
    EXPECT_TRUE(tensors_close(max, ref::pool2d(x, 2, 2, same, true), kRtol, kAtol)) << padding;
    // Average with SAME counts only the real inputs of a border window (TF).
    Tensor avg = run_sequential({layer("AveragePooling2D", "pool",
                                       {{"pool_size", 3}, {"strides", 2}, {"padding", padding}})},
                                x);
    EXPECT_TRUE(tensors_close(avg, ref::pool2d(x, 3, 2, same, false), kRtol, kAtol)) << padding;
  }
}

TEST_F(KerasTest, GlobalPoolingWithAndWithoutKeepdims) {
  Tensor x = random_tensor({2, 3, 4, 5}, 25);
  Tensor avg = run_sequential({layer("GlobalAveragePooling2D", "gap")}, x);
  Tensor max = run_sequential({layer("GlobalMaxPooling2D", "gmp", {{"keepdims", true}})}, x);
  ASSERT_EQ(avg.shape(), (Shape{2, 5}));
  ASSERT_EQ(max.shape(), (Shape{2, 1, 1, 5}));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 5; ++c) {
      double sum = 0, best = -1e30;
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 4; ++j) {
          sum += ref::at(x, {b, i, j, c});
          best = std::max<double>(best, ref::at(x, {b, i, j, c}));
        }
      EXPECT_NEAR(ref::at(avg, {b, c}), sum / 12, 1e-6);
      EXPECT_EQ(ref::at(max, {b, 0, 0, c}), static_cast<float>(best));
    }
}

TEST_F(KerasTest, FlattenChannelsLastAndChannelsFirst) {
  Tensor x = random_tensor({2, 2, 3, 4}, 26);
  Tensor last = run_sequential({layer("Flatten", "flatten")}, x);
  EXPECT_TRUE(tensors_close(last, x.reshaped({2, 24}).value(), 0, 0));
  // channels_first data flattens in channels_last order, as Keras does.
  Tensor first =
      run_sequential({layer("Flatten", "flatten", {{"data_format", "channels_first"}})}, x);
  Tensor nhwc = to_nhwc(x);  // x read as (N, C=2, H=3, W=4)
  EXPECT_TRUE(tensors_close(first, nhwc.reshaped({2, 24}).value(), 0, 0));
}

TEST_F(KerasTest, ReshapeAndPermute) {
  Tensor x = random_tensor({2, 3, 4}, 27);
  Tensor reshaped =
      run_sequential({layer("Reshape", "reshape", {{"target_shape", {2, -1, 3}}})}, x);
  EXPECT_EQ(reshaped.shape(), (Shape{2, 2, 2, 3}));
  EXPECT_TRUE(tensors_close(reshaped.reshaped({2, 3, 4}).value(), x, 0, 0));
  Tensor permuted = run_sequential({layer("Permute", "permute", {{"dims", {2, 1}}})}, x);
  ASSERT_EQ(permuted.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(ref::at(permuted, {1, 3, 2}), ref::at(x, {1, 2, 3}));
  EXPECT_EQ(ref::at(permuted, {0, 1, 0}), ref::at(x, {0, 0, 1}));
}

TEST_F(KerasTest, DropoutAndNoiseLayersAreIdentity) {
  Tensor x = random_tensor({2, 3, 3, 2}, 28);
  Tensor y = run_sequential({layer("Dropout", "dropout", {{"rate", 0.5}}),
                             layer("SpatialDropout2D", "spatial", {{"rate", 0.3}}),
                             layer("GaussianNoise", "noise", {{"stddev", 1.0}})},
                            x);
  EXPECT_TRUE(y.bitwise_equal(x));
}

TEST_F(KerasTest, ZeroPaddingAndCropping) {
  Tensor x = random_tensor({1, 3, 4, 2}, 29);
  Tensor padded =
      run_sequential({layer("ZeroPadding2D", "pad", {{"padding", {{1, 2}, {3, 0}}}})}, x);
  ASSERT_EQ(padded.shape(), (Shape{1, 6, 7, 2}));
  EXPECT_EQ(ref::at(padded, {0, 0, 0, 0}), 0.0f);
  EXPECT_EQ(ref::at(padded, {0, 1, 3, 1}), ref::at(x, {0, 0, 0, 1}));
  EXPECT_EQ(ref::at(padded, {0, 3, 6, 0}), ref::at(x, {0, 2, 3, 0}));
  EXPECT_EQ(ref::at(padded, {0, 5, 6, 0}), 0.0f);
  Tensor cropped =
      run_sequential({layer("Cropping2D", "crop", {{"cropping", {{1, 0}, {2, 1}}}})}, x);
  ASSERT_EQ(cropped.shape(), (Shape{1, 2, 1, 2}));
  EXPECT_EQ(ref::at(cropped, {0, 0, 0, 1}), ref::at(x, {0, 1, 2, 1}));
  EXPECT_EQ(ref::at(cropped, {0, 1, 0, 0}), ref::at(x, {0, 2, 2, 0}));
}

TEST_F(KerasTest, UpSampling2DNearestAndBilinear) {
  Tensor x = random_tensor({1, 2, 3, 2}, 30);
  Tensor nearest = run_sequential({layer("UpSampling2D", "up", {{"size", {2, 3}}})}, x);
  ASSERT_EQ(nearest.shape(), (Shape{1, 4, 9, 2}));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 9; ++j) {
      EXPECT_EQ(ref::at(nearest, {0, i, j, 1}), ref::at(x, {0, i / 2, j / 3, 1}));
    }
  Tensor bilinear = run_sequential(
      {layer("UpSampling2D", "up", {{"size", 2}, {"interpolation", "bilinear"}})}, x);
  ASSERT_EQ(bilinear.shape(), (Shape{1, 4, 6, 2}));
  // tf.image.resize, half-pixel centres: source = (dst + 0.5) / 2 - 0.5, clamped.
  auto source = [](int64_t dst, int64_t size, int64_t* lo, int64_t* hi, double* frac) {
    const double s = (dst + 0.5) / 2.0 - 0.5;
    const double f = std::floor(s);
    *lo = std::max<int64_t>(static_cast<int64_t>(f), 0);
    *hi = std::min<int64_t>(static_cast<int64_t>(std::ceil(s)), size - 1);
    *frac = s - f;
  };
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 6; ++j) {
      int64_t y0, y1, x0, x1;
      double fy, fx;
      source(i, 2, &y0, &y1, &fy);
      source(j, 3, &x0, &x1, &fx);
      const double top = ref::at(x, {0, y0, x0, 0}) +
                         (ref::at(x, {0, y0, x1, 0}) - ref::at(x, {0, y0, x0, 0})) * fx;
      const double bottom = ref::at(x, {0, y1, x0, 0}) +
                            (ref::at(x, {0, y1, x1, 0}) - ref::at(x, {0, y1, x0, 0})) * fx;
      EXPECT_NEAR(ref::at(bilinear, {0, i, j, 0}), top + (bottom - top) * fy, 1e-6);
    }
}

}  // namespace
}  // namespace nnfi::testing
