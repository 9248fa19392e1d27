// The kernel contract. Every op has:
//   prepare_<Op>(PrepareContext&)  checks dtypes, shapes and attributes once
//                                   and fills in the output dtypes and shapes;
//   reference_<Op>(EvalContext&)    the plain, obviously right implementation;
// and optionally a fast kernel (src/kernels/fast/) registered with
// register_fast_kernel(). eval trusts prepare, allocates nothing, and never
// scans for NaN/Inf: injected faults create them and kernels carry them on.
// Kernels know tensors and attributes, never ONNX, Keras or TensorFlow.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "nnfi/graph.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::kernels {

// What prepare knows of one input or output: dtype and shape, and the value
// itself where it is constant at plan time (weights, shape tensors).
struct TensorInfo {
  DType dtype = DType::kUndefined;
  Shape shape;
  const Tensor* constant = nullptr;
  bool present() const { return dtype != DType::kUndefined; }
};

struct PrepareContext {
  const Node& node;
  std::span<const TensorInfo> inputs;  // !present() for an omitted optional input
  std::vector<TensorInfo>& outputs;    // sized to node.outputs; fill dtype+shape

  // Typed accessors that return a clear error naming the node.
  Status expect_input_count(size_t min_count, size_t max_count) const;
  Status expect_dtype(size_t input, DType dtype) const;
  Status error(const std::string& message) const;  // invalid_argument naming node
};

struct EvalContext {
  const Node& node;
  std::span<const Tensor* const> inputs;  // nullptr for an omitted input
  std::span<Tensor* const> outputs;       // allocated with prepare's shapes
};

using PrepareFn = Status (*)(PrepareContext&);
using EvalFn = Status (*)(EvalContext&);

// A stateful optimised kernel, built once per plan for fixed shapes (it may
// hold oneDNN primitives and reordered weights).
class FastKernel {
 public:
  virtual ~FastKernel() = default;
  virtual Status eval(EvalContext& context) = 0;
};

// Builds a fast kernel for these exact shapes, or returns nullptr when the
// case is not covered (the plan then uses the reference kernel).
using FastKernelFactory = std::unique_ptr<FastKernel> (*)(const Node& node,
                                                          std::span<const TensorInfo> inputs,
                                                          std::span<const TensorInfo> outputs);

struct OpDef {
  OpType op;
  const char* name;
  PrepareFn prepare;
  EvalFn reference;
};

const OpDef& op_def(OpType op);

// Fast kernels are listed in fast/fast_kernels.cc (one line per op).
FastKernelFactory fast_kernel_factory(OpType op);

// Declarations of every op's prepare and reference eval.
#define NNFI_OP(name, ir_name, group)     \
  Status prepare_##name(PrepareContext&); \
  Status reference_##name(EvalContext&);
#include "nnfi/op_list.inc"
#undef NNFI_OP

}  // namespace nnfi::kernels
