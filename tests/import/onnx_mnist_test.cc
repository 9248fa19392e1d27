// The real fixture: ONNX Model Zoo mnist-8 (CNTK, opset 8, IR version 3)
// imported, run through Plan/Executor and compared with the golden outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nnfi/data.h"
#include "nnfi/graph.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi::testing {
namespace {

TEST(OnnxMnistTest, ImportsMnist8Structure) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load_model(fixtures_dir() / "onnx/mnist-8.onnx");
  ASSERT_TRUE(graph) << graph.status().message();
  const Graph& g = **graph;
  // Initializers are listed among the inputs (IR version 3): one user input.
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.values[g.inputs[0]].name, "Input3");
  EXPECT_EQ(g.values[g.inputs[0]].shape, (Shape{1, 1, 28, 28}));
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.values[g.outputs[0]].name, "Plus214_Output_0");
  EXPECT_EQ(g.values[g.outputs[0]].shape, (Shape{1, 10}));
  EXPECT_EQ(g.nodes.size(), 12u);
  EXPECT_EQ(g.layers.size(), 12u);
  auto conv = g.find_node("Convolution28");
  ASSERT_TRUE(conv.has_value());
  EXPECT_EQ(g.nodes[*conv].op, OpType::kConv);
  EXPECT_EQ(g.layers[g.nodes[*conv].layer].class_name, "Conv");
  EXPECT_EQ(g.layer_parameter_count(g.nodes[*conv].layer), 8 * 1 * 5 * 5);
  auto pool = g.find_node("Pooling66");
  ASSERT_TRUE(pool.has_value());
  EXPECT_EQ(g.nodes[*pool].attributes.get_ints("kernel_shape"), (std::vector<int64_t>{2, 2}));
}

TEST(OnnxMnistTest, Mnist8MatchesGoldenOutputs) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = import_onnx(fixtures_dir() / "onnx/mnist-8.onnx");
  ASSERT_TRUE(graph) << graph.status().message();
  auto input = read_npy(fixtures_dir() / "golden/mnist-8/input.npy");
  ASSERT_TRUE(input) << input.status().message();
  auto expected = read_npy(fixtures_dir() / "golden/mnist-8/output.npy");
  ASSERT_TRUE(expected) << expected.status().message();
  ASSERT_EQ(input->shape(), (Shape{16, 1, 1, 28, 28}));
  ASSERT_EQ(expected->shape(), (Shape{16, 10}));

  // The model's batch is fixed at 1: run each image alone, with the fast
  // kernels the plan picks and with reference kernels only.
  std::shared_ptr<const Graph> shared = *graph;
  const ValueId output = shared->outputs[0];
  for (bool fast : {true, false}) {
    PlanOptions options;
    options.use_fast_kernels = fast;
    auto plan = Plan::create(shared, {Shape{1, 1, 28, 28}}, options);
    ASSERT_TRUE(plan) << plan.status().message();
    Executor executor(*plan);
    for (int64_t image = 0; image < 16; ++image) {
      Tensor one(DType::kFloat32, {1, 1, 28, 28});
      std::memcpy(one.raw_data(), input->data<float>() + image * 784, 784 * sizeof(float));
      ASSERT_TRUE(executor.set_input(0, one).is_ok());
      Status status = executor.run();
      ASSERT_TRUE(status.is_ok()) << status.message();
      Tensor want(DType::kFloat32, {1, 10});
      std::memcpy(want.raw_data(), expected->data<float>() + image * 10, 10 * sizeof(float));
      EXPECT_TRUE(tensors_close(executor.value(output), want, 1e-5, 1e-5))
          << "image " << image << (fast ? " (fast kernels)" : " (reference kernels)");
    }
  }
}

// tf2onnx 1.6.3, opset 10: legacy Softmax, Cast, ArgMax, Equal, ReduceMean
// over two symbolic-batch inputs. Checked against a plain forward pass over
// the imported weights, and the accuracy output against known labels.
TEST(OnnxMnistTest, Tf2onnxMlpMatchesPlainForwardPass) {
  NNFI_REQUIRE_FIXTURES();
  auto imported = load_model(fixtures_dir() / "onnx/mnist_mlp_tf2onnx.onnx");
  ASSERT_TRUE(imported) << imported.status().message();
  std::shared_ptr<const Graph> graph = *imported;
  ASSERT_EQ(graph->inputs.size(), 2u);
  EXPECT_EQ(graph->values[graph->inputs[0]].name, "y_:0");
  EXPECT_EQ(graph->values[graph->inputs[1]].shape, (Shape{kUnknownDim, 784}));
  const Node& softmax = graph->nodes[*graph->find_node("y")];
  EXPECT_EQ(softmax.attributes.get_int("legacy_flatten", 0), 1);
  EXPECT_EQ(graph->nodes[*graph->find_node("Cast")].attributes.get_string("to", ""), "float32");
  ASSERT_EQ(graph->outputs.size(), 1u);
  EXPECT_EQ(graph->values[graph->outputs[0]].shape, Shape{});

  constexpr int64_t kBatch = 4;
  Tensor x = random_tensor({kBatch, 784}, 7, 0.0f, 1.0f);
  // Plain forward pass: three dense layers, relu between, over the weights.
  std::vector<float> activation(x.data<float>(), x.data<float>() + x.num_elements());
  int64_t width = 784;
  for (int layer = 0; layer < 3; ++layer) {
    static const char* const kWeights[] = {"Variable/read:0", "Variable_2/read:0",
                                           "Variable_4/read:0"};
    static const char* const kBiases[] = {"Variable_1/read:0", "Variable_3/read:0",
                                          "Variable_5/read:0"};
    const Tensor& w = graph->values[*graph->find_value(kWeights[layer])].constant;
    const Tensor& b = graph->values[*graph->find_value(kBiases[layer])].constant;
    ASSERT_EQ(w.dim(0), width);
    const int64_t out = w.dim(1);
    std::vector<float> next(static_cast<size_t>(kBatch * out));
    for (int64_t n = 0; n < kBatch; ++n) {
      for (int64_t j = 0; j < out; ++j) {
        double sum = b.data<float>()[j];
        for (int64_t k = 0; k < width; ++k) {
          sum += static_cast<double>(activation[n * width + k]) * w.data<float>()[k * out + j];
        }
        next[n * out + j] =
            layer < 2 ? std::max(0.0f, static_cast<float>(sum)) : static_cast<float>(sum);
      }
    }
    activation = std::move(next);
    width = out;
  }
  ASSERT_EQ(width, 10);
  // Labels: the plain pass's class for images 0 and 1, another class for 2 and 3.
  Tensor labels(DType::kFloat32, {kBatch, 10});
  for (int64_t n = 0; n < kBatch; ++n) {
    const float* row = activation.data() + n * 10;
    const int64_t predicted = std::max_element(row, row + 10) - row;
    labels.data<float>()[n * 10 + (n < 2 ? predicted : (predicted + 1) % 10)] = 1.0f;
  }
  auto plan = Plan::create(graph, {Shape{kBatch, 10}, Shape{kBatch, 784}});
  ASSERT_TRUE(plan) << plan.status().message();
  Executor executor(*plan);
  ASSERT_TRUE(executor.set_input(0, labels).is_ok());
  ASSERT_TRUE(executor.set_input(1, x).is_ok());
  Status status = executor.run();
  ASSERT_TRUE(status.is_ok()) << status.message();
  EXPECT_FLOAT_EQ(executor.value(graph->outputs[0]).data<float>()[0], 0.5f);
  const Tensor& probabilities = executor.value(*graph->find_value("y:0"));
  for (int64_t n = 0; n < kBatch; ++n) {
    const float* logits = activation.data() + n * 10;
    const float top = *std::max_element(logits, logits + 10);
    double total = 0;
    for (int64_t j = 0; j < 10; ++j) total += std::exp(static_cast<double>(logits[j] - top));
    for (int64_t j = 0; j < 10; ++j) {
      const double want = std::exp(static_cast<double>(logits[j] - top)) / total;
      EXPECT_NEAR(probabilities.data<float>()[n * 10 + j], want, 1e-5) << n << "," << j;
    }
  }
}

}  // namespace
}  // namespace nnfi::testing
