// The oneDNN Conv kernel against the reference kernel on random shapes from
// a fixed seed (strides, dilations, pads, auto_pad, groups, depthwise,
// channels_last, bias), plus the cases it must decline.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/fast_test_support.h"
#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::pick;
using testing::random_tensor;
using testing::tensors_close;

constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;

struct ConvCase {
  std::vector<Tensor> inputs;  // X, W, B (undefined when absent)
  Attributes attrs;
  std::string text;
};

// A random valid conv: 1-D or 2-D, any layout, grouping and padding mode.
ConvCase random_conv(std::mt19937& engine, uint32_t seed) {
  ConvCase c;
  const size_t spatial = pick(engine, 0, 3) == 0 ? 1 : 2;
  const int64_t batch = pick(engine, 1, 3);
  int64_t group = 1;
  int64_t in_channels = pick(engine, 1, 12);
  int64_t out_channels = pick(engine, 1, 20);
  switch (pick(engine, 0, 3)) {
    case 0:  // depthwise, channel multiplier 1 or 2
      group = in_channels = pick(engine, 2, 16);
      out_channels = group * pick(engine, 1, 2);
      break;
    case 1:
      group = pick(engine, 2, 3);
      in_channels = group * pick(engine, 1, 4);
      out_channels = group * pick(engine, 1, 4);
      break;
    default: break;
  }
  const bool channels_last = pick(engine, 0, 1) == 1;
  const int64_t pad_mode = pick(engine, 0, 5);  // 0-2 explicit, 3 SAME_UPPER, 4 SAME_LOWER, 5 VALID
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads(2 * spatial, 0);
  Shape input_spatial;
  for (size_t i = 0; i < spatial; ++i) {
    kernel.push_back(pick(engine, 1, 5));
    strides.push_back(pick(engine, 1, 3));
    dilations.push_back(pick(engine, 0, 3) == 0 ? 2 : 1);
    if (pad_mode <= 2) {
      pads[i] = pick(engine, 0, 2);
      pads[spatial + i] = pick(engine, 0, 2);
    }
    const int64_t extent = (kernel[i] - 1) * dilations[i] + 1;
    const int64_t low = std::max<int64_t>(1, extent - pads[i] - pads[spatial + i]);
    input_spatial.push_back(pick(engine, low, low + 12));
  }
  Shape x_shape = {batch};
  if (!channels_last) x_shape.push_back(in_channels);
  x_shape.insert(x_shape.end(), input_spatial.begin(), input_spatial.end());
  if (channels_last) x_shape.push_back(in_channels);
  Shape w_shape = {out_channels, in_channels / group};
  w_shape.insert(w_shape.end(), kernel.begin(), kernel.end());
  const bool bias = pick(engine, 0, 1) == 1;

  c.inputs.push_back(random_tensor(x_shape, seed));
  c.inputs.push_back(random_tensor(w_shape, seed + 1));
  c.inputs.push_back(bias ? random_tensor({out_channels}, seed + 2) : Tensor());
  c.attrs.set("group", group);
  c.attrs.set("strides", strides);
  c.attrs.set("dilations", dilations);
  c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
  if (pick(engine, 0, 1) == 1) c.attrs.set("kernel_shape", kernel);
  static const char* kAutoPad[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
  if (pad_mode <= 2) {
    c.attrs.set("pads", pads);
  } else {
    c.attrs.set("auto_pad", std::string(kAutoPad[pad_mode - 3]));
  }
  c.text = "X " + shape_to_string(x_shape) + " W " + shape_to_string(w_shape) + " group " +
           std::to_string(group) + " strides " + shape_to_string(strides) + " dilations " +
           shape_to_string(dilations) + " pads " + shape_to_string(pads) + " pad_mode " +
           std::to_string(pad_mode) + " channels_last " + std::to_string(channels_last) + " bias " +
           std::to_string(bias);
  return c;
}

void expect_fast_matches_reference(const ConvCase& c,
                                   std::vector<bool> constant = {false, true, true}) {
  SCOPED_TRACE(c.text);
  auto reference = testing::run_reference_op(OpType::kConv, c.inputs, c.attrs);
  ASSERT_TRUE(reference.has_value()) << reference.status().message();
  auto fast = testing::run_fast_op(OpType::kConv, c.inputs, c.attrs, constant);
  ASSERT_TRUE(fast.has_value()) << fast.status().message();
  EXPECT_TRUE(tensors_close(*fast, *reference, kRtol, kAtol));
}

TEST(FastConvTest, MatchesReferenceOnRandomShapes) {
  std::mt19937 engine(20240611);
  for (uint32_t i = 0; i < 80; ++i) {
    ConvCase c = random_conv(engine, 1000 + 7 * i);
    expect_fast_matches_reference(c);
  }
}

TEST(FastConvTest, MatchesReferenceOnVggLikeLayers) {
  for (bool channels_last : {false, true}) {
    for (auto [in, out, size] : {std::tuple<int64_t, int64_t, int64_t>{3, 32, 32}, {16, 24, 14}}) {
      ConvCase c;
      Shape x = channels_last ? Shape{2, size, size, in} : Shape{2, in, size, size};
      c.inputs = {random_tensor(x, 1), random_tensor({out, in, 3, 3}, 2), random_tensor({out}, 3)};
      c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
      c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
      c.text = "vgg-like " + shape_to_string(x) + " -> " + std::to_string(out);
      expect_fast_matches_reference(c);
    }
  }
}

// Channels-first convs with >= 8 input channels per group run in oneDNN's
// preferred layout, reordered per image: 1-D, grouped, strided, dilated.
TEST(FastConvTest, ChannelsFirstInPreferredLayoutMatchesReference) {
  struct Spec {
    Shape x;
    Shape w;
    int64_t group;
    std::vector<int64_t> strides;
    std::vector<int64_t> dilations;
  };
  const Spec specs[] = {{{3, 16, 23}, {20, 16, 3}, 1, {2}, {1}},
                        {{3, 32, 11, 13}, {48, 16, 3, 3}, 2, {1, 2}, {2, 1}},
                        {{2, 8, 9, 9}, {5, 8, 1, 1}, 1, {1, 1}, {1, 1}}};
  for (const Spec& spec : specs) {
    ConvCase c;
    c.inputs = {random_tensor(spec.x, 7), random_tensor(spec.w, 8), random_tensor({spec.w[0]}, 9)};
    c.attrs.set("group", spec.group);
    c.attrs.set("strides", spec.strides);
    c.attrs.set("dilations", spec.dilations);
    c.attrs.set("pads", std::vector<int64_t>(2 * spec.strides.size(), 1));
    c.text = "channels-first " + shape_to_string(spec.x) + " W " + shape_to_string(spec.w);
    expect_fast_matches_reference(c);
  }
}

TEST(FastConvTest, BiasComputedAtRuntimeIsRead) {
  ConvCase c;
  c.inputs = {random_tensor({2, 4, 9, 9}, 5), random_tensor({6, 4, 3, 3}, 6),
              random_tensor({6}, 7)};
  c.text = "runtime bias";
  expect_fast_matches_reference(c, {false, true, false});
}

TEST(FastConvTest, PropagatesNanAndInf) {
  ConvCase c;
  c.inputs = {random_tensor({1, 3, 8, 8}, 8), random_tensor({4, 3, 3, 3}, 9),
              random_tensor({4}, 10)};
  float* x = c.inputs[0].data<float>();
  x[10] = std::numeric_limits<float>::quiet_NaN();
  x[64 + 40] = std::numeric_limits<float>::infinity();
  c.attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  c.text = "nan and inf";
  expect_fast_matches_reference(c);
}

TEST(FastConvTest, PlanUsesFastKernelAndAgreesBitwise) {
  ConvCase c;
  c.inputs = {random_tensor({3, 5, 10, 10}, 11), random_tensor({8, 5, 3, 3}, 12),
              random_tensor({8}, 13)};
  c.attrs.set("strides", std::vector<int64_t>{2, 2});
  c.attrs.set("auto_pad", std::string("SAME_UPPER"));
  testing::OpRunOptions options;
  options.use_fast_kernels = true;
  options.constant_inputs = {false, true, true};
  auto planned = testing::run_single_op(OpType::kConv, c.inputs, c.attrs, 1, options);
  ASSERT_TRUE(planned.has_value()) << planned.status().message();
  auto direct = testing::run_fast_op(OpType::kConv, c.inputs, c.attrs, {false, true, true});
  ASSERT_TRUE(direct.has_value()) << direct.status().message();
  EXPECT_TRUE((*planned)[0].bitwise_equal(*direct));
}

TEST(FastConvTest, RejectsRuntimeWeightsAndPlanFallsBackToReference) {
  ConvCase c;
  c.inputs = {random_tensor({1, 2, 6, 6}, 14), random_tensor({3, 2, 3, 3}, 15), Tensor()};
  auto built = testing::build_fast_kernel(OpType::kConv, c.inputs, c.attrs, {false, false});
  ASSERT_TRUE(built.has_value()) << built.status().message();
  EXPECT_EQ(built->kernel, nullptr);

  testing::OpRunOptions options;
  options.use_fast_kernels = true;
  auto planned = testing::run_single_op(OpType::kConv, c.inputs, c.attrs, 1, options);
  ASSERT_TRUE(planned.has_value()) << planned.status().message();
  auto reference = testing::run_reference_op(OpType::kConv, c.inputs, c.attrs);
  ASSERT_TRUE(reference.has_value()) << reference.status().message();
  EXPECT_TRUE((*planned)[0].bitwise_equal(*reference));
}

}  // namespace
}  // namespace nnfi
