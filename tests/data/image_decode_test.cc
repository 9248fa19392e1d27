// Image decoding: PPM/PGM, BMP, PNG and JPEG round trips, fixture images, and named tests of
// corrupt, truncated and unsupported files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "data/data_files.h"
#include "data/image.h"
#include "support/test_support.h"

namespace nnfi::data {
namespace {

using testing::encode_bmp24;
using testing::encode_jpeg;
using testing::encode_png;
using testing::encode_ppm;
using testing::pattern_image;
using testing::TestImage;

Expected<Image> decode(const std::string& bytes, const std::string& name = "test.img") {
  return decode_image(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), name);
}

void expect_same(const Expected<Image>& decoded, const TestImage& expected) {
  ASSERT_TRUE(decoded.has_value()) << decoded.status().message();
  EXPECT_EQ(decoded->height, expected.height);
  EXPECT_EQ(decoded->width, expected.width);
  EXPECT_EQ(decoded->channels, expected.channels);
  EXPECT_EQ(decoded->pixels, expected.pixels);
}

void expect_error(const Expected<Image>& decoded, const std::vector<std::string>& parts) {
  ASSERT_FALSE(decoded.has_value());
  for (const std::string& part : parts) {
    EXPECT_NE(decoded.status().message().find(part), std::string::npos)
        << "'" << part << "' not in: " << decoded.status().message();
  }
}

TEST(ImageDecodeTest, PpmAndPgmRoundTrip) {
  expect_same(decode(encode_ppm(pattern_image(5, 7, 3))), pattern_image(5, 7, 3));
  expect_same(decode(encode_ppm(pattern_image(4, 3, 1))), pattern_image(4, 3, 1));
}

TEST(ImageDecodeTest, PnmTextFormsAndWideSamples) {
  // P3 with a comment, maxval 255; P2 with maxval 1000 scaled to 0..255.
  auto p3 = decode("P3\n# c\n2 1\n255\n1 2 3  4 5 6\n");
  ASSERT_TRUE(p3.has_value()) << p3.status().message();
  EXPECT_EQ(p3->pixels, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
  auto p2 = decode("P2 2 1 1000 0 1000");
  ASSERT_TRUE(p2.has_value()) << p2.status().message();
  EXPECT_EQ(p2->pixels, (std::vector<uint8_t>{0, 255}));
  // P5 16-bit: big-endian samples.
  std::string p5 = "P5 1 1 65535\n";
  p5 += '\x80';
  p5 += '\x00';
  auto wide = decode(p5);
  ASSERT_TRUE(wide.has_value()) << wide.status().message();
  EXPECT_EQ(wide->pixels[0], 128);
}

TEST(ImageDecodeTest, BmpRoundTripBothRowOrders) {
  const TestImage image = pattern_image(3, 5, 3);  // 15-byte rows pad to 16
  expect_same(decode(encode_bmp24(image)), image);
  expect_same(decode(encode_bmp24(image, true)), image);
}

TEST(ImageDecodeTest, PngRoundTripColorAndGray) {
  expect_same(decode(encode_png(pattern_image(6, 4, 3))), pattern_image(6, 4, 3));
  expect_same(decode(encode_png(pattern_image(6, 4, 1))), pattern_image(6, 4, 1));
}

TEST(ImageDecodeTest, JpegDecodesCloseToTheOriginal) {
  TestImage flat{8, 8, 3, {}};
  for (int i = 0; i < 64; ++i) flat.pixels.insert(flat.pixels.end(), {200, 100, 50});
  auto decoded = decode(encode_jpeg(flat, 100));
  ASSERT_TRUE(decoded.has_value()) << decoded.status().message();
  EXPECT_EQ(decoded->channels, 3);
  for (size_t i = 0; i < flat.pixels.size(); ++i) {
    EXPECT_NEAR(decoded->pixels[i], flat.pixels[i], 3) << i;
  }
  auto gray = decode(encode_jpeg(pattern_image(8, 8, 1)));
  ASSERT_TRUE(gray.has_value());
  EXPECT_EQ(gray->channels, 1);
}

TEST(ImageDecodeTest, RejectsTruncatedImages) {
  const TestImage image = pattern_image(16, 16, 3);
  for (const std::string& bytes :
       {encode_ppm(image), encode_bmp24(image), encode_png(image), encode_jpeg(image)}) {
    expect_error(decode(bytes.substr(0, bytes.size() * 2 / 3), "cut.img"), {"cut.img"});
  }
  expect_error(decode(encode_ppm(image).substr(0, 40), "short.ppm"),
               {"short.ppm", "truncated", "768 bytes"});
  expect_error(decode(encode_jpeg(image).substr(0, 300), "short.jpg"), {"short.jpg", "JPEG"});
}

TEST(ImageDecodeTest, RejectsCorruptHeaders) {
  expect_error(decode("P6\n-3 4\n255\n", "neg.ppm"), {"neg.ppm", "width"});
  expect_error(decode("P6\n0 4\n255\n", "zero.ppm"), {"zero.ppm", "size 0x4"});
  expect_error(decode("P5 1 1 0\n\x01", "max.pgm"), {"max.pgm", "maximum value 0"});
  expect_error(decode("P5 1 1 7\n\x09", "over.pgm"), {"over.pgm", "exceeds"});
  expect_error(decode("P6 99999999 99999999 255\n", "huge.ppm"), {"huge.ppm"});
  std::string png = encode_png(pattern_image(4, 4, 3));
  png[20] ^= 0x55;  // IHDR width: the CRC no longer matches
  expect_error(decode(png, "crc.png"), {"crc.png", "PNG"});
  std::string bmp = encode_bmp24(pattern_image(2, 2, 3));
  bmp[28] = 16;  // 16-bit BMP
  expect_error(decode(bmp, "deep.bmp"), {"deep.bmp", "16-bit"});
}

TEST(ImageDecodeTest, RejectsNonImages) {
  expect_error(decode("hello, world", "notes.png"), {"notes.png", "not an image"});
  expect_error(decode("", "empty.png"), {"empty.png", "empty"});
}

TEST(ImageDecodeTest, RejectsMissingFile) {
  auto missing = decode_image_file("/nonexistent/nnfi/x.png");
  expect_error(missing, {"/nonexistent/nnfi/x.png", "no such"});
}

TEST(ImageDecodeTest, ReadsFixtureImages) {
  NNFI_REQUIRE_FIXTURES();
  const auto data = testing::fixtures_dir() / "data";
  auto ppm = decode_image_file(data / "gtsrb_test_32x32/Images/00000.ppm");
  ASSERT_TRUE(ppm.has_value()) << ppm.status().message();
  EXPECT_EQ(ppm->width, 32);
  EXPECT_EQ(ppm->pixels[0], 0x74);  // first bytes after the header: 74 8b ae
  EXPECT_EQ(ppm->pixels[2], 0xae);
  auto png = decode_image_file(data / "cifar10_samples/cifar10_00_3.png");
  ASSERT_TRUE(png.has_value()) << png.status().message();
  EXPECT_EQ(png->channels, 3);
  EXPECT_EQ(png->height, 32);
  auto jpeg = decode_image_file(data / "imagenet_samples/imagenet_00_243.jpg");
  ASSERT_TRUE(jpeg.has_value()) << jpeg.status().message();
  EXPECT_EQ(jpeg->width, 512);  // progressive JPEG
  EXPECT_EQ(jpeg->channels, 3);
}

}  // namespace
}  // namespace nnfi::data

namespace nnfi::data {
namespace {

// Bad input must never crash: mutated and cut copies of valid files of every format decode or
// fail cleanly (run under the address/undefined sanitizer presets too).
TEST(ImageDecodeTest, SurvivesMutatedFiles) {
  const testing::TestImage image = testing::pattern_image(12, 10, 3);
  const testing::TestImage gray = testing::pattern_image(5, 7, 1);
  const std::vector<std::string> originals = {
      testing::encode_ppm(image), testing::encode_ppm(gray), testing::encode_bmp24(image),
      testing::encode_png(image), testing::encode_png(gray), testing::encode_jpeg(image)};
  uint32_t state = 12345;
  auto next = [&state] { return state = state * 1664525u + 1013904223u; };
  int decoded = 0, failed = 0;
  for (const std::string& original : originals) {
    for (int trial = 0; trial < 150; ++trial) {
      std::string bytes = original;
      const int edits = 1 + static_cast<int>(next() % 4);
      for (int e = 0; e < edits; ++e) {
        // Headers matter most: half of the edits hit the first 64 bytes.
        const size_t span = next() % 2 == 0 ? std::min<size_t>(64, bytes.size()) : bytes.size();
        bytes[next() % span] = static_cast<char>(next() >> 24);
      }
      if (trial % 5 == 0) bytes.resize(next() % (bytes.size() + 1));
      auto result = decode_image(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                                 "mutated");
      if (result.has_value()) {
        ++decoded;
        EXPECT_EQ(result->pixels.size(),
                  static_cast<size_t>(result->height * result->width * result->channels));
      } else {
        ++failed;
        EXPECT_NE(result.status().message().find("mutated"), std::string::npos);
      }
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace nnfi::data
