// From decoded images to model-ready float32 examples: the example geometry that a model input
// asks for, and the per-image steps (crop, resize, channels, normalisation, layout).
#pragma once

#include <string>

#include "data/image.h"
#include "nnfi/dataset.h"

namespace nnfi::data {

// What the images of a data set look like before preprocessing (the first image's size for
// image files; every image of an IDX file).
struct SourceShape {
  int64_t height = 0, width = 0, channels = 0;
};

// What every example becomes.
struct Geometry {
  Shape example_shape;                          // without the batch axis, every dim known
  int64_t height = 0, width = 0, channels = 0;  // of the fed image
  bool channels_first = false;                  // CHW value order (else HWC), flattened or not
};

// For a rank-3 example shape (no batch axis): whether the channels come first (see DataLayout).
// Errors name `model` (the whole input shape) when neither end looks like 1 or 3 channels.
Expected<bool> channels_first_for(const Shape& example, DataLayout layout, const Shape& model);

// Checks a resolved Preprocessing (no preset left): mean/std sizes, std != 0, crop fraction.
Status validate_preprocessing(const Preprocessing& preprocessing);

// The example geometry for a model input shape (batch axis first) and the data's images.
// `data_name` (e.g. "gtsrb:DIR") is named in errors, with both shapes.
Expected<Geometry> resolve_geometry(const Shape& model_input, const Preprocessing& preprocessing,
                                    const SourceShape& source, const std::string& data_name);

// Crops, resizes, converts and normalises one image and writes its example (geometry's element
// count) to `out`. An image whose size cannot give the geometry (no resize, another size) is an
// error naming `where`.
Status preprocess_image(const Image& image, const Preprocessing& preprocessing,
                        const Geometry& geometry, float* out, const std::string& where);

}  // namespace nnfi::data
