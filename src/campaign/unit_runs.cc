#include "campaign/unit_runs.h"

#include <bit>

namespace nnfi::campaign {
namespace {

int single_bit(uint64_t before, uint64_t after) {
  const uint64_t flipped = before ^ after;
  return std::popcount(flipped) == 1 ? std::countr_zero(flipped) : -1;
}

void record_trial(const PreparedSetting& setting, int64_t repetition, int64_t image,
                  const Trial& trial, FaultRecording recording, std::vector<FaultRow>& faults) {
  if (recording == FaultRecording::kNone) return;
  if (recording == FaultRecording::kNonMasked && trial.outcome == Outcome::kMasked) return;
  for (const AppliedFault& applied : trial.applied) {
    const SettingSite& site = setting.group.sites[applied.site];
    FaultRow row;
    row.experiment = setting.experiment;
    row.setting = setting.setting;
    row.repetition = repetition;
    row.image = image;
    row.site = site.site.name;
    row.site_key = static_cast<int64_t>(site.key);
    row.element = applied.fault.element;
    row.before = applied.fault.before;
    row.after = applied.fault.after;
    row.bit = single_bit(applied.fault.before, applied.fault.after);
    row.outcome = trial.outcome;
    faults.push_back(row);
  }
}

}  // namespace

std::unique_ptr<PendingUnit> start_unit(const PreparedCampaign& campaign,
                                        const PreparedSetting& setting, int64_t repetition,
                                        int64_t batch_index, const GoldenBatch& golden,
                                        TrialEngine& engine) {
  auto pending = std::make_unique<PendingUnit>();
  UnitOutcome& outcome = pending->outcome;
  UnitRow& row = outcome.row;
  row.experiment = setting.experiment;
  row.setting = setting.setting;
  row.repetition = repetition;
  row.batch = batch_index;
  row.images = golden.rows;
  const UnitKey key{campaign.seed, setting.experiment, setting.setting, repetition, batch_index};
  const ExperimentSpec& experiment = *setting.spec;
  const std::vector<SettingSite>& sites = setting.group.sites;

  std::vector<Trial> trials = sample_activation_trials(key, experiment.mode, setting.amount, sites,
                                                       setting.models, golden.ids);

  std::vector<TrialGroup>& groups = pending->groups;
  groups.resize(1);
  std::vector<WeightFault> permanent;
  if (!setting.repetition_weights.empty()) {
    permanent = sample_repetition_weight_faults(key, experiment.mode, setting.amount, sites,
                                                setting.repetition_weights, setting.models,
                                                *campaign.plan_for_weights);
  }
  if (!permanent.empty()) {
    // Every image runs with the corrupted weights, plus its own activation faults.
    std::vector<Trial> all(static_cast<size_t>(golden.rows));
    for (int64_t r = 0; r < golden.rows; ++r) all[r].row = r;
    for (Trial& trial : trials) all[trial.row].faults = std::move(trial.faults);
    groups[0].trials = std::move(all);
    groups[0].weights = std::move(permanent);
  } else {
    groups[0].trials = std::move(trials);
  }
  if (!setting.inference_weights.empty()) {
    // An image with its own weight fault runs alone with its own weights.
    std::vector<Trial> remaining;
    std::vector<Trial> by_row(static_cast<size_t>(golden.rows));
    std::vector<bool> has(static_cast<size_t>(golden.rows), false);
    for (Trial& trial : groups[0].trials) {
      has[trial.row] = true;
      by_row[trial.row] = std::move(trial);
    }
    for (int64_t r = 0; r < golden.rows; ++r) {
      std::vector<WeightFault> own =
          sample_image_weight_faults(key, setting.amount, sites, setting.inference_weights,
                                     setting.models, *campaign.plan_for_weights, golden.ids[r]);
      if (own.empty()) {
        if (has[r]) remaining.push_back(std::move(by_row[r]));
        continue;
      }
      TrialGroup group;
      group.weights = std::move(own);
      Trial trial = has[r] ? std::move(by_row[r]) : Trial{};
      trial.row = r;
      group.trials.push_back(std::move(trial));
      groups.push_back(std::move(group));
    }
    groups[0].trials = std::move(remaining);
  }

  for (TrialGroup& group : groups) {
    if (group.trials.empty()) continue;
    std::vector<WeightBinding> bindings;
    for (WeightFault& weight : group.weights) {
      bindings.push_back({sites[weight.site].site.value, &weight.corrupted});
    }
    outcome.status =
        engine.run(golden, setting.resume, sites, setting.models, bindings, group.trials);
    if (!outcome.status.is_ok()) break;
  }
  return pending;
}

UnitOutcome finish_unit(const PreparedCampaign& campaign, const PreparedSetting& setting,
                        const GoldenBatch& golden, const std::vector<bool>& golden_correct,
                        PendingUnit& pending) {
  UnitOutcome outcome = std::move(pending.outcome);
  if (!outcome.status.is_ok()) return outcome;
  UnitRow& row = outcome.row;
  const int64_t repetition = row.repetition;
  std::vector<TrialGroup>& groups = pending.groups;
  std::vector<bool> faulted(static_cast<size_t>(golden.rows), false);
  std::vector<int64_t> top1(golden.top1);
  const bool first_batch = row.batch == 0;
  for (TrialGroup& group : groups) {
    if (group.trials.empty()) continue;
    // Weight faults: the trial also records them (a permanent one once, in batch 0).
    const bool per_image = &group != &groups[0];
    for (Trial& trial : group.trials) {
      faulted[trial.row] = true;
      top1[trial.row] = trial.top1;
      switch (trial.outcome) {
        case Outcome::kMasked: ++row.masked; break;
        case Outcome::kBenign: ++row.benign; break;
        case Outcome::kSdc: ++row.sdc; break;
        case Outcome::kNonFinite: ++row.nonfinite; break;
      }
      row.faults += static_cast<int64_t>(trial.applied.size());
      record_trial(setting, repetition, golden.ids[trial.row], trial, campaign.record_faults,
                   outcome.faults);
    }
    for (const WeightFault& weight : group.weights) {
      if (!per_image && !first_batch) continue;
      Trial record;  // the weight fault, with the worst outcome it caused
      record.outcome = Outcome::kMasked;
      for (const Trial& trial : group.trials)
        record.outcome = std::max(record.outcome, trial.outcome);
      for (const ElementFault& fault : weight.faults)
        record.applied.push_back({weight.site, fault});
      row.faults += static_cast<int64_t>(weight.faults.size());
      const int64_t image = per_image ? golden.ids[group.trials[0].row] : -1;
      record_trial(setting, repetition, image, record, campaign.record_faults, outcome.faults);
    }
  }
  for (int64_t r = 0; r < golden.rows; ++r) {
    if (faulted[r]) {
      ++row.faulted;
      if (top1[r] == golden.labels[r]) ++row.correct;
      if (top1[r] == golden.top1[r]) ++row.agree;
    } else {
      if (golden_correct[r]) ++row.correct;
      ++row.agree;
    }
  }
  return outcome;
}

}  // namespace nnfi::campaign
