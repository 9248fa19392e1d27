// DESIGN.md performance principle 7: a fast kernel's output for an image is
// bit-identical whatever batch it runs in (1, 7, 32), at whatever position,
// and whatever the OpenMP thread count when the kernel is built and when it
// runs (1, 2, 3). The 3->32 3x3 conv is the shape on which PyTorch's oneDNN
// gives other bits at batch 1 than at batch 32.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "kernels/fast_test_support.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::random_tensor;

struct DeterminismCase {
  OpType op;
  std::vector<Tensor> inputs;  // batched inputs hold one image (leading dim 1)
  std::vector<bool> batched;
  std::vector<bool> constant;
  Attributes attrs;
};

// `image` repeated at `positions` of a batch otherwise filled with other images.
Tensor batch_with_image(const Tensor& image, int64_t batch, const std::vector<int64_t>& positions,
                        uint32_t seed) {
  Shape shape = image.shape();
  shape[0] = batch;
  Tensor result = random_tensor(shape, seed);
  const int64_t size = image.num_elements();
  for (int64_t position : positions) {
    std::memcpy(result.data<float>() + position * size, image.data<float>(), size * sizeof(float));
  }
  return result;
}

Tensor image_at(const Tensor& batch, int64_t position) {
  Shape shape = batch.shape();
  const int64_t size = batch.num_elements() / shape[0];
  shape[0] = 1;
  Tensor image(batch.dtype(), shape);
  std::memcpy(image.data<float>(), batch.data<float>() + position * size, size * sizeof(float));
  return image;
}

void expect_deterministic(const DeterminismCase& c) {
  struct Layout {
    int64_t batch;
    std::vector<int64_t> positions;
  };
  const std::vector<Layout> layouts = {{1, {0}}, {7, {0, 3, 6}}, {32, {0, 17, 31}}};
  Tensor baseline;  // batch 1, one thread
  for (const Layout& layout : layouts) {
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      inputs.push_back(c.batched[i] ? batch_with_image(c.inputs[i], layout.batch, layout.positions,
                                                       static_cast<uint32_t>(77 + layout.batch))
                                    : c.inputs[i]);
    }
    for (int build_threads : {1, 2, 3}) {
      testing::ScopedThreads build_scope(build_threads);
      auto built = testing::build_fast_kernel(c.op, inputs, c.attrs, c.constant);
      ASSERT_TRUE(built.has_value()) << built.status().message();
      ASSERT_NE(built->kernel, nullptr) << "the fast kernel declined the case";
      for (int eval_threads : {1, 2, 3}) {
        testing::ScopedThreads eval_scope(eval_threads);
        auto output = testing::eval_fast_kernel(*built, inputs);
        ASSERT_TRUE(output.has_value()) << output.status().message();
        for (int64_t position : layout.positions) {
          Tensor image = image_at(*output, position);
          if (!baseline.defined()) {
            baseline = image;
            continue;
          }
          EXPECT_TRUE(image.bitwise_equal(baseline))
              << "batch " << layout.batch << " position " << position << " built with "
              << build_threads << " threads, run with " << eval_threads;
        }
      }
    }
  }
}

DeterminismCase conv_case(int64_t in, int64_t out, int64_t size, int64_t kernel, int64_t stride,
                          int64_t group, bool channels_last) {
  DeterminismCase c;
  c.op = OpType::kConv;
  const Shape x = channels_last ? Shape{1, size, size, in} : Shape{1, in, size, size};
  c.inputs = {random_tensor(x, 1), random_tensor({out, in / group, kernel, kernel}, 2),
              random_tensor({out}, 3)};
  c.batched = {true, false, false};
  c.constant = {false, true, true};
  const int64_t pad = kernel / 2;
  c.attrs.set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  c.attrs.set("strides", std::vector<int64_t>{stride, stride});
  c.attrs.set("group", group);
  c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
  return c;
}

TEST(FastDeterminismTest, ConvFirstLayer3To32) {
  expect_deterministic(conv_case(3, 32, 32, 3, 1, 1, false));
  expect_deterministic(conv_case(3, 32, 32, 3, 1, 1, true));
}

TEST(FastDeterminismTest, ConvOtherShapes) {
  expect_deterministic(conv_case(16, 24, 14, 3, 2, 1, false));
  expect_deterministic(conv_case(32, 64, 8, 1, 1, 1, true));
  expect_deterministic(conv_case(64, 64, 12, 3, 1, 1, false));
  expect_deterministic(conv_case(12, 18, 9, 5, 1, 3, true));  // grouped
}

TEST(FastDeterminismTest, DepthwiseConv) {
  expect_deterministic(conv_case(32, 32, 14, 3, 1, 32, false));
  expect_deterministic(conv_case(32, 32, 14, 3, 2, 32, true));
}

TEST(FastDeterminismTest, MatMulConstantWeights) {
  DeterminismCase c;
  c.op = OpType::kMatMul;
  c.inputs = {random_tensor({1, 300}, 4), random_tensor({300, 77}, 5)};
  c.batched = {true, false};
  c.constant = {false, true};
  expect_deterministic(c);
  // Several rows per image: the image's rows straddle the 16-row blocks.
  c.inputs = {random_tensor({1, 3, 40}, 6), random_tensor({40, 20}, 7)};
  expect_deterministic(c);
}

TEST(FastDeterminismTest, MatMulBatchedOperands) {
  DeterminismCase c;
  c.op = OpType::kMatMul;
  c.inputs = {random_tensor({1, 5, 8}, 8), random_tensor({1, 8, 6}, 9)};
  c.batched = {true, true};
  c.constant = {false, false};
  expect_deterministic(c);
}

TEST(FastDeterminismTest, Gemm) {
  DeterminismCase c;
  c.op = OpType::kGemm;
  c.inputs = {random_tensor({1, 512}, 10), random_tensor({43, 512}, 11), random_tensor({43}, 12)};
  c.batched = {true, false, false};
  c.constant = {false, true, true};
  c.attrs.set("transB", int64_t{1});
  expect_deterministic(c);
  // alpha and beta: C goes through the prefilled-output path.
  c.attrs.set("alpha", 0.5);
  c.attrs.set("beta", 2.0);
  expect_deterministic(c);
}

TEST(FastDeterminismTest, Pools) {
  for (OpType op : {OpType::kMaxPool, OpType::kAveragePool}) {
    for (bool channels_last : {false, true}) {
      DeterminismCase c;
      c.op = op;
      c.inputs = {random_tensor(channels_last ? Shape{1, 15, 15, 24} : Shape{1, 24, 15, 15}, 13)};
      c.batched = {true};
      c.constant = {false};
      c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
      c.attrs.set("strides", std::vector<int64_t>{2, 2});
      c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
      c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
      expect_deterministic(c);
    }
  }
  DeterminismCase global;
  global.op = OpType::kGlobalAveragePool;
  global.inputs = {random_tensor({1, 64, 7, 7}, 14)};
  global.batched = {true};
  global.constant = {false};
  expect_deterministic(global);
}

TEST(FastDeterminismTest, KernelsAreSafeToShareAcrossExecutorThreads) {
  // One executor per thread sharing a Plan means concurrent eval on the same
  // kernel objects; each thread must get what it gets alone.
  std::vector<DeterminismCase> cases = {conv_case(8, 16, 12, 3, 1, 1, false),
                                        conv_case(16, 16, 10, 3, 1, 16, true)};
  DeterminismCase gemm;
  gemm.op = OpType::kGemm;
  gemm.inputs = {random_tensor({37, 64}, 15), random_tensor({64, 20}, 16), random_tensor({20}, 17)};
  gemm.constant = {false, true, true};
  cases.push_back(gemm);
  for (const DeterminismCase& c : cases) {
    auto built = testing::build_fast_kernel(c.op, c.inputs, c.attrs, c.constant);
    ASSERT_TRUE(built.has_value()) << built.status().message();
    ASSERT_NE(built->kernel, nullptr);
    constexpr int kThreads = 4;
    std::vector<std::vector<Tensor>> inputs(kThreads, c.inputs);
    std::vector<Tensor> alone(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      inputs[t][0] = random_tensor(c.inputs[0].shape(), 100 + t);
      auto output = testing::eval_fast_kernel(*built, inputs[t]);
      ASSERT_TRUE(output.has_value()) << output.status().message();
      alone[t] = *output;
    }
    std::vector<Tensor> together(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int repeat = 0; repeat < 5; ++repeat) {
          auto output = testing::eval_fast_kernel(*built, inputs[t]);
          const bool same =
              output.has_value() && (repeat == 0 || output->bitwise_equal(together[t]));
          together[t] = same ? *output : Tensor();
          if (!same) return;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (int t = 0; t < kThreads; ++t) {
      ASSERT_TRUE(together[t].defined()) << "thread " << t << " failed or was not repeatable";
      EXPECT_TRUE(together[t].bitwise_equal(alone[t])) << "thread " << t;
    }
  }
}

}  // namespace
}  // namespace nnfi
