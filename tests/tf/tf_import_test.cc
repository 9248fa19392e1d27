// The TensorFlow import driver: Const forms, feeds and fetches, pruning,
// folding of shape arithmetic (always) and float arithmetic on constants
// (only when asked), helper nodes, layers by name scope, and what it refuses.
#include "import/tf/tf_importer.h"
#include "support/test_support.h"
#include "tf/tf_test_builder.h"

namespace nnfi {
namespace {

using namespace testing::tf_files;  // NOLINT: test-local builders

std::vector<float> floats_of(const Tensor& tensor) {
  return std::vector<float>(tensor.data<float>(), tensor.data<float>() + tensor.num_elements());
}

const Tensor& fetched_constant(const Graph& graph, size_t output) {
  return graph.values[graph.outputs[output]].constant;
}

TEST(TfImportTest, ConstValuesInEveryForm) {
  tf::GraphDef graph;
  add_floats(graph, "content", {1, 2, 3, 4}, {2, 2});
  tf::NodeDef* broadcast = add_node(graph, "broadcast", "Const");
  tf::TensorProto* proto = (*broadcast->mutable_attr())["value"].mutable_tensor();
  proto->set_dtype(tf::DT_FLOAT);
  set_shape(proto->mutable_tensor_shape(), {2, 3});
  proto->add_float_val(7.5f);  // one value fills the shape
  add_ints(graph, "repeat_last", {1, 2}, {4});
  add_ints(graph, "zeros", {}, {3});
  auto imported =
      import_graph_def(graph, feeds_fetches({}, {"content", "broadcast", "repeat_last", "zeros"}));
  ASSERT_TRUE(imported.has_value()) << imported.status().message();
  const Graph& g = **imported;
  EXPECT_TRUE(g.nodes.empty());  // Const nodes are values, not nodes
  EXPECT_EQ(floats_of(fetched_constant(g, 0)), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(fetched_constant(g, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(floats_of(fetched_constant(g, 1)), std::vector<float>(6, 7.5f));
  const Tensor& ints = fetched_constant(g, 2);
  EXPECT_EQ(std::vector<int32_t>(ints.data<int32_t>(), ints.data<int32_t>() + 4),
            (std::vector<int32_t>{1, 2, 2, 2}));
  EXPECT_EQ(fetched_constant(g, 3).data<int32_t>()[2], 0);
}

TEST(TfImportTest, FetchesPruneUnneededNodesOfAnyOp) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  add_placeholder(graph, "labels", {-1, 2});
  add_node(graph, "relu", "Relu", {"x"});
  add_node(graph, "loss", "SoftmaxCrossEntropyWithLogits", {"relu", "labels"});
  add_node(graph, "train", "ApplyAdam", {"loss"});
  auto imported = import_graph_def(graph, feeds_fetches({}, {"relu:0"}));
  ASSERT_TRUE(imported.has_value()) << imported.status().message();
  ASSERT_EQ((*imported)->inputs.size(), 1u);  // labels is not needed
  EXPECT_EQ((*imported)->nodes.size(), 1u);
  EXPECT_EQ((*imported)->nodes[0].name, "relu");
}

TEST(TfImportTest, RejectsNeededUnsupportedOpNamingNodeOpAndFile) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  add_node(graph, "weird", "Cumsum", {"x"});
  add_node(graph, "out", "Relu", {"weird"});
  auto imported = import_graph_def(graph, feeds_fetches({"x"}, {"out"}), "unsupported.pb");
  ASSERT_FALSE(imported.has_value());
  const std::string message = imported.status().message();
  EXPECT_EQ(imported.status().code(), StatusCode::kUnsupported);
  EXPECT_TRUE(contains(message, "node 'weird' (Cumsum)")) << message;
  EXPECT_TRUE(contains(message, "unsupported.pb")) << message;
}

TEST(TfImportTest, FeedsAndFetchesByTensorName) {
  tf::GraphDef graph;
  add_placeholder(graph, "a", {-1, 2});
  add_placeholder(graph, "b", {-1, 2});
  add_node(graph, "sum", "AddV2", {"a", "b"});
  add_node(graph, "relu", "Relu", {"sum"});
  auto imported = import_graph_def(graph, feeds_fetches({"b:0", "a"}, {"relu", "sum:0"}));
  ASSERT_TRUE(imported.has_value()) << imported.status().message();
  const Graph& g = **imported;
  ASSERT_EQ(g.inputs.size(), 2u);
  EXPECT_EQ(g.values[g.inputs[0]].name, "b");  // the order given
  EXPECT_EQ(g.values[g.outputs[0]].name, "relu");
  EXPECT_EQ(g.values[g.outputs[1]].name, "sum");
}

TEST(TfImportTest, PlaceholderWithDefaultTakesItsDefaultUnlessFed) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  add_floats(graph, "one", {1, 1}, {2});
  tf::NodeDef* scale = add_node(graph, "scale", "PlaceholderWithDefault", {"one"});
  set_type(scale, "dtype", tf::DT_FLOAT);
  set_shape_attr(scale, "shape", {2});
  add_node(graph, "y", "Mul", {"x", "scale"});
  auto plain = import_graph_def(graph, feeds_fetches({}, {"y"}));
  ASSERT_TRUE(plain.has_value()) << plain.status().message();
  EXPECT_EQ((*plain)->inputs.size(), 1u);
  auto fed = import_graph_def(graph, feeds_fetches({"x", "scale"}, {"y"}));
  ASSERT_TRUE(fed.has_value()) << fed.status().message();
  ASSERT_EQ((*fed)->inputs.size(), 2u);
  auto out = run_graph(
      *fed, {Tensor::from_vector<float>({1, 2}, {1, 2}), Tensor::from_vector<float>({3, 4}, {2})});
  ASSERT_TRUE(out.has_value()) << out.status().message();
  EXPECT_EQ(floats_of(out->front()), (std::vector<float>{3, 8}));
}

// Keras' Flatten in TF1: Shape -> StridedSlice -> Pack -> Reshape. With a
// free batch the chain stays (the plan folds it per batch size); helpers
// have no source op; the TF nodes keep theirs.
TEST(TfImportTest, ShapeArithmeticOnARuntimeShape) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2, 3});
  add_node(graph, "flatten/Shape", "Shape", {"x"});
  add_ints(graph, "flatten/begin", {0}, {1});
  add_ints(graph, "flatten/end", {1}, {1});
  add_ints(graph, "flatten/strides", {1}, {1});
  set_int(add_node(graph, "flatten/strided_slice", "StridedSlice",
                   {"flatten/Shape", "flatten/begin", "flatten/end", "flatten/strides"}),
          "shrink_axis_mask", 1);
  add_ints(graph, "flatten/rest", {-1}, {});
  add_node(graph, "flatten/Reshape/shape", "Pack", {"flatten/strided_slice", "flatten/rest"});
  add_node(graph, "flatten/Reshape", "Reshape", {"x", "flatten/Reshape/shape"});
  auto imported = import_graph_def(graph, feeds_fetches({"x"}, {"flatten/Reshape"}));
  ASSERT_TRUE(imported.has_value()) << imported.status().message();
  const Graph& g = **imported;
  EXPECT_EQ(count_source_op(g, "Shape"), 1);
  EXPECT_EQ(count_source_op(g, "StridedSlice"), 1);
  EXPECT_EQ(count_source_op(g, "Pack"), 1);
  // Helpers: Shape (int64) before the int32 Cast, Slice before the shrinking
  // Squeeze, Unsqueeze of the batch before Pack's Concat (the constant's folds).
  EXPECT_EQ(count_source_op(g, ""), 3);
  EXPECT_EQ(find_node(g, "flatten/Shape")->op, OpType::kCast);
  EXPECT_EQ(g.layers.size(), 1u);                // all in scope "flatten"
  EXPECT_EQ(g.layers[0].class_name, "Reshape");  // the first TF op reading x
  for (int64_t batch : {2, 3}) {
    auto out = run_graph(*imported, {testing::random_tensor({batch, 2, 3}, 1)});
    ASSERT_TRUE(out.has_value()) << out.status().message();
    EXPECT_EQ(out->front().shape(), (Shape{batch, 6}));
  }
}

TEST(TfImportTest, ShapeArithmeticOnConstantsFoldsAtImport) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {24});
  add_floats(graph, "template", std::vector<float>(6), {2, 3});
  add_node(graph, "Shape", "Shape", {"template"});
  add_ints(graph, "two", {2}, {});
  add_node(graph, "double", "Mul", {"Shape", "two"});  // int32 arithmetic: folds too
  add_node(graph, "y", "Reshape", {"x", "double"});
  auto imported = import_graph_def(graph, feeds_fetches({"x"}, {"y"}));
  ASSERT_TRUE(imported.has_value()) << imported.status().message();
  const Graph& g = **imported;
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].name, "y");
  const Tensor& shape = g.values[g.nodes[0].inputs[1]].constant;
  EXPECT_EQ(std::vector<int32_t>(shape.data<int32_t>(), shape.data<int32_t>() + 2),
            (std::vector<int32_t>{4, 6}));
  EXPECT_EQ(g.values[g.outputs[0]].shape, (Shape{4, 6}));
}

TEST(TfImportTest, FloatArithmeticOnConstantsFoldsOnlyWhenAsked) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  add_floats(graph, "var", {3, 8}, {2});
  add_floats(graph, "eps", {1}, {});
  add_node(graph, "bn/add", "Add", {"var", "eps"});
  add_node(graph, "bn/Rsqrt", "Rsqrt", {"bn/add"});
  add_node(graph, "bn/mul", "Mul", {"x", "bn/Rsqrt"});
  for (bool fold : {false, true}) {
    auto imported = import_graph_def(graph, feeds_fetches({"x"}, {"bn/mul"}, fold));
    ASSERT_TRUE(imported.has_value()) << imported.status().message();
    const Graph& g = **imported;
    EXPECT_EQ(g.nodes.size(), fold ? 1u : 3u);
    EXPECT_EQ(g.metadata.at("tf.fold_constants"), fold ? "yes" : "no");
    EXPECT_EQ(g.metadata.at("tf.folded_float_ops"), fold ? "2" : "0");
    auto out = run_graph(*imported, {Tensor::from_vector<float>({4, 6}, {1, 2})});
    ASSERT_TRUE(out.has_value()) << out.status().message();
    EXPECT_EQ(floats_of(out->front()), (std::vector<float>{2, 2}));
    if (fold) {
      EXPECT_TRUE(g.find_value("bn/Rsqrt").has_value());  // the folded value's name
    }
  }
}

TEST(TfImportTest, OpsKeepSourceOpWhenTheIrOpDiffers) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 3});
  add_node(graph, "block/Square", "Square", {"x"});
  add_node(graph, "block/Relu6", "Relu6", {"block/Square"});
  add_node(graph, "block/Identity", "Identity", {"block/Relu6"});
  add_ints(graph, "dim", {1}, {});
  set_type(add_node(graph, "ArgMax", "ArgMax", {"block/Identity", "dim"}), "output_type",
           tf::DT_INT32);
  auto imported = import_graph_def(graph, feeds_fetches({"x"}, {"ArgMax"}));
  ASSERT_TRUE(imported.has_value()) << imported.status().message();
  const Graph& g = **imported;
  EXPECT_EQ(find_node(g, "block/Square")->op, OpType::kMul);
  EXPECT_EQ(find_node(g, "block/Square")->source_op, "Square");
  EXPECT_EQ(find_node(g, "block/Relu6")->op, OpType::kClip);
  EXPECT_EQ(find_node(g, "block/Identity")->op, OpType::kIdentity);  // computed: a node
  const Node* argmax = find_node(g, "ArgMax");
  EXPECT_EQ(argmax->op, OpType::kCast);  // int64 ArgMax helper, then the int32 cast
  EXPECT_EQ(argmax->source_op, "ArgMax");
  const Node* helper = find_node(g, "ArgMax/nnfi_argmax");
  ASSERT_NE(helper, nullptr);
  EXPECT_EQ(helper->source_op, "");
  EXPECT_EQ(helper->layer, argmax->layer);
  EXPECT_EQ(g.layers.size(), 2u);  // "block", "ArgMax"
}

TEST(TfImportTest, LayerScopesMergeSubScopesIntoTheirBlock) {
  using tf_import::layer_scopes;
  const std::vector<std::string> names = {"net/conv1/Conv2D",
                                          "net/conv1/BatchNorm/batchnorm/mul_1",
                                          "net/conv1/Relu6",
                                          "net/logits/pool/AvgPool",
                                          "net/logits/Squeeze",
                                          "dense/MatMul",
                                          "dense/BiasAdd",
                                          "dense_1/MatMul",
                                          "MatMul",
                                          "add"};
  EXPECT_EQ(layer_scopes(names),
            (std::vector<std::string>{"net/conv1", "net/conv1", "net/conv1", "net/logits",
                                      "net/logits", "dense", "dense", "dense_1", "MatMul", "add"}));
}

TEST(TfImportTest, ParsesTensorNames) {
  using tf_import::parse_tensor_name;
  EXPECT_EQ(parse_tensor_name("a/b")->node, "a/b");
  EXPECT_EQ(parse_tensor_name("a/b:2")->index, 2);
  EXPECT_EQ(parse_tensor_name("a/b:2")->node, "a/b");
  EXPECT_FALSE(parse_tensor_name("^a").has_value());
  EXPECT_FALSE(parse_tensor_name("").has_value());
}

// ---- what the importer refuses --------------------------------------------------

std::string import_error(const tf::GraphDef& graph, const LoadOptions& options) {
  auto imported = import_graph_def(graph, options, "broken.pb");
  EXPECT_FALSE(imported.has_value());
  if (imported.has_value()) return "";
  EXPECT_TRUE(contains(imported.status().message(), "broken.pb")) << imported.status().message();
  return imported.status().message();
}

TEST(TfImportTest, RejectsConstWithWrongByteCount) {
  tf::GraphDef graph;
  tf::NodeDef* c = add_floats(graph, "w", {1, 2}, {2});
  (*c->mutable_attr())["value"].mutable_tensor()->mutable_tensor_content()->pop_back();
  const std::string message = import_error(graph, feeds_fetches({}, {"w"}));
  EXPECT_TRUE(contains(message, "node 'w' (Const)")) << message;
  EXPECT_TRUE(contains(message, "tensor_content has 7 bytes, expected 8")) << message;
}

TEST(TfImportTest, RejectsConstWithTooManyValues) {
  tf::GraphDef graph;
  add_ints(graph, "c", {1, 2, 3}, {2});
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({}, {"c"})), "int_val has 3 values"));
}

TEST(TfImportTest, RejectsCycle) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  add_node(graph, "a", "AddV2", {"x", "b"});
  add_node(graph, "b", "Relu", {"a"});
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"x"}, {"b"})), "cycle through node"));
}

TEST(TfImportTest, RejectsMissingInputNode) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  add_node(graph, "y", "AddV2", {"x", "ghost:0"});
  const std::string message = import_error(graph, feeds_fetches({"x"}, {"y"}));
  EXPECT_TRUE(contains(message, "node 'y' (AddV2)")) << message;
  EXPECT_TRUE(contains(message, "'ghost'")) << message;
}

TEST(TfImportTest, RejectsDuplicateNodeNames) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  add_node(graph, "x", "Relu", {"x"});
  EXPECT_TRUE(contains(import_error(graph, {}), "two nodes are named 'x'"));
}

TEST(TfImportTest, RejectsOutputsNnfiDoesNotCompute) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  for (const char* name : {"s", "o", "m", "v"}) add_floats(graph, name, {1, 1}, {2});
  set_bool(add_node(graph, "bn", "FusedBatchNormV3", {"x", "s", "o", "m", "v"}), "is_training",
           false);
  add_node(graph, "y", "Relu", {"bn:1"});
  add_node(graph, "z", "Relu", {"x:1"});
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"x"}, {"y"})), "does not compute"));
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"x"}, {"z"})), "has 1 output(s)"));
}

TEST(TfImportTest, RejectsBadFeedsAndFetches) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  add_placeholder(graph, "y", {-1, 2});
  add_node(graph, "sum", "AddV2", {"x", "y"});
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"nope"}, {"sum"})), "feed 'nope'"));
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"x"}, {"nope"})), "fetch 'nope'"));
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"sum"}, {"sum"})),
                       "Placeholder and PlaceholderWithDefault"));
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"x"}, {"sum"})),
                       "node 'y' (Placeholder): is needed by the fetches but not fed"));
}

TEST(TfImportTest, RejectsTrainingBatchNormAndVariablesWithoutCheckpoint) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 2});
  for (const char* name : {"s", "o", "m", "v"}) add_floats(graph, name, {1, 1}, {2});
  add_node(graph, "bn", "FusedBatchNorm", {"x", "s", "o", "m", "v"});  // is_training defaults on
  tf::NodeDef* w = add_node(graph, "w", "VariableV2");
  set_shape_attr(w, "shape", {2});
  add_node(graph, "y", "Mul", {"x", "w"});
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"x"}, {"bn"})), "is_training"));
  EXPECT_TRUE(contains(import_error(graph, feeds_fetches({"x"}, {"y"})),
                       "node 'w' (VariableV2): is a variable"));
}

TEST(TfImportTest, RejectsTruncatedAndForeignFilesWithoutCrashing) {
  NNFI_REQUIRE_FIXTURES();
  const std::string bytes = read_bytes(testing::fixtures_dir() / "tf/mnist_mlp_frozen_tf1.15.pb");
  ASSERT_GT(bytes.size(), 1000u);
  TempDir dir;
  int failures = 0;
  for (int cut = 1; cut <= 64; ++cut) {
    const size_t size = bytes.size() * static_cast<size_t>(cut) / 65;
    auto path = dir / ("cut" + std::to_string(cut) + ".pb");
    write_bytes(path, bytes.substr(0, size));
    auto graph = load_model(path, feeds_fetches({"x"}, {"y"}));
    if (!graph.has_value()) {
      ++failures;
      EXPECT_TRUE(contains(graph.status().message(), path.string())) << graph.status().message();
    }
  }
  EXPECT_EQ(failures, 64);  // every cut loses a weight, so nothing loads
  auto path = dir / "garbage.pb";
  std::string garbage(4096, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919) % 251);
  write_bytes(path, garbage);
  auto graph = load_model(path);
  ASSERT_FALSE(graph.has_value());
  EXPECT_TRUE(contains(graph.status().message(), "not a TensorFlow GraphDef"))
      << graph.status().message();
}

}  // namespace
}  // namespace nnfi
