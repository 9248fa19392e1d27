// DESIGN.md performance principle 7: an image's outputs are bit-identical
// whatever batch it runs in. Fault campaigns compare faulty and golden runs
// bit for bit, so this is tested on a whole CNN, fast kernels included.
#include <gtest/gtest.h>

#include <cstring>

#include "nnfi/graph.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::random_tensor;

// conv3x3(3->8, pad 1) relu maxpool2 conv3x3(8->16, stride 2) relu flatten gemm softmax
std::shared_ptr<Graph> make_small_cnn(bool channels_last) {
  auto graph = std::make_shared<Graph>();
  Graph& g = *graph;
  Shape input_shape = channels_last ? Shape{kUnknownDim, 16, 16, 3} : Shape{kUnknownDim, 3, 16, 16};
  ValueId x = g.add_value("x", DType::kFloat32, input_shape);
  g.inputs = {x};
  auto value = [&](const std::string& name) { return g.add_value(name, DType::kFloat32, {}); };
  auto conv = [&](const std::string& name, ValueId in, int64_t cin, int64_t cout, int64_t stride,
                  uint32_t seed) {
    ValueId w = g.add_constant(name + "/w", random_tensor({cout, cin, 3, 3}, seed, -0.5f, 0.5f));
    ValueId b = g.add_constant(name + "/b", random_tensor({cout}, seed + 1, -0.1f, 0.1f));
    ValueId out = value(name);
    Node node{.name = name, .op = OpType::kConv, .inputs = {in, w, b}, .outputs = {out}};
    node.attributes.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    node.attributes.set("strides", std::vector<int64_t>{stride, stride});
    node.attributes.set("channels_last", int64_t{channels_last ? 1 : 0});
    g.add_layer(name, "Conv", {g.add_node(std::move(node))});
    return out;
  };
  auto unary = [&](const std::string& name, OpType op, ValueId in) {
    ValueId out = value(name);
    g.add_layer(name, std::string(op_type_name(op)),
                {g.add_node({.name = name, .op = op, .inputs = {in}, .outputs = {out}})});
    return out;
  };
  ValueId c1 = unary("relu1", OpType::kRelu, conv("conv1", x, 3, 8, 1, 11));
  ValueId p1 = value("pool1");
  {
    Node pool{.name = "pool1", .op = OpType::kMaxPool, .inputs = {c1}, .outputs = {p1}};
    pool.attributes.set("kernel_shape", std::vector<int64_t>{2, 2});
    pool.attributes.set("strides", std::vector<int64_t>{2, 2});
    pool.attributes.set("channels_last", int64_t{channels_last ? 1 : 0});
    g.add_layer("pool1", "MaxPool", {g.add_node(std::move(pool))});
  }
  ValueId c2 = unary("relu2", OpType::kRelu, conv("conv2", p1, 8, 16, 2, 21));
  ValueId flat = unary("flatten", OpType::kFlatten, c2);
  ValueId w = g.add_constant("dense/w", random_tensor({16 * 4 * 4, 10}, 31, -0.2f, 0.2f));
  ValueId b = g.add_constant("dense/b", random_tensor({10}, 32, -0.1f, 0.1f));
  ValueId logits = value("dense");
  g.add_layer(
      "dense", "Gemm",
      {g.add_node(
          {.name = "dense", .op = OpType::kGemm, .inputs = {flat, w, b}, .outputs = {logits}})});
  ValueId probabilities = unary("softmax", OpType::kSoftmax, logits);
  g.outputs = {probabilities};
  Status status = g.finalize();
  EXPECT_TRUE(status.is_ok()) << status.message();
  return graph;
}

// Runs `images` (N, ...) through a plan of batch N and returns every value.
std::vector<Tensor> run_all_values(const std::shared_ptr<Graph>& graph, const Tensor& images,
                                   bool fast) {
  auto plan = Plan::create(graph, {images.shape()}, PlanOptions{.use_fast_kernels = fast});
  EXPECT_TRUE(plan.has_value()) << plan.status().message();
  Executor executor(*plan);
  EXPECT_TRUE(executor.set_input(0, images).is_ok());
  Status status = executor.run();
  EXPECT_TRUE(status.is_ok()) << status.message();
  std::vector<Tensor> values;
  for (size_t v = 0; v < graph->values.size(); ++v) {
    values.push_back(executor.value(static_cast<ValueId>(v)).clone());
  }
  return values;
}

// Row `row` of a batched tensor as bytes.
std::vector<std::byte> row_bytes(const Tensor& tensor, int64_t row) {
  size_t row_size = tensor.num_bytes() / static_cast<size_t>(tensor.dim(0));
  const auto* begin = static_cast<const std::byte*>(tensor.raw_data()) + row * row_size;
  return {begin, begin + row_size};
}

class Determinism : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(Determinism, ImageOutputsAreBitIdenticalInEveryBatch) {
  auto [channels_last, fast] = GetParam();
  auto graph = make_small_cnn(channels_last);
  const Shape& declared = graph->values[graph->inputs[0]].shape;
  Shape batch32 = declared;
  batch32[0] = 32;
  Tensor images = random_tensor(batch32, 5, 0.0f, 1.0f);
  std::vector<Tensor> in_32 = run_all_values(graph, images, fast);
  for (int64_t batch : {1, 7}) {
    for (int64_t offset : {int64_t{0}, 32 - batch}) {
      Shape shape = declared;
      shape[0] = batch;
      Tensor slice(DType::kFloat32, shape);
      size_t row_size = images.num_bytes() / 32;
      std::memcpy(slice.data<std::byte>(), images.data<std::byte>() + offset * row_size,
                  row_size * batch);
      std::vector<Tensor> in_small = run_all_values(graph, slice, fast);
      for (size_t v = 0; v < graph->values.size(); ++v) {
        if (graph->values[v].is_constant() || in_small[v].rank() == 0) continue;
        for (int64_t row = 0; row < batch; ++row) {
          ASSERT_EQ(row_bytes(in_small[v], row), row_bytes(in_32[v], offset + row))
              << "value '" << graph->values[v].name << "' of image " << offset + row
              << " differs between batch " << batch << " and batch 32";
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, Determinism,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "Nhwc" : "Nchw") +
                                  (std::get<1>(info.param) ? "Fast" : "Reference");
                         });

}  // namespace
}  // namespace nnfi
