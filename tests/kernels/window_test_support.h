// Helpers of the window-kernel tests (window_kernels_*_test.cc): random Conv
// and pool cases, building the window kernel as a Plan would, bitwise
// comparison, and forcing the portable path.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/fast_test_support.h"
#include "kernels/op_runner.h"
#include "kernels/window/window_kernels.h"
#include "support/test_support.h"

namespace nnfi::testing {

// Forces the portable path (with its AVX2 loops where the CPU has them, or
// plain scalar code with `scalar`); restores the default at scope exit.
class ScopedPortable {
 public:
  explicit ScopedPortable(bool portable, bool scalar = false) {
    kernels::window::force_portable_window_kernels(portable);
    kernels::window::force_scalar_window_kernels(scalar);
  }
  ~ScopedPortable() {
    kernels::window::force_portable_window_kernels(false);
    kernels::window::force_scalar_window_kernels(false);
  }
};

struct OpCase {
  OpType op = OpType::kConv;
  std::vector<Tensor> inputs;  // Conv: X, W, B (undefined when absent); pools: X
  Attributes attrs;
  std::string text;
};

// A random valid 2-D conv: any layout, grouping, padding mode, stride, dilation.
inline OpCase random_conv(std::mt19937& engine, uint32_t seed, int64_t batch = -1) {
  OpCase c;
  if (batch < 0) batch = pick(engine, 0, 1) == 0 ? 1 : 3;
  int64_t group = 1;
  // Sometimes wide: several 64-channel chunks and a masked tail vector.
  const bool wide = pick(engine, 0, 3) == 0;
  int64_t in_channels = pick(engine, 1, wide ? 40 : 12);
  int64_t out_channels = pick(engine, 1, wide ? 150 : 40);
  switch (pick(engine, 0, 3)) {
    case 0:  // depthwise, channel multiplier 1 or 2
      group = in_channels = pick(engine, 2, wide ? 140 : 40);
      out_channels = group * pick(engine, 1, 2);
      break;
    case 1:
      group = pick(engine, 2, 3);
      in_channels = group * pick(engine, 1, 4);
      out_channels = group * pick(engine, 1, 20);
      break;
    default: break;
  }
  const bool channels_last = pick(engine, 0, 1) == 1;
  const int64_t pad_mode = pick(engine, 0, 5);  // 0-2 explicit, 3 SAME_UPPER, 4 SAME_LOWER, 5 VALID
  std::vector<int64_t> kernel, strides, dilations, pads(4, 0);
  Shape spatial;
  for (size_t i = 0; i < 2; ++i) {
    kernel.push_back(pick(engine, 1, 5));
    strides.push_back(pick(engine, 1, 2));
    dilations.push_back(pick(engine, 0, 3) == 0 ? 2 : 1);
    if (pad_mode <= 2) {
      pads[i] = pick(engine, 0, 2);
      pads[2 + i] = pick(engine, 0, 2);
    }
    const int64_t extent = (kernel[i] - 1) * dilations[i] + 1;
    const int64_t low = std::max<int64_t>(1, extent - pads[i] - pads[2 + i]);
    spatial.push_back(pick(engine, low, low + 12));
  }
  const Shape x_shape = channels_last ? Shape{batch, spatial[0], spatial[1], in_channels}
                                      : Shape{batch, in_channels, spatial[0], spatial[1]};
  const Shape w_shape = {out_channels, in_channels / group, kernel[0], kernel[1]};
  const bool bias = pick(engine, 0, 1) == 1;
  c.inputs.push_back(random_tensor(x_shape, seed));
  c.inputs.push_back(random_tensor(w_shape, seed + 1));
  c.inputs.push_back(bias ? random_tensor({out_channels}, seed + 2) : Tensor());
  c.attrs.set("group", group);
  c.attrs.set("strides", strides);
  c.attrs.set("dilations", dilations);
  c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
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

// A random valid 2-D MaxPool or AveragePool.
inline OpCase random_pool(std::mt19937& engine, uint32_t seed, bool max) {
  OpCase c;
  c.op = max ? OpType::kMaxPool : OpType::kAveragePool;
  const int64_t batch = pick(engine, 1, 3);
  const int64_t channels = pick(engine, 1, 40);
  const bool channels_last = pick(engine, 0, 1) == 1;
  const int64_t pad_mode = pick(engine, 0, 3);  // 0-1 explicit, 2 SAME_UPPER, 3 VALID
  const bool ceil_mode = pad_mode <= 1 && pick(engine, 0, 1) == 1;
  std::vector<int64_t> kernel, strides, dilations, pads(4, 0);
  Shape spatial;
  for (size_t i = 0; i < 2; ++i) {
    kernel.push_back(pick(engine, 1, 4));
    strides.push_back(pick(engine, 1, 3));
    dilations.push_back(max && pick(engine, 0, 3) == 0 ? 2 : 1);
    const int64_t extent = (kernel[i] - 1) * dilations[i] + 1;
    if (pad_mode <= 1) {
      pads[i] = pick(engine, 0, extent - 1);
      pads[2 + i] = pick(engine, 0, extent - 1);
    }
    spatial.push_back(pick(engine, extent, extent + 12));
  }
  const Shape x_shape = channels_last ? Shape{batch, spatial[0], spatial[1], channels}
                                      : Shape{batch, channels, spatial[0], spatial[1]};
  c.inputs.push_back(random_tensor(x_shape, seed));
  c.attrs.set("kernel_shape", kernel);
  c.attrs.set("strides", strides);
  if (max) c.attrs.set("dilations", dilations);
  c.attrs.set("channels_last", static_cast<int64_t>(channels_last));
  c.attrs.set("ceil_mode", static_cast<int64_t>(ceil_mode));
  const int64_t include = pick(engine, 0, 1);
  if (!max) c.attrs.set("count_include_pad", include);
  static const char* kAutoPad[] = {"SAME_UPPER", "VALID"};
  if (pad_mode <= 1) {
    c.attrs.set("pads", pads);
  } else {
    c.attrs.set("auto_pad", std::string(kAutoPad[pad_mode - 2]));
  }
  c.text = std::string(max ? "MaxPool" : "AveragePool") + " X " + shape_to_string(x_shape) +
           " kernel " + shape_to_string(kernel) + " strides " + shape_to_string(strides) +
           " dilations " + shape_to_string(dilations) + " pads " + shape_to_string(pads) +
           " pad_mode " + std::to_string(pad_mode) + " ceil " + std::to_string(ceil_mode) +
           " include_pad " + std::to_string(include) + " channels_last " +
           std::to_string(channels_last);
  return c;
}

// Builds the window kernel for a case as a Plan would (weights and bias constant).
inline Expected<BuiltFastKernel> build_window_kernel(const OpCase& c) {
  NNFI_ASSIGN_OR_RETURN(std::vector<kernels::TensorInfo> outputs,
                        prepare_single_op(c.op, c.inputs, c.attrs, 1));
  BuiltFastKernel built;
  built.node.name = "op";
  built.node.op = c.op;
  built.node.attributes = c.attrs;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Tensor& t = c.inputs[i];
    built.node.inputs.push_back(t.defined() ? static_cast<ValueId>(i) : kNoValue);
    built.inputs.push_back(t.defined()
                               ? kernels::TensorInfo{t.dtype(), t.shape(), i > 0 ? &t : nullptr}
                               : kernels::TensorInfo{});
  }
  built.node.outputs = {static_cast<ValueId>(c.inputs.size())};
  for (auto& info : outputs) info.constant = nullptr;
  built.outputs = outputs;
  built.kernel = kernels::window::create_window_kernel(built.node, built.inputs, built.outputs);
  return built;
}

inline Expected<Tensor> run_window(const OpCase& c) {
  NNFI_ASSIGN_OR_RETURN(BuiltFastKernel built, build_window_kernel(c));
  return eval_fast_kernel(built, c.inputs);
}

inline ::testing::AssertionResult bits_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) {
    return ::testing::AssertionFailure()
           << "shapes " << shape_to_string(a.shape()) << " vs " << shape_to_string(b.shape());
  }
  if (std::memcmp(a.data<float>(), b.data<float>(), a.num_elements() * sizeof(float)) != 0) {
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      if (std::memcmp(a.data<float>() + i, b.data<float>() + i, sizeof(float)) != 0) {
        return ::testing::AssertionFailure()
               << "element " << i << ": " << a.data<float>()[i] << " vs " << b.data<float>()[i];
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// The case gives `expected` (the default path's bits) on the portable path,
// with its AVX2 loops where the CPU has them, and on plain scalar code.
inline void expect_portable_paths_give(const OpCase& c, const Tensor& expected) {
  for (bool scalar : {false, true}) {
    ScopedPortable portable(true, scalar);
    auto plain = run_window(c);
    ASSERT_TRUE(plain.has_value()) << plain.status().message();
    EXPECT_TRUE(bits_equal(expected, *plain)) << (scalar ? "scalar" : "portable");
  }
}

}  // namespace nnfi::testing
