// Pooled tails of several batches of a large model, run together: the
// window-phase survivors of one VGG16 batch are ~8 trials, and each batched
// tail streams the dense layers' 494 MB of weights once whatever its rows,
// so running the tails of many batches at once saves most of those passes.
// A stashed trial keeps copies of the golden rows its tail reads or compares
// with (VGG16: 174 KB), so its batch's golden run may be overwritten; the
// runner commits a batch only once the stash has run, so an interruption
// loses at most the batches waiting here (they run again on resume).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "campaign/trial_engine.h"

namespace nnfi::campaign {

class TailStash {
 public:
  // `tail_plans` plan the synthetic golden batch the stashed tails run on;
  // batched[v]: value v has the batch as its first axis.
  TailStash(PlanCache& tail_plans, const std::vector<char>& batched)
      : tail_plans_(tail_plans), batched_(batched) {}

  // Takes `entries` (survivors of `golden`'s batch) with copies of their golden rows.
  Status add(const GoldenBatch& golden, std::vector<TailPool::Entry> entries);
  int64_t size() const { return static_cast<int64_t>(stashed_.size()); }

  // Runs every stashed tail on `engines` and empties the stash; the trials
  // get their outcomes. `live`: a golden batch still held, for the values
  // shared by every image (computed from constants only).
  Status run(const GoldenBatch& live, std::span<TrialEngine* const> engines);

 private:
  struct Stashed {
    TailPool::Entry entry;
    int64_t row = 0;   // the trial's row in its own golden batch
    int64_t top1 = 0;  // golden top-1 of that row
    std::vector<std::pair<ValueId, std::vector<char>>> rows;  // golden rows of batched values
  };

  // Values a tail from (resume id, stop) reads or computes, and the fetch.
  const std::vector<ValueId>& tail_values(const Plan& plan, const ResumePlan& resume, int32_t stop,
                                          ValueId fetch);

  PlanCache& tail_plans_;
  std::map<std::pair<uint64_t, int32_t>, std::vector<ValueId>> tail_values_;
  const std::vector<char>& batched_;
  std::vector<Stashed> stashed_;
  std::vector<ValueId> shared_values_;  // needed values without a batch axis
};

}  // namespace nnfi::campaign
