// GraphBuilder and ConvertContext (tf_convert.h): emitting IR nodes for TF
// nodes, with constant folding at import through the kernels' own prepare
// and reference eval, so a folded value has exactly the bits the node would
// have computed at run time.
#include "import/tf/tf_convert.h"

#include "kernels/kernel.h"

namespace nnfi::tf_import {
namespace {

bool any_float(const std::vector<kernels::TensorInfo>& infos) {
  for (const auto& info : infos) {
    if (dtype_is_float(info.dtype)) return true;
  }
  return false;
}

}  // namespace

// ---- GraphBuilder -----------------------------------------------------------

std::optional<ValueId> GraphBuilder::lookup(const std::string& node, int index) const {
  auto it = tensors_.find({node, index});
  if (it == tensors_.end()) return std::nullopt;
  return it->second;
}

void GraphBuilder::reserve_names(const std::vector<std::string>& names) {
  taken_.insert(names.begin(), names.end());
}

std::string GraphBuilder::unique_name(const std::string& base) {
  std::string name = base;
  for (int k = 1; taken_.count(name); ++k) name = base + "_" + std::to_string(k);
  taken_.insert(name);
  return name;
}

Expected<std::vector<ValueId>> GraphBuilder::add_node(Node node,
                                                      const std::vector<std::string>& output_names,
                                                      const std::string& owner, bool helper) {
  bool all_constant = !node.inputs.empty();
  for (ValueId input : node.inputs) {
    if (input != kNoValue && !graph_.values[input].is_constant()) all_constant = false;
  }
  if (all_constant) {
    std::vector<kernels::TensorInfo> inputs;
    std::vector<const Tensor*> tensors;
    for (ValueId input : node.inputs) {
      if (input == kNoValue) {
        inputs.push_back({});
        tensors.push_back(nullptr);
        continue;
      }
      const Tensor& constant = graph_.values[input].constant;
      inputs.push_back({constant.dtype(), constant.shape(), &constant});
      tensors.push_back(&constant);
    }
    std::vector<kernels::TensorInfo> outputs(output_names.size());
    kernels::PrepareContext prepare{node, inputs, outputs};
    const kernels::OpDef& def = kernels::op_def(node.op);
    NNFI_RETURN_IF_ERROR(def.prepare(prepare));
    const bool float_result = any_float(outputs);
    if (helper || !float_result || options_.fold_constants) {
      std::vector<Tensor> results;
      std::vector<Tensor*> result_pointers;
      results.reserve(outputs.size());
      for (const auto& info : outputs) {
        if (!info.present() || !shape_is_known(info.shape)) {
          return internal_error("prepare left an output undefined");
        }
        results.emplace_back(info.dtype, info.shape);
      }
      for (Tensor& result : results) result_pointers.push_back(&result);
      kernels::EvalContext eval{node, tensors, result_pointers};
      NNFI_RETURN_IF_ERROR(def.reference(eval));
      if (!helper && float_result) ++folded_float_nodes_;
      std::vector<ValueId> ids;
      for (size_t o = 0; o < results.size(); ++o) {
        ids.push_back(graph_.add_constant(output_names[o], std::move(results[o])));
      }
      return ids;
    }
  }
  std::vector<ValueId> ids;
  for (const std::string& output : output_names) {
    ids.push_back(graph_.add_value(output, DType::kUndefined, {}));
  }
  node.outputs = ids;
  graph_.add_node(std::move(node));
  owners_.push_back(owner);
  return ids;
}

ValueId GraphBuilder::add_derived_constant(ValueId original, const std::string& tag,
                                           Tensor tensor) {
  const std::string name = graph_.values[original].name + "/" + tag;
  ValueId id = graph_.add_constant(name, std::move(tensor));
  derived_.emplace_back(id, original);
  return id;
}

Expected<Tensor> GraphBuilder::variable_value(const tf::NodeDef& node) const {
  std::string key = node.name();
  auto shared = node.attr().find("shared_name");
  if (shared != node.attr().end() && !shared->second.s().empty()) key = shared->second.s();
  auto mapped = source_.variable_keys.find(node.name());
  if (mapped != source_.variable_keys.end()) key = mapped->second;
  if (source_.bundle == nullptr) {
    return invalid_argument(
        "is a variable, and no checkpoint holds its value: load the checkpoint (its .meta "
        "with the .index and .data files beside it) or a frozen graph");
  }
  if (!source_.bundle->contains(key)) {
    return not_found("is a variable, but the checkpoint " + source_.bundle->prefix().string() +
                     " has no tensor '" + key + "'");
  }
  return source_.bundle->read(key);
}

// ---- ConvertContext ---------------------------------------------------------

Status ConvertContext::expect_inputs(size_t min_count, size_t max_count) const {
  if (inputs_.size() < min_count || inputs_.size() > max_count) {
    const std::string expected =
        min_count == max_count ? std::to_string(min_count)
                               : std::to_string(min_count) + " to " + std::to_string(max_count);
    return invalid_argument("has " + std::to_string(inputs_.size()) + " inputs, expected " +
                            expected);
  }
  return Status::ok();
}

const Tensor* ConvertContext::constant(size_t i) const {
  const Value& value = builder_.graph().values[inputs_[i]];
  return value.is_constant() ? &value.constant : nullptr;
}

Expected<std::vector<int64_t>> ConvertContext::constant_ints(size_t i,
                                                             const std::string& what) const {
  const Tensor* tensor = constant(i);
  const std::string where = "input " + std::to_string(i) + " (" + what + ")";
  if (tensor == nullptr) {
    return unsupported(where + " is computed at run time; nnfi needs it constant at import");
  }
  if (tensor->dtype() != DType::kInt32 && tensor->dtype() != DType::kInt64) {
    return invalid_argument(where + " has dtype " + std::string(dtype_name(tensor->dtype())) +
                            ", expected int32 or int64");
  }
  std::vector<int64_t> values(static_cast<size_t>(tensor->num_elements()));
  for (size_t k = 0; k < values.size(); ++k) {
    values[k] = tensor->element_as_int64(static_cast<int64_t>(k));
  }
  return values;
}

const tf::AttrValue* ConvertContext::attr(const std::string& name) const {
  auto it = node_.attr().find(name);
  return it == node_.attr().end() ? nullptr : &it->second;
}

void ConvertContext::attr_kind_error(const std::string& name, const char* expected) {
  if (attr_error_.is_ok()) {
    attr_error_ = invalid_argument("attribute '" + name + "' is not " + expected);
  }
}

int64_t ConvertContext::attr_int(const std::string& name, int64_t fallback) {
  const tf::AttrValue* value = attr(name);
  if (value == nullptr) return fallback;
  if (value->value_case() != tf::AttrValue::kI) {
    attr_kind_error(name, "an int");
    return fallback;
  }
  return value->i();
}

double ConvertContext::attr_float(const std::string& name, double fallback) {
  const tf::AttrValue* value = attr(name);
  if (value == nullptr) return fallback;
  if (value->value_case() != tf::AttrValue::kF) {
    attr_kind_error(name, "a float");
    return fallback;
  }
  return value->f();
}

bool ConvertContext::attr_bool(const std::string& name, bool fallback) {
  const tf::AttrValue* value = attr(name);
  if (value == nullptr) return fallback;
  if (value->value_case() != tf::AttrValue::kB) {
    attr_kind_error(name, "a bool");
    return fallback;
  }
  return value->b();
}

std::string ConvertContext::attr_string(const std::string& name, const std::string& fallback) {
  const tf::AttrValue* value = attr(name);
  if (value == nullptr) return fallback;
  if (value->value_case() != tf::AttrValue::kS) {
    attr_kind_error(name, "a string");
    return fallback;
  }
  return value->s();
}

std::vector<int64_t> ConvertContext::attr_ints(const std::string& name,
                                               std::vector<int64_t> fallback) {
  const tf::AttrValue* value = attr(name);
  if (value == nullptr) return fallback;
  if (value->value_case() != tf::AttrValue::kList) {
    attr_kind_error(name, "a list of ints");
    return fallback;
  }
  return std::vector<int64_t>(value->list().i().begin(), value->list().i().end());
}

int ConvertContext::attr_type(const std::string& name, int fallback) {
  const tf::AttrValue* value = attr(name);
  if (value == nullptr) return fallback;
  if (value->value_case() != tf::AttrValue::kType) {
    attr_kind_error(name, "a type");
    return fallback;
  }
  return value->type();
}

ValueId ConvertContext::add_constant(const std::string& suffix, Tensor tensor) {
  return builder_.graph().add_constant(builder_.unique_name(name() + "/" + suffix),
                                       std::move(tensor));
}

ValueId ConvertContext::int64_constant(const std::string& suffix,
                                       const std::vector<int64_t>& values, bool scalar) {
  Shape shape = scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())};
  return add_constant(suffix, Tensor::from_vector<int64_t>(values, shape));
}

Expected<ValueId> ConvertContext::helper(OpType op, std::vector<ValueId> inputs,
                                         Attributes attributes, const std::string& suffix) {
  NNFI_RETURN_IF_ERROR(attr_error_);
  Node node;
  node.name = builder_.unique_name(name() + "/nnfi_" + suffix);
  node.op = op;
  node.attributes = std::move(attributes);
  node.inputs = std::move(inputs);
  const std::string output = node.name;
  NNFI_ASSIGN_OR_RETURN(std::vector<ValueId> outputs,
                        builder_.add_node(std::move(node), {output}, name(), /*helper=*/true));
  return outputs[0];
}

Status ConvertContext::emit(OpType op, std::vector<ValueId> inputs, Attributes attributes) {
  NNFI_RETURN_IF_ERROR(attr_error_);
  Node node;
  node.name = name();
  node.op = op;
  node.source_op = this->op();
  node.attributes = std::move(attributes);
  node.inputs = std::move(inputs);
  NNFI_ASSIGN_OR_RETURN(std::vector<ValueId> outputs,
                        builder_.add_node(std::move(node), {name()}, name(), /*helper=*/false));
  builder_.bind(name(), 0, outputs[0]);
  return Status::ok();
}

Status ConvertContext::alias(ValueId value) {
  NNFI_RETURN_IF_ERROR(attr_error_);
  builder_.bind(name(), 0, value);
  return Status::ok();
}

Status ConvertContext::output_constant(Tensor tensor) {
  NNFI_RETURN_IF_ERROR(attr_error_);
  builder_.bind(name(), 0, builder_.graph().add_constant(name(), std::move(tensor)));
  return Status::ok();
}

Status ConvertContext::output_input(DType dtype, Shape shape) {
  NNFI_RETURN_IF_ERROR(attr_error_);
  ValueId id = builder_.graph().add_value(name(), dtype, std::move(shape));
  builder_.graph().inputs.push_back(id);
  builder_.bind(name(), 0, id);
  return Status::ok();
}

}  // namespace nnfi::tf_import
