// The real Keras models of ../shared/fixtures/keras: each loads and
// reproduces its golden output (an independent numpy forward pass) with fast
// and reference kernels; the TFSMLayer files are refused with a clear error.
#include <gtest/gtest.h>

#include <string>

#include "keras/keras_test_util.h"
#include "nnfi/data.h"

namespace nnfi::testing {
namespace {

struct GoldenCase {
  const char* model;
  size_t layers;
  int64_t parameters;
};

class KerasGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(KerasGoldenTest, ReproducesGoldenOutput) {
  NNFI_REQUIRE_FIXTURES();
  const GoldenCase& c = GetParam();
  const auto golden = fixtures_dir() / "golden" / c.model;
  Expected<Tensor> input = read_npy(golden / "input.npy");
  Expected<Tensor> expected = read_npy(golden / "output.npy");
  ASSERT_TRUE(input.has_value()) << input.status().message();
  ASSERT_TRUE(expected.has_value()) << expected.status().message();
  const auto model = fixtures_dir() / "keras" / (std::string(c.model) + ".h5");
  auto graph = load_model(model);
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  EXPECT_EQ((*graph)->layers.size(), c.layers);
  int64_t parameters = 0;
  for (size_t l = 0; l < (*graph)->layers.size(); ++l) {
    parameters += (*graph)->layer_parameter_count(static_cast<int32_t>(l));
  }
  EXPECT_EQ(parameters, c.parameters);
  for (bool fast : {true, false}) {
    auto output = run_keras_file(model, {*input}, fast);
    ASSERT_TRUE(output.has_value()) << output.status().message();
    // Softmax outputs: 1e-5 relative, 1e-4 absolute (fixtures README).
    EXPECT_TRUE(tensors_close(output->front(), *expected, 1e-5, 1e-4))
        << (fast ? "fast" : "reference") << " kernels";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, KerasGoldenTest,
                         ::testing::Values(GoldenCase{"gtsrb_cnn_keras2.11", 12, 242251},
                                           GoldenCase{"fashion_mnist_cnn_keras3.10", 10, 93322},
                                           GoldenCase{"cifar10_resnet20v1_keras2.2.5", 71, 274442},
                                           GoldenCase{"injecttf2_mnist_mlp_keras2.2.4tf", 4,
                                                      101770}),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           std::string name = info.param.model;
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(KerasFixtures, ResNetKeepsKerasLayerOrderAndBranches) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load_model(fixtures_dir() / "keras/cifar10_resnet20v1_keras2.2.5.h5");
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  const Graph& g = **graph;
  EXPECT_EQ(g.layers.front().name, "conv2d_1");
  EXPECT_EQ(g.layers.back().name, "dense_1");
  int adds = 0;
  for (const Layer& layer : g.layers) adds += layer.class_name == "Add" ? 1 : 0;
  EXPECT_EQ(adds, 9);
  EXPECT_EQ(g.metadata.at("keras.version"), "2.2.5");
  EXPECT_EQ(g.metadata.at("keras.model_class"), "Model");
}

TEST(KerasFixtures, MlpWithoutInputLayerTakesShapeFromFirstLayer) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load_model(fixtures_dir() / "keras/injecttf2_mnist_mlp_keras2.2.4tf.h5");
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  ASSERT_EQ((*graph)->inputs.size(), 1u);
  EXPECT_EQ((*graph)->values[(*graph)->inputs[0]].shape, (Shape{-1, 28, 28}));
}

TEST(KerasFixtures, RejectsTFSMLayerFilesNamingTheLayer) {
  NNFI_REQUIRE_FIXTURES();
  // The .keras fixture holds the same TFSMLayer wrapper, not the CNN.
  for (const char* file : {"unloadable_tfsmlayer_keras3.h5", "fashion_mnist_cnn_keras3.10.keras"}) {
    auto graph = load_model(fixtures_dir() / "keras" / file);
    ASSERT_FALSE(graph.has_value()) << file;
    const std::string message = graph.status().message();
    EXPECT_EQ(graph.status().code(), StatusCode::kUnsupported);
    EXPECT_TRUE(contains(message, file)) << message;
    EXPECT_TRUE(contains(message, "layer 'tfsm_layer' (TFSMLayer): layer class not supported"))
        << message;
    EXPECT_TRUE(contains(message, "nnfi supports InputLayer, Dense")) << message;
  }
}

}  // namespace
}  // namespace nnfi::testing
