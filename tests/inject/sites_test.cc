// enumerate_sites on a small hand-built graph and on the Fashion-MNIST CNN:
// which values are sites, their stable names, per-image shapes and counts.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "nnfi/fault.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

// x [?, 4] -> MatMul(W) -> Add(b) -> Relu -> Flatten(axis 0) [1, 3N], and
// Relu -> ReduceMean over the batch [1, 3]; a float constant C reshaped on its
// own; Shape(x) folded at plan time.
struct Dense {
  std::shared_ptr<Graph> graph = std::make_shared<Graph>();
  Dense() {
    Graph& g = *graph;
    ValueId x = g.add_value("x", DType::kFloat32, {kUnknownDim, 4});
    ValueId w = g.add_constant("W", Tensor(DType::kFloat32, {4, 3}));
    ValueId b = g.add_constant("b", Tensor(DType::kFloat32, {3}));
    ValueId c = g.add_constant("C", Tensor(DType::kFloat32, {2, 3}));
    ValueId six = g.add_constant("six", Tensor::from_vector<int64_t>({6}, {1}));
    ValueId h = g.add_value("h", DType::kFloat32, {});
    ValueId a = g.add_value("a", DType::kFloat32, {});
    ValueId r = g.add_value("r", DType::kFloat32, {});
    ValueId flat = g.add_value("flat", DType::kFloat32, {});
    ValueId cr = g.add_value("cr", DType::kFloat32, {});
    ValueId shape = g.add_value("shape", DType::kInt64, {});
    ValueId stat = g.add_value("stat", DType::kFloat32, {});
    g.inputs = {x};
    g.outputs = {r, flat, cr, shape, stat};
    NodeId mm = g.add_node({.name = "mm",
                            .op = OpType::kMatMul,
                            .source_op = "Dense_MatMul",
                            .inputs = {x, w},
                            .outputs = {h}});
    NodeId add = g.add_node({.name = "add", .op = OpType::kAdd, .inputs = {h, b}, .outputs = {a}});
    NodeId relu = g.add_node({.name = "relu", .op = OpType::kRelu, .inputs = {a}, .outputs = {r}});
    Node flatten{.name = "flatten", .op = OpType::kFlatten, .inputs = {r}, .outputs = {flat}};
    flatten.attributes.set("axis", int64_t{0});
    NodeId fl = g.add_node(flatten);
    NodeId reshape = g.add_node(
        {.name = "reshape", .op = OpType::kReshape, .inputs = {c, six}, .outputs = {cr}});
    g.add_node({.name = "shape", .op = OpType::kShape, .inputs = {x}, .outputs = {shape}});
    Node mean{.name = "batch_mean", .op = OpType::kReduceMean, .inputs = {r}, .outputs = {stat}};
    mean.attributes.set("axes", std::vector<int64_t>{0});
    g.add_node(mean);
    g.add_layer("dense", "Dense", {mm, add});
    g.add_layer("act", "Activation", {relu});
    g.add_layer("flat", "Flatten", {fl});
    g.add_layer("const", "Reshape", {reshape});
    Status status = g.finalize();
    EXPECT_TRUE(status.is_ok()) << status.message();
  }

  std::shared_ptr<Plan> plan(int64_t batch) const {
    PlanOptions options;
    options.use_fast_kernels = false;
    auto made = Plan::create(graph, {{batch, 4}}, options);
    EXPECT_TRUE(made.has_value()) << made.status().message();
    return *made;
  }
};

std::vector<std::string> names(const std::vector<Site>& sites) {
  std::vector<std::string> result;
  for (const Site& site : sites) result.push_back(site.name);
  return result;
}

int64_t total_elements(const std::vector<Site>& sites) {
  return std::accumulate(sites.begin(), sites.end(), int64_t{0},
                         [](int64_t sum, const Site& site) { return sum + site.elements; });
}

TEST(EnumerateSites, NodeOutputsAreActivationsOnly) {
  Dense dense;
  const Graph& g = *dense.graph;
  auto sites = enumerate_sites(g, *dense.plan(2), SiteKind::kNodeOutput);
  // Not Flatten(axis 0) ([1, 6]: no batch axis), not the batch mean, not the
  // folded int64 Shape. The reshaped constant runs at every inference without
  // the input behind it: a shared site (one tensor every image reads).
  ASSERT_EQ(names(sites), (std::vector<std::string>{"mm", "add", "relu", "reshape"}));
  EXPECT_FALSE(sites[0].shared);
  EXPECT_TRUE(sites[3].shared);
  EXPECT_EQ(sites[3].elements, shape_num_elements(sites[3].shape));
  const Site& mm = sites[0];
  EXPECT_EQ(mm.kind, SiteKind::kNodeOutput);
  EXPECT_EQ(mm.node, *g.find_node("mm"));
  EXPECT_EQ(mm.value, *g.find_value("h"));
  EXPECT_EQ(mm.layer, *g.find_layer("dense"));
  EXPECT_EQ(mm.op_type, "Dense_MatMul");  // the source op when there is one
  EXPECT_EQ(mm.shape, (Shape{3}));
  EXPECT_EQ(mm.elements, 3);
  EXPECT_EQ(sites[1].op_type, "Add");  // else the IR op
  EXPECT_EQ(sites[2].layer, *g.find_layer("act"));
}

TEST(EnumerateSites, LayerOutputsAreTheLastNodesOutputs) {
  Dense dense;
  const Graph& g = *dense.graph;
  auto sites = enumerate_sites(g, *dense.plan(2), SiteKind::kLayerOutput);
  ASSERT_EQ(names(sites), (std::vector<std::string>{"dense", "act"}));
  EXPECT_EQ(sites[0].kind, SiteKind::kLayerOutput);
  EXPECT_EQ(sites[0].value, *g.find_value("a"));
  EXPECT_EQ(sites[0].node, *g.find_node("add"));
  EXPECT_EQ(sites[0].layer, *g.find_layer("dense"));
  EXPECT_EQ(sites[0].op_type, "Dense");
  EXPECT_EQ(sites[0].shape, (Shape{3}));
  EXPECT_EQ(sites[1].op_type, "Activation");
}

TEST(EnumerateSites, WeightsAreFloatConstantsByFirstConsumer) {
  Dense dense;
  const Graph& g = *dense.graph;
  auto sites = enumerate_sites(g, *dense.plan(2), SiteKind::kWeight);
  ASSERT_EQ(names(sites), (std::vector<std::string>{"W", "b", "C"}));  // not int64 "six"
  EXPECT_EQ(sites[0].kind, SiteKind::kWeight);
  EXPECT_EQ(sites[0].value, *g.find_value("W"));
  EXPECT_EQ(sites[0].node, *g.find_node("mm"));
  EXPECT_EQ(sites[0].op_type, "Dense_MatMul");
  EXPECT_EQ(sites[0].layer, *g.find_layer("dense"));
  EXPECT_EQ(sites[0].shape, (Shape{4, 3}));  // the whole tensor
  EXPECT_EQ(sites[0].elements, 12);
  EXPECT_EQ(sites[1].op_type, "Add");
  EXPECT_EQ(sites[2].op_type, "Reshape");
  EXPECT_EQ(sites[2].layer, *g.find_layer("const"));
  EXPECT_EQ(total_elements(sites), 12 + 3 + 6);
}

TEST(EnumerateSites, InputsArePerImage) {
  Dense dense;
  const Graph& g = *dense.graph;
  auto sites = enumerate_sites(g, *dense.plan(2), SiteKind::kInput);
  ASSERT_EQ(names(sites), (std::vector<std::string>{"x"}));
  EXPECT_EQ(sites[0].value, *g.find_value("x"));
  EXPECT_EQ(sites[0].node, kNoNode);
  EXPECT_EQ(sites[0].layer, -1);
  EXPECT_EQ(sites[0].shape, (Shape{4}));
  EXPECT_EQ(sites[0].elements, 4);
}

// Sites name nodes and values, never the batch: plans for batch 1, 2 and 7
// agree (with batch 1, Flatten(axis 0) and the batch mean are [1, 3] too and
// still no activations).
TEST(EnumerateSites, DoNotDependOnTheBatch) {
  Dense dense;
  for (SiteKind kind :
       {SiteKind::kNodeOutput, SiteKind::kLayerOutput, SiteKind::kWeight, SiteKind::kInput}) {
    auto two = enumerate_sites(*dense.graph, *dense.plan(2), kind);
    for (int64_t batch : {1, 7}) {
      auto other = enumerate_sites(*dense.graph, *dense.plan(batch), kind);
      ASSERT_EQ(names(other), names(two)) << site_kind_name(kind) << " batch " << batch;
      for (size_t i = 0; i < two.size(); ++i) {
        EXPECT_EQ(two[i].value, other[i].value);
        EXPECT_EQ(two[i].shape, other[i].shape);
        EXPECT_EQ(two[i].elements, other[i].elements);
      }
    }
  }
}

TEST(EnumerateSites, FashionMnistCnn) {
  auto loaded = load_model(std::filesystem::path(NNFI_SOURCE_DIR) /
                           "examples/fashion_mnist/fashion_mnist_cnn.onnx");
  ASSERT_TRUE(loaded.has_value()) << loaded.status().message();
  std::shared_ptr<Graph> graph = *loaded;
  PlanOptions options;
  options.use_fast_kernels = false;
  auto plan = Plan::create(graph, {{1, 1, 28, 28}}, options);
  ASSERT_TRUE(plan.has_value()) << plan.status().message();

  auto nodes = enumerate_sites(*graph, **plan, SiteKind::kNodeOutput);
  ASSERT_EQ(nodes.size(), 15u);
  EXPECT_EQ(nodes[0].name, "/net/features/features.0/Conv");
  EXPECT_EQ(nodes[0].op_type, "Conv");
  EXPECT_EQ(nodes[0].shape, (Shape{32, 26, 26}));
  EXPECT_EQ(nodes[0].elements, 21632);
  EXPECT_EQ(nodes[4].shape, (Shape{32, 12, 12}));
  EXPECT_EQ(nodes[10].op_type, "Flatten");
  EXPECT_EQ(nodes[10].shape, (Shape{1024}));
  EXPECT_EQ(nodes[14].name, "/Softmax");
  EXPECT_EQ(nodes[14].shape, (Shape{10}));
  EXPECT_EQ(total_elements(nodes), 108052);

  auto layers = enumerate_sites(*graph, **plan, SiteKind::kLayerOutput);
  ASSERT_EQ(layers.size(), 15u);
  EXPECT_EQ(layers[11].name, "/net/classifier/classifier.1/Gemm");
  EXPECT_EQ(layers[11].shape, (Shape{128}));
  EXPECT_EQ(total_elements(layers), 108052);

  auto weights = enumerate_sites(*graph, **plan, SiteKind::kWeight);
  ASSERT_EQ(weights.size(), 12u);  // weight and bias of 4 Conv and 2 Gemm
  EXPECT_EQ(weights[0].op_type, "Conv");
  EXPECT_EQ(weights[0].shape, (Shape{32, 1, 3, 3}));
  EXPECT_EQ(weights[1].shape, (Shape{32}));
  EXPECT_EQ(weights[8].op_type, "Gemm");
  EXPECT_EQ(weights[8].elements, 131072);
  EXPECT_EQ(total_elements(weights), 197482);  // the model's parameter count

  auto inputs = enumerate_sites(*graph, **plan, SiteKind::kInput);
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].name, "input");
  EXPECT_EQ(inputs[0].shape, (Shape{1, 28, 28}));
  EXPECT_EQ(inputs[0].elements, 784);
}

}  // namespace
}  // namespace nnfi
