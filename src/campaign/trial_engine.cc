#include "campaign/trial_engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <set>

namespace nnfi::campaign {
namespace {

// Copies row `from` of `source` ([rows, ...]) into row `to` of `target`.
// False when the two do not share a leading batch axis with equal rows.
bool copy_row(const Tensor& source, int64_t source_rows, int64_t from, Tensor& target,
              int64_t target_rows, int64_t to) {
  if (source.rank() == 0 || target.rank() == 0 || source.dim(0) != source_rows ||
      target.dim(0) != target_rows || source.dtype() != target.dtype()) {
    return false;
  }
  const size_t row_bytes = source.num_bytes() / static_cast<size_t>(source_rows);
  if (row_bytes * static_cast<size_t>(target_rows) != target.num_bytes()) return false;
  std::memcpy(static_cast<char*>(target.raw_data()) + row_bytes * to,
              static_cast<const char*>(source.raw_data()) + row_bytes * from, row_bytes);
  return true;
}

TensorView row_view(Tensor& tensor, int64_t rows, int64_t row) {
  const int64_t per_row = tensor.num_elements() / rows;
  const size_t element_bytes = dtype_size(tensor.dtype());
  return TensorView{static_cast<char*>(tensor.raw_data()) + element_bytes * per_row * row,
                    tensor.dtype(), per_row};
}

// Injects the pending faults of a chunk when the sites' nodes have run.
class InjectionHook : public Hook {
 public:
  InjectionHook(const std::vector<SettingSite>& sites, const std::vector<const FaultModel*>& models,
                const ResumePlan& resume, Trial* trials, int64_t count, int64_t rows)
      : sites_(sites),
        models_(models),
        resume_(resume),
        trials_(trials),
        count_(count),
        rows_(rows) {}

  std::vector<NodeId> nodes_to_observe(const Plan&) override { return resume_.observed; }

  Status on_node_done(NodeId node, std::span<Tensor* const> outputs) override {
    const Graph& graph = *graph_;
    for (size_t s = 0; s < sites_.size(); ++s) {
      const Site& site = sites_[s].site;
      if (site.node != node || site.kind == SiteKind::kWeight) continue;
      const std::vector<ValueId>& node_outputs = graph.nodes[node].outputs;
      auto position = std::find(node_outputs.begin(), node_outputs.end(), site.value);
      if (position == node_outputs.end()) continue;
      inject_site(static_cast<int>(s), *outputs[position - node_outputs.begin()]);
    }
    return Status::ok();
  }

  // Injects every pending fault at site `s` into `tensor` (rows_ rows).
  void inject_site(int s, Tensor& tensor) {
    if (sites_[s].site.shared) {
      inject_shared(s, tensor);
      return;
    }
    for (int64_t t = 0; t < count_; ++t) {
      Trial& trial = trials_[t];
      for (const PendingFault& pending : trial.faults) {
        if (pending.site != s) continue;
        RandomStream rng(pending.key, pending.first_draw);
        for (const ElementFault& fault :
             inject_fault_at(*models_[s], row_view(tensor, rows_, t), pending.fixed_element, rng)) {
          trial.applied.push_back({s, fault});
        }
      }
    }
  }

  void set_graph(const Graph* graph) { graph_ = graph; }

 private:
  // A shared tensor (no batch axis) is read by every row: the trials of a
  // chunk carry the same faults there (TrialEngine::run groups them), so
  // they are applied once and recorded for every trial.
  void inject_shared(int s, Tensor& tensor) {
    if (count_ == 0) return;
    std::vector<AppliedFault> applied;
    for (const PendingFault& pending : trials_[0].faults) {
      if (pending.site != s) continue;
      const TensorView view{tensor.raw_data(), tensor.dtype(), tensor.num_elements()};
      RandomStream rng(pending.key, pending.first_draw);
      for (const ElementFault& fault :
           inject_fault_at(*models_[s], view, pending.fixed_element, rng)) {
        applied.push_back({s, fault});
      }
    }
    for (int64_t t = 0; t < count_; ++t) {
      trials_[t].applied.insert(trials_[t].applied.end(), applied.begin(), applied.end());
    }
  }

 public:
 private:
  const std::vector<SettingSite>& sites_;
  const std::vector<const FaultModel*>& models_;
  const ResumePlan& resume_;
  Trial* trials_;
  int64_t count_;
  int64_t rows_;
  const Graph* graph_ = nullptr;
};

}  // namespace

Expected<std::shared_ptr<const Plan>> PlanCache::get(int64_t rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = plans_.find(rows);
  if (found != plans_.end()) return found->second;
  std::vector<Shape> shapes;
  for (size_t i = 0; i < graph_->inputs.size(); ++i) {
    const Value& input = graph_->values[graph_->inputs[i]];
    Shape shape;
    if (i == feed_index_) {
      shape.push_back(rows);
      shape.insert(shape.end(), sample_shape_.begin(), sample_shape_.end());
    } else {
      // Other inputs are fed zeros with their own shape (unknown dims: the batch, else 1).
      shape = input.shape;
      for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] < 0) shape[d] = d == 0 ? rows : 1;
      }
    }
    shapes.push_back(std::move(shape));
  }
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan, Plan::create(graph_, shapes, options_));
  plans_[rows] = plan;
  return std::shared_ptr<const Plan>(plan);
}

Expected<int64_t> PlanCache::bytes_per_image() {
  if (bytes_per_image_ > 0) return bytes_per_image_;
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, get(1));
  int64_t bytes = 0;
  for (size_t v = 0; v < graph_->values.size(); ++v) {
    const auto id = static_cast<ValueId>(v);
    if (plan->constant_value(id) != nullptr || plan->value_dtype(id) == DType::kUndefined) continue;
    bytes += shape_num_elements(plan->value_shape(id)) *
             static_cast<int64_t>(dtype_size(plan->value_dtype(id)));
  }
  return bytes;
}

ResumePlan make_resume_plan(const Plan& plan, const std::vector<SettingSite>& sites, Engine engine,
                            ValueId fetch, const RegionModel* regions) {
  const Graph& graph = plan.graph();
  static std::atomic<uint64_t> next_id{1};
  ResumePlan resume;
  resume.id = next_id++;
  std::set<NodeId> observed;
  std::vector<ValueId> changed;
  std::vector<NodeId> producers;
  for (const SettingSite& setting_site : sites) {
    const Site& site = setting_site.site;
    changed.push_back(site.value);
    if (site.kind != SiteKind::kWeight && site.kind != SiteKind::kInput) {
      producers.push_back(site.node);
      observed.insert(site.node);
    }
  }
  std::vector<bool> run(graph.nodes.size(), false);
  if (engine == Engine::kNaive) {
    std::fill(run.begin(), run.end(), true);
  } else {
    for (NodeId node : producers) run[node] = true;
    for (NodeId node : plan.downstream_nodes(changed)) run[node] = true;
  }
  std::vector<bool> produced(graph.values.size(), false);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!run[n] || plan.node_folded(static_cast<NodeId>(n))) continue;
    resume.nodes.push_back(static_cast<NodeId>(n));
    for (ValueId output : graph.nodes[n].outputs) produced[output] = true;
  }
  std::set<ValueId> frontier;
  for (NodeId node : resume.nodes) {
    for (ValueId input : graph.nodes[node].inputs) {
      if (input == kNoValue || produced[input] || plan.constant_value(input) != nullptr) continue;
      frontier.insert(input);
    }
  }
  if (!produced[fetch] && plan.constant_value(fetch) == nullptr) frontier.insert(fetch);
  // Input sites are corrupted in the frontier copy itself.
  for (const SettingSite& setting_site : sites) {
    if (setting_site.site.kind == SiteKind::kInput) frontier.insert(setting_site.site.value);
  }
  resume.frontier.assign(frontier.begin(), frontier.end());
  resume.observed.assign(observed.begin(), observed.end());
  resume.stop_when_masked = engine == Engine::kCachedPrefix;  // not kPrefixOnly, not kNaive
  resume.last_use.assign(graph.values.size(), -1);
  for (size_t i = 0; i < resume.nodes.size(); ++i) {
    const NodeId node = resume.nodes[i];
    for (ValueId input : graph.nodes[node].inputs) {
      if (input != kNoValue) resume.last_use[input] = static_cast<int32_t>(i);
    }
    if (observed.count(node)) resume.last_observed = static_cast<int32_t>(i);
  }
  resume.last_use[fetch] = static_cast<int32_t>(resume.nodes.size());
  // Windows need activation sites with a batch axis: weight faults change
  // every output position, shared tensors every image.
  resume.use_regions = resume.stop_when_masked && regions != nullptr && !sites.empty();
  for (const SettingSite& setting_site : sites) {
    const Site& site = setting_site.site;
    if (site.shared ||
        (site.kind != SiteKind::kNodeOutput && site.kind != SiteKind::kLayerOutput)) {
      resume.use_regions = false;
    }
  }
  return resume;
}

std::vector<ElementFault> inject_fault_at(const FaultModel& model, TensorView view,
                                          int64_t fixed_element, RandomStream& rng) {
  if (fixed_element < 0 || fixed_element >= view.elements) return inject_fault(model, view, rng);
  const TensorView one{static_cast<char*>(view.data) + dtype_size(view.dtype) * fixed_element,
                       view.dtype, 1};
  std::vector<ElementFault> faults = inject_fault(model, one, rng);
  for (ElementFault& fault : faults) fault.element += fixed_element;
  return faults;
}

int64_t top1_index(const float* scores, int64_t classes) {
  int64_t best = 0;
  for (int64_t c = 0; c < classes; ++c) {
    if (std::isnan(scores[c])) return c;
    if (scores[c] > scores[best]) best = c;
  }
  return best;
}

int64_t trial_rows_for_memory(int64_t bytes_per_image, int64_t batch, int threads,
                              int64_t budget_bytes) {
  // Executors exist for 1, 2, 4, ... rows up to the cap: about twice the cap
  // in images per thread.
  const int64_t per_thread = budget_bytes / std::max(1, threads);
  int64_t rows = std::max<int64_t>(1, per_thread / std::max<int64_t>(1, 2 * bytes_per_image));
  return std::clamp<int64_t>(rows, 1, batch);
}

Expected<Executor*> TrialEngine::executor_for(int64_t rows) {
  auto found = executors_.find(rows);
  if (found != executors_.end()) return found->second.get();
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, plans_.get(rows));
  auto executor = std::make_unique<Executor>(plan);
  Executor* pointer = executor.get();
  executors_[rows] = std::move(executor);
  return pointer;
}

Status TrialEngine::run(const GoldenBatch& golden, const ResumePlan& resume,
                        const std::vector<SettingSite>& sites,
                        const std::vector<const FaultModel*>& models,
                        const std::vector<WeightBinding>& bindings, std::vector<Trial>& trials) {
  bool any_shared = false;
  for (const SettingSite& site : sites) any_shared = any_shared || site.site.shared;
  if (any_shared) {
    // Trials run together only when their faults in shared tensors are the
    // same (InjectTF's per-execution faults are; per-image ones run alone).
    std::map<std::vector<uint64_t>, std::vector<size_t>> groups;
    for (size_t i = 0; i < trials.size(); ++i) {
      std::vector<uint64_t> signature;
      for (const PendingFault& pending : trials[i].faults) {
        if (!sites[pending.site].site.shared) continue;
        const RandomKey& key = pending.key;
        signature.insert(signature.end(),
                         {static_cast<uint64_t>(pending.site), key.seed, key.experiment,
                          key.setting, key.repetition, key.image, key.site, pending.first_draw,
                          static_cast<uint64_t>(pending.fixed_element)});
      }
      groups[signature].push_back(i);
    }
    if (groups.size() > 1) {
      for (const auto& [signature, members] : groups) {
        std::vector<Trial> part;
        for (size_t i : members) part.push_back(std::move(trials[i]));
        NNFI_RETURN_IF_ERROR(run_grouped(golden, resume, sites, models, bindings, part));
        for (size_t k = 0; k < members.size(); ++k) trials[members[k]] = std::move(part[k]);
      }
      return Status::ok();
    }
  }
  if (resume.use_regions && regions_ != nullptr && bindings.empty()) {
    // Window phase for all trials at once, then the survivors' tails in
    // batches as large as memory allows (region_trials.h).
    return run_chunk_regions(golden, resume, sites, models, trials.data(),
                             static_cast<int64_t>(trials.size()));
  }
  return run_grouped(golden, resume, sites, models, bindings, trials);
}

Status TrialEngine::run_grouped(const GoldenBatch& golden, const ResumePlan& resume,
                                const std::vector<SettingSite>& sites,
                                const std::vector<const FaultModel*>& models,
                                const std::vector<WeightBinding>& bindings,
                                std::vector<Trial>& trials) {
  for (size_t first = 0; first < trials.size(); first += static_cast<size_t>(max_rows_)) {
    const int64_t count = std::min<int64_t>(max_rows_, static_cast<int64_t>(trials.size() - first));
    NNFI_RETURN_IF_ERROR(
        run_chunk(golden, resume, sites, models, bindings, trials.data() + first, count));
  }
  return Status::ok();
}

bool TrialEngine::equals_golden(ValueId value, const Executor& executor, const GoldenBatch& golden,
                                const Trial* trials, int64_t count) const {
  const Tensor& trial = executor.value(value);
  const Tensor& reference = golden.executor->value(value);
  if (!(*batched_)[value]) return trial.bitwise_equal(reference);
  const int64_t rows = trial.dim(0);
  const size_t row_bytes = trial.num_bytes() / static_cast<size_t>(rows);
  const char* a = static_cast<const char*>(trial.raw_data());
  const char* b = static_cast<const char*>(reference.raw_data());
  for (int64_t t = 0; t < count; ++t) {
    if (std::memcmp(a + row_bytes * t, b + row_bytes * trials[t].row, row_bytes) != 0) return false;
  }
  return true;
}

Status TrialEngine::copy_golden(ValueId value, Executor& executor, const GoldenBatch& golden,
                                const Trial* trials, int64_t count) const {
  const Tensor& source = golden.executor->value(value);
  Tensor& target = executor.value(value);
  if (!(*batched_)[value]) {
    // Shared by every image (no batch axis): the same tensor in both plans.
    if (source.shape() != target.shape()) {
      return unsupported("value '" + executor.plan().graph().values[value].name +
                         "' changes shape with the batch but not along its first axis; a trial "
                         "cannot start from golden values (use --engine naive)");
    }
    target.copy_from(source);
    return Status::ok();
  }
  const int64_t rows = target.dim(0);
  for (int64_t r = 0; r < rows; ++r) {
    // Spare rows of the last chunk repeat the first trial's.
    copy_row(source, golden.rows, trials[std::min(r, count - 1)].row, target, rows, r);
  }
  return Status::ok();
}

Status TrialEngine::run_until_masked(Executor& executor, const GoldenBatch& golden,
                                     const ResumePlan& resume, size_t start,
                                     const std::vector<ValueId>& changed, Trial* trials,
                                     int64_t count) {
  const Plan& plan = executor.plan();
  const Graph& graph = plan.graph();
  dirty_.assign(graph.values.size(), 0);
  std::vector<ValueId> live = changed;  // differing values that a later node still reads
  for (ValueId value : changed) dirty_[value] = 1;
  const auto is_observed = [&](NodeId node) {
    return std::binary_search(resume.observed.begin(), resume.observed.end(), node);
  };
  for (size_t i = start; i < resume.nodes.size(); ++i) {
    const auto position = static_cast<int32_t>(i);
    if (live.empty() && position > resume.last_observed) {
      // Nothing differs any more: the rest of the network computes golden values.
      return copy_golden(golden.fetch, executor, golden, trials, count);
    }
    const NodeId node = resume.nodes[i];
    bool needed = is_observed(node);
    for (ValueId input : graph.nodes[node].inputs)
      needed = needed || (input != kNoValue && dirty_[input]);
    if (!needed) {
      // Golden rows, for later nodes that read this beside a differing input.
      for (ValueId output : graph.nodes[node].outputs) {
        NNFI_RETURN_IF_ERROR(copy_golden(output, executor, golden, trials, count));
      }
    } else {
      NNFI_RETURN_IF_ERROR(executor.run_nodes(std::span<const NodeId>(&resume.nodes[i], 1)));
      for (ValueId output : graph.nodes[node].outputs) {
        if (!equals_golden(output, executor, golden, trials, count)) {
          dirty_[output] = 1;
          live.push_back(output);
        }
      }
    }
    // Values whose last reader has run are no longer live.
    live.erase(std::remove_if(live.begin(), live.end(),
                              [&](ValueId value) { return resume.last_use[value] <= position; }),
               live.end());
  }
  return Status::ok();
}

TrialEngine::~TrialEngine() = default;

Status TrialEngine::run_chunk(const GoldenBatch& golden, const ResumePlan& resume,
                              const std::vector<SettingSite>& sites,
                              const std::vector<const FaultModel*>& models,
                              const std::vector<WeightBinding>& bindings, Trial* trials,
                              int64_t count) {
  // The smallest power of two that holds the chunk (fewer plans, less waste).
  int64_t rows = 1;
  while (rows < count) rows *= 2;
  rows = std::min(rows, std::max(max_rows_, count));
  NNFI_ASSIGN_OR_RETURN(Executor * executor, executor_for(rows));
  const Graph& graph = executor->plan().graph();

  // Golden rows of the trials into the frontier.
  for (ValueId value : resume.frontier) {
    NNFI_RETURN_IF_ERROR(copy_golden(value, *executor, golden, trials, count));
  }
  InjectionHook hook(sites, models, resume, trials, count, rows);
  hook.set_graph(&graph);
  // Input sites: corrupt the copied input rows before anything runs.
  std::vector<ValueId> changed;
  for (size_t s = 0; s < sites.size(); ++s) {
    if (sites[s].site.kind != SiteKind::kInput) continue;
    const ValueId value = sites[s].site.value;
    hook.inject_site(static_cast<int>(s), executor->value(value));
    if (!equals_golden(value, *executor, golden, trials, count)) changed.push_back(value);
  }
  for (const WeightBinding& binding : bindings) {
    NNFI_RETURN_IF_ERROR(executor->bind_value(binding.value, binding.tensor));
    changed.push_back(binding.value);
  }
  executor->clear_hooks();
  executor->add_hook(&hook);
  Status status = resume.stop_when_masked
                      ? run_until_masked(*executor, golden, resume, 0, changed, trials, count)
                      : executor->run_nodes(resume.nodes);
  executor->clear_hooks();
  for (const WeightBinding& binding : bindings) executor->unbind_value(binding.value);
  NNFI_RETURN_IF_ERROR(status);
  score(*executor, golden, trials, count);
  return Status::ok();
}

void TrialEngine::score(const Executor& executor, const GoldenBatch& golden, Trial* trials,
                        int64_t count) const {
  const Tensor& output = executor.value(golden.fetch);
  const Tensor& golden_output = golden.executor->value(golden.fetch);
  const int64_t classes = golden.classes;
  for (int64_t t = 0; t < count; ++t) {
    Trial& trial = trials[t];
    const float* scores = output.data<float>() + t * classes;
    const float* reference = golden_output.data<float>() + trial.row * classes;
    trial.top1 = top1_index(scores, classes);
    if (std::memcmp(scores, reference, sizeof(float) * static_cast<size_t>(classes)) == 0) {
      trial.outcome = Outcome::kMasked;
      continue;
    }
    bool finite = true;
    for (int64_t c = 0; c < classes; ++c) finite = finite && std::isfinite(scores[c]);
    if (!finite) {
      trial.outcome = Outcome::kNonFinite;
    } else {
      trial.outcome = trial.top1 == golden.top1[trial.row] ? Outcome::kBenign : Outcome::kSdc;
    }
  }
}

Status TrialEngine::run_batched_tail(const GoldenBatch& golden, const ResumePlan& resume,
                                     int32_t stop, const std::vector<SettingSite>& sites,
                                     const std::vector<const FaultModel*>& models, Trial* trials,
                                     const RegionOutcome* const* outcomes, int64_t count) {
  // A fixed-batch model runs them one by one (tail_rows), on its one size.
  const int64_t rows = (*batched_)[golden.fetch] ? tail_executor_rows(count) : count;
  auto& slot = tail_executors_[rows];
  if (slot == nullptr) {
    NNFI_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> tail_plan, tail_plans_->get(rows));
    slot = std::make_unique<Executor>(tail_plan);
  }
  Executor* executor = slot.get();
  const Plan& plan = executor->plan();
  for (ValueId value : tail_frontier(plan, resume, stop, golden.fetch)) {
    NNFI_RETURN_IF_ERROR(copy_golden(value, *executor, golden, trials, count));
  }
  std::vector<ValueId> changed;
  for (int64_t t = 0; t < count; ++t) {
    for (const ChangedRow& row : outcomes[t]->rows) {
      Tensor& target = executor->value(row.value);
      std::memcpy(target.data<float>() + t * static_cast<int64_t>(row.data.size()), row.data.data(),
                  sizeof(float) * row.data.size());
      if (std::find(changed.begin(), changed.end(), row.value) == changed.end()) {
        changed.push_back(row.value);
      }
    }
  }
  InjectionHook hook(sites, models, resume, trials, count, rows);
  hook.set_graph(&plan.graph());
  executor->clear_hooks();
  executor->add_hook(&hook);
  ++counters_.tail_runs;
  Status status = run_until_masked(*executor, golden, resume, static_cast<size_t>(stop), changed,
                                   trials, count);
  executor->clear_hooks();
  NNFI_RETURN_IF_ERROR(status);
  score(*executor, golden, trials, count);
  return Status::ok();
}

}  // namespace nnfi::campaign
