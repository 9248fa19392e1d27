// Image decoding: the format is told by content. PPM/PGM and BMP are decoded here (small
// formats, written by hand); PNG and JPEG go to libpng and libjpeg-turbo (image_codecs.cc).
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>

#include "data/image.h"

namespace nnfi::data {
namespace {

constexpr int64_t kMaxSide = 1 << 16;  // larger images are refused before any allocation

Status bad_image(const std::string& where, const std::string& format, const std::string& what) {
  return invalid_argument(where + ": corrupt " + format + " image: " + what);
}

Expected<Image> allocate(int64_t height, int64_t width, int64_t channels, const std::string& where,
                         const std::string& format) {
  if (height <= 0 || width <= 0 || height > kMaxSide || width > kMaxSide) {
    return bad_image(where, format,
                     "size " + std::to_string(width) + "x" + std::to_string(height) +
                         " is not valid (expected 1 to " + std::to_string(kMaxSide) + " a side)");
  }
  Image image;
  image.height = height;
  image.width = width;
  image.channels = channels;
  image.pixels.resize(static_cast<size_t>(height * width * channels));
  return image;
}

// ---- PNM (P2/P3 text, P5/P6 binary) ---------------------------------------

class PnmParser {
 public:
  PnmParser(const unsigned char* data, size_t size) : data_(data), size_(size) {}

  // The next decimal number, skipping whitespace and '#' comments; -1 when there is none.
  int64_t number() {
    while (pos_ < size_) {
      if (std::isspace(data_[pos_])) {
        ++pos_;
      } else if (data_[pos_] == '#') {
        while (pos_ < size_ && data_[pos_] != '\n' && data_[pos_] != '\r') ++pos_;
      } else {
        break;
      }
    }
    if (pos_ >= size_ || !std::isdigit(data_[pos_])) return -1;
    int64_t value = 0;
    while (pos_ < size_ && std::isdigit(data_[pos_])) {
      value = value * 10 + (data_[pos_++] - '0');
      if (value > (int64_t{1} << 31)) return -1;
    }
    return value;
  }
  size_t position() const { return pos_; }
  void advance(size_t bytes) { pos_ += bytes; }

 private:
  const unsigned char* data_;
  size_t size_;
  size_t pos_ = 2;  // after the magic
};

}  // namespace

Expected<Image> decode_pnm(const unsigned char* data, size_t size, const std::string& where) {
  const char kind = static_cast<char>(data[1]);
  const bool color = kind == '3' || kind == '6', binary = kind == '5' || kind == '6';
  const std::string format = color ? "PPM" : "PGM";
  PnmParser parser(data, size);
  const int64_t width = parser.number(), height = parser.number(), maxval = parser.number();
  if (width < 0 || height < 0 || maxval < 0) {
    return bad_image(where, format, "the header needs a width, a height and a maximum value");
  }
  if (maxval < 1 || maxval > 65535) {
    return bad_image(where, format,
                     "maximum value " + std::to_string(maxval) + " (expected 1 to 65535)");
  }
  NNFI_ASSIGN_OR_RETURN(Image image, allocate(height, width, color ? 3 : 1, where, format));
  const size_t samples = image.pixels.size();
  // Samples above 255 (or a maxval below it) are scaled to 0..255, rounding to nearest.
  auto store = [&](size_t i, int64_t value) {
    image.pixels[i] =
        static_cast<uint8_t>(maxval == 255 ? value : (value * 255 + maxval / 2) / maxval);
  };
  if (binary) {
    // Exactly one whitespace byte separates the header from the samples.
    parser.advance(1);
    const size_t bytes_per = maxval > 255 ? 2 : 1;
    const size_t start = parser.position();
    if (start > size || size - start < samples * bytes_per) {
      return bad_image(where, format,
                       "truncated: expected " + std::to_string(samples * bytes_per) +
                           " bytes of pixels for " + std::to_string(width) + "x" +
                           std::to_string(height) + ", found " +
                           std::to_string(start > size ? 0 : size - start));
    }
    const unsigned char* in = data + start;
    for (size_t i = 0; i < samples; ++i) {
      const int64_t value = bytes_per == 2 ? (in[2 * i] << 8) | in[2 * i + 1] : in[i];
      if (value > maxval) {
        return bad_image(
            where, format,
            "sample " + std::to_string(value) + " exceeds the maximum " + std::to_string(maxval));
      }
      store(i, value);
    }
  } else {
    for (size_t i = 0; i < samples; ++i) {
      const int64_t value = parser.number();
      if (value < 0 || value > maxval) {
        return bad_image(where, format,
                         value < 0 ? "truncated: expected " + std::to_string(samples) +
                                         " samples, found " + std::to_string(i)
                                   : "sample " + std::to_string(value) + " exceeds the maximum " +
                                         std::to_string(maxval));
      }
      store(i, value);
    }
  }
  return image;
}

// ---- BMP (uncompressed 1/4/8-bit palette, 24-bit, 32-bit incl. BI_BITFIELDS) ----------

namespace {

uint32_t le32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

// The value of `pixel` under `mask`, scaled to 0..255.
uint8_t masked(uint32_t pixel, uint32_t mask) {
  if (mask == 0) return 0;
  int shift = 0;
  while (((mask >> shift) & 1u) == 0) ++shift;
  const uint32_t max = mask >> shift;
  const uint32_t value = (pixel & mask) >> shift;
  return static_cast<uint8_t>((value * 255 + max / 2) / max);
}

}  // namespace

Expected<Image> decode_bmp(const unsigned char* data, size_t size, const std::string& where) {
  const std::string format = "BMP";
  if (size < 54) return bad_image(where, format, "truncated header");
  const uint32_t pixel_offset = le32(data + 10), header_size = le32(data + 14);
  if (header_size < 40 || 14 + static_cast<size_t>(header_size) > size) {
    return bad_image(where, format,
                     "unsupported info header of " + std::to_string(header_size) +
                         " bytes (expected BITMAPINFOHEADER or later)");
  }
  const auto width = static_cast<int32_t>(le32(data + 18));
  const auto raw_height = static_cast<int32_t>(le32(data + 22));
  const uint16_t bits = le16(data + 28);
  const uint32_t compression = le32(data + 30);
  const bool top_down = raw_height < 0;
  const int64_t height = top_down ? -static_cast<int64_t>(raw_height) : raw_height;
  constexpr uint32_t kRgb = 0, kBitfields = 3;
  uint32_t masks[3] = {0x00FF0000u, 0x0000FF00u, 0x000000FFu};
  if (compression == kBitfields && bits == 32) {
    const size_t at = header_size >= 52 ? 14 + 40 : 14 + header_size;  // V4/V5 or after header
    if (at + 12 > size) return bad_image(where, format, "truncated bit masks");
    for (int i = 0; i < 3; ++i) masks[i] = le32(data + at + 4 * i);
  } else if (compression != kRgb) {
    return unsupported(where + ": BMP compression " + std::to_string(compression) +
                       " is not supported (expected uncompressed, or bit fields at 32 bits)");
  }
  if (bits != 1 && bits != 4 && bits != 8 && bits != 24 && bits != 32) {
    return unsupported(where + ": " + std::to_string(bits) +
                       "-bit BMP is not supported (expected 1, 4, 8, 24 or 32 bits)");
  }
  NNFI_ASSIGN_OR_RETURN(Image image, allocate(height, width, 3, where, format));
  // The palette: after the info header, 4 bytes (B, G, R, 0) per entry.
  const size_t palette_at = 14 + header_size;
  uint32_t colors = le32(data + 46);
  if (bits <= 8 && colors == 0) colors = 1u << bits;
  if (bits <= 8 && (colors > (1u << bits) || palette_at + 4 * size_t{colors} > size)) {
    return bad_image(where, format, "truncated or oversized palette");
  }
  const size_t row_bytes = ((static_cast<size_t>(width) * bits + 31) / 32) * 4;
  if (pixel_offset > size || (size - pixel_offset) / row_bytes < static_cast<size_t>(height)) {
    return bad_image(where, format,
                     "truncated: expected " + std::to_string(row_bytes * height) +
                         " bytes of pixels for " + std::to_string(width) + "x" +
                         std::to_string(height));
  }
  for (int64_t y = 0; y < height; ++y) {
    const unsigned char* row = data + pixel_offset + row_bytes * (top_down ? y : height - 1 - y);
    uint8_t* out = image.pixels.data() + y * width * 3;
    for (int64_t x = 0; x < width; ++x, out += 3) {
      if (bits == 24) {
        out[0] = row[3 * x + 2], out[1] = row[3 * x + 1], out[2] = row[3 * x];
      } else if (bits == 32) {
        const uint32_t pixel = le32(row + 4 * x);
        for (int c = 0; c < 3; ++c) out[c] = masked(pixel, masks[c]);
      } else {
        const size_t bit = static_cast<size_t>(x) * bits;
        const unsigned index = (row[bit / 8] >> (8 - bits - bit % 8)) & ((1u << bits) - 1);
        if (index >= colors) {
          return bad_image(where, format,
                           "palette index " + std::to_string(index) + " past the " +
                               std::to_string(colors) + " colors");
        }
        const unsigned char* entry = data + palette_at + 4 * index;
        out[0] = entry[2], out[1] = entry[1], out[2] = entry[0];
      }
    }
  }
  return image;
}

Expected<Image> decode_image(const unsigned char* data, size_t size, const std::string& where) {
  if (size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) {
    return decode_png(data, size, where);
  }
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    return decode_jpeg(data, size, where);
  }
  if (size >= 2 && data[0] == 'P' &&
      (data[1] == '2' || data[1] == '3' || data[1] == '5' || data[1] == '6')) {
    return decode_pnm(data, size, where);
  }
  if (size >= 2 && data[0] == 'B' && data[1] == 'M') return decode_bmp(data, size, where);
  if (size == 0) return invalid_argument(where + ": empty file, expected an image");
  return invalid_argument(where +
                          ": not an image nnfi can read (expected JPEG, PNG, PPM/PGM or BMP "
                          "content)");
}

Expected<Image> decode_image_file(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return not_found(where + ": no such image file");
    return io_error(where + ": cannot open: " + std::strerror(errno));
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) return io_error(where + ": cannot read the file size");
  std::vector<unsigned char> bytes;
  try {
    bytes.resize(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    return io_error(where + ": out of memory reading the file");
  }
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) return io_error(where + ": read error");
  return decode_image(bytes.data(), bytes.size(), where);
}

}  // namespace nnfi::data
