// Writers of small image and array files for the data tests (PPM/PGM, BMP, PNG, JPEG, IDX,
// gzip), so each test builds exactly the data set it needs in a scratch folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/temp_files.h"

namespace nnfi::testing {

// An 8-bit HWC test image.
struct TestImage {
  int height = 0, width = 0, channels = 3;
  std::vector<uint8_t> pixels;
  uint8_t at(int y, int x, int c) const { return pixels[(y * width + x) * channels + c]; }
};

// A deterministic pattern: pixel (y, x, c) = (seed + 31 * y + 17 * x + 101 * c) % 256.
TestImage pattern_image(int height, int width, int channels, int seed = 0);

// Encoders. Each returns the file's bytes.
std::string encode_ppm(const TestImage& image);  // P6, or P5 for one channel
std::string encode_bmp24(const TestImage& image, bool top_down = false);
std::string encode_png(const TestImage& image);                     // libpng
std::string encode_jpeg(const TestImage& image, int quality = 95);  // libjpeg

// IDX: magic 0x00 0x00 0x08 rank, big-endian dims, data.
std::string encode_idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data);
std::string gzip(const std::string& bytes);

// A zip archive (.npz) with the given entries (name, bytes); deflated or stored.
void write_zip(const std::filesystem::path& path,
               const std::vector<std::pair<std::string, std::string>>& entries, bool deflate);

}  // namespace nnfi::testing
