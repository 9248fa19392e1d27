#include "nnfi/graph.h"

#include <gtest/gtest.h>

namespace nnfi {
namespace {

TEST(Graph, RejectsCycleNamingANode) {
  Graph graph;
  ValueId a = graph.add_value("a", DType::kFloat32, {1});
  ValueId b = graph.add_value("b", DType::kFloat32, {1});
  Node first{.name = "first", .op = OpType::kIdentity, .inputs = {b}, .outputs = {a}};
  Node second{.name = "second", .op = OpType::kIdentity, .inputs = {a}, .outputs = {b}};
  graph.add_node(first);
  graph.add_node(second);
  Status status = graph.verify();
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("cycle"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("'first'"), std::string::npos) << status.message();
}

TEST(Graph, RejectsValueProducedTwice) {
  Graph graph;
  ValueId x = graph.add_value("x", DType::kFloat32, {1});
  ValueId y = graph.add_value("y", DType::kFloat32, {1});
  graph.inputs = {x};
  graph.add_node(Node{.name = "n1", .op = OpType::kIdentity, .inputs = {x}, .outputs = {y}});
  graph.add_node(Node{.name = "n2", .op = OpType::kIdentity, .inputs = {x}, .outputs = {y}});
  Status status = graph.verify();
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("n2"), std::string::npos) << status.message();
}

TEST(Graph, TopologicalOrderPutsProducersFirst) {
  Graph graph;
  ValueId x = graph.add_value("x", DType::kFloat32, {1});
  ValueId y = graph.add_value("y", DType::kFloat32, {1});
  ValueId z = graph.add_value("z", DType::kFloat32, {1});
  graph.inputs = {x};
  graph.outputs = {z};
  graph.add_node(Node{.name = "late", .op = OpType::kIdentity, .inputs = {y}, .outputs = {z}});
  graph.add_node(Node{.name = "early", .op = OpType::kIdentity, .inputs = {x}, .outputs = {y}});
  auto order = graph.topological_order();
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(*order, (std::vector<NodeId>{1, 0}));
}

TEST(Graph, LayerParametersCountFloatConstantsOnly) {
  Graph graph;
  ValueId x = graph.add_value("x", DType::kFloat32, {2, 3});
  ValueId shape = graph.add_constant("shape", Tensor::from_vector<int64_t>({3, 2}, {2}));
  ValueId bias = graph.add_constant("bias", Tensor(DType::kFloat32, {3}));
  ValueId added = graph.add_value("added", DType::kFloat32, {});
  ValueId reshaped = graph.add_value("reshaped", DType::kFloat32, {});
  graph.inputs = {x};
  graph.outputs = {reshaped};
  NodeId add =
      graph.add_node({.name = "add", .op = OpType::kAdd, .inputs = {x, bias}, .outputs = {added}});
  NodeId reshape = graph.add_node(
      {.name = "reshape", .op = OpType::kReshape, .inputs = {added, shape}, .outputs = {reshaped}});
  int32_t layer = graph.add_layer("block", "Block", {add, reshape});
  EXPECT_EQ(graph.layer_parameter_count(layer), 3);
}

}  // namespace
}  // namespace nnfi
