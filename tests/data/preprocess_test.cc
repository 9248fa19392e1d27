// Resize (bilinear, nearest, area as tf.image.resize), crops, channel conversion, presets and
// the example geometry that a model input asks for.
#include "data/preprocess.h"

#include <gtest/gtest.h>

#include "data/image.h"
#include "nnfi/dataset.h"

namespace nnfi::data {
namespace {

// A one-row (or one-column) float image from values.
FloatImage row_image(const std::vector<double>& values) {
  return FloatImage{1, static_cast<int64_t>(values.size()), 1, values};
}
FloatImage column_image(const std::vector<double>& values) {
  return FloatImage{static_cast<int64_t>(values.size()), 1, 1, values};
}

void expect_values(const FloatImage& image, const std::vector<double>& expected) {
  ASSERT_EQ(image.pixels.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(image.pixels[i], expected[i], 1e-12) << "at " << i;
  }
}

// Expected values worked out by hand from TF2's formulas (half-pixel centres):
// bilinear src = (i + 0.5) * in/out - 0.5 clamped, nearest floor((i + 0.5) * in/out).
TEST(ResizeTest, BilinearMatchesHalfPixelFormula) {
  expect_values(resize_image(row_image({0, 10, 20, 30}), 1, 2, ResizeMethod::kBilinear), {5, 25});
  expect_values(resize_image(row_image({0, 10, 20}), 1, 2, ResizeMethod::kBilinear), {2.5, 17.5});
  expect_values(resize_image(column_image({0, 10, 20}), 2, 1, ResizeMethod::kBilinear),
                {2.5, 17.5});
  // 2x2 -> 4x4: the border rows and columns clamp, inner ones interpolate at 0.25 / 0.75.
  FloatImage square{2, 2, 1, {0, 10, 20, 30}};
  expect_values(resize_image(square, 4, 4, ResizeMethod::kBilinear),
                {0, 2.5, 7.5, 10, 5, 7.5, 12.5, 15, 15, 17.5, 22.5, 25, 20, 22.5, 27.5, 30});
}

TEST(ResizeTest, BilinearKeepsChannelsApart) {
  FloatImage two{1, 2, 2, {0, 100, 10, 200}};  // pixels (0, 100) and (10, 200)
  expect_values(resize_image(two, 1, 4, ResizeMethod::kBilinear),
                {0, 100, 2.5, 125, 7.5, 175, 10, 200});
}

TEST(ResizeTest, NearestMatchesHalfPixelFormula) {
  expect_values(resize_image(row_image({0, 10, 20}), 1, 2, ResizeMethod::kNearest), {0, 20});
  expect_values(resize_image(row_image({0, 10}), 1, 4, ResizeMethod::kNearest), {0, 0, 10, 10});
  expect_values(resize_image(row_image({0, 10, 20, 30, 40}), 1, 3, ResizeMethod::kNearest),
                {0, 20, 40});
}

TEST(ResizeTest, AreaAveragesCoveredCells) {
  expect_values(resize_image(row_image({0, 10, 20, 30}), 1, 2, ResizeMethod::kArea), {5, 25});
  // 3 -> 2: [0, 1.5) and [1.5, 3) with half of the middle cell each.
  expect_values(resize_image(row_image({0, 10, 20}), 1, 2, ResizeMethod::kArea),
                {5.0 / 1.5, 25.0 / 1.5});
  expect_values(resize_image(row_image({0, 10}), 1, 4, ResizeMethod::kArea), {0, 0, 10, 10});
  FloatImage square{2, 2, 1, {0, 10, 20, 30}};
  expect_values(resize_image(square, 1, 1, ResizeMethod::kArea), {15});
}

TEST(ResizeTest, SameSizeIsACopy) {
  FloatImage square{2, 2, 1, {1, 2, 3, 4}};
  for (ResizeMethod m : {ResizeMethod::kBilinear, ResizeMethod::kNearest, ResizeMethod::kArea}) {
    expect_values(resize_image(square, 2, 2, m), {1, 2, 3, 4});
  }
}

TEST(CropTest, CentralCropFollowsTensorFlow) {
  int64_t top, left, h, w;
  central_crop_box(224, 224, 0.875, &top, &left, &h, &w);
  EXPECT_EQ(top, 14);
  EXPECT_EQ(h, 196);
  central_crop_box(5, 8, 0.5, &top, &left, &h, &w);  // int((5 - 2.5) / 2) = 1, int(4 / 2) = 2
  EXPECT_EQ(top, 1);
  EXPECT_EQ(h, 3);
  EXPECT_EQ(left, 2);
  EXPECT_EQ(w, 4);
  central_crop_box(5, 8, 0.0, &top, &left, &h, &w);
  EXPECT_EQ(h, 5);
  EXPECT_EQ(w, 8);
}

TEST(CropTest, CropImageTakesTheBox) {
  Image image{3, 3, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
  Image box = crop_image(image, 1, 1, 2, 2);
  EXPECT_EQ(box.pixels, (std::vector<uint8_t>{5, 6, 8, 9}));
}

TEST(ChannelsTest, GrayscaleUsesTensorFlowWeights) {
  Image rgb{1, 1, 3, {100, 150, 200}};
  FloatImage gray = to_float_image(rgb, 1);
  EXPECT_NEAR(gray.pixels[0], 0.2989 * 100 + 0.5870 * 150 + 0.1140 * 200, 1e-12);
  Image one{1, 1, 1, {7}};
  EXPECT_EQ(to_float_image(one, 3).pixels, (std::vector<double>{7, 7, 7}));
}

TEST(PresetTest, PresetsMatchKerasModes) {
  Preprocessing p;
  p.preset = "tf";
  auto tf = resolve_preset(p);
  ASSERT_TRUE(tf.has_value());
  EXPECT_DOUBLE_EQ(tf->scale, 1 / 127.5);
  EXPECT_EQ(tf->mean, (std::vector<double>{1.0}));
  EXPECT_TRUE(tf->preset.empty());
  p.preset = "torch";
  auto torch = resolve_preset(p);
  ASSERT_TRUE(torch.has_value());
  EXPECT_EQ(torch->std, (std::vector<double>{0.229, 0.224, 0.225}));
  p.preset = "caffe";
  auto caffe = resolve_preset(p);
  ASSERT_TRUE(caffe.has_value());
  EXPECT_TRUE(caffe->bgr);
  EXPECT_EQ(caffe->mean, (std::vector<double>{103.939, 116.779, 123.68}));
}

TEST(PresetTest, RejectsUnknownPresetAndConflicts) {
  Preprocessing p;
  p.preset = "keras";
  auto unknown = resolve_preset(p);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.status().message().find("tf, torch or caffe"), std::string::npos);
  p.preset = "tf";
  p.scale = 2;
  EXPECT_FALSE(resolve_preset(p).has_value());
}

TEST(PreprocessTest, CaffeSwapsToBgrAndSubtractsMeans) {
  Preprocessing p;
  p.preset = "caffe";
  p = *resolve_preset(p);
  Image pixel{1, 1, 3, {10, 20, 30}};  // R G B
  Geometry g{{1, 1, 3}, 1, 1, 3, false};
  float out[3];
  ASSERT_TRUE(preprocess_image(pixel, p, g, out, "x").is_ok());
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(30 - 103.939));
  EXPECT_FLOAT_EQ(out[1], static_cast<float>(20 - 116.779));
  EXPECT_FLOAT_EQ(out[2], static_cast<float>(10 - 123.68));
}

TEST(PreprocessTest, TorchAndTfPresetsNormalise) {
  Preprocessing p;
  p.preset = "torch";
  Preprocessing torch = *resolve_preset(p);
  p.preset = "tf";
  Preprocessing tf = *resolve_preset(p);
  Image pixel{1, 1, 3, {255, 0, 51}};
  Geometry g{{3, 1, 1}, 1, 1, 3, true};
  float out[3];
  ASSERT_TRUE(preprocess_image(pixel, torch, g, out, "x").is_ok());
  EXPECT_FLOAT_EQ(out[0], static_cast<float>((1.0 - 0.485) / 0.229));
  EXPECT_FLOAT_EQ(out[1], static_cast<float>((0.0 - 0.456) / 0.224));
  EXPECT_FLOAT_EQ(out[2], static_cast<float>((0.2 - 0.406) / 0.225));
  ASSERT_TRUE(preprocess_image(pixel, tf, g, out, "x").is_ok());
  EXPECT_FLOAT_EQ(out[0], 1.0f);
  EXPECT_FLOAT_EQ(out[1], -1.0f);
  EXPECT_FLOAT_EQ(out[2], static_cast<float>(51 / 127.5 - 1));
}

TEST(PreprocessTest, WritesChannelsFirstOrLast) {
  Image image{1, 2, 3, {1, 2, 3, 4, 5, 6}};
  Preprocessing p;
  float out[6];
  ASSERT_TRUE(preprocess_image(image, p, Geometry{{1, 2, 3}, 1, 2, 3, false}, out, "x").is_ok());
  EXPECT_EQ(std::vector<float>(out, out + 6), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  ASSERT_TRUE(preprocess_image(image, p, Geometry{{3, 1, 2}, 1, 2, 3, true}, out, "x").is_ok());
  EXPECT_EQ(std::vector<float>(out, out + 6), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(PreprocessTest, RejectsImageOfAnotherSizeWithoutResize) {
  Image image{4, 4, 1, std::vector<uint8_t>(16, 0)};
  Preprocessing p;
  float out[9];
  Status status = preprocess_image(image, p, Geometry{{3, 3, 1}, 3, 3, 1, false}, out, "img.png");
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("img.png"), std::string::npos);
  EXPECT_NE(status.message().find("--resize"), std::string::npos);
}

TEST(PreprocessTest, RejectsBadMeanStdAndCrop) {
  Preprocessing p;
  p.mean = {1, 2};
  EXPECT_FALSE(validate_preprocessing(p).is_ok());
  p.mean = {};
  p.std = {1, 0, 1};
  EXPECT_FALSE(validate_preprocessing(p).is_ok());
  p.std = {};
  p.central_crop = 1.5;
  EXPECT_FALSE(validate_preprocessing(p).is_ok());
  p.central_crop = 0.5;
  p.resize_height = 10;
  EXPECT_FALSE(validate_preprocessing(p).is_ok());  // width missing
}

// ---- geometry -------------------------------------------------------------

Geometry geometry(const Shape& model, SourceShape source, Preprocessing p = {}) {
  Expected<Geometry> g = resolve_geometry(model, p, source, "test:data");
  EXPECT_TRUE(g.has_value()) << g.status().message();
  return g.has_value() ? *g : Geometry{};
}

TEST(GeometryTest, FollowsTheModelInput) {
  Geometry nhwc = geometry({-1, 30, 30, 3}, {30, 30, 3});
  EXPECT_EQ(nhwc.example_shape, (Shape{30, 30, 3}));
  EXPECT_FALSE(nhwc.channels_first);
  Geometry nchw = geometry({1, 1, 28, 28}, {28, 28, 1});
  EXPECT_EQ(nchw.example_shape, (Shape{1, 28, 28}));
  EXPECT_TRUE(nchw.channels_first);
  EXPECT_EQ(geometry({-1, 28, 28}, {28, 28, 1}).example_shape, (Shape{28, 28}));
  EXPECT_EQ(geometry({-1, 784}, {28, 28, 1}).example_shape, (Shape{784}));
  EXPECT_EQ(geometry({-1, -1, -1, 3}, {32, 32, 3}).example_shape, (Shape{32, 32, 3}));
  EXPECT_EQ(geometry({-1, 3, -1, -1}, {20, 10, 3}).example_shape, (Shape{3, 20, 10}));
  // The model's channel count wins: RGB images become gray for a 1-channel input and back.
  Geometry gray = geometry({-1, 28, 28, 1}, {28, 28, 3});
  EXPECT_EQ(gray.channels, 1);
  EXPECT_EQ(geometry({-1, 8, 8, 3}, {8, 8, 1}).channels, 3);
}

TEST(GeometryTest, ResizeAndCropSetTheSize) {
  Preprocessing p;
  p.resize_height = p.resize_width = 30;
  EXPECT_EQ(geometry({-1, 30, 30, 3}, {32, 32, 3}, p).example_shape, (Shape{30, 30, 3}));
  Preprocessing crop;
  crop.central_crop = 0.5;
  EXPECT_EQ(geometry({-1, -1, -1, 3}, {8, 8, 3}, crop).example_shape, (Shape{4, 4, 3}));
}

TEST(GeometryTest, RejectsMismatchNamingBothShapes) {
  Expected<Geometry> g = resolve_geometry({-1, 30, 30, 3}, {}, {32, 32, 3}, "gtsrb:DIR");
  ASSERT_FALSE(g.has_value());
  const std::string message = g.status().message();
  EXPECT_NE(message.find("gtsrb:DIR"), std::string::npos) << message;
  EXPECT_NE(message.find("[32, 32, 3]"), std::string::npos) << message;
  EXPECT_NE(message.find("[?, 30, 30, 3]"), std::string::npos) << message;
  EXPECT_NE(message.find("--resize 30x30"), std::string::npos) << message;

  Expected<Geometry> flat = resolve_geometry({-1, 784}, {}, {28, 28, 3}, "folder:x");
  ASSERT_FALSE(flat.has_value());
  EXPECT_NE(flat.status().message().find("--grayscale"), std::string::npos);
}

TEST(GeometryTest, RejectsUnclearOrUnsupportedInputs) {
  EXPECT_FALSE(resolve_geometry({-1, 28, 28, 28}, {}, {28, 28, 1}, "x").has_value());
  EXPECT_FALSE(resolve_geometry({-1, 8, 8, 4}, {}, {8, 8, 3}, "x").has_value());
  EXPECT_FALSE(resolve_geometry({-1, 2, 8, 8, 3}, {}, {8, 8, 3}, "x").has_value());
  EXPECT_FALSE(resolve_geometry({}, {}, {8, 8, 3}, "x").has_value());
  Preprocessing gray;
  gray.grayscale = true;
  EXPECT_FALSE(resolve_geometry({-1, 8, 8, 3}, gray, {8, 8, 3}, "x").has_value());
}

TEST(GeometryTest, LayoutOverridesTheGuess) {
  Preprocessing p;
  p.layout = DataLayout::kNCHW;
  Geometry g = geometry({-1, 3, 3, 3}, {3, 3, 3}, p);
  EXPECT_TRUE(g.channels_first);
  EXPECT_FALSE(geometry({-1, 3, 3, 3}, {3, 3, 3}).channels_first);
}

TEST(ParseResizeTest, ParsesAndRejects) {
  auto both = parse_resize("224x200");
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->first, 224);
  EXPECT_EQ(both->second, 200);
  auto square = parse_resize("30");
  ASSERT_TRUE(square.has_value());
  EXPECT_EQ(square->second, 30);
  for (const char* bad : {"", "x", "0x5", "3x", "ax4", "-3x3", "3x3x3"}) {
    EXPECT_FALSE(parse_resize(bad).has_value()) << bad;
  }
}

TEST(DescribeInputTest, SaysWhatTheModelExpects) {
  EXPECT_EQ(describe_model_input({-1, 30, 30, 3}), "image 30x30, 3 channels (NHWC)");
  EXPECT_EQ(describe_model_input({1, 1, 28, 28}),
            "image 28x28, 1 channel (NCHW), batch fixed at 1");
  EXPECT_EQ(describe_model_input({-1, 784}), "vector of 784 values (flattened image)");
  EXPECT_EQ(describe_model_input({-1, 28, 28}), "image 28x28, 1 channel (no channel axis)");
}

}  // namespace
}  // namespace nnfi::data
