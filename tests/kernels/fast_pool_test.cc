// The fast MaxPool (tuned C++), AveragePool and GlobalAveragePool (oneDNN)
// against the reference kernels on random shapes from a fixed seed: kernel,
// strides, dilations (MaxPool), pads, auto_pad, ceil_mode, count_include_pad,
// both layouts. MaxPool must match exactly, NaN included.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/fast/fast_kernels.h"
#include "kernels/fast_test_support.h"
#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::pick;
using testing::random_tensor;
using testing::tensors_close;

struct PoolCase {
  Tensor x;
  Attributes attrs;
  std::string text;
};

PoolCase random_pool(std::mt19937& engine, uint32_t seed, bool max_pool) {
  PoolCase c;
  const size_t spatial = pick(engine, 0, 3) == 0 ? 1 : 2;
  const int64_t batch = pick(engine, 1, 3);
  const int64_t channels = pick(engine, 1, 20);
  const bool channels_last = pick(engine, 0, 1) == 1;
  const int64_t pad_mode = pick(engine, 0, 5);  // 0-2 explicit, 3 SAME_UPPER, 4 SAME_LOWER, 5 VALID
  const bool ceil_mode = pad_mode <= 2 && pick(engine, 0, 1) == 1;
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads(2 * spatial, 0);
  Shape input_spatial;
  for (size_t i = 0; i < spatial; ++i) {
    kernel.push_back(pick(engine, 1, 4));
    strides.push_back(pick(engine, 1, 3));
    dilations.push_back(max_pool && pick(engine, 0, 3) == 0 ? 2 : 1);
    const int64_t extent = (kernel[i] - 1) * dilations[i] + 1;
    if (pad_mode <= 2) {  // pads smaller than the window extent, as prepare requires
      pads[i] = pick(engine, 0, std::min<int64_t>(2, extent - 1));
      pads[spatial + i] = pick(engine, 0, std::min<int64_t>(2, extent - 1));
    }
    input_spatial.push_back(pick(engine, extent, extent + 12));
  }
  Shape x_shape = {batch};
  if (!channels_last) x_shape.push_back(channels);
  x_shape.insert(x_shape.end(), input_spatial.begin(), input_spatial.end());
  if (channels_last) x_shape.push_back(channels);
  c.x = random_tensor(x_shape, seed);
  c.attrs.set("kernel_shape", kernel);
  c.attrs.set("strides", strides);
  if (max_pool) c.attrs.set("dilations", dilations);
  c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
  c.attrs.set("ceil_mode", static_cast<int64_t>(ceil_mode));
  const bool include_pad = !max_pool && pick(engine, 0, 1) == 1;
  if (!max_pool) c.attrs.set("count_include_pad", static_cast<int64_t>(include_pad));
  static const char* kAutoPad[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
  if (pad_mode <= 2) {
    c.attrs.set("pads", pads);
  } else {
    c.attrs.set("auto_pad", std::string(kAutoPad[pad_mode - 3]));
  }
  c.text = "X " + shape_to_string(x_shape) + " kernel " + shape_to_string(kernel) + " strides " +
           shape_to_string(strides) + " dilations " + shape_to_string(dilations) + " pads " +
           shape_to_string(pads) + " pad_mode " + std::to_string(pad_mode) + " ceil " +
           std::to_string(ceil_mode) + " include_pad " + std::to_string(include_pad) +
           " channels_last " + std::to_string(channels_last);
  return c;
}

// Expects the fast kernel to cover the case and match (exactly where tolerance is 0).
void expect_fast_matches_reference(OpType op, const PoolCase& c, double rtol, double atol) {
  SCOPED_TRACE(c.text);
  auto reference = testing::run_reference_op(op, {c.x}, c.attrs);
  ASSERT_TRUE(reference.has_value()) << reference.status().message();
  auto fast = testing::run_fast_op(op, {c.x}, c.attrs, {false});
  ASSERT_TRUE(fast.has_value()) << fast.status().message();
  EXPECT_TRUE(tensors_close(*fast, *reference, rtol, atol));
  if (rtol == 0 && atol == 0) {
    EXPECT_TRUE(fast->bitwise_equal(*reference));
  }
}

TEST(FastPoolTest, MaxPoolMatchesReferenceExactlyOnRandomShapes) {
  std::mt19937 engine(11);
  for (uint32_t i = 0; i < 80; ++i) {
    expect_fast_matches_reference(OpType::kMaxPool, random_pool(engine, 900 + i, true), 0, 0);
  }
}

TEST(FastPoolTest, MaxPoolPropagatesNanLikeReference) {
  // oneDNN's max pooling would drop these NaNs; the fast kernel must not.
  for (bool channels_last : {false, true}) {
    PoolCase c;
    c.x = random_tensor(channels_last ? Shape{2, 6, 6, 17} : Shape{2, 17, 6, 6}, 12);
    float* x = c.x.data<float>();
    for (int64_t i = 0; i < c.x.num_elements(); i += 13) {
      x[i] = i % 2 == 0 ? std::numeric_limits<float>::quiet_NaN()
                        : -std::numeric_limits<float>::infinity();
    }
    c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
    c.attrs.set("strides", std::vector<int64_t>{2, 2});
    c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
    c.text = "nan, channels_last " + std::to_string(channels_last);
    expect_fast_matches_reference(OpType::kMaxPool, c, 0, 0);
  }
}

TEST(FastPoolTest, AveragePoolMatchesReferenceOnRandomShapes) {
  std::mt19937 engine(13);
  int covered = 0;
  for (uint32_t i = 0; i < 80; ++i) {
    PoolCase c = random_pool(engine, 1900 + i, false);
    auto built = testing::build_fast_kernel(OpType::kAveragePool, {c.x}, c.attrs, {false});
    ASSERT_TRUE(built.has_value()) << built.status().message();
    if (built->kernel == nullptr) {
      // Only count_include_pad with a ceil_mode overhang is left to the reference.
      EXPECT_EQ(c.attrs.get_int("count_include_pad", 0), 1) << c.text;
      EXPECT_EQ(c.attrs.get_int("ceil_mode", 0), 1) << c.text;
      continue;
    }
    ++covered;
    expect_fast_matches_reference(OpType::kAveragePool, c, 1e-5, 1e-6);
  }
  EXPECT_GT(covered, 60);
}

TEST(FastPoolTest, GlobalAveragePoolMatchesReference) {
  const std::vector<std::pair<Shape, bool>> cases = {
      {{2, 512, 7, 7}, false}, {{3, 7, 7, 64}, true}, {{1, 5, 13}, false}, {{2, 9, 3}, true}};
  uint32_t seed = 30;
  for (const auto& [shape, channels_last] : cases) {
    PoolCase c;
    c.x = random_tensor(shape, seed++);
    c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
    c.text = shape_to_string(shape);
    expect_fast_matches_reference(OpType::kGlobalAveragePool, c, 1e-5, 1e-6);
  }
}

TEST(FastPoolTest, RejectsIncludePadWithCeilOverhang) {
  // In ceil_mode the last window passes the end pad; ONNX does not count that
  // overhang, oneDNN would, so the reference kernel must run.
  PoolCase c;
  c.x = random_tensor({1, 3, 6, 6}, 40);
  c.attrs.set("kernel_shape", std::vector<int64_t>{3, 3});
  c.attrs.set("strides", std::vector<int64_t>{2, 2});
  c.attrs.set("ceil_mode", int64_t{1});
  c.attrs.set("count_include_pad", int64_t{1});
  auto built = testing::build_fast_kernel(OpType::kAveragePool, {c.x}, c.attrs, {false});
  ASSERT_TRUE(built.has_value()) << built.status().message();
  EXPECT_EQ(built->kernel, nullptr);
  // Without ceil_mode the same pool is covered.
  c.attrs.set("ceil_mode", int64_t{0});
  built = testing::build_fast_kernel(OpType::kAveragePool, {c.x}, c.attrs, {false});
  ASSERT_TRUE(built.has_value()) << built.status().message();
  EXPECT_NE(built->kernel, nullptr);
}

TEST(FastPoolTest, RejectsMaxPoolIndicesOutputAndIntegerInput) {
  Node node;
  node.op = OpType::kMaxPool;
  node.attributes.set("kernel_shape", std::vector<int64_t>{2, 2});
  std::vector<kernels::TensorInfo> inputs = {{DType::kFloat32, {1, 2, 4, 4}, nullptr}};
  std::vector<kernels::TensorInfo> two_outputs = {{DType::kFloat32, {1, 2, 3, 3}, nullptr},
                                                  {DType::kInt64, {1, 2, 3, 3}, nullptr}};
  EXPECT_EQ(kernels::create_tuned_max_pool(node, inputs, two_outputs), nullptr);
  std::vector<kernels::TensorInfo> int_inputs = {{DType::kInt32, {1, 2, 4, 4}, nullptr}};
  std::vector<kernels::TensorInfo> int_outputs = {{DType::kInt32, {1, 2, 3, 3}, nullptr}};
  EXPECT_EQ(kernels::create_tuned_max_pool(node, int_inputs, int_outputs), nullptr);
  std::vector<kernels::TensorInfo> outputs = {two_outputs[0]};
  EXPECT_NE(kernels::create_tuned_max_pool(node, inputs, outputs), nullptr);
}

}  // namespace
}  // namespace nnfi
