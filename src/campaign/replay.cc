// nnfi::replay_fault: one recorded fault, alone, on its image, with a report
// of how far it spreads: per layer downstream, how many elements differ from
// the golden run and by how much.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "campaign/campaign_setup.h"
#include "campaign/result_store.h"
#include "nnfi/campaign.h"

namespace nnfi {
namespace campaign {
namespace {

// Applies one recorded element fault when its node has run.
class ReplayHook : public Hook {
 public:
  ReplayHook(const Site& site, const ElementFault& fault) : site_(site), fault_(fault) {}
  std::vector<NodeId> nodes_to_observe(const Plan&) override {
    if (site_.kind == SiteKind::kWeight || site_.kind == SiteKind::kInput) return {};
    return {site_.node};
  }
  Status on_node_done(NodeId node, std::span<Tensor* const> outputs) override {
    const std::vector<ValueId>& values = graph_->nodes[node].outputs;
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] != site_.value) continue;
      Tensor& tensor = *outputs[i];
      apply_element_fault({tensor.raw_data(), tensor.dtype(), tensor.num_elements()}, fault_);
    }
    return Status::ok();
  }
  const Graph* graph_ = nullptr;

 private:
  Site site_;
  ElementFault fault_;
};

struct Difference {
  int64_t differing = 0, elements = 0;
  double largest = 0;
  bool non_finite = false;
};

Difference compare(const Tensor& golden, const Tensor& faulty) {
  Difference difference;
  difference.elements = golden.num_elements();
  if (golden.dtype() != DType::kFloat32 || faulty.num_elements() != golden.num_elements()) {
    difference.differing = golden.bitwise_equal(faulty) ? 0 : difference.elements;
    return difference;
  }
  const float* a = golden.data<float>();
  const float* b = faulty.data<float>();
  for (int64_t i = 0; i < difference.elements; ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) == 0) continue;
    ++difference.differing;
    if (!std::isfinite(b[i])) {
      difference.non_finite = true;
      continue;
    }
    difference.largest = std::max(difference.largest, std::fabs(static_cast<double>(a[i]) - b[i]));
  }
  return difference;
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

std::string bits_text(uint64_t bits) {
  char text[24];
  std::snprintf(text, sizeof(text), "0x%08llx", static_cast<unsigned long long>(bits));
  return text;
}

}  // namespace
}  // namespace campaign

Expected<std::string> replay_fault(const std::filesystem::path& out_dir, int64_t fault_id) {
  using namespace campaign;
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<ResultStore> store,
                        ResultStore::open_existing(out_dir / "results.sqlite"));
  NNFI_ASSIGN_OR_RETURN(std::optional<FaultRow> found, store->fault(fault_id));
  if (!found) {
    NNFI_ASSIGN_OR_RETURN(int64_t count, store->fault_count());
    return not_found(out_dir.string() + ": no fault with id " + std::to_string(fault_id) +
                     " (the store holds " + std::to_string(count) + " faults)");
  }
  const FaultRow& row = *found;
  NNFI_ASSIGN_OR_RETURN(std::string spec_json, store->campaign_value("spec"));
  NNFI_ASSIGN_OR_RETURN(CampaignSpec spec, campaign_spec_from_json(spec_json));
  // The kernels the campaign ran on (campaign_setup.cc marks oneDNN runs).
  NNFI_ASSIGN_OR_RETURN(std::string config, store->campaign_value("config"));
  const bool window_kernels = config.find("\n# kernels: onednn") == std::string::npos;
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<PreparedCampaign> campaign,
                        prepare_campaign(spec, Engine::kNaive, 1, window_kernels));
  const PreparedSetting* setting = nullptr;
  for (const PreparedSetting& candidate : campaign->settings) {
    if (candidate.experiment == row.experiment && candidate.setting == row.setting) {
      setting = &candidate;
    }
  }
  if (setting == nullptr)
    return internal_error("fault " + std::to_string(fault_id) + ": its setting is gone");
  const Site* site = nullptr;
  for (const SettingSite& candidate : setting->group.sites) {
    if (candidate.site.name == row.site) site = &candidate.site;
  }
  if (site == nullptr)
    return internal_error("fault " + std::to_string(fault_id) + ": site '" + row.site +
                          "' is gone");
  const Graph& graph = *campaign->graph;
  // A permanent weight fault (image -1) is shown on the first image.
  const int64_t image = std::max<int64_t>(row.image, 0);
  NNFI_ASSIGN_OR_RETURN(DataBatch data, campaign->dataset->read(image, 1));
  if (data.ids.empty())
    return invalid_argument("image " + std::to_string(image) + " could not be read");
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, campaign->trial_plans->get(1));
  Executor golden(plan), faulty(plan);
  NNFI_RETURN_IF_ERROR(golden.set_input(campaign->feed_index, data.inputs));
  NNFI_RETURN_IF_ERROR(golden.run());
  NNFI_RETURN_IF_ERROR(faulty.set_input(campaign->feed_index, data.inputs));
  const ElementFault fault{row.element, row.before, row.after};
  Tensor corrupted_weight;
  if (site->kind == SiteKind::kWeight) {
    corrupted_weight = plan->constant_value(site->value)->clone();
    apply_element_fault(
        {corrupted_weight.raw_data(), corrupted_weight.dtype(), corrupted_weight.num_elements()},
        fault);
    NNFI_RETURN_IF_ERROR(faulty.bind_value(site->value, &corrupted_weight));
  } else if (site->kind == SiteKind::kInput) {
    Tensor& input = faulty.value(site->value);
    apply_element_fault({input.raw_data(), input.dtype(), input.num_elements()}, fault);
  }
  ReplayHook hook(*site, fault);
  hook.graph_ = &graph;
  faulty.add_hook(&hook);
  NNFI_RETURN_IF_ERROR(faulty.run());

  std::string report;
  char line[512];
  std::snprintf(line, sizeof(line),
                "fault %lld: experiment '%s', setting %lld (%s, p=%g), repetition %lld\n"
                "  image %lld (%s), site '%s' (%s %s), element %lld: %s -> %s%s\n",
                static_cast<long long>(row.id), setting->spec->name.c_str(),
                static_cast<long long>(row.setting), setting->group.name.c_str(), setting->amount,
                static_cast<long long>(row.repetition), static_cast<long long>(image),
                campaign->dataset->example_source(image).c_str(), site->name.c_str(),
                std::string(site_kind_name(site->kind)).c_str(), site->op_type.c_str(),
                static_cast<long long>(row.element), bits_text(row.before).c_str(),
                bits_text(row.after).c_str(),
                row.bit >= 0 ? (" (bit " + std::to_string(row.bit) + ")").c_str() : "");
  report += line;
  std::snprintf(line, sizeof(line), "  %-5s %-36s %-18s %12s %14s\n", "layer", "name", "class",
                "differing", "largest diff");
  report += line;
  const std::vector<NodeId> downstream = [&] {
    std::vector<ValueId> changed{site->value};
    std::vector<NodeId> nodes = plan->downstream_nodes(changed);
    if (site->node != kNoNode && site->kind != SiteKind::kWeight)
      nodes.insert(nodes.begin(), site->node);
    return nodes;
  }();
  std::vector<bool> affected(graph.nodes.size(), false);
  for (NodeId node : downstream) affected[node] = true;
  for (size_t l = 0; l < graph.layers.size(); ++l) {
    const Layer& layer = graph.layers[l];
    bool touched = false;
    for (NodeId node : layer.nodes) touched = touched || affected[node];
    if (!touched || layer.output == kNoValue) continue;
    const Difference difference = compare(golden.value(layer.output), faulty.value(layer.output));
    std::snprintf(line, sizeof(line), "  %-5zu %-36.36s %-18.18s %5lld/%-6lld %14s\n", l,
                  layer.name.c_str(), layer.class_name.c_str(),
                  static_cast<long long>(difference.differing),
                  static_cast<long long>(difference.elements),
                  difference.non_finite ? "non-finite" : number_text(difference.largest).c_str());
    report += line;
  }
  const Tensor& golden_out = golden.value(campaign->fetch);
  const Tensor& faulty_out = faulty.value(campaign->fetch);
  const int64_t golden_top = top1_index(golden_out.data<float>(), campaign->classes);
  const int64_t faulty_top = top1_index(faulty_out.data<float>(), campaign->classes);
  Outcome outcome = Outcome::kMasked;
  if (!golden_out.bitwise_equal(faulty_out)) {
    bool finite = true;
    for (int64_t c = 0; c < campaign->classes; ++c) {
      finite = finite && std::isfinite(faulty_out.data<float>()[c]);
    }
    outcome = !finite ? Outcome::kNonFinite
                      : (faulty_top == golden_top ? Outcome::kBenign : Outcome::kSdc);
  }
  std::snprintf(
      line, sizeof(line), "  output: top-1 %lld (golden %lld, label %lld): %s (recorded: %s)\n",
      static_cast<long long>(faulty_top), static_cast<long long>(golden_top),
      static_cast<long long>(data.labels[0]), outcome_name(outcome), outcome_name(row.outcome));
  report += line;
  return report;
}

}  // namespace nnfi
