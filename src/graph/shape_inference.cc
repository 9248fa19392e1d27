#include "graph/shape_inference.h"

#include <algorithm>

namespace nnfi {
namespace {

bool is_shape_arithmetic(const std::vector<kernels::TensorInfo>& outputs) {
  for (const auto& output : outputs) {
    if (dtype_is_float(output.dtype)) return false;
  }
  return true;
}

}  // namespace

Expected<InferredValues> infer_values(const Graph& graph, const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() != graph.inputs.size()) {
    return invalid_argument("expected " + std::to_string(graph.inputs.size()) +
                            " input shapes, got " + std::to_string(input_shapes.size()));
  }
  InferredValues result;
  result.infos.resize(graph.values.size());
  result.folded.resize(graph.values.size());
  result.node_folded.assign(graph.nodes.size(), false);
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const Value& value = graph.values[v];
    if (value.is_constant()) {
      result.infos[v] = {value.constant.dtype(), value.constant.shape(), &value.constant};
    }
  }
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    const Value& value = graph.values[graph.inputs[i]];
    result.infos[graph.inputs[i]] = {value.dtype, input_shapes[i], nullptr};
  }
  std::vector<kernels::TensorInfo> inputs;
  std::vector<kernels::TensorInfo> outputs;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    const std::string where =
        "node '" + node.name + "' (" + std::string(op_type_name(node.op)) + ")";
    inputs.clear();
    bool all_constant = true;
    for (ValueId input : node.inputs) {
      if (input == kNoValue) {
        inputs.push_back({});
        continue;
      }
      const kernels::TensorInfo& info = result.infos[input];
      if (!info.present()) {
        return internal_error(where + ": input '" + graph.values[input].name +
                              "' has no inferred type (graph not topologically sorted?)");
      }
      if (info.constant == nullptr) all_constant = false;
      inputs.push_back(info);
    }
    outputs.assign(node.outputs.size(), {});
    kernels::PrepareContext context{node, inputs, outputs};
    Status status = kernels::op_def(node.op).prepare(context);
    if (!status.is_ok()) return status.with_context(where);
    for (size_t o = 0; o < outputs.size(); ++o) {
      if (!outputs[o].present() || !shape_is_known(outputs[o].shape)) {
        return internal_error(where + ": prepare left output " + std::to_string(o) + " undefined");
      }
    }
    // Shape reads only the input's shape, so it folds as soon as that is known.
    bool foldable = (all_constant || node.op == OpType::kShape) && is_shape_arithmetic(outputs);
    if (foldable) {
      std::vector<const Tensor*> input_tensors;
      std::vector<Tensor> placeholders;  // Shape's input data is never read
      placeholders.reserve(node.inputs.size());
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        if (inputs[i].constant != nullptr) {
          input_tensors.push_back(inputs[i].constant);
        } else if (inputs[i].present()) {
          placeholders.emplace_back(inputs[i].dtype, Shape(inputs[i].shape.size(), 0));
          input_tensors.push_back(&placeholders.back());
        } else {
          input_tensors.push_back(nullptr);
        }
      }
      std::vector<Tensor*> output_tensors;
      for (size_t o = 0; o < outputs.size(); ++o) {
        result.folded[node.outputs[o]] = Tensor(outputs[o].dtype, outputs[o].shape);
        output_tensors.push_back(&result.folded[node.outputs[o]]);
      }
      kernels::EvalContext eval{node, input_tensors, output_tensors};
      // Shape reads shapes from TensorInfo-equivalent dims: give it the real one.
      if (node.op == OpType::kShape) {
        Tensor& out = result.folded[node.outputs[0]];
        const Shape& shape = inputs[0].shape;
        int64_t rank = static_cast<int64_t>(shape.size());
        int64_t start = node.attributes.get_int("start", 0);
        int64_t end = node.attributes.get_int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = std::clamp<int64_t>(start, 0, rank);
        end = std::clamp<int64_t>(end, start, rank);
        for (int64_t d = start; d < end; ++d) out.data<int64_t>()[d - start] = shape[d];
      } else {
        status = kernels::op_def(node.op).reference(eval);
        if (!status.is_ok()) return status.with_context(where);
      }
      result.node_folded[n] = true;
      for (size_t o = 0; o < outputs.size(); ++o) {
        outputs[o].constant = &result.folded[node.outputs[o]];
      }
    }
    for (size_t o = 0; o < outputs.size(); ++o) result.infos[node.outputs[o]] = outputs[o];
  }
  return result;
}

Status infer_graph_shapes(Graph& graph) {
  std::vector<Shape> with_one;
  std::vector<Shape> with_two;
  for (ValueId input : graph.inputs) {
    Shape one = graph.values[input].shape;
    Shape two = one;
    for (size_t d = 0; d < one.size(); ++d) {
      if (one[d] < 0) {
        one[d] = 1;
        two[d] = 2;
      }
    }
    with_one.push_back(one);
    with_two.push_back(two);
  }
  NNFI_ASSIGN_OR_RETURN(InferredValues first, infer_values(graph, with_one));
  NNFI_ASSIGN_OR_RETURN(InferredValues second, infer_values(graph, with_two));
  for (size_t v = 0; v < graph.values.size(); ++v) {
    Value& value = graph.values[v];
    if (value.is_constant() || !first.infos[v].present()) continue;
    bool is_input = value.producer == kNoNode;
    if (is_input) continue;
    value.dtype = first.infos[v].dtype;
    Shape shape = first.infos[v].shape;
    const Shape& other = second.infos[v].shape;
    if (other.size() != shape.size()) {
      shape.assign(shape.size(), kUnknownDim);
    } else {
      for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] != other[d]) shape[d] = kUnknownDim;
      }
    }
    value.shape = shape;
  }
  return Status::ok();
}

}  // namespace nnfi
