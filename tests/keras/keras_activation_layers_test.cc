// Keras activations (the `activation` argument and the Activation layer),
// the advanced activation layers, normalisation and preprocessing layers, in
// small models the tests write, against formulas evaluated in double here.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "keras/keras_test_util.h"

namespace nnfi::testing {
namespace {

constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-6;

TEST_F(KerasTest, EveryActivationName) {
  Tensor x = random_tensor({3, 7}, 40, -4.0f, 4.0f);
  for (const char* name : {"linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "elu",
                           "selu", "swish", "silu", "gelu", "softplus"}) {
    for (int major : {2, 3}) {
      Tensor y = run_sequential({layer("Activation", "act", {{"activation", name}})}, x, major);
      Tensor expected = ref::map(x, [&](double v) { return ref::activation(name, v, major); });
      EXPECT_TRUE(tensors_close(y, expected, kRtol, kAtol)) << name << " keras " << major;
    }
  }
  Tensor s = run_sequential({layer("Activation", "act", {{"activation", "softmax"}})}, x);
  EXPECT_TRUE(tensors_close(s, ref::softmax(x), kRtol, kAtol));
}

TEST_F(KerasTest, Keras3SerialisedActivationObject) {
  Tensor x = random_tensor({2, 4}, 41);
  json relu = {{"module", "keras.activations"},
               {"class_name", "function"},
               {"config", "relu"},
               {"registered_name", "relu"}};
  Tensor y = run_sequential({layer("Activation", "act", {{"activation", relu}})}, x, 3);
  EXPECT_TRUE(tensors_close(y, ref::map(x, [](double v) { return v > 0 ? v : 0; }), 0, 0));
}

// Keras's relu(x, negative_slope, max_value, threshold) as its code computes it.
double keras_relu(double x, double slope, double max_value, double threshold) {
  double y = threshold != 0 ? (x > threshold ? x : 0) : std::max(x, 0.0);
  if (max_value >= 0) y = std::min(std::max(y, 0.0), max_value);
  if (slope != 0) y -= slope * std::max(threshold - x, 0.0);
  return y;
}

TEST_F(KerasTest, ReLULayerArguments) {
  Tensor x = random_tensor({4, 8}, 42, -8.0f, 8.0f);
  struct Case {
    double slope, max, threshold;
  };
  for (const Case& c : {Case{0, -1, 0}, Case{0, 6, 0}, Case{0, 2.5, 0}, Case{0.1, -1, 0},
                        Case{0.2, 4, 0}, Case{0, -1, 1.5}, Case{0.3, 5, -1}, Case{0.5, -1, 2}}) {
    json config = {{"negative_slope", c.slope}, {"threshold", c.threshold}};
    config["max_value"] = c.max < 0 ? json(nullptr) : json(c.max);
    Tensor y = run_sequential({layer("ReLU", "relu", config)}, x);
    Tensor expected =
        ref::map(x, [&](double v) { return keras_relu(v, c.slope, c.max, c.threshold); });
    EXPECT_TRUE(tensors_close(y, expected, kRtol, kAtol))
        << "slope " << c.slope << " max " << c.max << " threshold " << c.threshold;
  }
}

TEST_F(KerasTest, LeakyReLUPReLUELUSoftmaxLayers) {
  Tensor x = random_tensor({2, 3, 4, 2}, 43, -3.0f, 3.0f);
  // Keras 2 names the slope alpha, Keras 3 negative_slope.
  Tensor leaky2 = run_sequential({layer("LeakyReLU", "leaky", {{"alpha", 0.1}})}, x);
  Tensor leaky3 = run_sequential({layer("LeakyReLU", "leaky", {{"negative_slope", 0.2}})}, x, 3);
  EXPECT_TRUE(tensors_close(leaky2, ref::map(x, [](double v) { return v > 0 ? v : 0.1 * v; }),
                            kRtol, kAtol));
  EXPECT_TRUE(tensors_close(leaky3, ref::map(x, [](double v) { return v > 0 ? v : 0.2 * v; }),
                            kRtol, kAtol));
  // PReLU with shared_axes [1, 2]: one slope per channel, alpha (1, 1, C).
  Tensor alpha = Tensor::from_vector<float>({0.25f, -0.5f}, {1, 1, 2});
  Tensor prelu =
      run_sequential({layer("PReLU", "prelu", {{"shared_axes", {1, 2}}}, {{"alpha", alpha}})}, x);
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const float v = x.data<float>()[i];
    const float a = alpha.data<float>()[i % 2];
    EXPECT_FLOAT_EQ(prelu.data<float>()[i], v > 0 ? v : a * v) << i;
  }
  Tensor elu = run_sequential({layer("ELU", "elu", {{"alpha", 0.5}})}, x);
  EXPECT_TRUE(tensors_close(
      elu, ref::map(x, [](double v) { return v > 0 ? v : 0.5 * std::expm1(v); }), kRtol, kAtol));
  Tensor softmax = run_sequential({layer("Softmax", "softmax", {{"axis", -1}})}, x);
  EXPECT_TRUE(tensors_close(softmax, ref::softmax(x), kRtol, kAtol));
}

TEST_F(KerasTest, BatchNormalizationScaleAndCenterFlags) {
  Tensor x = random_tensor({2, 3, 3, 4}, 44, -2.0f, 2.0f);
  Tensor gamma = random_tensor({4}, 45, 0.5f, 1.5f), beta = random_tensor({4}, 46);
  Tensor mean = random_tensor({4}, 47), var = random_tensor({4}, 48, 0.1f, 2.0f);
  for (bool scale : {true, false}) {
    for (bool center : {true, false}) {
      std::vector<std::pair<std::string, Tensor>> weights;
      if (scale) weights.emplace_back("gamma", gamma);
      if (center) weights.emplace_back("beta", beta);
      weights.emplace_back("moving_mean", mean);
      weights.emplace_back("moving_variance", var);
      Tensor y = run_sequential(
          {layer("BatchNormalization", "bn",
                 {{"axis", -1}, {"epsilon", 0.001}, {"scale", scale}, {"center", center}},
                 weights)},
          x);
      Tensor expected(DType::kFloat32, x.shape());
      for (int64_t i = 0; i < x.num_elements(); ++i) {
        const int64_t c = i % 4;
        double v = (x.data<float>()[i] - mean.data<float>()[c]) /
                   std::sqrt(double(var.data<float>()[c]) + 0.001);
        if (scale) v *= gamma.data<float>()[c];
        if (center) v += beta.data<float>()[c];
        expected.data<float>()[i] = static_cast<float>(v);
      }
      EXPECT_TRUE(tensors_close(y, expected, kRtol, kAtol)) << scale << center;
    }
  }
}

TEST_F(KerasTest, BatchNormalizationAxisOneListForm) {
  // Keras 2.2 writes axis as [1] for channels_first data.
  Tensor x = random_tensor({2, 3, 2, 2}, 49);
  Tensor gamma = random_tensor({3}, 50), beta = random_tensor({3}, 51);
  Tensor mean = random_tensor({3}, 52), var = random_tensor({3}, 53, 0.5f, 1.0f);
  Tensor y = run_sequential(
      {layer("BatchNormalization", "bn", {{"axis", {1}}, {"epsilon", 1e-5}},
             {{"gamma", gamma}, {"beta", beta}, {"moving_mean", mean}, {"moving_variance", var}})},
      x);
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const int64_t c = (i / 4) % 3;
    const double v = (x.data<float>()[i] - mean.data<float>()[c]) /
                         std::sqrt(double(var.data<float>()[c]) + 1e-5) * gamma.data<float>()[c] +
                     beta.data<float>()[c];
    EXPECT_NEAR(y.data<float>()[i], v, 1e-5) << i;
  }
}

TEST_F(KerasTest, LayerNormalizationLastAxisAndSeveralAxes) {
  Tensor x = random_tensor({2, 3, 4}, 54, -2.0f, 2.0f);
  Tensor gamma = random_tensor({4}, 55), beta = random_tensor({4}, 56);
  auto normalise = [&](int64_t row_size, const float* g, const float* b) {
    Tensor expected(DType::kFloat32, x.shape());
    for (int64_t r = 0; r < x.num_elements() / row_size; ++r) {
      const float* in = x.data<float>() + r * row_size;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < row_size; ++i) mean += in[i];
      mean /= row_size;
      for (int64_t i = 0; i < row_size; ++i) var += (in[i] - mean) * (in[i] - mean);
      var /= row_size;
      for (int64_t i = 0; i < row_size; ++i) {
        double v = (in[i] - mean) / std::sqrt(var + 1e-3);
        if (g != nullptr) v *= g[i % 4];
        if (b != nullptr) v += b[i % 4];
        expected.data<float>()[r * row_size + i] = static_cast<float>(v);
      }
    }
    return expected;
  };
  Tensor y = run_sequential({layer("LayerNormalization", "ln", {{"axis", -1}, {"epsilon", 1e-3}},
                                   {{"gamma", gamma}, {"beta", beta}})},
                            x);
  EXPECT_TRUE(tensors_close(y, normalise(4, gamma.data<float>(), beta.data<float>()), 1e-5, 1e-5));
  // axis [1, 2], no scale: gamma absent, beta of the normalised shape (3, 4).
  Tensor beta34 = random_tensor({3, 4}, 57);
  Tensor y2 = run_sequential(
      {layer("LayerNormalization", "ln", {{"axis", {1, 2}}, {"epsilon", 1e-3}, {"scale", false}},
             {{"beta", beta34}})},
      x);
  Tensor expected2 = normalise(12, nullptr, nullptr);
  for (int64_t i = 0; i < expected2.num_elements(); ++i) {
    expected2.data<float>()[i] += beta34.data<float>()[i % 12];
  }
  EXPECT_TRUE(tensors_close(y2, expected2, 1e-5, 1e-5));
}

TEST_F(KerasTest, RescalingAndNormalization) {
  Tensor x = random_tensor({2, 2, 2, 3}, 58, 0.0f, 255.0f);
  Tensor rescaled = run_sequential(
      {layer("Rescaling", "rescale", {{"scale", 1.0 / 127.5}, {"offset", -1.0}})}, x);
  EXPECT_TRUE(
      tensors_close(rescaled, ref::map(x, [](double v) { return v / 127.5 - 1.0; }), 1e-5, 1e-6));
  // Normalization with mean/variance in the config (one per channel).
  const double mean[3] = {100, 120, 140}, var[3] = {400, 900, 0};
  Tensor normalised = run_sequential(
      {layer("Normalization", "norm",
             {{"axis", -1}, {"mean", {100, 120, 140}}, {"variance", {400, 900, 0}}})},
      x);
  Tensor expected(DType::kFloat32, x.shape());
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const int64_t c = i % 3;
    expected.data<float>()[i] =
        static_cast<float>((x.data<float>()[i] - mean[c]) / std::max(std::sqrt(var[c]), 1e-7));
  }
  EXPECT_TRUE(tensors_close(normalised, expected, 1e-5, 1e-3));
  // Normalization adapted: mean, variance, count stored as weights.
  Tensor wm = Tensor::from_vector<float>({1, 2, 3}, {3});
  Tensor wv = Tensor::from_vector<float>({4, 9, 16}, {3});
  Tensor count = Tensor::scalar<float>(10);
  Tensor adapted = run_sequential({layer("Normalization", "norm", {{"axis", -1}},
                                         {{"mean", wm}, {"variance", wv}, {"count", count}})},
                                  x);
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const int64_t c = i % 3;
    EXPECT_NEAR(adapted.data<float>()[i], (x.data<float>()[i] - (c + 1)) / (c + 2), 1e-4);
  }
}

}  // namespace
}  // namespace nnfi::testing
