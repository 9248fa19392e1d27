// The two real TensorFlow frozen graphs of the fixtures: they load, keep
// every TF op as a node with its TF name and op type, group into layers by
// name scope, and reproduce the fixtures' independent numpy outputs; the
// MNIST MLP reaches its reference accuracy on the whole MNIST test set.
#include <algorithm>
#include <memory>

#include "nnfi/data.h"
#include "support/test_support.h"
#include "tf/tf_test_builder.h"

namespace nnfi {
namespace {

using testing::tf_files::count_source_op;
using testing::tf_files::find_node;
using testing::tf_files::run_graph;

const char kMlp[] = "tf/mnist_mlp_frozen_tf1.15.pb";
const char kMobileNet[] = "tf/mobilenet_v1_0.25_224_frozen.pb";
const char kMobileNetFetch[] = "MobilenetV1/Predictions/Reshape_1";

std::shared_ptr<Graph> load(const char* file, std::vector<std::string> feeds,
                            std::vector<std::string> fetches, bool fold = false) {
  LoadOptions options;
  options.feeds = std::move(feeds);
  options.fetches = std::move(fetches);
  options.fold_constants = fold;
  Expected<std::shared_ptr<Graph>> graph = load_model(testing::fixtures_dir() / file, options);
  EXPECT_TRUE(graph.has_value()) << graph.status().message();
  return graph.has_value() ? *graph : nullptr;
}

Tensor golden(const std::string& model, const char* file) {
  Expected<Tensor> tensor = read_npy(testing::fixtures_dir() / "golden" / model / file);
  EXPECT_TRUE(tensor.has_value()) << tensor.status().message();
  return tensor.has_value() ? *tensor : Tensor();
}

// MobileNet's input is fixed at batch 1: runs the golden images one by one.
Tensor run_mobilenet(std::shared_ptr<Graph> graph, bool fast) {
  const Tensor input = golden("mobilenet_v1_0.25_224_frozen", "input.npy");
  EXPECT_EQ(input.shape(), (Shape{20, 224, 224, 3}));
  Tensor output(DType::kFloat32, {20, 1001});
  const int64_t pixels = 224 * 224 * 3;
  for (int64_t row = 0; row < 20; ++row) {
    Tensor image(DType::kFloat32, {1, 224, 224, 3});
    std::copy_n(input.data<float>() + row * pixels, pixels, image.data<float>());
    auto result = run_graph(graph, {image}, fast);
    EXPECT_TRUE(result.has_value()) << result.status().message();
    if (!result.has_value()) return Tensor();
    std::copy_n(result->front().data<float>(), 1001, output.data<float>() + row * 1001);
  }
  return output;
}

TEST(TfFixtureTest, MnistMlpReproducesGoldenOutput) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load(kMlp, {"x"}, {"y"});
  ASSERT_NE(graph, nullptr);
  ASSERT_EQ(graph->inputs.size(), 1u);  // y_ (labels) is pruned away
  EXPECT_EQ(graph->values[graph->inputs[0]].name, "x");
  EXPECT_EQ(graph->values[graph->outputs[0]].name, "y");
  const Tensor input = golden("mnist_mlp_frozen_tf1.15", "input.npy");
  for (bool fast : {false, true}) {
    auto output = run_graph(graph, {input}, fast);
    ASSERT_TRUE(output.has_value()) << output.status().message();
    EXPECT_TRUE(testing::tensors_close(output->front(),
                                       golden("mnist_mlp_frozen_tf1.15", "output.npy"), 1e-5, 1e-6))
        << (fast ? "fast" : "reference") << " kernels";
  }
}

TEST(TfFixtureTest, MnistMlpKeepsTfNamesAndOpTypes) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load(kMlp, {"x:0"}, {"y:0"});
  ASSERT_NE(graph, nullptr);
  // MatMul, AddV2, Relu x2, MatMul, AddV2, Softmax; the weights' Identity
  // reads resolve to the constants.
  EXPECT_EQ(graph->nodes.size(), 9u);
  EXPECT_EQ(count_source_op(*graph, "AddV2"), 3);
  EXPECT_EQ(count_source_op(*graph, "Identity"), 0);
  const Node* add = find_node(*graph, "add_1");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->op, OpType::kAdd);
  EXPECT_EQ(add->source_op, "AddV2");
  EXPECT_EQ(graph->layers.size(), 9u);  // top-level names: one layer per op
  EXPECT_EQ(graph->metadata.at("format"), "TensorFlow frozen GraphDef");
  EXPECT_EQ(graph->metadata.at("tf.fold_constants"), "no");
}

TEST(TfFixtureTest, MnistMlpDefaultsToPlaceholdersAndSinks) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load(kMlp, {}, {});
  ASSERT_NE(graph, nullptr);
  ASSERT_EQ(graph->inputs.size(), 2u);
  EXPECT_EQ(graph->values[graph->inputs[0]].name, "x");
  EXPECT_EQ(graph->values[graph->inputs[1]].name, "y_");
  ASSERT_EQ(graph->outputs.size(), 1u);
  EXPECT_EQ(graph->values[graph->outputs[0]].name, "accuracy");
}

// The accuracy subgraph (ArgMax, Equal, Cast, Mean) against the softmax.
TEST(TfFixtureTest, MnistMlpAccuracySubgraphAgreesWithArgmax) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load(kMlp, {"x", "y_"}, {"accuracy", "y"});
  ASSERT_NE(graph, nullptr);
  const Tensor input = golden("mnist_mlp_frozen_tf1.15", "input.npy");
  const Tensor scores = golden("mnist_mlp_frozen_tf1.15", "output.npy");
  // Labels: the argmax of the golden scores, except row 0 moved one class on.
  Tensor labels(DType::kFloat32, {16, 10});
  for (int64_t row = 0; row < 16; ++row) {
    const float* p = scores.data<float>() + row * 10;
    int64_t best = std::max_element(p, p + 10) - p;
    if (row == 0) best = (best + 1) % 10;
    labels.data<float>()[row * 10 + best] = 1.0f;
  }
  auto output = run_graph(graph, {input, labels});
  ASSERT_TRUE(output.has_value()) << output.status().message();
  ASSERT_EQ((*output)[0].shape(), Shape{});
  EXPECT_FLOAT_EQ((*output)[0].data<float>()[0], 15.0f / 16.0f);
}

TEST(TfFixtureTest, MnistMlpReachesReferenceAccuracy) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load(kMlp, {"x"}, {"y"});
  ASSERT_NE(graph, nullptr);
  const auto dir = testing::fixtures_dir() / "data/mnist_test";
  auto data =
      read_idx_dataset(dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(data.has_value()) << data.status().message();
  const int64_t total = data->images.dim(0), batch = 1000;
  auto plan = Plan::create(graph, {{batch, 784}});
  ASSERT_TRUE(plan.has_value()) << plan.status().message();
  Executor executor(*plan);
  int64_t correct = 0;
  Tensor images(DType::kFloat32, {batch, 784});
  for (int64_t first = 0; first < total; first += batch) {
    for (int64_t i = 0; i < batch * 784; ++i) {
      images.data<float>()[i] = data->images.data<uint8_t>()[first * 784 + i] / 255.0f;
    }
    ASSERT_TRUE(executor.set_input(0, images).is_ok());
    ASSERT_TRUE(executor.run().is_ok());
    const float* scores = executor.value(graph->outputs[0]).data<float>();
    for (int64_t i = 0; i < batch; ++i) {
      const int64_t best =
          std::max_element(scores + i * 10, scores + i * 10 + 10) - (scores + i * 10);
      correct += best == data->labels.data<uint8_t>()[first + i] ? 1 : 0;
    }
  }
  EXPECT_EQ(correct, 9830);  // 98.30%, the fixtures README
}

TEST(TfFixtureTest, MobileNetReproducesGoldenOutput) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load(kMobileNet, {"input"}, {kMobileNetFetch});
  ASSERT_NE(graph, nullptr);
  const Tensor expected = golden("mobilenet_v1_0.25_224_frozen", "output.npy");
  for (bool fast : {true, false}) {
    Tensor output = run_mobilenet(graph, fast);
    // 1e-5 relative; softmax outputs get the README's 1e-4 absolute floor.
    EXPECT_TRUE(testing::tensors_close(output, expected, 1e-5, 1e-4))
        << (fast ? "fast" : "reference") << " kernels";
    int top1 = 0;
    for (int64_t row = 0; row < 20; ++row) {
      const float* p = output.data<float>() + row * 1001;
      const float* q = expected.data<float>() + row * 1001;
      top1 += (std::max_element(p, p + 1001) - p) == (std::max_element(q, q + 1001) - q);
    }
    EXPECT_EQ(top1, 20);  // every image: the same class as the reference
  }
}

// The unfused batch norm's arithmetic on constants stays (81 Mul, 54 Add, 27
// Rsqrt, 27 Sub ops) unless folding is asked for; folding changes no bit.
TEST(TfFixtureTest, MobileNetKeepsConstantArithmeticUnlessFolded) {
  NNFI_REQUIRE_FIXTURES();
  auto kept = load(kMobileNet, {"input"}, {kMobileNetFetch});
  auto folded = load(kMobileNet, {"input"}, {kMobileNetFetch}, /*fold=*/true);
  ASSERT_NE(kept, nullptr);
  ASSERT_NE(folded, nullptr);
  EXPECT_EQ(count_source_op(*kept, "Rsqrt"), 27);
  EXPECT_EQ(count_source_op(*kept, "Mul"), 81);
  EXPECT_EQ(count_source_op(*kept, "Add"), 54);
  EXPECT_EQ(count_source_op(*kept, "Sub"), 27);
  EXPECT_EQ(count_source_op(*folded, "Rsqrt"), 0);
  EXPECT_EQ(count_source_op(*folded, "Mul"), 27);  // batchnorm/mul_1: data * scale
  EXPECT_EQ(count_source_op(*folded, "Add"), 27);  // batchnorm/add_1: + offset
  EXPECT_EQ(count_source_op(*folded, "Sub"), 0);
  EXPECT_EQ(kept->metadata.at("tf.fold_constants"), "no");
  EXPECT_EQ(folded->metadata.at("tf.fold_constants"), "yes");
  EXPECT_EQ(folded->metadata.at("tf.folded_float_ops"), "135");
  EXPECT_TRUE(run_mobilenet(kept, true).bitwise_equal(run_mobilenet(folded, true)));
}

// One layer per conv block: the batch norm's sub-scope joins its block.
TEST(TfFixtureTest, MobileNetLayersAreConvBlocks) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load(kMobileNet, {"input"}, {kMobileNetFetch});
  ASSERT_NE(graph, nullptr);
  ASSERT_EQ(graph->layers.size(), 29u);  // 27 conv blocks, Logits, Predictions
  auto layer = graph->find_layer("MobilenetV1/MobilenetV1/Conv2d_1_depthwise");
  ASSERT_TRUE(layer.has_value());
  const Layer& block = graph->layers[*layer];
  EXPECT_EQ(block.class_name, "DepthwiseConv2dNative");
  EXPECT_EQ(block.nodes.size(), 9u);  // depthwise, 7 batch norm ops, Relu6
  EXPECT_EQ(graph->values[block.output].name, "MobilenetV1/MobilenetV1/Conv2d_1_depthwise/Relu6");
  const Node* relu6 = find_node(*graph, "MobilenetV1/MobilenetV1/Conv2d_1_depthwise/Relu6");
  ASSERT_NE(relu6, nullptr);
  EXPECT_EQ(relu6->op, OpType::kClip);
  EXPECT_EQ(relu6->source_op, "Relu6");
  EXPECT_EQ(graph->layers.back().name, "MobilenetV1/Predictions");
  EXPECT_TRUE(graph->find_layer("MobilenetV1/Logits").has_value());
  // Weights keep their TF names (the transposed filter replaces the original).
  EXPECT_TRUE(graph->find_value("MobilenetV1/Conv2d_0/weights").has_value());
  EXPECT_FALSE(graph->find_value("MobilenetV1/Conv2d_0/weights/oihw").has_value());
}

}  // namespace
}  // namespace nnfi
