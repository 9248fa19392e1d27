// Shared fixture of the Keras tests: write a small model with the test-side
// writer (keras_writer.h), load it with import_keras, run it, compare with
// the plain loops of reference_ops.h.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/temp_files.h"
#include "keras/keras_writer.h"
#include "keras/reference_ops.h"
#include "nnfi/model.h"
#include "support/test_support.h"

namespace nnfi::testing {

class KerasTest : public TempDirTest {
 protected:
  // A Sequential model of `layers` on inputs shaped like x (batch None), as
  // Keras `keras_major` writes it; returns its output for x.
  Tensor run_sequential(std::vector<TestLayer> layers, const Tensor& x, int keras_major = 2) {
    TestModel model;
    model.keras_major = keras_major;
    model.input_shape = x.shape();
    model.input_shape[0] = -1;
    model.layers = std::move(layers);
    H5Options options;
    if (keras_major >= 3) {
      options.keras_version = "3.10.0";
      options.weight_suffix = false;
    }
    return run_model(model, {x}, options).front();
  }

  std::vector<Tensor> run_model(const TestModel& model, const std::vector<Tensor>& inputs,
                                const H5Options& options = {}) {
    const auto file = path("model.h5");
    write_h5(file, model, options);
    auto outputs = run_keras_file(file, inputs);
    EXPECT_TRUE(outputs.has_value()) << outputs.status().message();
    if (!outputs.has_value()) return std::vector<Tensor>(model.outputs.size() + 1);
    return std::move(outputs).value();
  }

  // The error import_keras gives for `model` written with `options`.
  std::string import_error(const TestModel& model, const H5Options& options = {}) {
    const auto file = path("broken.h5");
    write_h5(file, model, options);
    auto graph = import_keras(file);
    EXPECT_FALSE(graph.has_value()) << "imported without error";
    return graph.has_value() ? std::string() : graph.status().message();
  }
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// NCHW <-> NHWC for the channels_first tests.
inline Tensor to_nhwc(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  Tensor y(DType::kFloat32, {n, h, w, c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j)
          y.data<float>()[((b * h + i) * w + j) * c + ch] = ref::at(x, {b, ch, i, j});
  return y;
}

inline Tensor to_nchw(const Tensor& x) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  Tensor y(DType::kFloat32, {n, c, h, w});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j)
          y.data<float>()[((b * c + ch) * h + i) * w + j] = ref::at(x, {b, i, j, ch});
  return y;
}

}  // namespace nnfi::testing
