// Everything a campaign run needs, worked out once before the first batch:
// the model and its plans, the data set, every setting with its sites, fault
// models and resume plan, and the identity the result store checks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "campaign/result_store.h"
#include "campaign/targets.h"
#include "campaign/trial_engine.h"
#include "nnfi/campaign.h"
#include "nnfi/dataset.h"

namespace nnfi::campaign {

struct PreparedSetting {
  int64_t experiment = 0, setting = 0;
  const ExperimentSpec* spec = nullptr;
  SiteGroup group;
  double amount = 0;                      // p, or k for exactly-k
  std::vector<const FaultModel*> models;  // per site of the group
  ResumePlan resume;
  std::vector<int> repetition_weights;  // weight sites corrupted for a whole repetition
  std::vector<int> inference_weights;   // weight sites corrupted per image
};

struct PreparedCampaign {
  const CampaignSpec* spec = nullptr;
  std::shared_ptr<const Graph> graph;
  size_t feed_index = 0;
  ValueId feed = kNoValue, fetch = kNoValue;
  int64_t classes = 0;
  std::unique_ptr<Dataset> dataset;
  std::unique_ptr<PlanCache> trial_plans;
  std::shared_ptr<const Plan> plan_for_weights;  // batch-1 plan: constants and shapes (no kernels)
  std::unique_ptr<RegionModel> regions;          // the cached engine's window recompute
  std::unique_ptr<PlanCache> tail_plans;         // its batched tails (kernels for tail nodes)
  int64_t batch = 32;  // images per golden run (the model's own where it fixes it)
  int64_t trial_rows = 1;
  int64_t bytes_per_image = 0;  // every value of one image
  std::vector<char> batched;    // per value: has the batch as first axis (TrialEngine)
  uint64_t seed = 0;
  FaultRecording record_faults = FaultRecording::kAll;
  std::vector<PreparedSetting> settings;
  // What trials read of a golden batch (the settings' frontiers, the values
  // their nodes read and write, the fetch); its other values share buffers.
  std::vector<ValueId> golden_values;
  std::vector<SettingRow> setting_rows;
  CampaignIdentity identity;
};

Expected<std::unique_ptr<PreparedCampaign>> prepare_campaign(const CampaignSpec& spec,
                                                             Engine engine, int threads,
                                                             bool window_kernels = true);

// A hex digest of a model file's bytes (a directory: of every file in it).
Expected<std::string> model_fingerprint(const std::filesystem::path& path);

}  // namespace nnfi::campaign
