// Decoded images and the geometric operations of preprocessing (crop, resize).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nnfi/dataset.h"
#include "nnfi/status.h"

namespace nnfi::data {

// An 8-bit image, rows top to bottom, channels interleaved (HWC): 1 (gray) or 3 (RGB).
struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// The same in double, for the steps after decoding.
struct FloatImage {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<double> pixels;
};

// Decodes JPEG (libjpeg-turbo), PNG (libpng), PPM/PGM (P2, P3, P5, P6) or BMP, told apart by
// content. Alpha is dropped, palettes expanded, 16-bit samples reduced to their high byte (PNG)
// or scaled to 0..255 (PNM maxval > 255). Errors name `where` and what is wrong.
Expected<Image> decode_image(const unsigned char* data, size_t size, const std::string& where);
Expected<Image> decode_image_file(const std::filesystem::path& path);

// The codec entry points (image_codecs.cc, image_decode.cc).
Expected<Image> decode_png(const unsigned char* data, size_t size, const std::string& where);
Expected<Image> decode_jpeg(const unsigned char* data, size_t size, const std::string& where);
Expected<Image> decode_pnm(const unsigned char* data, size_t size, const std::string& where);
Expected<Image> decode_bmp(const unsigned char* data, size_t size, const std::string& where);

// Rows [top, top + height) and columns [left, left + width); the box must lie inside.
Image crop_image(const Image& image, int64_t top, int64_t left, int64_t height, int64_t width);

// tf.image.central_crop's box: start = int((size - size * fraction) / 2), kept = size - 2*start.
void central_crop_box(int64_t height, int64_t width, double fraction, int64_t* top, int64_t* left,
                      int64_t* kept_height, int64_t* kept_width);

// uint8 -> double, converting the channel count (3 -> 1: tf.image.rgb_to_grayscale weights
// 0.2989, 0.5870, 0.1140; 1 -> 3: repeated).
FloatImage to_float_image(const Image& image, int64_t channels);

// Resizes as tf.image.resize (see ResizeMethod). Same size: a copy.
FloatImage resize_image(const FloatImage& image, int64_t height, int64_t width,
                        ResizeMethod method);

}  // namespace nnfi::data
