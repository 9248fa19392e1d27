#include "campaign/region_model.h"

#include <algorithm>

#include "kernels/kernel.h"

namespace nnfi::campaign {
namespace {

namespace window = kernels::window;

// Ops that compute each output element from the same element of their
// inputs (constants broadcast along channels), with no cross-element state.
bool is_pointwise(OpType op) {
  switch (op) {
    case OpType::kRelu:
    case OpType::kLeakyRelu:
    case OpType::kClip:
    case OpType::kElu:
    case OpType::kSelu:
    case OpType::kSigmoid:
    case OpType::kTanh:
    case OpType::kHardSigmoid:
    case OpType::kSoftplus:
    case OpType::kThresholdedRelu:
    case OpType::kGelu:
    case OpType::kAbs:
    case OpType::kNeg:
    case OpType::kSqrt:
    case OpType::kRsqrt:
    case OpType::kIdentity:
    case OpType::kDropout:
    case OpType::kAdd:
    case OpType::kSub:
    case OpType::kMul:
    case OpType::kDiv:
    case OpType::kMax:
    case OpType::kMin:
    case OpType::kBiasAdd:
    case OpType::kPRelu:
    case OpType::kBatchNormalization: return true;
    default: return false;
  }
}

ImageLayout image_layout(const Shape& shape, bool channels_last) {
  ImageLayout layout;
  if (shape.size() != 4 || shape[0] != 1) return layout;
  layout.known = true;
  layout.channels_last = channels_last;
  layout.channels = channels_last ? shape[3] : shape[1];
  layout.height = channels_last ? shape[1] : shape[2];
  layout.width = channels_last ? shape[2] : shape[3];
  return layout;
}

std::vector<kernels::TensorInfo> infos(const Plan& plan, const std::vector<ValueId>& values) {
  std::vector<kernels::TensorInfo> result;
  for (ValueId value : values) {
    if (value == kNoValue) {
      result.emplace_back();
      continue;
    }
    result.push_back(
        {plan.value_dtype(value), plan.value_shape(value), plan.constant_value(value)});
  }
  return result;
}

// A constant that broadcasts over a window of `layout` unchanged: numpy
// broadcasting against [1, C, H, W] / [1, H, W, C] with size 1 (or absent)
// on both spatial axes.
bool broadcasts_over_window(const Shape& shape, const ImageLayout& layout) {
  if (shape.size() > 4) return false;
  const size_t offset = 4 - shape.size();
  const int spatial[2] = {layout.channels_last ? 1 : 2, layout.channels_last ? 2 : 3};
  for (int axis : spatial) {
    if (static_cast<size_t>(axis) >= offset && shape[axis - offset] != 1) return false;
  }
  return true;
}

}  // namespace

void ImageLayout::position(int64_t index, int64_t* row, int64_t* col) const {
  const int64_t pixel = channels_last ? index / channels : index % (height * width);
  *row = pixel / width;
  *col = pixel % width;
}

RegionModel::RegionModel(const Plan& plan, const std::vector<NodeId>& reference_nodes) {
  const Graph& graph = plan.graph();
  std::vector<char> reference(graph.nodes.size(), 0);
  for (NodeId node : reference_nodes) {
    if (node >= 0 && static_cast<size_t>(node) < graph.nodes.size()) reference[node] = 1;
  }
  nodes_.resize(graph.nodes.size());
  layouts_.resize(graph.values.size());
  std::vector<char> conflict(graph.nodes.size(), 0);

  // Conv and pools on window kernels fix the layout of what they read and write.
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const auto id = static_cast<NodeId>(n);
    const Node& node = graph.nodes[n];
    if (plan.node_folded(id) || reference[n]) continue;
    const std::vector<kernels::TensorInfo> inputs = infos(plan, node.inputs);
    const std::vector<kernels::TensorInfo> outputs = infos(plan, node.outputs);
    RegionNode& region = nodes_[n];
    const bool channels_last = node.attributes.get_int("channels_last", 0) == 1;
    if (node.op == OpType::kConv) {
      std::optional<window::ConvGeometry> geometry =
          window::window_conv_geometry(node, inputs, outputs);
      if (!geometry || inputs[1].constant == nullptr) continue;
      const float* bias = inputs.size() > 2 && inputs[2].constant != nullptr
                              ? inputs[2].constant->data<float>()
                              : nullptr;
      region.conv =
          std::make_unique<window::WindowConv>(*geometry, inputs[1].constant->data<float>(), bias);
      region.rows = geometry->rows;
      region.cols = geometry->cols;
      region.op = RegionOp::kConv;
    } else if (node.op == OpType::kMaxPool || node.op == OpType::kAveragePool) {
      std::optional<window::PoolGeometry> geometry =
          window::window_pool_geometry(node, inputs, outputs);
      if (!geometry) continue;
      region.pool = *geometry;
      region.rows = geometry->rows;
      region.cols = geometry->cols;
      region.op = node.op == OpType::kMaxPool ? RegionOp::kMaxPool : RegionOp::kAveragePool;
    } else {
      continue;
    }
    layouts_[node.inputs[0]] = image_layout(inputs[0].shape, channels_last);
    layouts_[node.outputs[0]] = image_layout(outputs[0].shape, channels_last);
  }

  // Pointwise candidates pass the layout on, forwards and backwards, until
  // nothing changes (a chain of n candidates needs at most n rounds).
  auto candidate = [&](size_t n) {
    const Node& node = graph.nodes[n];
    const auto id = static_cast<NodeId>(n);
    if (!is_pointwise(node.op) || plan.node_folded(id) ||
        kernels::fast_kernel_factory(node.op) != nullptr || node.outputs.size() != 1 ||
        conflict[n]) {
      return false;
    }
    const Shape& shape = plan.value_shape(node.outputs[0]);
    return shape.size() == 4 && shape[0] == 1 &&
           plan.value_dtype(node.outputs[0]) == DType::kFloat32;
  };
  // Values computed from constants alone, at every run (not folded: they
  // are fault sites, as in InjectTF): the same for every image. A trial that
  // injects into one stops there (its layout is unknown), so wherever a
  // trial runs window by window they hold their golden values.
  std::vector<char> from_constants(graph.values.size(), 0);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    bool all = !node.inputs.empty();
    for (ValueId input : node.inputs) {
      if (input == kNoValue) continue;
      all = all && (plan.constant_value(input) != nullptr || from_constants[input]);
    }
    for (ValueId output : node.outputs) from_constants[output] = all ? 1 : 0;
  }
  auto windowed = [&](const Node& node, size_t i) {
    const ValueId input = node.inputs[i];
    return input != kNoValue && plan.constant_value(input) == nullptr && !from_constants[input];
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      if (!candidate(n)) continue;
      const Node& node = graph.nodes[n];
      const ImageLayout* known = nullptr;
      std::vector<ValueId> members{node.outputs[0]};
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        if (windowed(node, i)) members.push_back(node.inputs[i]);
      }
      for (ValueId value : members) {
        if (!layouts_[value].known) continue;
        if (known != nullptr && known->channels_last != layouts_[value].channels_last) {
          conflict[n] = 1;
        }
        known = &layouts_[value];
      }
      if (known == nullptr || conflict[n]) continue;
      const bool channels_last = known->channels_last;
      for (ValueId value : members) {
        if (layouts_[value].known) continue;
        const ImageLayout layout = image_layout(plan.value_shape(value), channels_last);
        if (!layout.known) continue;
        layouts_[value] = layout;
        changed = true;
      }
    }
  }

  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!candidate(n)) continue;
    const Node& node = graph.nodes[n];
    const ImageLayout& layout = layouts_[node.outputs[0]];
    if (!layout.known) continue;
    const Shape& output_shape = plan.value_shape(node.outputs[0]);
    RegionNode region;
    bool ok = true;
    int windowed_inputs = 0;
    for (size_t i = 0; i < node.inputs.size() && ok; ++i) {
      const ValueId input = node.inputs[i];
      const bool cut = windowed(node, i);
      region.windowed_input.push_back(cut ? 1 : 0);
      if (input == kNoValue) continue;
      if (cut) {
        ++windowed_inputs;
        ok = plan.value_shape(input) == output_shape &&
             plan.value_dtype(input) == DType::kFloat32 && layouts_[input].known &&
             layouts_[input].channels_last == layout.channels_last;
      } else if (node.op == OpType::kBatchNormalization) {
        ok = i > 0 && plan.value_shape(input).size() == 1;  // per-channel parameters
      } else if (node.op == OpType::kBiasAdd) {
        int64_t axis = node.attributes.get_int("axis", -1);
        if (axis < 0) axis += 4;
        ok = i == 1 && axis == (layout.channels_last ? 3 : 1);
      } else {
        ok = broadcasts_over_window(plan.value_shape(input), layout);
      }
    }
    if (!ok || windowed_inputs == 0) continue;
    region.op = RegionOp::kPointwise;
    nodes_[n] = std::move(region);
  }

  // Pointwise nodes that follow a conv or pool and can run on its output
  // window as the kernel leaves it (channels last, whatever the layout).
  std::vector<int32_t> readers(graph.values.size(), 0);
  std::vector<NodeId> reader(graph.values.size(), kNoNode);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId input : graph.nodes[n].inputs) {
      if (input == kNoValue) continue;
      ++readers[input];
      reader[input] = static_cast<NodeId>(n);
    }
  }
  for (ValueId output : graph.outputs) ++readers[output];  // read by the user
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    RegionNode& region = nodes_[n];
    if (region.op != RegionOp::kConv && region.op != RegionOp::kMaxPool &&
        region.op != RegionOp::kAveragePool) {
      continue;
    }
    for (ValueId output = graph.nodes[n].outputs[0];;) {
      if (readers[output] != 1 || nodes_[reader[output]].op != RegionOp::kPointwise) break;
      const Node& next = graph.nodes[reader[output]];
      const RegionNode& next_region = nodes_[reader[output]];
      bool layout_free = true;
      bool reads_only_this_window = true;
      for (size_t i = 0; i < next.inputs.size(); ++i) {
        const ValueId input = next.inputs[i];
        if (input == kNoValue || input == output) continue;
        const Tensor* constant = plan.constant_value(input);
        layout_free = layout_free && constant != nullptr && constant->num_elements() == 1;
        reads_only_this_window = reads_only_this_window && !next_region.windowed_input[i];
      }
      // On a channels-last value the kernel's window is already in the
      // node's own layout, so per-channel operands (a batch norm, a bias)
      // fit it too.
      const bool own_layout = layouts_[output].known && layouts_[output].channels_last;
      if (!layout_free && !(own_layout && reads_only_this_window)) break;
      region.fused_pointwise.push_back(reader[output]);
      output = next.outputs[0];
    }
  }
}

int64_t RegionModel::capable_count() const {
  return std::count_if(nodes_.begin(), nodes_.end(),
                       [](const RegionNode& node) { return node.op != RegionOp::kNone; });
}

}  // namespace nnfi::campaign
