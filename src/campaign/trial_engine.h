// Faulty inferences ("trials") against a golden batch. The golden run keeps
// every value of the batch; a trial resumes at the injected sites with golden
// values for everything not downstream of them (DESIGN.md principles 1-3),
// on branching graphs too, and runs many trials of the same setting together
// in one smaller batch (principle 6). The naive engine re-runs the whole model
// for each trial instead: the reference the cached-prefix path is tested
// against, bit for bit.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "campaign/region_model.h"
#include "campaign/region_trials.h"
#include "campaign/result_store.h"
#include "campaign/targets.h"
#include "nnfi/campaign.h"
#include "nnfi/fault.h"
#include "nnfi/runtime.h"

namespace nnfi::campaign {

// Plans for each batch size, shared by threads (a Plan is immutable).
class PlanCache {
 public:
  PlanCache(std::shared_ptr<const Graph> graph, size_t feed_index, Shape sample_shape,
            PlanOptions options)
      : graph_(std::move(graph)),
        feed_index_(feed_index),
        sample_shape_(std::move(sample_shape)),
        options_(std::move(options)) {}
  Expected<std::shared_ptr<const Plan>> get(int64_t rows);
  const Graph& graph() const { return *graph_; }
  std::shared_ptr<const Graph> graph_ptr() const { return graph_; }
  // Bytes of all computed values for one image (from the batch-1 plan, or
  // as given: a batch-1 plan with every kernel costs a copy of the weights).
  Expected<int64_t> bytes_per_image();
  void set_bytes_per_image(int64_t bytes) { bytes_per_image_ = bytes; }

 private:
  std::shared_ptr<const Graph> graph_;
  size_t feed_index_;
  Shape sample_shape_;
  PlanOptions options_;
  std::mutex mutex_;
  std::map<int64_t, std::shared_ptr<const Plan>> plans_;
  int64_t bytes_per_image_ = 0;
};

// The fault-free run of one batch, kept for the trials.
struct GoldenBatch {
  int64_t rows = 0;
  std::vector<int64_t> ids;  // data set example ids
  std::vector<int64_t> labels;
  Executor* executor = nullptr;  // holds every value of the batch
  ValueId fetch = kNoValue;
  std::vector<int64_t> top1;
  std::vector<bool> finite;
  int64_t classes = 0;
};

// A fault to place in one trial at one of the setting's sites.
struct PendingFault {
  int site = 0;                // index into the setting's sites
  RandomKey key;               // the stream its element and bits come from
  uint64_t first_draw = 0;     // where in that stream
  int64_t fixed_element = -1;  // >= 0: at this element of the image's slice, else drawn
};

struct AppliedFault {
  int site = 0;
  ElementFault fault;  // element: index into the image's slice of the site
};

struct Trial {
  int64_t row = 0;  // row of the golden batch
  std::vector<PendingFault> faults;
  // Results.
  std::vector<AppliedFault> applied;
  Outcome outcome = Outcome::kMasked;
  int64_t top1 = -1;
};

// A weight replaced for the trials of one run (a weight fault).
struct WeightBinding {
  ValueId value = kNoValue;
  Tensor* tensor = nullptr;
};

// Which nodes a setting's trials re-run and which golden values they start
// from. Computed once per setting.
struct ResumePlan {
  std::vector<NodeId> nodes;      // in plan order
  std::vector<ValueId> frontier;  // golden values the nodes read
  std::vector<NodeId> observed;   // producers of the activation sites
  // Masking (cached engine only): a node runs only when an input differs from
  // golden or it is a site; when no differing value is still to be read, the
  // trial stops: its output is golden (masked). last_use[v]: the position in
  // `nodes` of the last node reading value v (the fetch: past the end).
  bool stop_when_masked = false;
  std::vector<int32_t> last_use;
  int32_t last_observed = -1;  // position in `nodes` of the last site producer
  // Trials start window by window (region_trials.h) and only the nodes from
  // where windows end run batched: the cached engine on activation sites.
  bool use_regions = false;
  uint64_t id = 0;  // unique per plan made (keys TrialEngine's caches)
};

// `fetch` is always re-run or copied from golden, so a fault that cannot
// reach it reads as masked.
// Nodes a batched tail of `resume` may run: every node from the first one
// where a trial can leave the window phase (empty without use_regions).
std::vector<NodeId> tail_nodes(const ResumePlan& resume, const RegionModel& regions,
                               const std::vector<SettingSite>& sites);

// `regions`: the campaign's region model, or nullptr (no window recompute).
ResumePlan make_resume_plan(const Plan& plan, const std::vector<SettingSite>& sites, Engine engine,
                            ValueId fetch, const RegionModel* regions = nullptr);

// inject_fault on `view`, or, when fixed_element lies inside it, on that one
// element (exactly-k placements, per-execution hits); elements are reported
// as indices into `view`.
std::vector<ElementFault> inject_fault_at(const FaultModel& model, TensorView view,
                                          int64_t fixed_element, RandomStream& rng);

// Index of the largest element, the first of equals; a NaN wins (numpy's argmax).
int64_t top1_index(const float* scores, int64_t classes);

// Survivors of the window phase whose batched tails wait for those of the
// other units of the batch (TrialEngine::set_tail_pool): VGG16's dense layers
// then stream their 480 MB of weights once for all of them, not once per
// unit. Only tails that inject nothing are pooled (no site node from the stop
// on), so trials of different settings may share a run. Thread-safe.
class TailPool {
 public:
  struct Entry {
    const ResumePlan* resume = nullptr;
    int32_t stop = 0;
    const std::vector<SettingSite>* sites = nullptr;
    const std::vector<const FaultModel*>* models = nullptr;
    Trial* trial = nullptr;  // in its unit's trials, alive until the pool has run
    RegionOutcome outcome;
  };
  void add(std::vector<Entry> entries);
  std::vector<Entry> take();

 private:
  std::mutex mutex_;
  std::vector<Entry> entries_;
};

// Runs trials for one thread. Not thread-safe: one engine per thread.
class TrialEngine {
 public:
  // batched[v]: value v has the batch as its first axis (else it is one
  // tensor shared by every image, e.g. computed from constants only).
  // `regions` (may be null) serves the plans with ResumePlan::use_regions.
  // `tail_plans` (may be null: `plans`) plan the batched tails with kernels
  // for the tail nodes only.
  TrialEngine(PlanCache& plans, int64_t max_rows, const std::vector<char>& batched,
              const RegionModel* regions = nullptr, PlanCache* tail_plans = nullptr)
      : plans_(plans),
        max_rows_(max_rows),
        batched_(&batched),
        regions_(regions),
        tail_plans_(tail_plans != nullptr ? tail_plans : &plans) {}
  ~TrialEngine();

  // Where the window phase ended for the trials this engine ran.
  struct Counters {
    int64_t window_trials = 0;         // trials that started window by window
    int64_t window_masked = 0;         // ... and ended masked there
    int64_t batched_trials = 0;        // ... and went on batched
    int64_t tail_runs = 0;             // batched tail executions (pooled ones hold many units)
    int64_t chunks_helped = 0;         // conv chunks run by threads out of trials (region_help.h)
    int64_t window_multiply_adds = 0;  // done by the window phase's convs
    double window_seconds = 0, batched_seconds = 0;
    double window_thread_seconds = 0;  // window_seconds times the threads sharing them
  };
  const Counters& counters() const { return counters_; }

  // With a pool, the region path leaves the tails of trials that reach the
  // end of their window phase without more sites to the pool: run() returns
  // with those trials' outcomes still to come, from run_pooled_tails.
  void set_tail_pool(TailPool* pool) { pool_ = pool; }
  // Runs pooled tails (of this golden batch) together, in chunks as large as
  // memory allows, spread over `engines` (one per thread) when there are many.
  static Status run_pooled_tails(const GoldenBatch& golden, std::vector<TailPool::Entry> entries,
                                 std::span<TrialEngine* const> engines);

  // Runs `trials` (any number; chunked by max_rows) of one setting: fills
  // applied, outcome and top1. `models[i]` is the fault of sites[i].
  Status run(const GoldenBatch& golden, const ResumePlan& resume,
             const std::vector<SettingSite>& sites, const std::vector<const FaultModel*>& models,
             const std::vector<WeightBinding>& bindings, std::vector<Trial>& trials);

 private:
  Status run_grouped(const GoldenBatch& golden, const ResumePlan& resume,
                     const std::vector<SettingSite>& sites,
                     const std::vector<const FaultModel*>& models,
                     const std::vector<WeightBinding>& bindings, std::vector<Trial>& trials);
  // Golden values of the chunk's trials into `value` of the trial executor
  // (rows, or the whole tensor for a shared value).
  Status copy_golden(ValueId value, Executor& executor, const GoldenBatch& golden,
                     const Trial* trials, int64_t count) const;
  bool equals_golden(ValueId value, const Executor& executor, const GoldenBatch& golden,
                     const Trial* trials, int64_t count) const;
  Status run_chunk(const GoldenBatch& golden, const ResumePlan& resume,
                   const std::vector<SettingSite>& sites,
                   const std::vector<const FaultModel*>& models,
                   const std::vector<WeightBinding>& bindings, Trial* trials, int64_t count);
  Expected<Executor*> executor_for(int64_t rows);
  // Runs resume.nodes but skips nodes whose inputs equal golden and stops
  // once nothing differs (DESIGN.md principle 4).
  // Starts at position `start` of resume.nodes with `changed` values differing.
  Status run_until_masked(Executor& executor, const GoldenBatch& golden, const ResumePlan& resume,
                          size_t start, const std::vector<ValueId>& changed, Trial* trials,
                          int64_t count);
  // Trials window by window, then the survivors batched (ResumePlan::use_regions).
  Status run_chunk_regions(const GoldenBatch& golden, const ResumePlan& resume,
                           const std::vector<SettingSite>& sites,
                           const std::vector<const FaultModel*>& models, Trial* trials,
                           int64_t count);
  // Runs resume.nodes from `stop` on for `count` trials that left the window
  // phase there with the changed rows in `outcomes`.
  Status run_batched_tail(const GoldenBatch& golden, const ResumePlan& resume, int32_t stop,
                          const std::vector<SettingSite>& sites,
                          const std::vector<const FaultModel*>& models, Trial* trials,
                          const RegionOutcome* const* outcomes, int64_t count);
  // Values read by resume.nodes[stop..] but computed before (or outside) them.
  const std::vector<ValueId>& tail_frontier(const Plan& plan, const ResumePlan& resume,
                                            int32_t stop, ValueId fetch);
  // How many trials a batched tail from `stop` runs at once, and about how
  // many multiply-adds each costs.
  struct TailSizes {
    int64_t cap = 1;
    int64_t work_per_row = 0;
  };
  Expected<TailSizes> tail_rows(const Plan& plan, const ResumePlan& resume, int32_t stop,
                                ValueId fetch);
  // Outcome and top-1 of each trial from the fetch of `executor`.
  void score(const Executor& executor, const GoldenBatch& golden, Trial* trials,
             int64_t count) const;

  // Whether the tail of `resume` from `stop` injects nothing (TailPool).
  bool tail_is_poolable(const ResumePlan& resume, int32_t stop) const;
  // One batched tail of pooled trials (all with the same tail nodes).
  Status run_tail_chunk(const GoldenBatch& golden, std::span<TailPool::Entry* const> members);

  PlanCache& plans_;
  TailPool* pool_ = nullptr;
  int64_t max_rows_;
  const std::vector<char>* batched_;
  std::map<int64_t, std::unique_ptr<Executor>> executors_;
  std::vector<char> dirty_;  // per value, for run_until_masked
  Counters counters_;
  const RegionModel* regions_ = nullptr;
  PlanCache* tail_plans_;
  std::map<int64_t, std::unique_ptr<Executor>> tail_executors_;
  std::vector<std::unique_ptr<RegionWorker>> workers_;  // per OpenMP thread
  std::map<std::pair<uint64_t, int32_t>, std::vector<ValueId>> tail_frontiers_;
  std::map<std::pair<uint64_t, int32_t>, TailSizes> tail_rows_;
};

// Rows of the executor a batched tail of `count` trials runs on.
int64_t tail_executor_rows(int64_t count);

// Rows a trial batch may have so that `threads` executors fit in `budget`
// bytes, between 1 and `batch`.
int64_t trial_rows_for_memory(int64_t bytes_per_image, int64_t batch, int threads,
                              int64_t budget_bytes);

}  // namespace nnfi::campaign
