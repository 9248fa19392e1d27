// The raw fixture data, read and preprocessed by nnfi, reproduce the golden input batches that
// an independent numpy pipeline made for each fixture model (fixtures/golden/*/input.npy).
#include <gtest/gtest.h>

#include "nnfi/data.h"
#include "nnfi/dataset.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::fixtures_dir;

std::string data_dir(const std::string& name) { return (fixtures_dir() / "data" / name).string(); }

Tensor golden_input(const std::string& model) {
  Expected<Tensor> input = read_npy(fixtures_dir() / "golden" / model / "input.npy");
  EXPECT_TRUE(input.has_value()) << input.status().message();
  return input.has_value() ? *input : Tensor();
}

// Reads the first n examples and compares them with the golden batch (reshaped to match).
// atol 0 where nnfi's double arithmetic rounds to the same float as numpy's; 1e-6 (a few ulps)
// where numpy rounded intermediate float32 steps (x / 127.5 - 1, x / 255 - mean).
void expect_matches_golden(const DatasetOptions& options, const Shape& model_input,
                           const std::string& model, double atol) {
  Tensor golden = golden_input(model);
  ASSERT_TRUE(golden.defined());
  auto dataset = open_dataset(options, model_input);
  ASSERT_TRUE(dataset.has_value()) << dataset.status().message();
  const int64_t n = golden.dim(0);
  auto batch = (*dataset)->read(0, n);
  ASSERT_TRUE(batch.has_value()) << batch.status().message();
  ASSERT_EQ(batch->inputs.num_elements(), golden.num_elements());
  Expected<Tensor> expected = golden.reshaped(batch->inputs.shape());
  ASSERT_TRUE(expected.has_value());
  EXPECT_TRUE(testing::tensors_close(batch->inputs, *expected, 0.0, atol)) << model;
}

TEST(FixtureDataTest, GtsrbBilinear32To30IsExact) {
  NNFI_REQUIRE_FIXTURES();
  DatasetOptions options;
  options.spec = "gtsrb:" + data_dir("gtsrb_test_32x32");
  options.preprocessing.resize_height = options.preprocessing.resize_width = 30;
  expect_matches_golden(options, {-1, 30, 30, 3}, "gtsrb_cnn_keras2.11", 0.0);
  auto dataset = open_dataset(options, {-1, 30, 30, 3});
  ASSERT_TRUE(dataset.has_value());
  EXPECT_EQ((*dataset)->size(), 1000);
  auto first = (*dataset)->read(0, 4);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->labels, (std::vector<int64_t>{16, 1, 38, 33}));  // GT-final_test.csv
}

TEST(FixtureDataTest, MobilenetJpegsWithTfPreset) {
  NNFI_REQUIRE_FIXTURES();
  DatasetOptions options;
  options.spec = "folder:" + data_dir("imagenet_samples");
  options.preprocessing.resize_height = options.preprocessing.resize_width = 224;
  options.preprocessing.preset = "tf";
  options.label_offset = 1;
  options.num_classes = 1001;
  expect_matches_golden(options, {-1, 224, 224, 3}, "mobilenet_v1_0.25_224_frozen", 1e-6);
  auto dataset = open_dataset(options, {-1, 224, 224, 3});
  ASSERT_TRUE(dataset.has_value());
  auto batch = (*dataset)->read(0, 2);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->labels, (std::vector<int64_t>{244, 560}));  // imagenet_00_243, _01_559
}

TEST(FixtureDataTest, Cifar10PngsMinusMean) {
  NNFI_REQUIRE_FIXTURES();
  DatasetOptions options;
  options.spec = "folder:" + data_dir("cifar10_samples");
  options.preprocessing.scale = 1.0 / 255.0;
  options.preprocessing.mean = {0.4914, 0.4822, 0.4465};
  expect_matches_golden(options, {-1, 32, 32, 3}, "cifar10_resnet20v1_keras2.2.5", 1e-6);
}

TEST(FixtureDataTest, MnistAndFashionIdxInEveryLayout) {
  NNFI_REQUIRE_FIXTURES();
  DatasetOptions fashion;
  fashion.spec = "idx:" + data_dir("fashion_mnist_test");  // t10k files in the folder
  fashion.preprocessing.scale = 1.0 / 255.0;
  expect_matches_golden(fashion, {-1, 28, 28, 1}, "fashion_mnist_cnn_keras3.10", 0.0);
  DatasetOptions mnist = fashion;
  mnist.spec = "idx:" + data_dir("mnist_test");
  expect_matches_golden(mnist, {-1, 784}, "mnist_mlp_frozen_tf1.15", 0.0);
  expect_matches_golden(mnist, {-1, 28, 28}, "injecttf2_mnist_mlp_keras2.2.4tf", 0.0);
  expect_matches_golden(mnist, {1, 1, 28, 28}, "mnist-8", 0.0);
}

}  // namespace
}  // namespace nnfi
