// Example geometry from the model input, and the per-image preprocessing steps.
#include "data/preprocess.h"

#include <cmath>

namespace nnfi::data {
namespace {

bool channel_like(int64_t dim) { return dim == 1 || dim == 3; }

// "[28, 28]" for gray images, "[32, 32, 3]" for colour ones.
std::string size_text(int64_t height, int64_t width, int64_t channels) {
  return shape_to_string(channels == 1 ? Shape{height, width} : Shape{height, width, channels});
}

}  // namespace

Expected<bool> channels_first_for(const Shape& example, DataLayout layout, const Shape& model) {
  if (layout == DataLayout::kNHWC) return false;
  if (layout == DataLayout::kNCHW) return true;
  if (channel_like(example[2])) return false;
  if (channel_like(example[0])) return true;
  if (example[2] < 0) return false;
  if (example[0] < 0) return true;
  return invalid_argument("cannot tell the channel axis of model input " + shape_to_string(model) +
                          " (expected 1 or 3 channels first or last); give the layout "
                          "(--layout nhwc|nchw)");
}

Status validate_preprocessing(const Preprocessing& p) {
  constexpr int64_t kMaxResize = 1 << 16;
  if (!p.preset.empty()) {
    return internal_error("preprocessing preset '" + p.preset + "' unresolved");
  }
  if (p.resize_height < 0 || p.resize_width < 0 || p.resize_height > kMaxResize ||
      p.resize_width > kMaxResize || (p.resize_height == 0) != (p.resize_width == 0)) {
    return invalid_argument("resize " + std::to_string(p.resize_height) + "x" +
                            std::to_string(p.resize_width) +
                            " is not valid (expected both sizes 1 to 65536, or none)");
  }
  if (!(p.central_crop >= 0.0 && p.central_crop <= 1.0)) {
    return invalid_argument("central crop " + std::to_string(p.central_crop) +
                            " is not valid (expected a fraction in (0, 1], or 0 for none)");
  }
  if (!std::isfinite(p.scale)) return invalid_argument("scale must be a finite number");
  for (const auto* values : {&p.mean, &p.std}) {
    const char* name = values == &p.mean ? "mean" : "std";
    if (values->size() != 0 && values->size() != 1 && values->size() != 3) {
      return invalid_argument(std::string(name) + " has " + std::to_string(values->size()) +
                              " values (expected 1, or 3 for one per channel)");
    }
    for (double v : *values) {
      if (!std::isfinite(v) || (values == &p.std && v == 0.0)) {
        return invalid_argument(std::string(name) + " value " + std::to_string(v) +
                                " is not valid (expected a finite number" +
                                (values == &p.std ? ", not 0)" : ")"));
      }
    }
  }
  return Status::ok();
}

Expected<Geometry> resolve_geometry(const Shape& model_input, const Preprocessing& p,
                                    const SourceShape& source, const std::string& data_name) {
  if (model_input.empty()) {
    return unsupported("the model input is a scalar; data sets feed a batch of examples");
  }
  const Shape example(model_input.begin() + 1, model_input.end());
  int64_t top = 0, left = 0, height = 0, width = 0;
  central_crop_box(source.height, source.width, p.central_crop, &top, &left, &height, &width);
  const bool resized = p.resize_height > 0;
  if (resized) {
    height = p.resize_height;
    width = p.resize_width;
  }
  Geometry g;
  g.height = height;
  g.width = width;
  int64_t model_h = -1, model_w = -1;
  if (example.size() == 3) {
    NNFI_ASSIGN_OR_RETURN(g.channels_first, channels_first_for(example, p.layout, model_input));
    const int64_t model_c = g.channels_first ? example[0] : example[2];
    model_h = g.channels_first ? example[1] : example[0];
    model_w = g.channels_first ? example[2] : example[1];
    if (model_c >= 0 && !channel_like(model_c)) {
      return unsupported("model input " + shape_to_string(model_input) + " has " +
                         std::to_string(model_c) + " channels; image data sets feed 1 or 3");
    }
    g.channels = model_c > 0 ? model_c : (p.grayscale ? 1 : source.channels);
    if (p.grayscale && g.channels != 1) {
      return invalid_argument("grayscale images have 1 channel but model input " +
                              shape_to_string(model_input) + " expects " +
                              std::to_string(g.channels));
    }
    g.example_shape =
        g.channels_first ? Shape{g.channels, height, width} : Shape{height, width, g.channels};
  } else if (example.size() == 2) {
    model_h = example[0];
    model_w = example[1];
    g.channels = 1;
    g.example_shape = {height, width};
  } else if (example.size() == 1) {
    g.channels = p.grayscale ? 1 : source.channels;
    g.channels_first = p.layout == DataLayout::kNCHW;
    g.example_shape = {height * width * g.channels};
    if (example[0] >= 0 && example[0] != g.example_shape[0]) {
      std::string hint;
      if (g.channels == 3 && example[0] == height * width) hint = "; convert with --grayscale";
      if (!resized && hint.empty()) hint = "; resize them (--resize HxW) to fit";
      return invalid_argument(
          data_name + " gives images of " + size_text(height, width, g.channels) + " (" +
          std::to_string(g.example_shape[0]) + " values flattened) but the model input has shape " +
          shape_to_string(model_input) + hint);
    }
  } else {
    return unsupported("model input " + shape_to_string(model_input) +
                       " is not an image batch (expected [N, H, W, C], [N, C, H, W], [N, H, W] "
                       "or [N, values])");
  }
  if ((model_h >= 0 && model_h != height) || (model_w >= 0 && model_w != width)) {
    const std::string target = model_h >= 0 && model_w >= 0
                                   ? std::to_string(model_h) + "x" + std::to_string(model_w)
                                   : std::string("HxW");
    return invalid_argument(
        data_name + " gives images of " + size_text(height, width, g.channels) +
        " (example shape " + shape_to_string(g.example_shape) + ") but the model input has shape " +
        shape_to_string(model_input) +
        (resized ? "; resize to " + target + " instead" : "; resize them with --resize " + target));
  }
  return g;
}

Status preprocess_image(const Image& image, const Preprocessing& p, const Geometry& g, float* out,
                        const std::string& where) {
  int64_t top = 0, left = 0, height = 0, width = 0;
  central_crop_box(image.height, image.width, p.central_crop, &top, &left, &height, &width);
  const bool resized = p.resize_height > 0;
  if (!resized && (height != g.height || width != g.width)) {
    return invalid_argument(where + ": image of " + std::to_string(image.height) + "x" +
                            std::to_string(image.width) + " gives " + std::to_string(height) + "x" +
                            std::to_string(width) + ", not the " + std::to_string(g.height) + "x" +
                            std::to_string(g.width) +
                            " of the first image; give a resize (--resize HxW) to feed images of "
                            "different sizes");
  }
  if (height <= 0 || width <= 0) {
    return invalid_argument(where + ": the crop of the image is empty");
  }
  FloatImage pixels = to_float_image(height == image.height && width == image.width
                                         ? image
                                         : crop_image(image, top, left, height, width),
                                     g.channels);
  if (resized) pixels = resize_image(pixels, g.height, g.width, p.resize_method);

  const int64_t channels = g.channels, plane = g.height * g.width;
  const bool swap = p.bgr && channels == 3;
  double mean[3] = {0, 0, 0}, deviation[3] = {1, 1, 1};
  for (int64_t c = 0; c < channels; ++c) {
    const auto i = static_cast<size_t>(c);
    if (!p.mean.empty()) mean[c] = p.mean.size() == 1 ? p.mean[0] : p.mean[i];
    if (!p.std.empty()) deviation[c] = p.std.size() == 1 ? p.std[0] : p.std[i];
  }
  const double* in = pixels.pixels.data();
  for (int64_t c = 0; c < channels; ++c) {
    const int64_t from = swap ? 2 - c : c;
    for (int64_t i = 0; i < plane; ++i) {
      const double v = (in[i * channels + from] * p.scale - mean[c]) / deviation[c];
      out[g.channels_first ? c * plane + i : i * channels + c] = static_cast<float>(v);
    }
  }
  return Status::ok();
}

}  // namespace nnfi::data
