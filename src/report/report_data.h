// Everything a report shows, read once from a results folder: the campaign
// as run, the summary statistics (campaign::build_summary), per-repetition
// totals, fault counts by flipped bit, the missing units of a partial run and
// a summary of the model. Figures, tables and the HTML page read only this.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nnfi/campaign.h"
#include "nnfi/dtype.h"
#include "nnfi/status.h"

namespace nnfi::report {

// Mean, spread and series of one metric over the finished repetitions.
struct MetricStats {
  double mean = 0, std = 0, min = 0, max = 0, ci95_low = 0, ci95_high = 0;
  std::vector<double> cma, values;
};

// Outcome counts in the order masked, benign, sdc, non_finite.
using OutcomeCounts = std::array<int64_t, 4>;
inline constexpr const char* kOutcomeNames[4] = {"masked", "benign", "sdc", "non_finite"};

struct SettingData {
  int64_t experiment = 0, setting = 0;
  std::string group, kind, class_name, shape, sites;
  int64_t index = -1;  // layer index where the group is a layer
  int64_t site_elements = 0;
  double probability = 0;   // or the fault count k
  int64_t repetitions = 0;  // finished repetitions
  bool complete = false;
  MetricStats accuracy;  // the experiment's metric
  MetricStats ground_truth, agreement;
  int64_t inferences = 0, faulted = 0, faults = 0;
  OutcomeCounts outcomes{};
  DType dtype = DType::kUndefined;  // stored format of the sites (from the model), if known
};

struct FitData {
  std::string group;
  double slope = 0, intercept = 0, r2 = 0;
  int64_t points = 0;
};

// A site group of an experiment (a layer, an op type, ...) and its settings.
struct GroupData {
  std::string name, kind, class_name, shape;
  int64_t index = -1;
  std::vector<size_t> settings;  // into ExperimentData::settings, by probability
  std::optional<FitData> fit;
};

struct ExperimentData {
  int64_t id = 0;
  std::string name, metric;  // metric: ground_truth or golden
  int64_t repetitions = 0;   // expected per setting
  std::string description;   // target, fault model, probabilities (from the spec)
  bool counts = false;       // settings are fault counts k, not probabilities
  std::vector<SettingData> settings;
  std::vector<GroupData> groups;  // by layer index, then first appearance
  double fault_free = 0;          // the metric without faults: golden accuracy, or 1
};

struct RepetitionData {
  int64_t experiment = 0, setting = 0, repetition = 0;
  int64_t batches = 0, images = 0, faulted = 0, faults = 0, correct = 0, agree = 0;
  OutcomeCounts outcomes{};
  bool complete = false;
};

// Recorded faults of one setting that changed exactly one bit (bit >= 0) or
// several (bit -1), by outcome.
struct BitCounts {
  int64_t experiment = 0, setting = 0;
  int bit = -1;
  OutcomeCounts outcomes{};
};

struct MissingUnits {
  int64_t experiment = 0, setting = 0, repetition = 0;
  std::vector<int64_t> batches;  // missing batch indices
};

struct LayerInfo {
  int64_t index = 0;
  std::string name, class_name, shape;
  int64_t parameters = 0, nodes = 0;
};

struct ModelSummary {
  bool loaded = false;
  std::string error;  // why not loaded
  std::string path, format;
  std::vector<LayerInfo> layers;
  int64_t parameters = 0, nodes = 0;
  std::vector<std::string> inputs, outputs;  // "name float32 [-1, 1, 28, 28]"
};

struct ReportData {
  std::filesystem::path dir;
  std::map<std::string, std::string> campaign;  // source, model, data, seed, nnfi_version, config
  int64_t batches = 0, images = 0, batch = 0;   // the layout
  int64_t golden_images = 0, golden_correct = 0, golden_skipped = 0;
  double golden_accuracy = 0, golden_seconds = 0;
  std::optional<CampaignSpec> spec;
  std::string spec_error;
  std::vector<ExperimentData> experiments;
  std::vector<RepetitionData> repetitions;
  std::vector<BitCounts> bits;
  std::string fault_recording = "all";  // all, non_masked, none
  std::vector<MissingUnits> missing;
  int64_t units_expected = 0, units_missing = 0;
  ModelSummary model;
  nlohmann::json summary;

  const ExperimentData* experiment(int64_t id) const;
  const SettingData* setting(int64_t experiment, int64_t setting) const;
};

// Reads DIR/results.sqlite (read-only checks first: a missing folder, no
// results.sqlite or a foreign file are errors naming it). `load_model`: also
// load the model for its summary and the sites' stored formats; a model that
// cannot be loaded is noted in ModelSummary::error, never an error.
Expected<ReportData> load_report_data(const std::filesystem::path& dir, bool load_model);

// The IEEE-754 field of a bit of a stored value: "sign", "exponent",
// "mantissa" for float formats, "sign" / "value" for integers, "" unknown.
std::string bit_field(DType dtype, int bit);
// Bits of the stored format (float32 when unknown).
int bit_width(DType dtype);

// "0.25" or "k=3" for a setting's probability / fault count.
std::string probability_label(const ExperimentData& experiment, double probability);

}  // namespace nnfi::report
