// The ONNX importer on small models built in memory: ops, attributes,
// constants, layers, names, old opset forms, and (through finalize) shapes.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "import/onnx_test_builder.h"
#include "nnfi/model.h"

namespace nnfi::testing {
namespace {

// X (N,1,5,5) -> Conv(W 2x1x3x3, B, pads 1) -> Relu -> Y
OnnxModelBuilder conv_relu_model() {
  OnnxModelBuilder builder(13);
  builder.add_input("X", {-1, 1, 5, 5});
  std::vector<float> weights(18);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.1f * static_cast<float>(i);
  builder.add_initializer(float_tensor("W", weights, {2, 1, 3, 3}, /*raw=*/true));
  builder.add_initializer(float_tensor("B", {0.5f, -0.5f}, {2}, /*raw=*/false));
  auto& conv = builder.add_node("Conv", {"X", "W", "B"}, {"conv_out"}, "conv1");
  set_attr(conv, "strides", std::vector<int64_t>{1, 1});
  set_attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  set_attr(conv, "kernel_shape", std::vector<int64_t>{3, 3});
  builder.add_node("Relu", {"conv_out"}, {"Y"}, "relu1");
  builder.add_output("Y");
  return builder;
}

TEST_F(OnnxImportTest, BuildsOpsAttributesConstantsAndLayers) {
  auto graph = build(conv_relu_model());
  ASSERT_TRUE(graph) << graph.status().message();
  const Graph& g = **graph;
  ASSERT_EQ(g.inputs.size(), 1u);
  const Value& x = g.values[g.inputs[0]];
  EXPECT_EQ(x.name, "X");
  EXPECT_EQ(x.dtype, DType::kFloat32);
  EXPECT_EQ(x.shape, (Shape{kUnknownDim, 1, 5, 5}));
  ASSERT_EQ(g.nodes.size(), 2u);
  const Node& conv = node_named(g, "conv1");
  EXPECT_EQ(conv.op, OpType::kConv);
  EXPECT_EQ(conv.source_op, "Conv");
  EXPECT_EQ(conv.attributes.get_ints("strides"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv.attributes.get_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  ASSERT_EQ(conv.inputs.size(), 3u);
  const Value& w = g.values[conv.inputs[1]];
  ASSERT_TRUE(w.is_constant());
  EXPECT_EQ(w.constant.shape(), (Shape{2, 1, 3, 3}));
  EXPECT_FLOAT_EQ(w.constant.data<float>()[17], 1.7f);
  const Value& b = g.values[conv.inputs[2]];
  ASSERT_TRUE(b.is_constant());
  EXPECT_FLOAT_EQ(b.constant.data<float>()[1], -0.5f);
  EXPECT_EQ(node_named(g, "relu1").op, OpType::kRelu);
  ASSERT_EQ(g.layers.size(), 2u);
  EXPECT_EQ(g.layers[conv.layer].name, "conv1");
  EXPECT_EQ(g.layers[conv.layer].class_name, "Conv");
  EXPECT_EQ(g.layers[conv.layer].output, conv.outputs[0]);
  EXPECT_EQ(g.layer_parameter_count(conv.layer), 20);
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.values[g.outputs[0]].name, "Y");
}

TEST_F(OnnxImportTest, FinalizedImportInfersShapes) {
  auto graph = import(conv_relu_model());
  ASSERT_TRUE(graph) << graph.status().message();
  const Graph& g = **graph;
  const Value& y = g.values[g.outputs[0]];
  EXPECT_EQ(y.dtype, DType::kFloat32);
  EXPECT_EQ(y.shape, (Shape{kUnknownDim, 2, 5, 5}));
}

TEST_F(OnnxImportTest, GeneratesStableUniqueNodeNames) {
  OnnxModelBuilder builder;
  builder.add_input("x", {2});
  builder.add_node("Relu", {"x"}, {"a"}, "");
  builder.add_node("Neg", {"a"}, {"b"}, "dup");
  builder.add_node("Abs", {"b"}, {"c"}, "dup");
  builder.add_node("Relu", {"c"}, {"d"}, "Relu_0");  // collides with the generated name
  builder.add_output("d");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  std::vector<std::string> names;
  for (const Node& node : (*graph)->nodes) names.push_back(node.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Relu_0_1", "dup", "dup_2", "Relu_0"}));
  for (const Layer& layer : (*graph)->layers) EXPECT_EQ(layer.nodes.size(), 1u);
  EXPECT_EQ((*graph)->layers[0].name, "Relu_0_1");
  EXPECT_EQ((*graph)->layers[2].class_name, "Abs");
}

TEST_F(OnnxImportTest, ConstantNodesBecomeGraphConstants) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {2, 3});
  auto& shape = builder.add_node("Constant", {}, {"shape"}, "shape_const");
  set_attr(shape, "value", int64_tensor("", {3, 2}, {2}));
  auto& scale = builder.add_node("Constant", {}, {"scale"});
  set_attr(scale, "value_float", 2.0f);
  auto& ints = builder.add_node("Constant", {}, {"ints"});
  set_attr(ints, "value_ints", std::vector<int64_t>{4, 5, 6});
  builder.add_node("Reshape", {"x", "shape"}, {"r"}, "reshape");
  builder.add_node("Mul", {"r", "scale"}, {"y"}, "mul");
  builder.add_output("y");
  builder.add_output("ints");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  const Graph& g = **graph;
  ASSERT_EQ(g.nodes.size(), 2u);  // Constants are no nodes and no layers
  EXPECT_EQ(g.layers.size(), 2u);
  const Value& shape_value = g.values[node_named(g, "reshape").inputs[1]];
  ASSERT_TRUE(shape_value.is_constant());
  EXPECT_EQ(shape_value.constant.dtype(), DType::kInt64);
  EXPECT_EQ(shape_value.constant.data<int64_t>()[0], 3);
  const Value& scale_value = g.values[node_named(g, "mul").inputs[1]];
  ASSERT_TRUE(scale_value.is_constant());
  EXPECT_EQ(scale_value.constant.shape(), Shape{});
  EXPECT_FLOAT_EQ(scale_value.constant.data<float>()[0], 2.0f);
  const Value& ints_value = g.values[g.outputs[1]];
  ASSERT_TRUE(ints_value.is_constant());
  EXPECT_EQ(ints_value.constant.shape(), (Shape{3}));
  EXPECT_EQ(ints_value.constant.data<int64_t>()[2], 6);
}

TEST_F(OnnxImportTest, InitializersListedAsInputsAreNotUserInputs) {
  OnnxModelBuilder builder(8, /*ir_version=*/3);
  builder.add_input("x", {1, 4});
  builder.add_input("bias", {4});
  builder.add_initializer(float_tensor("bias", {1, 2, 3, 4}, {4}));
  builder.add_node("Add", {"x", "bias"}, {"y"}, "add");
  builder.add_output("y");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  ASSERT_EQ((*graph)->inputs.size(), 1u);
  EXPECT_EQ((*graph)->values[(*graph)->inputs[0]].name, "x");
  EXPECT_TRUE((*graph)->values[node_named(**graph, "add").inputs[1]].is_constant());
}

TEST_F(OnnxImportTest, SoftmaxBeforeOpset13GetsLegacyFlatten) {
  for (int64_t opset : {11, 13}) {
    OnnxModelBuilder builder(opset);
    builder.add_input("x", {2, 3, 4});
    builder.add_node("Softmax", {"x"}, {"y"}, "softmax");
    builder.add_output("y");
    auto graph = build(builder);
    ASSERT_TRUE(graph) << graph.status().message();
    const Attributes& attrs = node_named(**graph, "softmax").attributes;
    if (opset < 13) {
      EXPECT_EQ(attrs.get_int("legacy_flatten", 0), 1);
      EXPECT_EQ(attrs.get_int("axis", -1), 1);
    } else {
      EXPECT_FALSE(attrs.has("legacy_flatten"));
      EXPECT_FALSE(attrs.has("axis"));
    }
  }
}

TEST_F(OnnxImportTest, CastTargetBecomesDtypeName) {
  OnnxModelBuilder builder;
  builder.add_input("x", {3});
  auto& to_int = builder.add_node("Cast", {"x"}, {"i"}, "to_int");
  set_attr(to_int, "to", int64_t{onnx::TensorProto::INT64});
  auto& to_float = builder.add_node("Cast", {"i"}, {"f"}, "to_float");
  set_attr(to_float, "to", int64_t{onnx::TensorProto::FLOAT});
  auto& to_bool = builder.add_node("Cast", {"f"}, {"b"}, "to_bool");
  set_attr(to_bool, "to", int64_t{onnx::TensorProto::BOOL});
  builder.add_output("b");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  EXPECT_EQ(node_named(**graph, "to_int").attributes.get_string("to", ""), "int64");
  EXPECT_EQ(node_named(**graph, "to_float").attributes.get_string("to", ""), "float32");
  EXPECT_EQ(node_named(**graph, "to_bool").attributes.get_string("to", ""), "bool");
}

TEST_F(OnnxImportTest, OldOpsetAttributeFormsPassThrough) {
  OnnxModelBuilder builder(10);
  builder.add_input("x", {1, 3});
  auto& clip = builder.add_node("Clip", {"x"}, {"c"}, "clip");
  set_attr(clip, "min", -1.0f);
  set_attr(clip, "max", 6.0f);
  auto& unsqueeze = builder.add_node("Unsqueeze", {"c"}, {"u"}, "unsqueeze");
  set_attr(unsqueeze, "axes", std::vector<int64_t>{0});
  auto& pad = builder.add_node("Pad", {"u"}, {"p"}, "pad");
  set_attr(pad, "pads", std::vector<int64_t>{0, 0, 1, 0, 0, 1});
  set_attr(pad, "value", 0.5f);
  auto& squeeze = builder.add_node("Squeeze", {"p"}, {"s"}, "squeeze");
  set_attr(squeeze, "axes", std::vector<int64_t>{0});
  auto& mean = builder.add_node("ReduceMean", {"s"}, {"y"}, "mean");
  set_attr(mean, "axes", std::vector<int64_t>{1});
  set_attr(mean, "keepdims", int64_t{0});
  builder.add_output("y");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  const Graph& g = **graph;
  EXPECT_DOUBLE_EQ(node_named(g, "clip").attributes.get_float("min", 0), -1.0);
  EXPECT_DOUBLE_EQ(node_named(g, "clip").attributes.get_float("max", 0), 6.0);
  EXPECT_EQ(node_named(g, "clip").inputs.size(), 1u);
  EXPECT_EQ(node_named(g, "unsqueeze").attributes.get_ints("axes"), (std::vector<int64_t>{0}));
  EXPECT_EQ(node_named(g, "pad").attributes.get_ints("pads").size(), 6u);
  EXPECT_DOUBLE_EQ(node_named(g, "pad").attributes.get_float("value", 0), 0.5);
  EXPECT_EQ(node_named(g, "squeeze").attributes.get_ints("axes"), (std::vector<int64_t>{0}));
  EXPECT_EQ(node_named(g, "mean").attributes.get_int("keepdims", 1), 0);
}

TEST_F(OnnxImportTest, BatchNormalizationDropsTrainingAttributes) {
  OnnxModelBuilder builder(7);
  builder.add_input("x", {1, 2, 3, 3});
  for (const char* name : {"scale", "bias", "mean", "var"}) {
    builder.add_initializer(float_tensor(name, {1, 1}, {2}));
  }
  auto& bn =
      builder.add_node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}, "bn");
  set_attr(bn, "epsilon", 1e-3f);
  set_attr(bn, "momentum", 0.9f);
  set_attr(bn, "spatial", int64_t{1});
  builder.add_output("y");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  const Attributes& attrs = node_named(**graph, "bn").attributes;
  EXPECT_NEAR(attrs.get_float("epsilon", 0), 1e-3, 1e-9);
  EXPECT_FALSE(attrs.has("spatial"));
  EXPECT_FALSE(attrs.has("momentum"));
}

TEST_F(OnnxImportTest, DropoutKeepsOnlyItsDataInput) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  builder.add_input("ratio", {}, onnx::TensorProto::FLOAT);
  builder.add_node("Dropout", {"x", "ratio"}, {"y", "mask"}, "dropout");
  builder.add_output("y");
  builder.add_output("mask");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  const Node& dropout = node_named(**graph, "dropout");
  EXPECT_EQ(dropout.op, OpType::kDropout);
  EXPECT_EQ(dropout.inputs.size(), 1u);
  EXPECT_EQ(dropout.outputs.size(), 2u);
}

TEST_F(OnnxImportTest, OmittedOptionalInputsKeepTheirPositions) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {3});
  builder.add_initializer(float_tensor("hi", {6.0f}, {}));
  builder.add_node("Clip", {"x", "", "hi"}, {"a"}, "clip_max");
  builder.add_node("Clip", {"a", "", ""}, {"y"}, "clip_none");
  builder.add_output("y");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  const Node& clip_max = node_named(**graph, "clip_max");
  ASSERT_EQ(clip_max.inputs.size(), 3u);
  EXPECT_EQ(clip_max.inputs[1], kNoValue);
  EXPECT_TRUE((*graph)->values[clip_max.inputs[2]].is_constant());
  EXPECT_EQ(node_named(**graph, "clip_none").inputs.size(), 1u);  // trailing blanks dropped
}

TEST_F(OnnxImportTest, UnusedMaxPoolIndicesAreDropped) {
  OnnxModelBuilder builder(12);
  builder.add_input("x", {1, 1, 4, 4});
  auto& pool = builder.add_node("MaxPool", {"x"}, {"y", "indices"}, "pool");
  set_attr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
  builder.add_output("y");
  auto graph = build(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  EXPECT_EQ(node_named(**graph, "pool").outputs.size(), 1u);
  EXPECT_FALSE((*graph)->find_value("indices").has_value());
}

TEST_F(OnnxImportTest, NodeOrderInTheFileDoesNotMatter) {
  OnnxModelBuilder builder;
  builder.add_input("x", {2});
  builder.add_node("Neg", {"a"}, {"y"}, "second");
  builder.add_node("Relu", {"x"}, {"a"}, "first");
  builder.add_output("y");
  auto graph = import(builder);
  ASSERT_TRUE(graph) << graph.status().message();
  EXPECT_EQ((*graph)->nodes[0].name, "first");
  EXPECT_EQ((*graph)->nodes[1].name, "second");
  EXPECT_EQ((*graph)->layers[(*graph)->nodes[0].layer].name, "first");
}

TEST_F(OnnxImportTest, LoadModelPicksOnnxByExtensionAndByContent) {
  OnnxModelBuilder builder;
  builder.add_input("x", {2});
  builder.add_node("Relu", {"x"}, {"y"}, "relu");
  builder.add_output("y");
  for (const char* file_name : {"model.onnx", "MODEL.ONNX", "model.bin"}) {
    auto graph = load_model(write(builder, file_name));
    ASSERT_TRUE(graph) << file_name << ": " << graph.status().message();
    EXPECT_EQ((*graph)->nodes.size(), 1u);
  }
}

}  // namespace
}  // namespace nnfi::testing
