#include "import/onnx/onnx_node.h"

#include <onnx/defs/schema.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include "import/onnx/onnx_tensor.h"

namespace nnfi::onnx_import {
namespace {

using AttrType = onnx::AttributeProto::AttributeType;

constexpr int64_t kSchemaLookupOpset = 17;

std::string type_name(AttrType type) {
  return onnx::AttributeProto_AttributeType_IsValid(type)
             ? onnx::AttributeProto_AttributeType_Name(type)
             : "type " + std::to_string(static_cast<int>(type));
}

// Old files may leave `type` unset; the filled field then says what it is.
AttrType attribute_type(const onnx::AttributeProto& attr) {
  if (attr.type() != onnx::AttributeProto::UNDEFINED) return attr.type();
  if (attr.has_f()) return onnx::AttributeProto::FLOAT;
  if (attr.has_i()) return onnx::AttributeProto::INT;
  if (attr.has_s()) return onnx::AttributeProto::STRING;
  if (attr.has_t()) return onnx::AttributeProto::TENSOR;
  if (attr.has_g()) return onnx::AttributeProto::GRAPH;
  if (attr.has_sparse_tensor()) return onnx::AttributeProto::SPARSE_TENSOR;
  if (attr.floats_size() > 0) return onnx::AttributeProto::FLOATS;
  if (attr.ints_size() > 0) return onnx::AttributeProto::INTS;
  if (attr.strings_size() > 0) return onnx::AttributeProto::STRINGS;
  if (attr.tensors_size() > 0) return onnx::AttributeProto::TENSORS;
  if (attr.graphs_size() > 0) return onnx::AttributeProto::GRAPHS;
  return onnx::AttributeProto::UNDEFINED;
}

Expected<AttributeValue> attribute_value(const onnx::AttributeProto& attr, AttrType type) {
  switch (type) {
    case onnx::AttributeProto::FLOAT: return AttributeValue(static_cast<double>(attr.f()));
    case onnx::AttributeProto::INT: return AttributeValue(static_cast<int64_t>(attr.i()));
    case onnx::AttributeProto::STRING: return AttributeValue(attr.s());
    case onnx::AttributeProto::FLOATS:
      return AttributeValue(std::vector<double>(attr.floats().begin(), attr.floats().end()));
    case onnx::AttributeProto::INTS:
      return AttributeValue(std::vector<int64_t>(attr.ints().begin(), attr.ints().end()));
    case onnx::AttributeProto::TENSOR: {
      Expected<Tensor> tensor = tensor_from_onnx(attr.t());
      if (!tensor) return tensor.status().with_context("attribute '" + attr.name() + "'");
      return AttributeValue(std::move(tensor).value());
    }
    default:
      return unsupported("attribute '" + attr.name() + "' has type " + type_name(type) +
                         ", which nnfi does not import");
  }
}

// Attributes that only matter for training or for outputs nnfi does not
// compute; docs/ir-ops.md leaves them out.
bool ignored_attribute(OpType op, const std::string& name) {
  switch (op) {
    case OpType::kBatchNormalization:
      return name == "spatial" || name == "is_test" || name == "consumed_inputs" ||
             name == "momentum" || name == "training_mode";
    case OpType::kDropout: return name == "ratio" || name == "seed" || name == "is_test";
    case OpType::kMaxPool: return name == "storage_order";  // only shapes the Indices output
    default: return false;
  }
}

// Converts the old forms docs/ir-ops.md asks importers to convert.
Status apply_op_rules(const onnx::NodeProto& node, int64_t opset, ConvertedNode& converted) {
  Attributes& attrs = converted.attributes;
  switch (converted.op) {
    case OpType::kSoftmax:
      if (opset < 13) {
        attrs.set("legacy_flatten", int64_t{1});
        if (!attrs.has("axis")) attrs.set("axis", int64_t{1});
      }
      break;
    case OpType::kCast: {
      const int64_t to = attrs.get_int("to", 0);
      Expected<DType> dtype = dtype_from_onnx(static_cast<int32_t>(to));
      if (!dtype) {
        return unsupported("Cast to " + onnx_dtype_name(static_cast<int32_t>(to)) +
                           " is not supported: " + dtype.status().message());
      }
      attrs.set("to", std::string(dtype_name(*dtype)));
      break;
    }
    case OpType::kBatchNormalization:
      for (const auto& attr : node.attribute()) {
        if (attr.name() == "training_mode" && attr.i() != 0) {
          return unsupported(
              "BatchNormalization with training_mode=1 is not supported: nnfi "
              "runs inference only");
        }
      }
      converted.max_outputs = 1;
      break;
    case OpType::kDropout:
      converted.max_inputs = 1;  // ratio and training_mode: identity at inference
      break;
    case OpType::kMaxPool: converted.max_outputs = 1; break;
    default: break;
  }
  return Status::ok();
}

std::string count_range(int min_count, int max_count) {
  if (min_count == max_count) return std::to_string(min_count);
  if (max_count == std::numeric_limits<int>::max()) return std::to_string(min_count) + " or more";
  return std::to_string(min_count) + " to " + std::to_string(max_count);
}

Status check_against_schema(const onnx::NodeProto& node, const onnx::OpSchema& schema,
                            int64_t opset) {
  const std::string op = node.op_type() + " (opset " + std::to_string(opset) + ")";
  if (node.input_size() < schema.min_input() || node.input_size() > schema.max_input()) {
    return invalid_argument(op + " expects " + count_range(schema.min_input(), schema.max_input()) +
                            " inputs, the node has " + std::to_string(node.input_size()));
  }
  if (node.output_size() < schema.min_output() || node.output_size() > schema.max_output()) {
    return invalid_argument(op + " has " + count_range(schema.min_output(), schema.max_output()) +
                            " outputs, the node lists " + std::to_string(node.output_size()));
  }
  std::set<std::string> seen;
  for (const auto& attr : node.attribute()) {
    if (!seen.insert(attr.name()).second) {
      return invalid_argument("attribute '" + attr.name() + "' is given twice");
    }
    if (!attr.ref_attr_name().empty()) {
      return unsupported("attribute '" + attr.name() +
                         "' refers to a function attribute, which nnfi does not import");
    }
    auto it = schema.attributes().find(attr.name());
    if (it == schema.attributes().end()) {
      return invalid_argument(op + " has no attribute '" + attr.name() + "'");
    }
    const AttrType type = attribute_type(attr);
    if (type != it->second.type) {
      return invalid_argument("attribute '" + attr.name() + "' of " + op + " has type " +
                              type_name(type) + ", expected " + type_name(it->second.type));
    }
  }
  for (const auto& [name, attribute] : schema.attributes()) {
    if (attribute.required && !seen.count(name)) {
      return invalid_argument(op + " requires attribute '" + name + "', which is missing");
    }
  }
  return Status::ok();
}

std::string domain_label(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain; }

}  // namespace

std::string normalized_domain(const std::string& domain) {
  return domain == "ai.onnx" ? std::string() : domain;
}

bool is_constant_node(const onnx::NodeProto& node) {
  return node.op_type() == "Constant" && normalized_domain(node.domain()).empty();
}

const std::string& supported_ops_text() {
  static const std::string text = [] {
    std::vector<std::string> names = {"Constant"};
    for (size_t i = 0; i < static_cast<size_t>(OpType::kCount); ++i) {
      std::string name(op_type_name(static_cast<OpType>(i)));
      // IR-only ops (BiasAdd, Rsqrt) have no ONNX schema.
      if (onnx::OpSchemaRegistry::Schema(name, static_cast<int>(kSchemaLookupOpset), "")) {
        names.push_back(name);
      }
    }
    std::sort(names.begin(), names.end());
    std::string joined;
    for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
    return joined;
  }();
  return text;
}

Status check_op_supported(const onnx::NodeProto& node, const OpsetMap& opsets) {
  const std::string domain = normalized_domain(node.domain());
  auto opset = opsets.find(domain);
  const std::string opset_text =
      opset == opsets.end() ? "not imported by the model" : std::to_string(opset->second);
  const std::string what = "op '" + node.op_type() + "' (domain " + domain_label(domain) +
                           ", opset " + opset_text +
                           ") is not supported by nnfi; supported ops: " + supported_ops_text();
  if (!domain.empty()) return unsupported(what + " (all in the default domain ai.onnx)");
  if (is_constant_node(node)) return Status::ok();
  std::optional<OpType> op = op_type_from_name(node.op_type());
  if (!op ||
      !onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(kSchemaLookupOpset), "")) {
    return unsupported(what);
  }
  return Status::ok();
}

Expected<ConvertedNode> convert_node(const onnx::NodeProto& node, int64_t opset) {
  std::optional<OpType> op = op_type_from_name(node.op_type());
  const onnx::OpSchema* schema =
      onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(opset), "");
  if (!op || schema == nullptr) {
    return invalid_argument("op '" + node.op_type() + "' does not exist in ONNX opset " +
                            std::to_string(opset));
  }
  NNFI_RETURN_IF_ERROR(check_against_schema(node, *schema, opset));
  ConvertedNode converted;
  converted.op = *op;
  for (const auto& attr : node.attribute()) {
    if (ignored_attribute(*op, attr.name())) continue;
    NNFI_ASSIGN_OR_RETURN(AttributeValue value, attribute_value(attr, attribute_type(attr)));
    converted.attributes.set(attr.name(), std::move(value));
  }
  NNFI_RETURN_IF_ERROR(apply_op_rules(node, opset, converted));
  return converted;
}

Expected<Tensor> constant_node_value(const onnx::NodeProto& node, int64_t opset) {
  if (node.input_size() != 0) return invalid_argument("Constant has inputs; it takes none");
  if (node.output_size() != 1 || node.output(0).empty()) {
    return invalid_argument("Constant must have exactly one named output");
  }
  if (node.attribute_size() != 1) {
    return invalid_argument("Constant must have exactly one value attribute, it has " +
                            std::to_string(node.attribute_size()));
  }
  const onnx::AttributeProto& attr = node.attribute(0);
  const std::string& name = attr.name();
  const AttrType type = attribute_type(attr);
  auto expect = [&](AttrType expected) -> Status {
    if (type == expected) return Status::ok();
    return invalid_argument("Constant attribute '" + name + "' has type " + type_name(type) +
                            ", expected " + type_name(expected));
  };
  if (name == "value") {
    NNFI_RETURN_IF_ERROR(expect(onnx::AttributeProto::TENSOR));
    Expected<Tensor> tensor = tensor_from_onnx(attr.t());
    if (!tensor) return tensor.status().with_context("Constant value");
    return tensor;
  }
  if (name == "value_string" || name == "value_strings" || name == "sparse_value") {
    return unsupported("Constant with attribute '" + name +
                       "' is not supported (nnfi has no string or sparse tensors)");
  }
  if (opset >= 12) {
    if (name == "value_float") {
      NNFI_RETURN_IF_ERROR(expect(onnx::AttributeProto::FLOAT));
      return Tensor::scalar<float>(attr.f());
    }
    if (name == "value_floats") {
      NNFI_RETURN_IF_ERROR(expect(onnx::AttributeProto::FLOATS));
      std::vector<float> values(attr.floats().begin(), attr.floats().end());
      return Tensor::from_vector<float>(values, {static_cast<int64_t>(values.size())});
    }
    if (name == "value_int") {
      NNFI_RETURN_IF_ERROR(expect(onnx::AttributeProto::INT));
      return Tensor::scalar<int64_t>(attr.i());
    }
    if (name == "value_ints") {
      NNFI_RETURN_IF_ERROR(expect(onnx::AttributeProto::INTS));
      std::vector<int64_t> values(attr.ints().begin(), attr.ints().end());
      return Tensor::from_vector<int64_t>(values, {static_cast<int64_t>(values.size())});
    }
  }
  return invalid_argument("Constant (opset " + std::to_string(opset) + ") has no attribute '" +
                          name + "'");
}

}  // namespace nnfi::onnx_import
