// One ONNX NodeProto -> one IR op with IR attributes (docs/ir-ops.md).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "nnfi/graph.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::onnx_import {

// Imported opset version per domain; the default domain ("ai.onnx") is "".
using OpsetMap = std::map<std::string, int64_t>;

// What a node becomes. Inputs past max_inputs are dropped (Dropout's ratio
// and training_mode); outputs past max_outputs are dropped and must be unused
// (MaxPool's Indices, BatchNormalization's training statistics).
struct ConvertedNode {
  OpType op = OpType::kIdentity;
  Attributes attributes;
  size_t max_inputs = SIZE_MAX;
  size_t max_outputs = SIZE_MAX;
};

// "" for "ai.onnx" and "", otherwise the domain itself.
std::string normalized_domain(const std::string& domain);
bool is_constant_node(const onnx::NodeProto& node);

// OK where nnfi imports the node's op type and domain (Constant included);
// otherwise "op 'X' (domain D, opset N) is not supported by nnfi; supported
// ops: ...". Needs no opset range check, so it runs first.
Status check_op_supported(const onnx::NodeProto& node, const OpsetMap& opsets);

// Validates the node against its ONNX schema at the model's opset (input and
// output counts, attribute names and types) and converts it. Errors do not
// name the node: the caller adds that context.
Expected<ConvertedNode> convert_node(const onnx::NodeProto& node, int64_t opset);

// The tensor a Constant node holds (value, value_float(s), value_int(s)).
Expected<Tensor> constant_node_value(const onnx::NodeProto& node, int64_t opset);

// "Abs, Add, ..., Unsqueeze": the ONNX op types nnfi imports, for messages.
const std::string& supported_ops_text();

}  // namespace nnfi::onnx_import
