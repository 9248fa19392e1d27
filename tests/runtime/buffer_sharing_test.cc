// Executor buffers shared between values whose lifetimes do not overlap
// (src/runtime/buffer_sharing.h): the assignment itself, and whole runs that
// give the same bits as an executor with a buffer per value.
#include "runtime/buffer_sharing.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using runtime::share_buffers;

// Chain x -> n0 -> a -> n1 -> b -> n2 -> c, and n0 also writes `unread`.
TEST(ShareBuffers, ValuesWhoseLifetimesDoNotOverlapShare) {
  const ValueId x = 0, a = 1, b = 2, c = 3, unread = 4;
  const std::vector<std::vector<ValueId>> reads = {{x}, {a}, {b}};
  const std::vector<std::vector<ValueId>> writes = {{a, unread}, {b}, {c}};
  const std::vector<size_t> bytes = {64, 100, 100, 80, 10};
  const std::vector<char> may_share = {0, 1, 1, 1, 1};
  const runtime::SharedBuffers shared = share_buffers(reads, writes, bytes, may_share);
  EXPECT_EQ(shared.block[x], -1);
  // n1 reads a while writing b, n2 reads b while writing c.
  EXPECT_NE(shared.block[a], shared.block[b]);
  EXPECT_NE(shared.block[b], shared.block[c]);
  EXPECT_NE(shared.block[a], shared.block[unread]);  // both written by n0
  // a is dead once n1 ran: c takes its buffer.
  EXPECT_EQ(shared.block[c], shared.block[a]);
  for (ValueId v : {a, b, c, unread}) {
    EXPECT_GE(shared.block_bytes[static_cast<size_t>(shared.block[v])], bytes[v]);
  }
}

TEST(ShareBuffers, AFreeBufferTooSmallGrowsRatherThanANewOne) {
  // n0 writes a (10 bytes); n1 reads a, writes b (10); n2 reads b, writes c (1000).
  const std::vector<std::vector<ValueId>> reads = {{}, {0}, {1}};
  const std::vector<std::vector<ValueId>> writes = {{0}, {1}, {2}};
  const runtime::SharedBuffers shared = share_buffers(reads, writes, {10, 10, 1000}, {1, 1, 1});
  EXPECT_EQ(shared.block_bytes.size(), 2u);
  EXPECT_EQ(shared.block[2], shared.block[0]);
  EXPECT_EQ(shared.block_bytes[static_cast<size_t>(shared.block[2])], 1000u);
}

TEST(ShareBuffers, AValueNothingWritesKeepsItsOwnBuffer) {
  // Value 0 is filled before the runs and read by n1; n0 writes value 1.
  const std::vector<std::vector<ValueId>> reads = {{}, {0, 1}};
  const std::vector<std::vector<ValueId>> writes = {{1}, {2}};
  const runtime::SharedBuffers shared = share_buffers(reads, writes, {8, 8, 8}, {1, 1, 1});
  EXPECT_EQ(shared.block[0], -1);
  EXPECT_NE(shared.block[1], shared.block[2]);  // n1 reads 1 while writing 2
}

// The Fashion-MNIST CNN of examples/, every way a plan runs it.
class SharedExecutor : public ::testing::TestWithParam<int> {};

TEST_P(SharedExecutor, OutputsAndKeptValuesAreTheBitsOfAnUnsharedRun) {
  Expected<std::shared_ptr<Graph>> model =
      load_model(std::string(NNFI_SOURCE_DIR) + "/examples/fashion_mnist/fashion_mnist_cnn.onnx");
  ASSERT_TRUE(model.has_value()) << model.status().message();
  const std::shared_ptr<const Graph> graph = *model;
  PlanOptions options;
  options.use_fast_kernels = GetParam() != 0;
  options.window_kernels = GetParam() == 2;
  options.fuse_for_inference = GetParam() == 3;
  Shape shape = graph->values[graph->inputs[0]].shape;
  shape[0] = 5;
  Expected<std::shared_ptr<Plan>> plan = Plan::create(graph, {shape}, options);
  ASSERT_TRUE(plan.has_value()) << plan.status().message();
  const Tensor images = testing::random_tensor(shape, 7, 0.0f, 1.0f);
  // Keep a value from the middle of the network.
  const ValueId middle = graph->nodes[graph->nodes.size() / 2].outputs[0];
  Executor plain(*plan);
  Executor shared(*plan, {middle});
  for (Executor* executor : {&plain, &shared}) {
    ASSERT_TRUE(executor->set_input(0, images).is_ok());
    for (int run = 0; run < 2; ++run) {  // a second run over the first one's leftovers
      const Status status = executor->run();
      ASSERT_TRUE(status.is_ok()) << status.message();
    }
  }
  for (ValueId value : {graph->outputs[0], middle}) {
    EXPECT_TRUE(shared.value(value).bitwise_equal(plain.value(value))) << graph->values[value].name;
  }
  // The values between share memory.
  std::set<const void*> buffers;
  int64_t computed = 0;
  for (size_t v = 0; v < graph->values.size(); ++v) {
    const Tensor& tensor = shared.value(static_cast<ValueId>(v));
    if (graph->values[v].is_constant() || !tensor.defined() || tensor.num_elements() == 0) continue;
    ++computed;
    buffers.insert(tensor.raw_data());
  }
  EXPECT_LT(static_cast<int64_t>(buffers.size()), computed);
}

std::string plan_name(const ::testing::TestParamInfo<int>& info) {
  const char* names[] = {"Reference", "Fast", "WindowKernels", "Fused"};
  return names[info.param];
}

INSTANTIATE_TEST_SUITE_P(Plans, SharedExecutor, ::testing::Values(0, 1, 2, 3), plan_name);

}  // namespace
}  // namespace nnfi
