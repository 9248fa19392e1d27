// Functional Keras models: inbound_nodes in the Keras 2 list form and the
// Keras 3 dict form, merge layers over several inputs, a layer called twice,
// several inputs and outputs; and the IR layers they become (order, names,
// classes, output shapes, node names).
#include <gtest/gtest.h>

#include <algorithm>

#include "keras/keras_test_util.h"

namespace nnfi::testing {
namespace {

TestLayer input_layer(const std::string& name, const Shape& shape, int keras_major) {
  TestLayer input = layer("InputLayer", name);
  json dims = json::array();
  for (int64_t d : shape) dims.push_back(d < 0 ? json(nullptr) : json(d));
  input.config[keras_major >= 3 ? "batch_shape" : "batch_input_shape"] = dims;
  input.config.erase("trainable");
  return input;
}

TestLayer called(TestLayer l, std::vector<std::vector<std::string>> calls) {
  l.calls = std::move(calls);
  return l;
}

// Two inputs a, b (N, 4): every merge layer over them, each followed by a
// shared Dense (called seven times), concatenated; outputs: the concat and
// the Average.
TestModel merge_model(int keras_major, const Tensor& kernel) {
  TestModel m;
  m.functional = true;
  m.keras_major = keras_major;
  m.layers.push_back(input_layer("a", {-1, 4}, keras_major));
  m.layers.push_back(input_layer("b", {-1, 4}, keras_major));
  m.layers.push_back(input_layer("c", {-1, 4}, keras_major));
  const char* merges[] = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"};
  std::vector<std::string> dense_outputs;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "merge_" + std::to_string(i);
    std::vector<std::string> inputs = {"a", "b"};
    if (std::string(merges[i]) != "Subtract") inputs.push_back("c");  // three-way merges
    m.layers.push_back(called(layer(merges[i], name), {inputs}));
  }
  TestLayer shared =
      layer("Dense", "shared", {{"units", 2}, {"use_bias", false}}, {{"kernel", kernel}});
  for (int i = 0; i < 6; ++i) {
    shared.calls.push_back({"merge_" + std::to_string(i)});
    dense_outputs.push_back(i == 0 ? "shared" : "shared@" + std::to_string(i));
  }
  m.layers.push_back(shared);
  m.layers.push_back(called(layer("Concatenate", "concat", {{"axis", -1}}), {dense_outputs}));
  m.inputs = {"a", "b", "c"};
  m.outputs = {"concat", "merge_3"};
  return m;
}

void check_merge_outputs(const std::vector<Tensor>& out, const Tensor& a, const Tensor& b,
                         const Tensor& c, const Tensor& kernel) {
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[0].shape(), (Shape{3, 12}));
  for (int64_t r = 0; r < 3; ++r) {
    double merged[6][4];
    for (int64_t j = 0; j < 4; ++j) {
      const double x = ref::at(a, {r, j}), y = ref::at(b, {r, j}), z = ref::at(c, {r, j});
      merged[0][j] = x + y + z;
      merged[1][j] = x - y;
      merged[2][j] = x * y * z;
      merged[3][j] = (x + y + z) / 3;
      merged[4][j] = std::max({x, y, z});
      merged[5][j] = std::min({x, y, z});
      EXPECT_NEAR(ref::at(out[1], {r, j}), merged[3][j], 1e-6);
    }
    for (int i = 0; i < 6; ++i) {
      for (int64_t u = 0; u < 2; ++u) {
        double sum = 0;
        for (int64_t j = 0; j < 4; ++j) sum += merged[i][j] * ref::at(kernel, {j, u});
        EXPECT_NEAR(ref::at(out[0], {r, 2 * i + u}), sum, 1e-5) << "merge " << i;
      }
    }
  }
}

TEST_F(KerasTest, FunctionalMergesSharedLayerAndTwoOutputsKeras2) {
  Tensor kernel = random_tensor({4, 2}, 60);
  Tensor a = random_tensor({3, 4}, 61), b = random_tensor({3, 4}, 62),
         c = random_tensor({3, 4}, 63);
  std::vector<Tensor> out = run_model(merge_model(2, kernel), {a, b, c});
  check_merge_outputs(out, a, b, c, kernel);
}

TEST_F(KerasTest, FunctionalMergesSharedLayerAndTwoOutputsKeras3) {
  Tensor kernel = random_tensor({4, 2}, 60);
  Tensor a = random_tensor({3, 4}, 61), b = random_tensor({3, 4}, 62),
         c = random_tensor({3, 4}, 63);
  H5Options options;
  options.keras_version = "3.10.0";
  options.weight_suffix = false;
  std::vector<Tensor> out = run_model(merge_model(3, kernel), {a, b, c}, options);
  check_merge_outputs(out, a, b, c, kernel);
}

TEST_F(KerasTest, SharedLayerGetsOneIRLayerPerCallAndSharesItsWeights) {
  Tensor kernel = random_tensor({4, 2}, 60);
  write_h5(path("m.h5"), merge_model(2, kernel));
  auto graph = import_keras(path("m.h5"));
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  const Graph& g = **graph;
  std::vector<std::string> names;
  for (const Layer& l : g.layers) names.push_back(l.name);
  // Keras order; InputLayers make no IR layer; calls of `shared` side by side.
  EXPECT_EQ(names, (std::vector<std::string>{"merge_0", "merge_1", "merge_2", "merge_3", "merge_4",
                                             "merge_5", "shared", "shared@1", "shared@2",
                                             "shared@3", "shared@4", "shared@5", "concat"}));
  const auto first = g.find_node("shared/matmul");
  const auto second = g.find_node("shared@1/matmul");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(g.nodes[*first].inputs[1], g.nodes[*second].inputs[1]);  // one kernel constant
  EXPECT_EQ(g.values[g.nodes[*first].inputs[1]].name, "shared/kernel");
  EXPECT_EQ(g.layers[3].class_name, "Average");
  EXPECT_EQ(g.values[g.layers[3].output].name, "merge_3");
  EXPECT_EQ(g.values[g.layers[3].output].shape, (Shape{-1, 4}));
}

TEST_F(KerasTest, LayerOrderNamesClassesAndOutputShapes) {
  // Sequential: Conv2D(relu) -> MaxPooling2D -> Flatten -> Dense(softmax).
  TestModel m;
  m.input_shape = {-1, 6, 6, 1};
  m.layers = {
      layer("Conv2D", "conv", {{"filters", 2}, {"kernel_size", 3}, {"activation", "relu"}},
            {{"kernel", random_tensor({3, 3, 1, 2}, 64)}, {"bias", random_tensor({2}, 65)}}),
      layer("MaxPooling2D", "pool", {{"pool_size", 2}}), layer("Flatten", "flat"),
      layer("Dense", "out", {{"units", 3}, {"activation", "softmax"}},
            {{"kernel", random_tensor({8, 3}, 66)}, {"bias", random_tensor({3}, 67)}})};
  write_h5(path("m.h5"), m);
  auto graph = import_keras(path("m.h5"));
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  const Graph& g = **graph;
  ASSERT_EQ(g.layers.size(), 4u);
  const char* classes[] = {"Conv2D", "MaxPooling2D", "Flatten", "Dense"};
  const char* names[] = {"conv", "pool", "flat", "out"};
  const Shape shapes[] = {{-1, 4, 4, 2}, {-1, 2, 2, 2}, {-1, 8}, {-1, 3}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(g.layers[i].name, names[i]);
    EXPECT_EQ(g.layers[i].class_name, classes[i]);
    EXPECT_EQ(g.values[g.layers[i].output].shape, shapes[i]) << names[i];
  }
  // conv + bias + relu, the layer output after relu, as in Keras.
  std::vector<std::string> conv_nodes;
  for (NodeId n : g.layers[0].nodes) conv_nodes.push_back(g.nodes[n].name);
  EXPECT_EQ(conv_nodes, (std::vector<std::string>{"conv/conv", "conv/bias", "conv/relu"}));
  EXPECT_EQ(g.nodes[g.layers[0].nodes.back()].outputs[0], g.layers[0].output);
  for (NodeId n : g.layers[0].nodes) EXPECT_EQ(g.nodes[n].source_op, "Conv2D");
  EXPECT_EQ(g.layer_parameter_count(0), 3 * 3 * 2 + 2);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.values[g.inputs[0]].name, "input_1");
  EXPECT_EQ(g.metadata.at("keras.version"), "2.11.0");
}

TEST_F(KerasTest, LayerListedBeforeItsInputsAndKeras3SingleEndpoint) {
  // A Keras 3 functional model whose first listed layer consumes a later one.
  TestModel m;
  m.functional = true;
  m.keras_major = 3;
  Tensor k = random_tensor({3, 3}, 68);
  m.layers.push_back(called(layer("ReLU", "late"), {{"first"}}));
  m.layers.push_back(input_layer("in", {-1, 3}, 3));
  m.layers.push_back(called(
      layer("Dense", "first", {{"units", 3}, {"use_bias", false}}, {{"kernel", k}}), {{"in"}}));
  m.inputs = {"in"};
  m.outputs = {"late"};
  H5Options options;
  options.keras_version = "3.0.0";
  options.weight_suffix = false;
  Tensor x = random_tensor({2, 3}, 69);
  std::vector<Tensor> out = run_model(m, {x}, options);
  Tensor expected = ref::map(ref::dense(x, k, Tensor()), [](double v) { return v > 0 ? v : 0; });
  EXPECT_TRUE(tensors_close(out[0], expected, 1e-5, 1e-6));
}

}  // namespace
}  // namespace nnfi::testing
