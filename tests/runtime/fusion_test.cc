// Fused plans (PlanOptions::fuse_for_inference) on a small ResNet-like graph:
// the same outputs as unfused plans (within float tolerance), bit-identical
// per image whatever the batch and thread count, the right nodes fused away,
// graph outputs kept exact, and hooks refused where a node's output is not
// computed or not stored in the IR layout.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "nnfi/graph.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::random_tensor;
using testing::tensors_close;

struct Net {
  std::shared_ptr<Graph> graph;
  std::set<std::string> fused_away;  // nodes a fused plan should skip
  std::string nhwc_node;             // a node whose output a fused plan stores NHWC
};

// stem conv3x3(3->16)+relu, maxpool3x3 s2 (also a graph output), a basic
// block (conv+leakyrelu, conv, add, relu), a downsampling block whose 1x1
// shortcut comes after the second conv (conv s2+relu, conv, shortcut, add,
// relu), global average pool, flatten, gemm+relu, gemm+clip, softmax.
Net make_net(bool channels_last) {
  Net net;
  net.graph = std::make_shared<Graph>();
  Graph& g = *net.graph;
  const int64_t last = channels_last ? 1 : 0;
  ValueId x =
      g.add_value("x", DType::kFloat32,
                  channels_last ? Shape{kUnknownDim, 12, 12, 3} : Shape{kUnknownDim, 3, 12, 12});
  g.inputs = {x};
  auto value = [&](const std::string& name) { return g.add_value(name, DType::kFloat32, {}); };
  uint32_t seed = 1;
  auto conv = [&](const std::string& name, ValueId in, int64_t cin, int64_t cout, int64_t k,
                  int64_t stride) {
    ValueId w = g.add_constant(name + "/w", random_tensor({cout, cin, k, k}, ++seed, -0.4f, 0.4f));
    ValueId b = g.add_constant(name + "/b", random_tensor({cout}, ++seed, -0.1f, 0.1f));
    ValueId out = value(name);
    Node node{.name = name, .op = OpType::kConv, .inputs = {in, w, b}, .outputs = {out}};
    const int64_t pad = k / 2;
    node.attributes.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
    node.attributes.set("strides", std::vector<int64_t>{stride, stride});
    node.attributes.set("channels_last", last);
    g.add_node(std::move(node));
    return out;
  };
  auto op = [&](const std::string& name, OpType type, std::vector<ValueId> in,
                Attributes attrs = {}) {
    ValueId out = value(name);
    g.add_node({.name = name,
                .op = type,
                .attributes = std::move(attrs),
                .inputs = std::move(in),
                .outputs = {out}});
    return out;
  };
  Attributes leaky;
  leaky.set("alpha", 0.2);
  Attributes pool_attrs;
  pool_attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
  pool_attrs.set("strides", std::vector<int64_t>{2, 2});
  pool_attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  pool_attrs.set("channels_last", last);
  Attributes gap_attrs;
  gap_attrs.set("channels_last", last);

  ValueId stem = op("stem/relu", OpType::kRelu, {conv("stem", x, 3, 16, 3, 1)});
  ValueId pool = op("pool", OpType::kMaxPool, {stem}, pool_attrs);
  ValueId a = op("a/leaky", OpType::kLeakyRelu, {conv("a", pool, 16, 16, 3, 1)}, leaky);
  ValueId b = conv("b", a, 16, 16, 3, 1);
  ValueId block1 = op("block1/relu", OpType::kRelu, {op("block1/add", OpType::kAdd, {b, pool})});
  ValueId c = op("c/relu", OpType::kRelu, {conv("c", block1, 16, 32, 3, 2)});
  ValueId d = conv("d", c, 32, 32, 3, 1);
  ValueId shortcut = conv("shortcut", block1, 16, 32, 1, 2);
  ValueId block2 =
      op("block2/relu", OpType::kRelu, {op("block2/add", OpType::kAdd, {shortcut, d})});
  ValueId gap = op("gap", OpType::kGlobalAveragePool, {block2}, gap_attrs);
  ValueId flat = op("flatten", OpType::kFlatten, {gap});
  ValueId w1 = g.add_constant("fc1/w", random_tensor({32, 20}, ++seed, -0.3f, 0.3f));
  ValueId b1 = g.add_constant("fc1/b", random_tensor({20}, ++seed, -0.1f, 0.1f));
  ValueId fc1 = op("fc1/relu", OpType::kRelu, {op("fc1", OpType::kGemm, {flat, w1, b1})});
  ValueId w2 = g.add_constant("fc2/w", random_tensor({20, 10}, ++seed, -0.5f, 0.5f));
  ValueId lo = g.add_constant("clip/min", Tensor::scalar(-0.05f));
  ValueId hi = g.add_constant("clip/max", Tensor::scalar(0.2f));
  ValueId fc2 = op("fc2/clip", OpType::kClip, {op("fc2", OpType::kMatMul, {fc1, w2}), lo, hi});
  ValueId probabilities = op("softmax", OpType::kSoftmax, {fc2});
  g.outputs = {probabilities, pool};
  Status status = g.finalize();
  EXPECT_TRUE(status.is_ok()) << status.message();
  // The group's last node runs the fused kernel; the others are skipped. The
  // shortcut conv is a group of its own (the add went to d, or d to it).
  net.fused_away = {"stem", "a", "b", "block1/add", "c", "fc1", "fc2"};
  net.nhwc_node = channels_last ? "" : "a/leaky";
  return net;
}

Expected<Tensor> run_plan(const std::shared_ptr<Graph>& graph, const Tensor& images,
                          PlanOptions options, size_t output = 0) {
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan,
                        Plan::create(graph, {images.shape()}, std::move(options)));
  Executor executor(plan);
  NNFI_RETURN_IF_ERROR(executor.set_input(0, images));
  NNFI_RETURN_IF_ERROR(executor.run());
  return executor.value(graph->outputs[output]).clone();
}

PlanOptions fused() { return PlanOptions{.fuse_for_inference = true}; }

Shape input_shape(bool channels_last, int64_t batch) {
  return channels_last ? Shape{batch, 12, 12, 3} : Shape{batch, 3, 12, 12};
}

TEST(FusedPlan, MatchesUnfusedAndReferencePlans) {
  for (bool channels_last : {false, true}) {
    Net net = make_net(channels_last);
    Tensor images = random_tensor(input_shape(channels_last, 5), 77);
    for (size_t output = 0; output < 2; ++output) {
      Expected<Tensor> reference =
          run_plan(net.graph, images, PlanOptions{.use_fast_kernels = false}, output);
      Expected<Tensor> unfused = run_plan(net.graph, images, PlanOptions{}, output);
      Expected<Tensor> fused_out = run_plan(net.graph, images, fused(), output);
      ASSERT_TRUE(reference.has_value()) << reference.status().message();
      ASSERT_TRUE(unfused.has_value()) << unfused.status().message();
      ASSERT_TRUE(fused_out.has_value()) << fused_out.status().message();
      EXPECT_TRUE(tensors_close(*fused_out, *reference, 1e-4, 1e-6))
          << "channels_last " << channels_last << " output " << output;
      EXPECT_TRUE(tensors_close(*fused_out, *unfused, 1e-4, 1e-6))
          << "channels_last " << channels_last << " output " << output;
    }
  }
}

TEST(FusedPlan, SkipsTheFusedNodesOnlyWhenAsked) {
  for (bool channels_last : {false, true}) {
    Net net = make_net(channels_last);
    const Graph& g = *net.graph;
    auto plan = Plan::create(net.graph, {input_shape(channels_last, 2)}, fused());
    ASSERT_TRUE(plan.has_value()) << plan.status().message();
    std::set<std::string> skipped;
    for (NodeId n = 0; n < static_cast<NodeId>(g.nodes.size()); ++n) {
      if ((*plan)->node_fused_away(n)) skipped.insert(g.nodes[n].name);
    }
    // block2: the add and one of its convs (d, or the shortcut) are fused.
    EXPECT_TRUE(skipped.count("block2/add")) << "channels_last " << channels_last;
    EXPECT_EQ(skipped.count("d") + skipped.count("shortcut"), 1u);
    skipped.erase("block2/add");
    skipped.erase("d");
    skipped.erase("shortcut");
    EXPECT_EQ(skipped, net.fused_away) << "channels_last " << channels_last;
    // The pool output is a graph output: the pool runs, unfused.
    EXPECT_FALSE((*plan)->node_fused_away(*g.find_node("pool")));

    auto plain = Plan::create(net.graph, {input_shape(channels_last, 2)}, PlanOptions{});
    ASSERT_TRUE(plain.has_value());
    for (NodeId n = 0; n < static_cast<NodeId>(g.nodes.size()); ++n) {
      EXPECT_FALSE((*plain)->node_fused_away(n)) << g.nodes[n].name;
    }
  }
}

TEST(FusedPlan, IsBitIdenticalPerImageAcrossBatchesAndThreads) {
  Net net = make_net(false);
  Tensor all = random_tensor(input_shape(false, 32), 5);
  const int64_t image_size = all.num_elements() / 32;
  Tensor baseline;
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    for (int64_t batch : {1, 7, 32}) {
      Tensor images(DType::kFloat32, input_shape(false, batch));
      std::memcpy(images.data<float>(), all.data<float>() + (32 - batch) * image_size,
                  images.num_bytes());  // image 31 is the last of every batch
      Expected<Tensor> out = run_plan(net.graph, images, fused());
      ASSERT_TRUE(out.has_value()) << out.status().message();
      const int64_t classes = out->dim(1);
      Tensor last(DType::kFloat32, {1, classes});
      std::memcpy(last.data<float>(), out->data<float>() + (batch - 1) * classes,
                  classes * sizeof(float));
      if (!baseline.defined()) {
        baseline = last;
        continue;
      }
      EXPECT_EQ(std::memcmp(last.data<float>(), baseline.data<float>(), classes * sizeof(float)), 0)
          << "threads " << threads << " batch " << batch;
    }
  }
  omp_set_num_threads(saved);
}

// oneDNN 2.6 cannot fuse sum + Relu into a conv whose pad reaches past its
// kernel: the plan leaves that group unfused and still gives the right result.
TEST(FusedPlan, LeavesAConvUnfusedWhereOneDnnDeclinesTheFusion) {
  auto graph = std::make_shared<Graph>();
  Graph& g = *graph;
  ValueId x = g.add_value("x", DType::kFloat32, {kUnknownDim, 8, 5, 5});
  g.inputs = {x};
  ValueId w = g.add_constant("w", random_tensor({8, 8, 1, 1}, 1));
  ValueId y = g.add_value("y", DType::kFloat32, {});
  Node conv{.name = "conv", .op = OpType::kConv, .inputs = {x, w}, .outputs = {y}};
  conv.attributes.set("pads", std::vector<int64_t>{1, 1, 1, 1});  // output 7x7
  g.add_node(std::move(conv));
  ValueId r = g.add_value("r", DType::kFloat32, {});
  Node pad{.name = "pad", .op = OpType::kPad, .inputs = {x}, .outputs = {r}};
  pad.attributes.set("pads", std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1});
  g.add_node(std::move(pad));
  ValueId sum = g.add_value("sum", DType::kFloat32, {});
  g.add_node({.name = "add", .op = OpType::kAdd, .inputs = {y, r}, .outputs = {sum}});
  ValueId out = g.add_value("out", DType::kFloat32, {});
  g.add_node({.name = "relu", .op = OpType::kRelu, .inputs = {sum}, .outputs = {out}});
  g.outputs = {out};
  ASSERT_TRUE(g.finalize().is_ok());
  Tensor images = random_tensor({3, 8, 5, 5}, 2);
  auto plan = Plan::create(graph, {images.shape()}, fused());
  ASSERT_TRUE(plan.has_value()) << plan.status().message();
  EXPECT_FALSE((*plan)->node_fused_away(*g.find_node("conv")));
  Expected<Tensor> fused_out = run_plan(graph, images, fused());
  Expected<Tensor> reference = run_plan(graph, images, PlanOptions{.use_fast_kernels = false});
  ASSERT_TRUE(fused_out.has_value()) << fused_out.status().message();
  ASSERT_TRUE(reference.has_value()) << reference.status().message();
  EXPECT_TRUE(tensors_close(*fused_out, *reference, 1e-4, 1e-6));
}

class CountingHook : public Hook {
 public:
  explicit CountingHook(std::vector<NodeId> nodes) : nodes_(std::move(nodes)) {}
  std::vector<NodeId> nodes_to_observe(const Plan&) override { return nodes_; }
  Status on_node_done(NodeId, std::span<Tensor* const>) override {
    ++calls;
    return Status::ok();
  }
  int calls = 0;

 private:
  std::vector<NodeId> nodes_;
};

TEST(FusedPlan, RejectsHooksOnFusedAwayNodes) {
  Net net = make_net(false);
  auto plan = Plan::create(net.graph, {input_shape(false, 2)}, fused());
  ASSERT_TRUE(plan.has_value());
  Executor executor(*plan);
  ASSERT_TRUE(executor.set_input(0, random_tensor(input_shape(false, 2), 3)).is_ok());
  CountingHook hook({*net.graph->find_node("b")});
  executor.add_hook(&hook);
  Status status = executor.run();
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("'b'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("fuse_for_inference"), std::string::npos) << status.message();
  EXPECT_EQ(hook.calls, 0);
}

TEST(FusedPlan, RejectsHooksOnNodesWhoseOutputIsStoredNhwc) {
  Net net = make_net(false);
  auto plan = Plan::create(net.graph, {input_shape(false, 2)}, fused());
  ASSERT_TRUE(plan.has_value());
  const NodeId node = *net.graph->find_node(net.nhwc_node);
  ASSERT_FALSE((*plan)->node_fused_away(node));  // it runs (the a+leaky group)...
  Executor executor(*plan);
  ASSERT_TRUE(executor.set_input(0, random_tensor(input_shape(false, 2), 3)).is_ok());
  CountingHook hook({node});
  executor.add_hook(&hook);
  Status status = executor.run();  // ...but its output is not in the IR layout
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find(net.nhwc_node), std::string::npos) << status.message();
}

TEST(FusedPlan, ObservesNodesWithExactOutputs) {
  Net net = make_net(false);
  Tensor images = random_tensor(input_shape(false, 2), 3);
  auto plan = Plan::create(net.graph, {images.shape()}, fused());
  ASSERT_TRUE(plan.has_value());
  Executor executor(*plan);
  ASSERT_TRUE(executor.set_input(0, images).is_ok());
  // The pool (a graph output) and the fused fc2+clip group's last node.
  CountingHook hook({*net.graph->find_node("pool"), *net.graph->find_node("fc2/clip")});
  executor.add_hook(&hook);
  Status status = executor.run();
  ASSERT_TRUE(status.is_ok()) << status.message();
  EXPECT_EQ(hook.calls, 2);
}

}  // namespace
}  // namespace nnfi
