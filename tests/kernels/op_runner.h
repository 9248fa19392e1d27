// Runs one IR op on given tensors, for kernel tests.
//
//   run_single_op(op, inputs, attrs, num_outputs, options)
//     builds a one-node Graph (inputs are graph inputs, or constants where
//     options say so), finalizes it, plans it and runs it through an Executor:
//     the path real models take (prepare, plan-time folding, fast kernels).
//   prepare_single_op(op, inputs, attrs, num_outputs)
//     calls only the op's prepare, directly (every input is shown as a
//     plan-time constant); returns the output infos.
//   eval_single_op(op, inputs, attrs, num_outputs)
//     calls prepare then the reference eval directly, no graph involved.
//
// An undefined Tensor in `inputs` is an omitted optional input (kNoValue).
// values_of<T>(tensor) copies a tensor's elements out, for EXPECT_EQ.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernel.h"
#include "nnfi/graph.h"
#include "nnfi/runtime.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::testing {

template <typename T>
std::vector<T> values_of(const Tensor& tensor) {
  const T* data = tensor.data<T>();
  return std::vector<T>(data, data + tensor.num_elements());
}

struct OpRunOptions {
  bool use_fast_kernels = false;
  // Input i becomes a graph constant where constant_inputs[i] is true (e.g. a
  // Reshape shape or Conv weights); missing entries mean "graph input".
  std::vector<bool> constant_inputs;
  bool all_constant = false;  // every input a constant (the node may fold)
};

inline Expected<std::vector<Tensor>> run_single_op(OpType op, std::vector<Tensor> inputs,
                                                   Attributes attrs = {}, size_t num_outputs = 1,
                                                   OpRunOptions options = {}) {
  auto graph = std::make_shared<Graph>();
  Node node;
  node.name = "op";
  node.op = op;
  node.source_op = std::string(op_type_name(op));
  node.attributes = std::move(attrs);
  std::vector<Tensor> fed;  // graph inputs, in graph.inputs order
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      node.inputs.push_back(kNoValue);
      continue;
    }
    bool constant =
        options.all_constant || (i < options.constant_inputs.size() && options.constant_inputs[i]);
    std::string name = "in" + std::to_string(i);
    if (constant) {
      node.inputs.push_back(graph->add_constant(name, inputs[i].clone()));
    } else {
      ValueId id = graph->add_value(name, inputs[i].dtype(), inputs[i].shape());
      graph->inputs.push_back(id);
      node.inputs.push_back(id);
      fed.push_back(inputs[i]);
    }
  }
  for (size_t o = 0; o < num_outputs; ++o) {
    ValueId id = graph->add_value("out" + std::to_string(o), DType::kUndefined, {});
    node.outputs.push_back(id);
    graph->outputs.push_back(id);
  }
  graph->add_node(std::move(node));
  NNFI_RETURN_IF_ERROR(graph->finalize());

  std::vector<Shape> shapes;
  for (const Tensor& tensor : fed) shapes.push_back(tensor.shape());
  PlanOptions plan_options;
  plan_options.use_fast_kernels = options.use_fast_kernels;
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan,
                        Plan::create(graph, std::move(shapes), plan_options));
  Executor executor(plan);
  for (size_t i = 0; i < fed.size(); ++i) NNFI_RETURN_IF_ERROR(executor.set_input(i, fed[i]));
  NNFI_RETURN_IF_ERROR(executor.run());
  std::vector<Tensor> outputs;
  for (ValueId id : graph->outputs) outputs.push_back(executor.value(id).clone());
  return outputs;
}

inline Expected<std::vector<kernels::TensorInfo>> prepare_single_op(
    OpType op, const std::vector<Tensor>& inputs, Attributes attrs = {}, size_t num_outputs = 1) {
  Node node;
  node.name = "op";
  node.op = op;
  node.attributes = std::move(attrs);
  std::vector<kernels::TensorInfo> infos;
  for (const Tensor& tensor : inputs) {
    node.inputs.push_back(tensor.defined() ? 0 : kNoValue);
    if (tensor.defined()) {
      infos.push_back({tensor.dtype(), tensor.shape(), &tensor});
    } else {
      infos.push_back({});
    }
  }
  node.outputs.assign(num_outputs, 0);
  std::vector<kernels::TensorInfo> outputs(num_outputs);
  kernels::PrepareContext context{node, infos, outputs};
  NNFI_RETURN_IF_ERROR(kernels::op_def(op).prepare(context));
  return outputs;
}

inline Expected<std::vector<Tensor>> eval_single_op(OpType op, const std::vector<Tensor>& inputs,
                                                    Attributes attrs = {}, size_t num_outputs = 1) {
  NNFI_ASSIGN_OR_RETURN(std::vector<kernels::TensorInfo> infos,
                        prepare_single_op(op, inputs, attrs, num_outputs));
  Node node;
  node.name = "op";
  node.op = op;
  node.attributes = std::move(attrs);
  std::vector<const Tensor*> input_ptrs;
  for (const Tensor& tensor : inputs) input_ptrs.push_back(tensor.defined() ? &tensor : nullptr);
  std::vector<Tensor> outputs;
  for (const auto& info : infos) outputs.emplace_back(info.dtype, info.shape);
  std::vector<Tensor*> output_ptrs;
  for (Tensor& tensor : outputs) output_ptrs.push_back(&tensor);
  kernels::EvalContext context{node, input_ptrs, output_ptrs};
  NNFI_RETURN_IF_ERROR(kernels::op_def(op).reference(context));
  return outputs;
}

// Small shorthands shared by the kernel test files.
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

inline Tensor floats(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, std::move(shape));
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline Attributes with(const std::string& name, AttributeValue value) {
  Attributes attrs;
  attrs.set(name, std::move(value));
  return attrs;
}

// Runs a one-output op through Graph + Plan + Executor and returns output 0.
inline Tensor run1(OpType op, std::vector<Tensor> inputs, Attributes attrs = {},
                   OpRunOptions options = {}) {
  auto result = run_single_op(op, std::move(inputs), std::move(attrs), 1, options);
  EXPECT_TRUE(result.has_value()) << result.status().message();
  if (!result.has_value()) return Tensor();
  return std::move(result->front());
}

// The prepare error message for these inputs ("" if prepare accepts them).
inline std::string prepare_error(OpType op, const std::vector<Tensor>& inputs,
                                 Attributes attrs = {}) {
  auto result = prepare_single_op(op, inputs, std::move(attrs));
  return result.has_value() ? std::string() : result.status().message();
}

}  // namespace nnfi::testing
