#include "kernels/kernel.h"

namespace nnfi::kernels {
namespace {

constexpr OpDef kOpDefs[] = {
#define NNFI_OP(name, ir_name, group) \
  {OpType::k##name, ir_name, &prepare_##name, &reference_##name},
#include "nnfi/op_list.inc"
#undef NNFI_OP
};

static_assert(std::size(kOpDefs) == static_cast<size_t>(OpType::kCount),
              "every op in op_list.inc needs an OpDef");

}  // namespace

const OpDef& op_def(OpType op) { return kOpDefs[static_cast<size_t>(op)]; }

Status PrepareContext::expect_input_count(size_t min_count, size_t max_count) const {
  if (inputs.size() < min_count || inputs.size() > max_count) {
    std::string expected = min_count == max_count
                               ? std::to_string(min_count)
                               : std::to_string(min_count) + " to " + std::to_string(max_count);
    return error("expected " + expected + " inputs, got " + std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < min_count; ++i) {
    if (!inputs[i].present()) return error("required input " + std::to_string(i) + " is missing");
  }
  return Status::ok();
}

Status PrepareContext::expect_dtype(size_t input, DType dtype) const {
  if (input >= inputs.size() || !inputs[input].present()) {
    return error("input " + std::to_string(input) + " is missing");
  }
  if (inputs[input].dtype != dtype) {
    return error("input " + std::to_string(input) + " has dtype " +
                 std::string(dtype_name(inputs[input].dtype)) + ", expected " +
                 std::string(dtype_name(dtype)));
  }
  return Status::ok();
}

Status PrepareContext::error(const std::string& message) const {
  // The caller (shape inference, the planner) prefixes node name and op.
  return invalid_argument(message);
}

}  // namespace nnfi::kernels
