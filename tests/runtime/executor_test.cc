// The executor's contracts later issues build on: ask-then-observe hooks that
// may change outputs, resuming from given values, running only what a change
// reaches, and bit-identical results whatever the batch and the kernel path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "nnfi/graph.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::random_tensor;

// x -> Relu(r1) -> Add(a, with x) -> Neg(n) ; a diamond: x feeds r1 and a.
struct Diamond {
  std::shared_ptr<Graph> graph = std::make_shared<Graph>();
  ValueId x, r, a, y;
  NodeId relu, add, neg;
  Diamond() {
    x = graph->add_value("x", DType::kFloat32, {kUnknownDim, 4});
    r = graph->add_value("r", DType::kFloat32, {});
    a = graph->add_value("a", DType::kFloat32, {});
    y = graph->add_value("y", DType::kFloat32, {});
    graph->inputs = {x};
    graph->outputs = {y};
    relu = graph->add_node({.name = "relu", .op = OpType::kRelu, .inputs = {x}, .outputs = {r}});
    add = graph->add_node({.name = "add", .op = OpType::kAdd, .inputs = {r, x}, .outputs = {a}});
    neg = graph->add_node({.name = "neg", .op = OpType::kNeg, .inputs = {a}, .outputs = {y}});
    graph->add_layer("relu", "Relu", {relu});
    graph->add_layer("add", "Add", {add});
    graph->add_layer("neg", "Neg", {neg});
    Status status = graph->finalize();
    EXPECT_TRUE(status.is_ok()) << status.message();
  }
};

class CountingHook : public Hook {
 public:
  explicit CountingHook(std::vector<NodeId> wanted) : wanted_(std::move(wanted)) {}
  std::vector<NodeId> nodes_to_observe(const Plan&) override {
    ++asked;
    return wanted_;
  }
  Status on_node_done(NodeId node, std::span<Tensor* const> outputs) override {
    seen.push_back(node);
    if (zero_outputs) std::fill_n(outputs[0]->data<float>(), outputs[0]->num_elements(), 0.0f);
    return Status::ok();
  }
  int asked = 0;
  bool zero_outputs = false;
  std::vector<NodeId> seen;

 private:
  std::vector<NodeId> wanted_;
};

TEST(Executor, InfersShapesWithUnknownBatch) {
  Diamond d;
  EXPECT_EQ(d.graph->values[d.y].shape, (Shape{kUnknownDim, 4}));
  EXPECT_EQ(d.graph->values[d.y].dtype, DType::kFloat32);
}

TEST(Executor, RunsAndHooksSeeOnlyWhatTheyAskedFor) {
  Diamond d;
  auto plan = Plan::create(d.graph, {{2, 4}});
  ASSERT_TRUE(plan.has_value()) << plan.status().message();
  Executor executor(*plan);
  CountingHook hook({d.add});
  executor.add_hook(&hook);
  Tensor input = Tensor::from_vector<float>({-1, 2, -3, 4, 5, -6, 7, -8}, {2, 4});
  ASSERT_TRUE(executor.set_input(0, input).is_ok());
  ASSERT_TRUE(executor.run().is_ok());
  EXPECT_EQ(hook.asked, 1);
  EXPECT_EQ(hook.seen, (std::vector<NodeId>{d.add}));
  const float* y = executor.value(d.y).data<float>();
  // y = -(relu(x) + x)
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -4.0f);
  EXPECT_EQ(y[5], 6.0f);
  EXPECT_EQ(y[6], -14.0f);
}

TEST(Executor, HookCanChangeAnOutputAndTheChangePropagates) {
  Diamond d;
  auto plan = Plan::create(d.graph, {{1, 4}});
  ASSERT_TRUE(plan.has_value());
  Executor executor(*plan);
  CountingHook hook({d.relu});
  hook.zero_outputs = true;
  executor.add_hook(&hook);
  ASSERT_TRUE(executor.set_input(0, Tensor::from_vector<float>({1, 2, 3, 4}, {1, 4})).is_ok());
  ASSERT_TRUE(executor.run().is_ok());
  // relu zeroed: y = -(0 + x)
  EXPECT_EQ(executor.value(d.y).data<float>()[3], -4.0f);
}

TEST(Executor, DownstreamNodesFollowEveryPathAndStop) {
  Diamond d;
  auto plan = Plan::create(d.graph, {{1, 4}});
  ASSERT_TRUE(plan.has_value());
  std::vector<ValueId> changed{d.r};
  EXPECT_EQ((*plan)->downstream_nodes(changed), (std::vector<NodeId>{d.add, d.neg}));
  std::vector<ValueId> input{d.x};
  EXPECT_EQ((*plan)->downstream_nodes(input), (std::vector<NodeId>{d.relu, d.add, d.neg}));
  std::vector<NodeId> stop{d.add};
  EXPECT_EQ((*plan)->downstream_nodes(input, stop), (std::vector<NodeId>{d.relu, d.add}));
}

TEST(Executor, ResumesFromAGivenValue) {
  Diamond d;
  auto plan = Plan::create(d.graph, {{1, 4}});
  ASSERT_TRUE(plan.has_value());
  Executor executor(*plan);
  ASSERT_TRUE(executor.set_input(0, Tensor::from_vector<float>({1, 2, 3, 4}, {1, 4})).is_ok());
  ASSERT_TRUE(executor.run().is_ok());
  // Replace relu's output and rerun only what depends on it.
  ASSERT_TRUE(
      executor.set_value(d.r, Tensor::from_vector<float>({10, 10, 10, 10}, {1, 4})).is_ok());
  std::vector<ValueId> changed{d.r};
  ASSERT_TRUE(executor.run_nodes((*plan)->downstream_nodes(changed)).is_ok());
  EXPECT_EQ(executor.value(d.y).data<float>()[0], -11.0f);
  EXPECT_EQ(executor.value(d.r).data<float>()[0], 10.0f);  // relu did not rerun
}

TEST(Executor, RejectsInputOfTheWrongShape) {
  Diamond d;
  auto plan = Plan::create(d.graph, {{1, 4}});
  ASSERT_TRUE(plan.has_value());
  Executor executor(*plan);
  Status status = executor.set_input(0, Tensor(DType::kFloat32, {1, 5}));
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("[1, 5]"), std::string::npos) << status.message();
}

TEST(Plan, RejectsInputShapeThatContradictsTheModel) {
  Diamond d;
  auto plan = Plan::create(d.graph, {{1, 5}});
  ASSERT_FALSE(plan.has_value());
  EXPECT_NE(plan.status().message().find("'x'"), std::string::npos) << plan.status().message();
}

}  // namespace
}  // namespace nnfi
