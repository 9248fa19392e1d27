// The fused kernels of fused plans (PlanOptions::fuse_for_inference) against
// the reference kernels run one after the other: Conv (+ residual Add) (+
// Relu / LeakyRelu / Clip) with every mix of NCHW and NHWC storage, Gemm and
// MatMul with an activation, and the pools that read NHWC.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "kernels/fast/fast_kernels.h"
#include "kernels/fast_test_support.h"
#include "kernels/op_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using kernels::FusedActivation;
using kernels::TensorInfo;
using testing::pick;
using testing::random_tensor;
using testing::tensors_close;

constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;

// (N, C, H, W) <-> (N, H, W, C) storage of the same logical tensor (the shape
// stays NCHW: that is how a fused plan stores an NHWC value).
Tensor to_nhwc(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  Tensor y(DType::kFloat32, x.shape());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t p = 0; p < hw; ++p) {
        y.data<float>()[(i * hw + p) * c + ch] = x.data<float>()[(i * c + ch) * hw + p];
      }
    }
  }
  return y;
}

Tensor from_nhwc(const Tensor& x) {
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  Tensor y(DType::kFloat32, x.shape());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t p = 0; p < hw; ++p) {
        y.data<float>()[(i * c + ch) * hw + p] = x.data<float>()[(i * hw + p) * c + ch];
      }
    }
  }
  return y;
}

Tensor stored(const Tensor& x, bool nhwc) { return nhwc ? to_nhwc(x) : x.clone(); }

// The reference activation of `act`, applied to y.
Tensor reference_activation(const Tensor& y, const FusedActivation& act) {
  switch (act.kind) {
    case FusedActivation::Kind::kNone: return y.clone();
    case FusedActivation::Kind::kRelu: return testing::run1(OpType::kRelu, {y.clone()});
    case FusedActivation::Kind::kLeakyRelu:
      return testing::run1(OpType::kLeakyRelu, {y.clone()},
                           testing::with("alpha", static_cast<double>(act.alpha)));
    case FusedActivation::Kind::kClip:
      return testing::run1(OpType::kClip,
                           {y.clone(), Tensor::scalar(act.alpha), Tensor::scalar(act.beta)});
  }
  return y.clone();
}

FusedActivation random_activation(std::mt19937& engine) {
  FusedActivation act;
  switch (pick(engine, 0, 3)) {
    case 0: break;
    case 1: act.kind = FusedActivation::Kind::kRelu; break;
    case 2:
      act.kind = FusedActivation::Kind::kLeakyRelu;
      act.alpha = 0.1f;
      break;
    default:
      act.kind = FusedActivation::Kind::kClip;
      act.alpha = -0.3f;
      act.beta = 0.6f;
      break;
  }
  return act;
}

// Runs a fused kernel on stored inputs and returns its stored output.
Expected<Tensor> eval_kernel(kernels::FastKernel& kernel, const Node& node,
                             const std::vector<Tensor>& inputs, const Shape& output_shape) {
  std::vector<const Tensor*> input_ptrs;
  for (const Tensor& tensor : inputs) input_ptrs.push_back(tensor.defined() ? &tensor : nullptr);
  Tensor output(DType::kFloat32, output_shape);
  for (int64_t i = 0; i < output.num_elements(); ++i) output.data<float>()[i] = std::nanf("");
  Tensor* output_ptr = &output;
  kernels::EvalContext context{node, input_ptrs, std::span<Tensor* const>(&output_ptr, 1)};
  NNFI_RETURN_IF_ERROR(kernel.eval(context));
  return output;
}

TEST(FastFused, ConvWithResidualAndActivationMatchesReferenceInEveryLayout) {
  std::mt19937 engine(2024);
  for (int trial = 0; trial < 24; ++trial) {
    const int64_t batch = pick(engine, 1, 3);
    int64_t group = 1;
    int64_t in_channels = pick(engine, 1, 24);
    int64_t out_channels = pick(engine, 2, 24);
    if (trial % 4 == 3) group = in_channels = out_channels = pick(engine, 2, 16);  // depthwise
    const int64_t kernel_size = pick(engine, 1, 3);
    const int64_t stride = pick(engine, 1, 2);
    const int64_t height = pick(engine, 3, 11);
    const int64_t width = pick(engine, 3, 11);
    const auto seed = static_cast<uint32_t>(100 * trial);
    Attributes attrs;
    attrs.set("strides", std::vector<int64_t>{stride, stride});
    const int64_t pad_h = trial % 5 < 2 ? 0 : 1;
    const int64_t pad_w = trial % 5 == 4 ? 1 : 0;
    attrs.set("pads", std::vector<int64_t>{pad_h, pad_w, pad_h, pad_w});
    attrs.set("group", group);
    std::vector<Tensor> conv_inputs = {
        random_tensor({batch, in_channels, height, width}, seed),
        random_tensor({out_channels, in_channels / group, kernel_size, kernel_size}, seed + 1),
        trial % 3 == 0 ? Tensor() : random_tensor({out_channels}, seed + 2)};
    Tensor conv = testing::run_reference_op(OpType::kConv, conv_inputs, attrs).value();
    const bool residual = trial % 2 == 0;
    Tensor r = random_tensor(conv.shape(), seed + 3);
    Tensor sum = residual ? testing::run1(OpType::kAdd, {conv.clone(), r.clone()}) : conv.clone();
    const FusedActivation act = random_activation(engine);
    const Tensor expected = reference_activation(sum, act);

    for (int layouts = 0; layouts < 8; ++layouts) {
      kernels::ConvFusion fusion;
      fusion.src_nhwc = (layouts & 1) != 0;
      fusion.dst_nhwc = (layouts & 2) != 0;
      fusion.residual_nhwc = residual && (layouts & 4) != 0;
      if (!residual && (layouts & 4) != 0) continue;
      fusion.residual = residual;
      fusion.activation = act;
      const std::string what = "trial " + std::to_string(trial) + " layouts " +
                               std::to_string(layouts) + " activation " +
                               std::to_string(static_cast<int>(act.kind));
      Node node{.name = "conv", .op = OpType::kConv, .attributes = attrs};
      std::vector<TensorInfo> infos = {
          {DType::kFloat32, conv_inputs[0].shape(), nullptr},
          {DType::kFloat32, conv_inputs[1].shape(), &conv_inputs[1]},
          conv_inputs[2].defined() ? TensorInfo{DType::kFloat32, {out_channels}, &conv_inputs[2]}
                                   : TensorInfo{}};
      std::vector<Tensor> inputs = {stored(conv_inputs[0], fusion.src_nhwc), conv_inputs[1],
                                    conv_inputs[2]};
      if (residual) {
        infos.push_back({DType::kFloat32, r.shape(), nullptr});
        inputs.push_back(stored(r, fusion.residual_nhwc));
      }
      const std::vector<TensorInfo> outputs = {{DType::kFloat32, conv.shape(), nullptr}};
      auto kernel = kernels::create_onednn_conv_fused(node, infos, outputs, fusion);
      if ((residual || act.kind != FusedActivation::Kind::kNone) &&
          std::max(pad_h, pad_w) >= kernel_size) {
        // A pad as large as the kernel: oneDNN 2.6 gets post-ops wrong there.
        EXPECT_EQ(kernel, nullptr) << what;
        continue;
      }
      ASSERT_NE(kernel, nullptr) << what;
      Expected<Tensor> out = eval_kernel(*kernel, node, inputs, conv.shape());
      ASSERT_TRUE(out.has_value()) << what << ": " << out.status().message();
      const Tensor actual = fusion.dst_nhwc ? from_nhwc(*out) : *out;
      EXPECT_TRUE(tensors_close(actual, expected, kRtol, kAtol)) << what;
    }
  }
}

TEST(FastFused, ConvFusionRejectsNhwcForAOneDimensionalConv) {
  Node node{.name = "conv1d", .op = OpType::kConv};
  Tensor w = random_tensor({4, 3, 3}, 1);
  const std::vector<TensorInfo> inputs = {{DType::kFloat32, {1, 3, 8}, nullptr},
                                          {DType::kFloat32, w.shape(), &w}};
  const std::vector<TensorInfo> outputs = {{DType::kFloat32, {1, 4, 6}, nullptr}};
  kernels::ConvFusion fusion;
  fusion.dst_nhwc = true;
  EXPECT_EQ(kernels::create_onednn_conv_fused(node, inputs, outputs, fusion), nullptr);
  fusion.dst_nhwc = false;  // a 1-D conv fuses in its own layout
  EXPECT_NE(kernels::create_onednn_conv_fused(node, inputs, outputs, fusion), nullptr);
}

TEST(FastFused, ConvFusionRejectsAResidualOfAnotherShape) {
  Node node{.name = "conv", .op = OpType::kConv};
  Tensor w = random_tensor({4, 3, 1, 1}, 1);
  const std::vector<TensorInfo> inputs = {{DType::kFloat32, {1, 3, 5, 5}, nullptr},
                                          {DType::kFloat32, w.shape(), &w},
                                          {},
                                          {DType::kFloat32, {1, 4, 5, 1}, nullptr}};
  const std::vector<TensorInfo> outputs = {{DType::kFloat32, {1, 4, 5, 5}, nullptr}};
  kernels::ConvFusion fusion;
  fusion.residual = true;
  EXPECT_EQ(kernels::create_onednn_conv_fused(node, inputs, outputs, fusion), nullptr);
}

TEST(FastFused, GemmAndMatMulWithActivationMatchReference) {
  std::mt19937 engine(7);
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t m = pick(engine, 1, 40);
    const int64_t k = pick(engine, 1, 50);
    const int64_t n = pick(engine, 1, 30);
    const auto seed = static_cast<uint32_t>(10 * trial);
    const bool gemm = trial % 2 == 0;
    const FusedActivation act = random_activation(engine);
    Attributes attrs;
    std::vector<Tensor> inputs = {random_tensor({m, k}, seed), random_tensor({k, n}, seed + 1)};
    if (gemm) {
      attrs.set("transB", int64_t{1});
      inputs[1] = random_tensor({n, k}, seed + 1);
      inputs.push_back(random_tensor({n}, seed + 2));
    }
    const OpType op = gemm ? OpType::kGemm : OpType::kMatMul;
    const Tensor expected =
        reference_activation(testing::run_reference_op(op, inputs, attrs).value(), act);
    Node node{.name = "mm", .op = op, .attributes = attrs};
    std::vector<TensorInfo> infos;
    for (size_t i = 0; i < inputs.size(); ++i) {
      infos.push_back({DType::kFloat32, inputs[i].shape(), i == 0 ? nullptr : &inputs[i]});
    }
    const std::vector<TensorInfo> outputs = {{DType::kFloat32, {m, n}, nullptr}};
    auto kernel = kernels::create_onednn_matmul_fused(node, infos, outputs, act);
    ASSERT_NE(kernel, nullptr) << "trial " << trial;
    Expected<Tensor> out = eval_kernel(*kernel, node, inputs, {m, n});
    ASSERT_TRUE(out.has_value()) << out.status().message();
    EXPECT_TRUE(tensors_close(*out, expected, kRtol, kAtol)) << "trial " << trial;
  }
}

TEST(FastFused, MaxPoolOnNhwcMatchesReferenceBitForBit) {
  std::mt19937 engine(11);
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t kernel_size = pick(engine, 2, 3);
    const int64_t stride = pick(engine, 1, 2);
    Attributes attrs;
    attrs.set("kernel_shape", std::vector<int64_t>{kernel_size, kernel_size});
    attrs.set("strides", std::vector<int64_t>{stride, stride});
    if (trial % 2 == 0) attrs.set("pads", std::vector<int64_t>{1, 1, 1, 1});
    Tensor x = random_tensor(
        {pick(engine, 1, 3), pick(engine, 1, 20), pick(engine, 4, 12), pick(engine, 4, 12)},
        static_cast<uint32_t>(trial));
    x.data<float>()[trial] = std::nanf("");  // injected NaNs must carry on
    const Tensor expected = testing::run_reference_op(OpType::kMaxPool, {x}, attrs).value();
    Node node{.name = "pool", .op = OpType::kMaxPool, .attributes = attrs};
    const std::vector<TensorInfo> inputs = {{DType::kFloat32, x.shape(), nullptr}};
    const std::vector<TensorInfo> outputs = {{DType::kFloat32, expected.shape(), nullptr}};
    for (bool plain_output : {false, true}) {
      auto kernel = kernels::create_tuned_max_pool_nhwc(node, inputs, outputs, plain_output);
      ASSERT_NE(kernel, nullptr);
      Expected<Tensor> out = eval_kernel(*kernel, node, {to_nhwc(x)}, expected.shape());
      ASSERT_TRUE(out.has_value()) << out.status().message();
      const Tensor actual = plain_output ? *out : from_nhwc(*out);
      EXPECT_TRUE(tensors_close(actual, expected, 0.0, 0.0))
          << "trial " << trial << " plain_output " << plain_output;
    }
  }
}

TEST(FastFused, GlobalAveragePoolOnNhwcMatchesReference) {
  Tensor x = random_tensor({3, 24, 7, 5}, 5);
  const Tensor expected = testing::run_reference_op(OpType::kGlobalAveragePool, {x}, {}).value();
  Node node{.name = "gap", .op = OpType::kGlobalAveragePool};
  const std::vector<TensorInfo> inputs = {{DType::kFloat32, x.shape(), nullptr}};
  const std::vector<TensorInfo> outputs = {{DType::kFloat32, expected.shape(), nullptr}};
  auto kernel = kernels::create_onednn_global_average_pool_nhwc(node, inputs, outputs);
  ASSERT_NE(kernel, nullptr);
  Expected<Tensor> out = eval_kernel(*kernel, node, {to_nhwc(x)}, expected.shape());
  ASSERT_TRUE(out.has_value()) << out.status().message();
  EXPECT_TRUE(tensors_close(*out, expected, kRtol, kAtol));
}

TEST(FastFused, PoolsOnNhwcRejectChannelsLastNodes) {
  Node node{.name = "pool", .op = OpType::kMaxPool};
  node.attributes.set("kernel_shape", std::vector<int64_t>{2, 2});
  node.attributes.set("channels_last", int64_t{1});
  const std::vector<TensorInfo> inputs = {{DType::kFloat32, {1, 4, 4, 3}, nullptr}};
  const std::vector<TensorInfo> outputs = {{DType::kFloat32, {1, 3, 3, 3}, nullptr}};
  EXPECT_EQ(kernels::create_tuned_max_pool_nhwc(node, inputs, outputs, false), nullptr);
  Node gap{.name = "gap", .op = OpType::kGlobalAveragePool};
  gap.attributes.set("channels_last", int64_t{1});
  const std::vector<TensorInfo> gap_out = {{DType::kFloat32, {1, 1, 1, 3}, nullptr}};
  EXPECT_EQ(kernels::create_onednn_global_average_pool_nhwc(gap, inputs, gap_out), nullptr);
}

}  // namespace
}  // namespace nnfi
