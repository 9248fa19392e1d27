// One unit of a campaign (a setting x repetition on one batch): its faults
// sampled, its trials run on a TrialEngine, its outcomes counted into a
// UnitRow and FaultRows. Split in two so the batched tails of many units
// (TailPool, TailStash) can run between start_unit and finish_unit.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "campaign/campaign_setup.h"
#include "campaign/fault_sampling.h"
#include "campaign/result_store.h"
#include "campaign/trial_engine.h"

namespace nnfi::campaign {

struct UnitOutcome {
  UnitRow row;
  std::vector<FaultRow> faults;
  Status status;
};

// Trials that share weight bindings: a unit's [0] has none, then per-image ones.
struct TrialGroup {
  std::vector<WeightFault> weights;
  std::vector<Trial> trials;
};

// A unit between start_unit and finish_unit: some of its trials may wait in
// the batch's TailPool (their addresses must not change meanwhile).
struct PendingUnit {
  UnitOutcome outcome;
  std::vector<TrialGroup> groups;
};

// Samples one unit's faults and runs its trials on this thread's engine
// (tails may be left in the engine's pool: finish_unit once they have run).
std::unique_ptr<PendingUnit> start_unit(const PreparedCampaign& campaign,
                                        const PreparedSetting& setting, int64_t repetition,
                                        int64_t batch_index, const GoldenBatch& golden,
                                        TrialEngine& engine);

// Counts a started unit's outcomes once all its trials have run.
UnitOutcome finish_unit(const PreparedCampaign& campaign, const PreparedSetting& setting,
                        const GoldenBatch& golden, const std::vector<bool>& golden_correct,
                        PendingUnit& pending);

}  // namespace nnfi::campaign
