// PNG (libpng) and JPEG (libjpeg-turbo). Both libraries report errors by longjmp, so each
// decode keeps its C++ objects outside the setjmp frame and builds the Image afterwards.
#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs FILE and size_t declared first; jerror.h (the warning codes) comes after it.
// clang-format off
#include <png.h>
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include "data/image.h"

namespace nnfi::data {
namespace {

constexpr uint32_t kMaxSide = 1 << 16;

// ---- PNG -------------------------------------------------------------------

struct PngReader {
  const unsigned char* data;
  size_t size;
  size_t position;
  char error[200];
};

void png_read_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* reader = static_cast<PngReader*>(png_get_io_ptr(png));
  if (reader->size - reader->position < length) png_error(png, "truncated file");
  std::memcpy(out, reader->data + reader->position, length);
  reader->position += length;
}

void png_on_error(png_structp png, png_const_charp message) {
  auto* reader = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(reader->error, sizeof(reader->error), "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}  // e.g. a bad sRGB profile: still decodable

// Decodes into `pixels` (sized by the caller once the header is known, through `allocate`).
// Returns false with reader.error set on failure. No C++ object lives in this frame.
bool png_decode(PngReader& reader, uint32_t* width, uint32_t* height, int* channels,
                unsigned char* (*allocate)(void*, uint32_t, uint32_t, int), void* target) {
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, png_on_error, png_on_warning);
  if (png == nullptr) {
    std::snprintf(reader.error, sizeof(reader.error), "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  png_bytep* volatile rows = nullptr;  // volatile: read after a longjmp
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_free(png, rows);
    png_destroy_read_struct(&png, &info, nullptr);
    if (reader.error[0] == '\0') std::snprintf(reader.error, sizeof(reader.error), "out of memory");
    return false;
  }
  png_set_read_fn(png, &reader, png_read_memory);
  png_set_user_limits(png, kMaxSide, kMaxSide);
  png_read_info(png, info);
  const int color = png_get_color_type(png, info);
  png_set_expand(png);    // palette -> RGB, gray < 8 bits -> 8 bits, tRNS -> alpha
  png_set_strip_16(png);  // 16-bit samples -> their high byte
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  *width = png_get_image_width(png, info);
  *height = png_get_image_height(png, info);
  *channels = (color & PNG_COLOR_MASK_COLOR) != 0 ? 3 : 1;
  if (png_get_channels(png, info) != *channels || png_get_bit_depth(png, info) != 8) {
    png_error(png, "unexpected sample layout after conversion");
  }
  unsigned char* pixels = allocate(target, *width, *height, *channels);
  if (pixels == nullptr) png_error(png, "out of memory");
  rows = static_cast<png_bytep*>(png_malloc(png, sizeof(png_bytep) * *height));
  for (uint32_t y = 0; y < *height; ++y) rows[y] = pixels + size_t{y} * *width * *channels;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  png_free(png, rows);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

unsigned char* allocate_pixels(void* target, uint32_t width, uint32_t height, int channels) {
  auto* image = static_cast<Image*>(target);
  try {
    image->pixels.resize(size_t{width} * height * static_cast<size_t>(channels));
  } catch (...) {
    return nullptr;
  }
  return image->pixels.data();
}

// ---- JPEG ------------------------------------------------------------------

struct JpegError {
  jpeg_error_mgr manager;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

void jpeg_on_error(j_common_ptr info) {
  auto* error = reinterpret_cast<JpegError*>(info->err);
  (*info->err->format_message)(info, error->message);
  longjmp(error->jump, 1);
}

// Warnings are printed by default; a premature end of data is an error (as in PIL and TF),
// other warnings (e.g. extraneous bytes before a marker) are not.
void jpeg_on_message(j_common_ptr info, int level) {
  auto* error = reinterpret_cast<JpegError*>(info->err);
  if (level == -1 && info->err->msg_code == JWRN_JPEG_EOF) error->truncated = true;
}

bool jpeg_decode(const unsigned char* data, size_t size, JpegError& error, uint32_t* width,
                 uint32_t* height, int* channels,
                 unsigned char* (*allocate)(void*, uint32_t, uint32_t, int), void* target) {
  jpeg_decompress_struct info;
  info.err = jpeg_std_error(&error.manager);
  error.manager.error_exit = jpeg_on_error;
  error.manager.emit_message = jpeg_on_message;
  error.truncated = false;
  if (setjmp(error.jump)) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  jpeg_read_header(&info, TRUE);
  if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
    std::snprintf(error.message, sizeof(error.message), "CMYK JPEG is not supported");
    jpeg_destroy_decompress(&info);
    return false;
  }
  info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  // libjpeg's defaults (islow DCT, fancy upsampling) are also PIL's.
  jpeg_start_decompress(&info);
  *width = info.output_width;
  *height = info.output_height;
  *channels = info.output_components;
  if (*width > kMaxSide || *height > kMaxSide) {
    std::snprintf(error.message, sizeof(error.message), "size %ux%u is too large", *width, *height);
    jpeg_destroy_decompress(&info);
    return false;
  }
  unsigned char* pixels = allocate(target, *width, *height, *channels);
  if (pixels == nullptr) {
    std::snprintf(error.message, sizeof(error.message), "out of memory");
    jpeg_destroy_decompress(&info);
    return false;
  }
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = pixels + size_t{info.output_scanline} * *width * *channels;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  if (error.truncated) {
    std::snprintf(error.message, sizeof(error.message), "premature end of data (truncated)");
    return false;
  }
  return true;
}

}  // namespace

Expected<Image> decode_png(const unsigned char* data, size_t size, const std::string& where) {
  PngReader reader{data, size, 0, {}};
  Image image;
  uint32_t width = 0, height = 0;
  int channels = 0;
  if (!png_decode(reader, &width, &height, &channels, allocate_pixels, &image)) {
    return invalid_argument(where + ": corrupt PNG image: " + reader.error);
  }
  image.width = width;
  image.height = height;
  image.channels = channels;
  return image;
}

Expected<Image> decode_jpeg(const unsigned char* data, size_t size, const std::string& where) {
  JpegError error;
  error.message[0] = '\0';
  Image image;
  uint32_t width = 0, height = 0;
  int channels = 0;
  if (!jpeg_decode(data, size, error, &width, &height, &channels, allocate_pixels, &image)) {
    return invalid_argument(where + ": corrupt JPEG image: " + error.message);
  }
  image.width = width;
  image.height = height;
  image.channels = channels;
  return image;
}

}  // namespace nnfi::data
