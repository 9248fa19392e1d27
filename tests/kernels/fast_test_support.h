// Helpers of the fast-kernel tests (fast_*_test.cc): build an op's fast
// kernel exactly as a Plan does (prepare, then the registered factory with
// constant inputs shown as constants) and run it, to compare with the
// reference kernel (kernels::op_def(op).reference).
#pragma once

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/op_runner.h"
#include "nnfi/graph.h"
#include "nnfi/tensor.h"

namespace nnfi::testing {

// A fast kernel built for given inputs, and the node and infos it was built from.
struct BuiltFastKernel {
  Node node;
  std::vector<kernels::TensorInfo> inputs;
  std::vector<kernels::TensorInfo> outputs;
  std::unique_ptr<kernels::FastKernel> kernel;  // nullptr: the factory declined
};

// Prepares `op` and calls its registered fast factory; input i is a plan-time
// constant where constant[i] is true. `inputs` must outlive the result.
inline Expected<BuiltFastKernel> build_fast_kernel(OpType op, const std::vector<Tensor>& inputs,
                                                   const Attributes& attrs,
                                                   const std::vector<bool>& constant) {
  NNFI_ASSIGN_OR_RETURN(std::vector<kernels::TensorInfo> outputs,
                        prepare_single_op(op, inputs, attrs, 1));
  BuiltFastKernel built;
  built.node.name = "op";
  built.node.op = op;
  built.node.attributes = attrs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    built.node.inputs.push_back(inputs[i].defined() ? static_cast<ValueId>(i) : kNoValue);
    if (!inputs[i].defined()) {
      built.inputs.push_back({});
      continue;
    }
    const bool is_constant = i < constant.size() && constant[i];
    built.inputs.push_back(
        {inputs[i].dtype(), inputs[i].shape(), is_constant ? &inputs[i] : nullptr});
  }
  built.node.outputs = {static_cast<ValueId>(inputs.size())};
  for (auto& info : outputs) info.constant = nullptr;
  built.outputs = outputs;
  kernels::FastKernelFactory factory = kernels::fast_kernel_factory(op);
  if (factory == nullptr) return internal_error("no fast kernel registered");
  built.kernel = factory(built.node, built.inputs, built.outputs);
  return built;
}

// Runs a built kernel on `inputs` (same shapes as it was built for).
inline Expected<Tensor> eval_fast_kernel(BuiltFastKernel& built,
                                         const std::vector<Tensor>& inputs) {
  if (built.kernel == nullptr) return internal_error("the fast factory declined the case");
  std::vector<const Tensor*> input_ptrs;
  for (const Tensor& tensor : inputs) input_ptrs.push_back(tensor.defined() ? &tensor : nullptr);
  Tensor output(built.outputs[0].dtype, built.outputs[0].shape);
  // NaN fill: a kernel that skips an element is caught.
  float* data = output.data<float>();
  for (int64_t i = 0; i < output.num_elements(); ++i) data[i] = std::nanf("");
  Tensor* output_ptr = &output;
  kernels::EvalContext context{built.node, input_ptrs, std::span<Tensor* const>(&output_ptr, 1)};
  NNFI_RETURN_IF_ERROR(built.kernel->eval(context));
  return output;
}

// Builds and runs in one go; an error if the factory declines.
inline Expected<Tensor> run_fast_op(OpType op, const std::vector<Tensor>& inputs,
                                    const Attributes& attrs, const std::vector<bool>& constant) {
  NNFI_ASSIGN_OR_RETURN(BuiltFastKernel built, build_fast_kernel(op, inputs, attrs, constant));
  return eval_fast_kernel(built, inputs);
}

// The reference kernel's output (prepare + op_def(op).reference).
inline Expected<Tensor> run_reference_op(OpType op, const std::vector<Tensor>& inputs,
                                         const Attributes& attrs) {
  NNFI_ASSIGN_OR_RETURN(std::vector<Tensor> outputs, eval_single_op(op, inputs, attrs, 1));
  return outputs[0];
}

// Sets the OpenMP thread count for its lifetime.
class ScopedThreads {
 public:
  explicit ScopedThreads(int threads) : saved_(omp_get_max_threads()) {
    omp_set_num_threads(threads);
  }
  ~ScopedThreads() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

// Uniform integers in [low, high] from a test's fixed-seed engine.
inline int64_t pick(std::mt19937& engine, int64_t low, int64_t high) {
  return std::uniform_int_distribution<int64_t>(low, high)(engine);
}

}  // namespace nnfi::testing
