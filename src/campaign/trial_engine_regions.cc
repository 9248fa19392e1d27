// The cached engine's region path (region_trials.h): trials run window by
// window on the threads, and the survivors' tails are sized, planned and run
// in batches (run_batched_tail, beside the other batched runs in
// trial_engine.cc).
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <utility>

#include "campaign/region_help.h"
#include "campaign/trial_engine.h"

namespace nnfi::campaign {

const std::vector<ValueId>& TrialEngine::tail_frontier(const Plan& plan, const ResumePlan& resume,
                                                       int32_t stop, ValueId fetch) {
  auto found = tail_frontiers_.find({resume.id, stop});
  if (found != tail_frontiers_.end()) return found->second;
  const Graph& graph = plan.graph();
  std::vector<char> produced(graph.values.size(), 0);
  for (size_t i = static_cast<size_t>(stop); i < resume.nodes.size(); ++i) {
    for (ValueId output : graph.nodes[resume.nodes[i]].outputs) produced[output] = 1;
  }
  std::set<ValueId> frontier;
  for (size_t i = static_cast<size_t>(stop); i < resume.nodes.size(); ++i) {
    for (ValueId input : graph.nodes[resume.nodes[i]].inputs) {
      if (input == kNoValue || produced[input] || plan.constant_value(input) != nullptr) continue;
      frontier.insert(input);
    }
  }
  // The fetch is read at the end whatever the nodes are.
  if (!produced[fetch] && plan.constant_value(fetch) == nullptr) frontier.insert(fetch);
  std::vector<ValueId> values(frontier.begin(), frontier.end());
  return tail_frontiers_[{resume.id, stop}] = std::move(values);
}

int64_t tail_executor_rows(int64_t count) {
  // Every row of a tail executor is computed, spare ones too (a VGG16 row
  // costs 123 M multiply-adds in the dense layers): sizes stay close to the
  // count, yet few (each size is an executor with its own buffers).
  const int64_t step = count <= 16 ? 4 : count <= 64 ? 8 : 32;
  return (count + step - 1) / step * step;
}

Expected<TrialEngine::TailSizes> TrialEngine::tail_rows(const Plan& plan, const ResumePlan& resume,
                                                        int32_t stop, ValueId fetch) {
  auto found = tail_rows_.find({resume.id, stop});
  if (found != tail_rows_.end()) return found->second;
  // Bytes one image needs in the tail: what it reads and what it computes.
  const Graph& graph = plan.graph();
  const std::vector<ValueId>& frontier = tail_frontier(plan, resume, stop, fetch);
  std::set<ValueId> values(frontier.begin(), frontier.end());
  for (size_t i = static_cast<size_t>(stop); i < resume.nodes.size(); ++i) {
    for (ValueId output : graph.nodes[resume.nodes[i]].outputs) values.insert(output);
  }
  // `plan` is a golden plan: batched values hold its rows.
  const int64_t plan_rows = std::max<int64_t>(1, plan.value_shape(fetch)[0]);
  int64_t tail_bytes = 0;
  for (ValueId value : values) {
    if (plan.value_dtype(value) == DType::kUndefined) continue;
    const int64_t elements = shape_num_elements(plan.value_shape(value));
    tail_bytes += ((*batched_)[value] ? elements / plan_rows : elements) *
                  static_cast<int64_t>(dtype_size(plan.value_dtype(value)));
  }
  NNFI_ASSIGN_OR_RETURN(const int64_t image_bytes, plans_.bytes_per_image());
  // As much memory as a chunk of whole trials would take, at most 256 rows:
  // dense tails then run as real matrix products.
  TailSizes sizes;
  sizes.cap = std::clamp<int64_t>(max_rows_ * image_bytes / std::max<int64_t>(1, tail_bytes),
                                  max_rows_, 256);
  // A model with a fixed batch (its fetch has no batch axis) runs one trial at a time.
  if (!(*batched_)[fetch]) sizes.cap = 1;
  // Multiply-adds per row, roughly: one per weight of the tail's nodes.
  for (size_t i = static_cast<size_t>(stop); i < resume.nodes.size(); ++i) {
    for (ValueId input : graph.nodes[resume.nodes[i]].inputs) {
      const Tensor* constant = input == kNoValue ? nullptr : plan.constant_value(input);
      if (constant != nullptr) sizes.work_per_row += constant->num_elements();
    }
  }
  tail_rows_[{resume.id, stop}] = sizes;
  return sizes;
}

Status TrialEngine::run_chunk_regions(const GoldenBatch& golden, const ResumePlan& resume,
                                      const std::vector<SettingSite>& sites,
                                      const std::vector<const FaultModel*>& models, Trial* trials,
                                      int64_t count) {
  // Window phase: trials are independent; inside a parallel region (units
  // spread over threads) this loop runs on the caller's thread alone.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  while (workers_.size() < static_cast<size_t>(threads)) {
    workers_.push_back(std::make_unique<RegionWorker>(*regions_));
  }
  const auto window_start = std::chrono::steady_clock::now();
  std::vector<RegionOutcome> outcomes(static_cast<size_t>(count));
  std::vector<Status> statuses(static_cast<size_t>(count));
  if (threads == 1) {
    for (int64_t t = 0; t < count; ++t) {
      statuses[t] = workers_[0]->run(golden, resume, sites, models, trials[t], &outcomes[t]);
    }
  } else {
    // Trials go to whichever thread is free; a thread with none left helps
    // with the convs of those still running (region_help.h).
    ConvHelpBoard board(count);
    std::atomic<int64_t> next{0};
#pragma omp parallel num_threads(threads)
    {
      RegionWorker& worker = *workers_[omp_get_thread_num()];
      worker.share_convs(&board);
      for (int64_t t = next++; t < count; t = next++) {
        statuses[t] = worker.run(golden, resume, sites, models, trials[t], &outcomes[t]);
        board.finish_trial();
      }
      board.help_until_done();
      worker.share_convs(nullptr);
    }
    counters_.chunks_helped += board.chunks_helped();
  }
  for (const auto& worker : workers_) {
    counters_.window_multiply_adds += worker->take_multiply_adds();
  }
  for (const Status& status : statuses) NNFI_RETURN_IF_ERROR(status);
  const auto batched_start = std::chrono::steady_clock::now();
  const double window_seconds = std::chrono::duration<double>(batched_start - window_start).count();
  counters_.window_seconds += window_seconds;
  counters_.window_thread_seconds += window_seconds * threads;
  counters_.window_trials += count;

  // Masked trials are done; the others continue batched, grouped by where
  // their windows ended (one place on a chain).
  std::map<int32_t, std::vector<int64_t>> survivors;
  for (int64_t t = 0; t < count; ++t) {
    if (outcomes[t].masked) {
      ++counters_.window_masked;
      trials[t].outcome = Outcome::kMasked;
      trials[t].top1 = golden.top1[trials[t].row];
    } else {
      survivors[outcomes[t].stop].push_back(t);
    }
  }
  for (const auto& [stop, members] : survivors) {
    if (pool_ != nullptr && tail_is_poolable(resume, stop)) {
      std::vector<TailPool::Entry> entries;
      for (int64_t t : members) {
        entries.push_back({&resume, stop, &sites, &models, &trials[t], std::move(outcomes[t])});
      }
      pool_->add(std::move(entries));
      continue;
    }
    NNFI_ASSIGN_OR_RETURN(const TailSizes sizes,
                          tail_rows(golden.executor->plan(), resume, stop, golden.fetch));
    const int64_t cap = sizes.cap;
    for (size_t first = 0; first < members.size(); first += static_cast<size_t>(cap)) {
      const size_t last = std::min(members.size(), first + static_cast<size_t>(cap));
      std::vector<Trial> group;
      std::vector<const RegionOutcome*> group_outcomes;
      for (size_t k = first; k < last; ++k) {
        group.push_back(std::move(trials[members[k]]));
        group_outcomes.push_back(&outcomes[members[k]]);
      }
      NNFI_RETURN_IF_ERROR(run_batched_tail(golden, resume, stop, sites, models, group.data(),
                                            group_outcomes.data(),
                                            static_cast<int64_t>(group.size())));
      for (size_t k = first; k < last; ++k) trials[members[k]] = std::move(group[k - first]);
    }
    counters_.batched_trials += static_cast<int64_t>(members.size());
  }
  counters_.batched_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - batched_start).count();
  return Status::ok();
}

bool TrialEngine::tail_is_poolable(const ResumePlan& resume, int32_t stop) const {
  for (size_t i = static_cast<size_t>(stop); i < resume.nodes.size(); ++i) {
    if (std::binary_search(resume.observed.begin(), resume.observed.end(), resume.nodes[i])) {
      return false;
    }
  }
  return true;
}

void TailPool::add(std::vector<Entry> entries) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Entry& entry : entries) entries_.push_back(std::move(entry));
}

std::vector<TailPool::Entry> TailPool::take() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(entries_, {});
}

// Below this many multiply-adds a single chunk of pooled tails runs on one thread.
constexpr int64_t kSmallTailWork = int64_t{4} << 20;

Status TrialEngine::run_pooled_tails(const GoldenBatch& golden,
                                     std::vector<TailPool::Entry> entries,
                                     std::span<TrialEngine* const> engines) {
  if (entries.empty()) return Status::ok();
  // Tails that run the same nodes run together, whichever setting their trials
  // come from (none of them injects anything there).
  std::map<std::vector<NodeId>, std::vector<TailPool::Entry*>> groups;
  for (TailPool::Entry& entry : entries) {
    const std::vector<NodeId>& nodes = entry.resume->nodes;
    groups[std::vector<NodeId>(nodes.begin() + entry.stop, nodes.end())].push_back(&entry);
  }
  // Chunks as large as memory allows; with enough rows, at least one per
  // thread, each on its thread's engine (the tail's light nodes, Relu,
  // Softmax, ..., run on one thread each); a few rows run as one chunk whose
  // dense kernels use every thread.
  const auto threads = static_cast<int64_t>(engines.size());
  constexpr int64_t kRowsPerThreadChunk = 16;
  std::vector<std::span<TailPool::Entry* const>> chunks;
  int64_t total_work = 0;
  for (auto& [nodes, members] : groups) {
    const TailPool::Entry& first = *members.front();
    NNFI_ASSIGN_OR_RETURN(
        const TailSizes sizes,
        engines[0]->tail_rows(golden.executor->plan(), *first.resume, first.stop, golden.fetch));
    const auto count = static_cast<int64_t>(members.size());
    // A small tail is not worth splitting over threads (see below).
    const bool small = count * sizes.work_per_row < kSmallTailWork;
    const int64_t parts = std::max((count + sizes.cap - 1) / sizes.cap,
                                   small ? 1 : std::min(threads, count / kRowsPerThreadChunk));
    const int64_t size = (count + parts - 1) / parts;
    total_work += count * sizes.work_per_row;
    for (int64_t begin = 0; begin < count; begin += size) {
      chunks.emplace_back(members.data() + begin, std::min(size, count - begin));
    }
  }
  const auto chunk_count = static_cast<int64_t>(chunks.size());
  std::vector<Status> statuses(chunks.size());
  if (chunk_count == 1 && total_work < kSmallTailWork) {
    // A few rows of a small network (the GTSRB CNNs: ~0.2 M multiply-adds a
    // row): waking the other threads for each node costs more than the work.
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const Status status = engines[0]->run_tail_chunk(golden, chunks[0]);
    omp_set_num_threads(saved);
    return status;
  }
#pragma omp parallel for schedule(dynamic, 1) \
    num_threads(static_cast <int>(threads)) if (chunk_count > 1 && threads > 1)
  for (int64_t c = 0; c < chunk_count; ++c) {
    TrialEngine& engine = *engines[chunk_count > 1 && threads > 1 ? omp_get_thread_num() : 0];
    statuses[c] = engine.run_tail_chunk(golden, chunks[c]);
  }
  for (const Status& status : statuses) NNFI_RETURN_IF_ERROR(status);
  return Status::ok();
}

Status TrialEngine::run_tail_chunk(const GoldenBatch& golden,
                                   std::span<TailPool::Entry* const> members) {
  const auto start = std::chrono::steady_clock::now();
  const TailPool::Entry& first = *members.front();
  std::vector<Trial> group;
  std::vector<const RegionOutcome*> group_outcomes;
  for (TailPool::Entry* member : members) {
    group.push_back(std::move(*member->trial));
    group_outcomes.push_back(&member->outcome);
  }
  const Status status =
      run_batched_tail(golden, *first.resume, first.stop, *first.sites, *first.models, group.data(),
                       group_outcomes.data(), static_cast<int64_t>(group.size()));
  for (size_t k = 0; k < members.size(); ++k) *members[k]->trial = std::move(group[k]);
  counters_.batched_trials += static_cast<int64_t>(members.size());
  counters_.batched_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return status;
}

std::vector<NodeId> tail_nodes(const ResumePlan& resume, const RegionModel& regions,
                               const std::vector<SettingSite>& sites) {
  if (!resume.use_regions) return {};
  size_t first = resume.nodes.size();
  for (size_t i = 0; i < resume.nodes.size() && first == resume.nodes.size(); ++i) {
    const NodeId node = resume.nodes[i];
    if (!regions.capable(node)) first = i;
    for (const SettingSite& site : sites) {
      if (site.site.node == node && !regions.layout(site.site.value).known) first = i;
    }
  }
  return std::vector<NodeId>(resume.nodes.begin() + static_cast<std::ptrdiff_t>(first),
                             resume.nodes.end());
}

}  // namespace nnfi::campaign
