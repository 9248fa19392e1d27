#include "campaign/region_trials.h"

#include <algorithm>

#include "campaign/region_help.h"
#include "campaign/region_image.h"
#include "campaign/trial_engine.h"
#include "kernels/kernel.h"

namespace nnfi::campaign {
namespace {

namespace window = kernels::window;

Shape patch_shape(const ImageLayout& layout, const Window& where) {
  return layout.channels_last ? Shape{1, where.rows(), where.cols(), layout.channels}
                              : Shape{1, layout.channels, where.rows(), where.cols()};
}

}  // namespace

const float* RegionWorker::golden_image(ValueId value) const {
  return golden_->executor->value(value).data<float>() + row_ * model_.layout(value).elements();
}

float* RegionWorker::image(ValueId value) {
  std::vector<float>& buffer = images_[value];
  const auto elements = static_cast<size_t>(model_.layout(value).elements());
  if (buffer.size() < elements) buffer.resize(elements);
  return buffer.data();
}

void RegionWorker::set_damage(ValueId value, Damage damage, Window where) {
  ValueState& state = states_[value];
  if (damage == Damage::kWindow && where.empty()) damage = Damage::kNone;
  if (state.damage == Damage::kNone && damage != Damage::kNone) touched_.push_back(value);
  state.damage = damage;
  state.window = damage == Damage::kNone ? Window{} : where;
}

Status RegionWorker::inject(const std::vector<SettingSite>& sites,
                            const std::vector<const FaultModel*>& models, int s, Trial& trial) {
  const ValueId value = sites[s].site.value;
  const ImageLayout& layout = model_.layout(value);
  const int64_t elements = layout.elements();
  for (const PendingFault& pending : trial.faults) {
    if (pending.site != s) continue;
    // The elements a fault hits do not depend on the values there (fault.h:
    // the draw order is fixed), so a first draw into scratch tells where it
    // lands; the window is then made valid there and the same draw is
    // repeated on the real values.
    if (draws_.size() < static_cast<size_t>(elements)) draws_.resize(elements);
    RandomStream where_rng(pending.key, pending.first_draw);
    const std::vector<ElementFault> where =
        inject_fault_at(*models[s], TensorView{draws_.data(), DType::kFloat32, elements},
                        pending.fixed_element, where_rng);
    if (where.empty()) continue;
    Window reach{layout.height, 0, layout.width, 0};
    for (const ElementFault& fault : where) {
      int64_t r = 0, c = 0;
      layout.position(fault.element, &r, &c);
      reach = window::window_union(reach.empty() ? Window{r, r + 1, c, c + 1} : reach,
                                   Window{r, r + 1, c, c + 1});
    }
    const ValueState state = states_[value];
    const Window kept = state.damage == Damage::kWindow ? state.window : Window{};
    const Window grown = window::window_union(kept, reach);
    float* data = image(value);
    fill_from_golden(layout, golden_image(value), kept, grown, data);
    RandomStream rng(pending.key, pending.first_draw);
    const std::vector<ElementFault> applied = inject_fault_at(
        *models[s], TensorView{data, DType::kFloat32, elements}, pending.fixed_element, rng);
    bool same = applied.size() == where.size();
    for (size_t k = 0; same && k < applied.size(); ++k) {
      same = applied[k].element == where[k].element;
    }
    if (!same) {
      return internal_error("fault draws at site '" + sites[s].site.name +
                            "' depend on the values; run with --engine prefix");
    }
    for (const ElementFault& fault : applied) trial.applied.push_back({s, fault});
    set_damage(value, Damage::kWindow, differing_window(layout, data, golden_image(value), grown));
  }
  return Status::ok();
}

Status RegionWorker::run_pointwise(const Node& node, const RegionNode& region,
                                   const std::vector<float*>& windowed, const Shape& shape,
                                   float* output) {
  std::vector<Tensor>& views = pointwise_views_;
  views.assign(node.inputs.size() + 1, Tensor());
  std::vector<const Tensor*> inputs(node.inputs.size(), nullptr);
  const Plan& plan = golden_->executor->plan();
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] == kNoValue) continue;
    if (!region.windowed_input[i]) {
      // A constant, or a value computed from constants (region_model.h).
      inputs[i] = plan.constant_value(node.inputs[i]);
      if (inputs[i] == nullptr) inputs[i] = &golden_->executor->value(node.inputs[i]);
      continue;
    }
    views[i] = Tensor::view(DType::kFloat32, shape, windowed[i]);
    inputs[i] = &views[i];
  }
  views.back() = Tensor::view(DType::kFloat32, shape, output);
  Tensor* outputs[1] = {&views.back()};
  kernels::EvalContext context{node, inputs, outputs};
  return kernels::op_def(node.op).reference(context);
}

Status RegionWorker::run_node(NodeId id, std::span<const NodeId> fuse) {
  const Plan& plan = golden_->executor->plan();
  const Node& node = plan.graph().nodes[id];
  const RegionNode& region = model_.node(id);
  const ValueId out = node.outputs[0];
  const ImageLayout& out_layout = model_.layout(out);
  if (region.op == RegionOp::kPointwise) {
    Window reach;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (!region.windowed_input[i]) continue;
      const ValueState& state = states_[node.inputs[i]];
      if (state.damage == Damage::kWindow) reach = window::window_union(reach, state.window);
    }
    const auto floats = static_cast<size_t>(reach.area() * out_layout.channels);
    if (pointwise_in_.size() < node.inputs.size()) pointwise_in_.resize(node.inputs.size());
    std::vector<float*> windowed(node.inputs.size(), nullptr);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (!region.windowed_input[i]) continue;
      const ValueId input = node.inputs[i];
      const ValueState& state = states_[input];
      pointwise_in_[i].resize(floats);
      windowed[i] = pointwise_in_[i].data();
      gather_patch(model_.layout(input), golden_image(input), image(input),
                   state.damage == Damage::kWindow ? state.window : Window{}, reach, windowed[i]);
    }
    patch_out_.resize(floats);
    NNFI_RETURN_IF_ERROR(
        run_pointwise(node, region, windowed, patch_shape(out_layout, reach), patch_out_.data()));
    float* data = image(out);
    scatter_patch(out_layout, patch_out_.data(), reach, data);
    set_damage(out, Damage::kWindow, differing_window(out_layout, data, golden_image(out), reach));
    return Status::ok();
  }

  const ValueId in = node.inputs[0];
  const ValueState& state = states_[in];
  if (state.damage != Damage::kWindow) {
    set_damage(out, Damage::kNone, Window{});
    return Status::ok();
  }
  const Window reach = window::output_window(region.rows, region.cols, state.window);
  if (reach.empty()) {
    set_damage(out, Damage::kNone, Window{});
    return Status::ok();
  }
  const Window read = window::input_window(region.rows, region.cols, reach);
  const ImageLayout& in_layout = model_.layout(in);
  const auto out_floats = static_cast<size_t>(reach.area() * out_layout.channels);
  patch_in_.resize(static_cast<size_t>(read.area() * in_layout.channels));
  patch_out_.resize(out_floats);
  gather_channels_last(in_layout, golden_image(in), image(in), state.window, read,
                       patch_in_.data());
  switch (region.op) {
    case RegionOp::kConv:
      multiply_adds_ += region.conv->multiply_adds(reach);
      if (help_ != nullptr) {
        help_->run(*region.conv, patch_in_.data(), read, reach, patch_out_.data());
      } else {
        region.conv->run(patch_in_.data(), read, reach, patch_out_.data());
      }
      break;
    case RegionOp::kMaxPool:
      window::max_pool_window(region.pool, patch_in_.data(), read, reach, patch_out_.data());
      break;
    case RegionOp::kAveragePool:
      window::average_pool_window(region.pool, patch_in_.data(), read, reach, patch_out_.data());
      break;
    default: return internal_error("node '" + node.name + "' cannot run window by window");
  }
  ValueId stored = out;
  float* result = patch_out_.data();
  for (size_t k = 0; k < fuse.size(); ++k) {
    // The pointwise nodes on the window as the kernel left it, one after the
    // other (the last one's output is all that is stored; the others stay as
    // golden says, and nothing reads them).
    const Node& next = plan.graph().nodes[fuse[k]];
    std::vector<float*> windowed(next.inputs.size(), nullptr);
    for (size_t i = 0; i < next.inputs.size(); ++i) {
      if (next.inputs[i] == stored) windowed[i] = result;
    }
    std::vector<float>& fused = fused_out_[k % 2];
    fused.resize(out_floats);
    NNFI_RETURN_IF_ERROR(run_pointwise(next, model_.node(fuse[k]), windowed,
                                       Shape{1, reach.rows(), reach.cols(), out_layout.channels},
                                       fused.data()));
    stored = next.outputs[0];
    result = fused.data();
  }
  const ImageLayout& stored_layout = model_.layout(stored);
  float* data = image(stored);
  scatter_channels_last(stored_layout, result, reach, data);
  set_damage(stored, Damage::kWindow,
             differing_window(stored_layout, data, golden_image(stored), reach));
  return Status::ok();
}

Status RegionWorker::run(const GoldenBatch& golden, const ResumePlan& resume,
                         const std::vector<SettingSite>& sites,
                         const std::vector<const FaultModel*>& models, Trial& trial,
                         RegionOutcome* outcome) {
  const Graph& graph = golden.executor->plan().graph();
  golden_ = &golden;
  row_ = trial.row;
  if (states_.size() != graph.values.size()) {
    states_.assign(graph.values.size(), ValueState{});
    images_.resize(graph.values.size());
    touched_.clear();
  }
  for (ValueId value : touched_) states_[value] = ValueState{};
  touched_.clear();
  outcome->masked = false;
  outcome->rows.clear();

  // The sites this trial injects at, in site order (as InjectionHook), and
  // the position of the last node among them.
  std::vector<int> trial_sites;
  for (const PendingFault& pending : trial.faults) trial_sites.push_back(pending.site);
  std::sort(trial_sites.begin(), trial_sites.end());
  trial_sites.erase(std::unique(trial_sites.begin(), trial_sites.end()), trial_sites.end());
  int32_t last_site = -1;
  for (size_t i = 0; i < resume.nodes.size(); ++i) {
    for (int s : trial_sites) {
      if (sites[s].site.node == resume.nodes[i]) last_site = static_cast<int32_t>(i);
    }
  }
  auto injects_at = [&](NodeId node) {
    for (int s : trial_sites) {
      if (sites[s].site.node == node) return true;
    }
    return false;
  };
  auto stop_at = [&](int32_t position) {
    outcome->stop = position;
    for (ValueId value : touched_) {
      const ValueState& state = states_[value];
      if (state.damage != Damage::kWindow || resume.last_use[value] < position) continue;
      const ImageLayout& layout = model_.layout(value);
      float* data = image(value);
      fill_from_golden(layout, golden_image(value), state.window, layout.full(), data);
      outcome->rows.push_back({value, std::vector<float>(data, data + layout.elements())});
    }
    return Status::ok();
  };

  for (size_t i = 0; i < resume.nodes.size(); ++i) {
    const auto position = static_cast<int32_t>(i);
    const NodeId id = resume.nodes[i];
    const Node& node = graph.nodes[id];
    bool changed_input = false;
    for (ValueId input : node.inputs) {
      changed_input =
          changed_input || (input != kNoValue && states_[input].damage != Damage::kNone);
    }
    std::vector<int> sites_here;
    for (int s : trial_sites) {
      if (sites[s].site.node != id) continue;
      if (!model_.layout(sites[s].site.value).known) return stop_at(position);
      sites_here.push_back(s);
    }
    if (changed_input) {
      if (!model_.capable(id)) return stop_at(position);
      // A conv's Relu (batch norm, ...) runs with it when they follow it
      // here too and nothing is injected in between: up to and including
      // the first one this trial injects into, whose output is then stored
      // for the injection at its turn. They see no changed input at theirs.
      const std::vector<NodeId>& chain = model_.node(id).fused_pointwise;
      size_t fused = 0;
      ValueId last = node.outputs[0];
      while (sites_here.empty() && fused < chain.size() && i + 1 + fused < resume.nodes.size() &&
             resume.nodes[i + 1 + fused] == chain[fused] &&
             resume.last_use[last] == position + 1 + static_cast<int32_t>(fused)) {
        last = graph.nodes[chain[fused]].outputs[0];
        ++fused;
        if (injects_at(chain[fused - 1])) break;
      }
      NNFI_RETURN_IF_ERROR(run_node(id, std::span<const NodeId>(chain.data(), fused)));
    }
    for (int s : sites_here) NNFI_RETURN_IF_ERROR(inject(sites, models, s, trial));
    if (position >= last_site) {
      bool alive = false;
      for (ValueId value : touched_) {
        alive =
            alive || (states_[value].damage != Damage::kNone && resume.last_use[value] > position);
      }
      if (!alive) {
        outcome->masked = true;
        return Status::ok();
      }
    }
  }
  return stop_at(static_cast<int32_t>(resume.nodes.size()));
}

}  // namespace nnfi::campaign
