// Crops, channel conversion and the three resize methods of tf.image.resize (TF2 semantics:
// half-pixel centres, no antialiasing), in double.
#include <algorithm>
#include <cmath>

#include "data/image.h"

namespace nnfi::data {
namespace {

// Bilinear: for each output index, the two source indices and the weight of the second.
struct Tap {
  int64_t lower = 0, upper = 0;
  double lerp = 0.0;
};

std::vector<Tap> bilinear_taps(int64_t in, int64_t out) {
  std::vector<Tap> taps(static_cast<size_t>(out));
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t i = 0; i < out; ++i) {
    const double source = (static_cast<double>(i) + 0.5) * scale - 0.5;
    const double below = std::floor(source);
    Tap& tap = taps[static_cast<size_t>(i)];
    tap.lower = std::max<int64_t>(static_cast<int64_t>(below), 0);
    tap.upper = std::min<int64_t>(static_cast<int64_t>(std::ceil(source)), in - 1);
    tap.lerp = source - below;
  }
  return taps;
}

// Nearest: floor((i + 0.5) * in / out), in exact integer arithmetic.
std::vector<int64_t> nearest_taps(int64_t in, int64_t out) {
  std::vector<int64_t> taps(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    taps[static_cast<size_t>(i)] = std::min<int64_t>((2 * i + 1) * in / (2 * out), in - 1);
  }
  return taps;
}

// Area: the source cells that output cell i covers, [i, i + 1) * in / out, with the length of
// each overlap.
struct AreaSpan {
  std::vector<int64_t> index;
  std::vector<double> weight;
};

std::vector<AreaSpan> area_spans(int64_t in, int64_t out) {
  std::vector<AreaSpan> spans(static_cast<size_t>(out));
  for (int64_t i = 0; i < out; ++i) {
    const double start = static_cast<double>(i * in) / static_cast<double>(out);
    const double end = static_cast<double>((i + 1) * in) / static_cast<double>(out);
    AreaSpan& span = spans[static_cast<size_t>(i)];
    for (auto s = static_cast<int64_t>(std::floor(start)); static_cast<double>(s) < end; ++s) {
      const double overlap =
          std::min(static_cast<double>(s + 1), end) - std::max(static_cast<double>(s), start);
      if (overlap <= 0) continue;
      span.index.push_back(std::min(s, in - 1));
      span.weight.push_back(overlap);
    }
  }
  return spans;
}

}  // namespace

Image crop_image(const Image& image, int64_t top, int64_t left, int64_t height, int64_t width) {
  Image result;
  result.height = height;
  result.width = width;
  result.channels = image.channels;
  const auto row = static_cast<size_t>(width * image.channels);
  result.pixels.resize(static_cast<size_t>(height) * row);
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* from = image.pixels.data() + ((top + y) * image.width + left) * image.channels;
    std::copy(from, from + row, result.pixels.data() + static_cast<size_t>(y) * row);
  }
  return result;
}

void central_crop_box(int64_t height, int64_t width, double fraction, int64_t* top, int64_t* left,
                      int64_t* kept_height, int64_t* kept_width) {
  if (fraction <= 0.0 || fraction >= 1.0) {
    *top = *left = 0;
    *kept_height = height;
    *kept_width = width;
    return;
  }
  const double h = static_cast<double>(height), w = static_cast<double>(width);
  *top = static_cast<int64_t>((h - h * fraction) / 2);
  *left = static_cast<int64_t>((w - w * fraction) / 2);
  *kept_height = height - 2 * *top;
  *kept_width = width - 2 * *left;
}

FloatImage to_float_image(const Image& image, int64_t channels) {
  FloatImage result;
  result.height = image.height;
  result.width = image.width;
  result.channels = channels;
  const int64_t pixels = image.height * image.width;
  result.pixels.resize(static_cast<size_t>(pixels * channels));
  const uint8_t* in = image.pixels.data();
  double* out = result.pixels.data();
  if (channels == image.channels) {
    for (size_t i = 0; i < result.pixels.size(); ++i) out[i] = in[i];
  } else if (image.channels == 3 && channels == 1) {
    for (int64_t p = 0; p < pixels; ++p) {
      out[p] = 0.2989 * in[3 * p] + 0.5870 * in[3 * p + 1] + 0.1140 * in[3 * p + 2];
    }
  } else {  // 1 -> C: repeat the gray value
    for (int64_t p = 0; p < pixels; ++p) {
      for (int64_t c = 0; c < channels; ++c) out[p * channels + c] = in[p];
    }
  }
  return result;
}

FloatImage resize_image(const FloatImage& image, int64_t height, int64_t width,
                        ResizeMethod method) {
  if (height == image.height && width == image.width) return image;
  FloatImage result;
  result.height = height;
  result.width = width;
  result.channels = image.channels;
  const int64_t channels = image.channels;
  result.pixels.resize(static_cast<size_t>(height * width * channels));
  const double* in = image.pixels.data();
  double* out = result.pixels.data();
  auto at = [&](int64_t y, int64_t x) { return in + (y * image.width + x) * channels; };

  if (method == ResizeMethod::kNearest) {
    const std::vector<int64_t> ys = nearest_taps(image.height, height);
    const std::vector<int64_t> xs = nearest_taps(image.width, width);
    for (int64_t y = 0; y < height; ++y) {
      for (int64_t x = 0; x < width; ++x) {
        const double* from = at(ys[static_cast<size_t>(y)], xs[static_cast<size_t>(x)]);
        std::copy(from, from + channels, out + (y * width + x) * channels);
      }
    }
  } else if (method == ResizeMethod::kBilinear) {
    const std::vector<Tap> ys = bilinear_taps(image.height, height);
    const std::vector<Tap> xs = bilinear_taps(image.width, width);
    for (int64_t y = 0; y < height; ++y) {
      const Tap& ty = ys[static_cast<size_t>(y)];
      for (int64_t x = 0; x < width; ++x) {
        const Tap& tx = xs[static_cast<size_t>(x)];
        const double* tl = at(ty.lower, tx.lower);
        const double* tr = at(ty.lower, tx.upper);
        const double* bl = at(ty.upper, tx.lower);
        const double* br = at(ty.upper, tx.upper);
        double* o = out + (y * width + x) * channels;
        for (int64_t c = 0; c < channels; ++c) {
          const double top = tl[c] + (tr[c] - tl[c]) * tx.lerp;
          const double bottom = bl[c] + (br[c] - bl[c]) * tx.lerp;
          o[c] = top + (bottom - top) * ty.lerp;
        }
      }
    }
  } else {  // kArea
    const std::vector<AreaSpan> ys = area_spans(image.height, height);
    const std::vector<AreaSpan> xs = area_spans(image.width, width);
    const double norm = (static_cast<double>(height) / static_cast<double>(image.height)) *
                        (static_cast<double>(width) / static_cast<double>(image.width));
    std::vector<double> sum(static_cast<size_t>(channels));
    for (int64_t y = 0; y < height; ++y) {
      const AreaSpan& sy = ys[static_cast<size_t>(y)];
      for (int64_t x = 0; x < width; ++x) {
        const AreaSpan& sx = xs[static_cast<size_t>(x)];
        std::fill(sum.begin(), sum.end(), 0.0);
        for (size_t i = 0; i < sy.index.size(); ++i) {
          for (size_t j = 0; j < sx.index.size(); ++j) {
            const double weight = sy.weight[i] * sx.weight[j];
            const double* from = at(sy.index[i], sx.index[j]);
            for (int64_t c = 0; c < channels; ++c) sum[static_cast<size_t>(c)] += weight * from[c];
          }
        }
        double* o = out + (y * width + x) * channels;
        for (int64_t c = 0; c < channels; ++c) o[c] = sum[static_cast<size_t>(c)] * norm;
      }
    }
  }
  return result;
}

}  // namespace nnfi::data
