#include "report/report_data.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>

#include "campaign/result_store.h"
#include "campaign/summary.h"
#include "nnfi/fault.h"
#include "nnfi/model.h"

namespace nnfi::report {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Checks, read-only, that `dir` holds an nnfi result store before opening it
// for reading (ResultStore would add its tables to any SQLite file).
Status check_results_folder(const fs::path& dir) {
  std::error_code error;
  if (!fs::exists(dir, error)) return not_found(dir.string() + ": no such folder");
  if (!fs::is_directory(dir, error)) {
    return invalid_argument(dir.string() +
                            ": not a folder (expected a results folder written by "
                            "nnfi run)");
  }
  const fs::path file = dir / "results.sqlite";
  if (!fs::exists(file, error)) {
    return not_found(dir.string() +
                     ": not an nnfi results folder (no results.sqlite; nnfi run CAMPAIGN --out " +
                     dir.string() + " writes one)");
  }
  sqlite3* db = nullptr;
  std::string problem;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    problem = db != nullptr ? sqlite3_errmsg(db) : "cannot open";
  } else {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT value FROM campaign WHERE key = 'layout'", -1, &statement,
                           nullptr) != SQLITE_OK) {
      problem = sqlite3_errmsg(db);
    } else if (sqlite3_step(statement) != SQLITE_ROW) {
      problem = "it holds no campaign layout";
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  if (!problem.empty()) {
    return invalid_argument(file.string() + ": not an nnfi result store (" + problem + ")");
  }
  return Status::ok();
}

MetricStats metric_stats(const json& node) {
  MetricStats stats;
  stats.mean = node.value("mean", 0.0);
  stats.std = node.value("std", 0.0);
  stats.min = node.value("min", 0.0);
  stats.max = node.value("max", 0.0);
  if (node.contains("ci95") && node["ci95"].size() == 2) {
    stats.ci95_low = node["ci95"][0].get<double>();
    stats.ci95_high = node["ci95"][1].get<double>();
  }
  if (node.contains("cma")) stats.cma = node["cma"].get<std::vector<double>>();
  if (node.contains("values")) stats.values = node["values"].get<std::vector<double>>();
  return stats;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) text += (i ? separator : "") + items[i];
  return text;
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

std::string target_description(const TargetSpec& target) {
  static const char* kKinds[] = {"layers", "ops", "nodes", "weights", "input"};
  std::string text = kKinds[static_cast<int>(target.kind)];
  if (target.kind == TargetSpec::Kind::kInput) return text;
  if (target.all) return text + ": " + (target.each ? "each" : "all");
  text += ": [" + join(target.names, ", ") + "]";
  if (target.each) text += " (each)";
  return text;
}

std::string experiment_description(const ExperimentSpec& experiment) {
  std::vector<std::string> parts;
  for (const InjectionSpec& injection : experiment.injections) {
    parts.push_back(target_description(injection.target) + ", " +
                    fault_model_description(injection.fault));
  }
  std::string text = join(parts, " + ");
  std::vector<std::string> amounts;
  if (experiment.mode == ProbabilityMode::kExactCount) {
    for (int64_t k : experiment.fault_counts) amounts.push_back(std::to_string(k));
    text += "; faults per inference: " + join(amounts, ", ");
  } else {
    for (double p : experiment.probabilities) amounts.push_back(number_text(p));
    text += "; p: " + join(amounts, ", ");
    if (experiment.mode == ProbabilityMode::kPerExecution) text += " (per execution)";
  }
  text += "; " + std::to_string(experiment.repetitions) + " repetition" +
          (experiment.repetitions == 1 ? "" : "s");
  return text;
}

// The stored dtype of a site named as nnfi sites names it: a layer, a node
// output ("node" or "node:k"), a weight or an input value.
std::optional<DType> site_dtype(const Graph& graph, const std::string& site) {
  if (auto layer = graph.find_layer(site); layer && graph.layers[*layer].output != kNoValue) {
    return graph.values[graph.layers[*layer].output].dtype;
  }
  std::string node_name = site;
  size_t output = 0;
  const size_t colon = site.rfind(':');
  if (colon != std::string::npos && colon + 1 < site.size() &&
      site.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    node_name = site.substr(0, colon);
    output = std::stoul(site.substr(colon + 1));
  }
  if (auto node = graph.find_node(node_name); node && output < graph.nodes[*node].outputs.size()) {
    return graph.values[graph.nodes[*node].outputs[output]].dtype;
  }
  if (auto value = graph.find_value(site)) return graph.values[*value].dtype;
  return std::nullopt;
}

std::string value_description(const Graph& graph, ValueId id) {
  const Value& value = graph.values[id];
  return value.name + " " + std::string(dtype_name(value.dtype)) + " " +
         shape_to_string(value.shape);
}

void summarize_model(const CampaignSpec& spec, ReportData& data) {
  ModelSummary& model = data.model;
  model.path = spec.model.string();
  std::error_code error;
  if (!fs::exists(spec.model, error)) {
    model.error = "the model file " + model.path +
                  " is gone (relative paths are relative to the folder nnfi run was started in)";
    return;
  }
  Expected<std::shared_ptr<Graph>> loaded = load_model(spec.model, spec.load);
  if (!loaded.has_value()) {
    model.error = "the model " + model.path + " could not be loaded: " + loaded.status().message();
    return;
  }
  const Graph& graph = **loaded;
  model.loaded = true;
  auto format = graph.metadata.find("format");
  model.format = format != graph.metadata.end() ? format->second : "";
  model.nodes = static_cast<int64_t>(graph.nodes.size());
  for (ValueId id : graph.inputs) model.inputs.push_back(value_description(graph, id));
  for (ValueId id : graph.outputs) model.outputs.push_back(value_description(graph, id));
  for (size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    LayerInfo info;
    info.index = static_cast<int64_t>(i);
    info.name = layer.name;
    info.class_name = layer.class_name;
    info.shape = layer.output != kNoValue ? shape_to_string(graph.values[layer.output].shape) : "";
    info.parameters = graph.layer_parameter_count(static_cast<int32_t>(i));
    info.nodes = static_cast<int64_t>(layer.nodes.size());
    model.parameters += info.parameters;
    model.layers.push_back(info);
  }
  // The stored format of each setting's sites, for the bit fields.
  for (ExperimentData& experiment : data.experiments) {
    for (SettingData& setting : experiment.settings) {
      std::optional<DType> common;
      bool mixed = false;
      size_t start = 0;
      while (start <= setting.sites.size() && !setting.sites.empty()) {
        size_t end = setting.sites.find(',', start);
        if (end == std::string::npos) end = setting.sites.size();
        std::optional<DType> dtype = site_dtype(graph, setting.sites.substr(start, end - start));
        if (dtype && common && *dtype != *common) mixed = true;
        if (dtype && !common) common = dtype;
        start = end + 1;
      }
      if (common && !mixed) setting.dtype = *common;
    }
  }
}

Status read_bits(campaign::ResultStore& store, ReportData& data) {
  sqlite3_stmt* statement = nullptr;
  const char* sql =
      "SELECT experiment, setting, bit, outcome, COUNT(*) FROM faults "
      "GROUP BY experiment, setting, bit, outcome ORDER BY experiment, setting, bit";
  if (sqlite3_prepare_v2(store.handle(), sql, -1, &statement, nullptr) != SQLITE_OK) {
    std::string message = sqlite3_errmsg(store.handle());
    return io_error((data.dir / "results.sqlite").string() +
                    ": cannot read the faults: " + message);
  }
  int step;
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
    const int64_t experiment = sqlite3_column_int64(statement, 0);
    const int64_t setting = sqlite3_column_int64(statement, 1);
    const int bit = std::max(-1, sqlite3_column_int(statement, 2));
    const int outcome = sqlite3_column_int(statement, 3);
    if (data.bits.empty() || data.bits.back().experiment != experiment ||
        data.bits.back().setting != setting || data.bits.back().bit != bit) {
      data.bits.push_back({experiment, setting, bit, {}});
    }
    if (outcome >= 0 && outcome < 4)
      data.bits.back().outcomes[outcome] += sqlite3_column_int64(statement, 4);
  }
  sqlite3_finalize(statement);
  if (step != SQLITE_DONE)
    return io_error((data.dir / "results.sqlite").string() + ": cannot read the faults");
  return Status::ok();
}

void build_groups(ExperimentData& experiment) {
  std::map<std::string, size_t> slot;
  for (size_t s = 0; s < experiment.settings.size(); ++s) {
    const SettingData& setting = experiment.settings[s];
    auto [it, added] = slot.emplace(setting.group, experiment.groups.size());
    if (added) {
      experiment.groups.push_back(
          {setting.group, setting.kind, setting.class_name, setting.shape, setting.index, {}, {}});
    }
    experiment.groups[it->second].settings.push_back(s);
  }
  for (GroupData& group : experiment.groups) {
    std::stable_sort(group.settings.begin(), group.settings.end(), [&](size_t a, size_t b) {
      return experiment.settings[a].probability < experiment.settings[b].probability;
    });
  }
  std::stable_sort(experiment.groups.begin(), experiment.groups.end(),
                   [](const GroupData& a, const GroupData& b) {
                     if ((a.index >= 0) != (b.index >= 0)) return a.index >= 0;
                     return a.index < b.index;
                   });
}

}  // namespace

const ExperimentData* ReportData::experiment(int64_t id) const {
  for (const ExperimentData& e : experiments) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

const SettingData* ReportData::setting(int64_t experiment_id, int64_t setting_id) const {
  const ExperimentData* e = experiment(experiment_id);
  if (e == nullptr) return nullptr;
  for (const SettingData& s : e->settings) {
    if (s.setting == setting_id) return &s;
  }
  return nullptr;
}

int bit_width(DType dtype) {
  const int width = fault_bit_width(dtype);
  return width > 0 ? width : 32;
}

std::string bit_field(DType dtype, int bit) {
  if (bit < 0) return "";
  switch (dtype) {
    case DType::kUndefined:
    case DType::kFloat32: return bit == 31 ? "sign" : bit >= 23 ? "exponent" : "mantissa";
    case DType::kFloat16: return bit == 15 ? "sign" : bit >= 10 ? "exponent" : "mantissa";
    case DType::kBFloat16: return bit == 15 ? "sign" : bit >= 7 ? "exponent" : "mantissa";
    case DType::kInt8: return bit == 7 ? "sign" : "value";
    case DType::kInt32: return bit == 31 ? "sign" : "value";
    case DType::kUInt8: return "value";
    default: return "";
  }
}

std::string probability_label(const ExperimentData& experiment, double probability) {
  if (experiment.counts) return "k=" + number_text(probability);
  return number_text(probability);
}

Expected<ReportData> load_report_data(const fs::path& dir, bool load_model) {
  NNFI_RETURN_IF_ERROR(check_results_folder(dir));
  ReportData data;
  data.dir = dir;
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<campaign::ResultStore> store,
                        campaign::ResultStore::open_existing(dir / "results.sqlite"));
  NNFI_ASSIGN_OR_RETURN(data.summary, campaign::build_summary(*store));
  for (const char* key : {"source", "model", "data", "seed", "nnfi_version", "config"}) {
    NNFI_ASSIGN_OR_RETURN(data.campaign[key], store->campaign_value(key));
  }
  NNFI_ASSIGN_OR_RETURN(std::string layout_text, store->campaign_value("layout"));
  const json layout = json::parse(layout_text, nullptr, false);
  std::vector<int64_t> repetitions_expected;
  if (layout.is_object()) {
    data.batches = layout.value("batches", int64_t{0});
    data.images = layout.value("images", int64_t{0});
    data.batch = layout.value("batch", int64_t{0});
    if (layout.contains("repetitions") && layout["repetitions"].is_array()) {
      repetitions_expected = layout["repetitions"].get<std::vector<int64_t>>();
    }
  }
  NNFI_ASSIGN_OR_RETURN(std::string spec_text, store->campaign_value("spec"));
  if (!spec_text.empty()) {
    Expected<CampaignSpec> spec = campaign_spec_from_json(spec_text);
    if (spec.has_value()) {
      data.spec = std::move(*spec);
    } else {
      data.spec_error = spec.status().message();
    }
  } else {
    data.spec_error = "the store holds no campaign spec";
  }
  if (data.spec) {
    const FaultRecording recording = data.spec->record_faults;
    data.fault_recording = recording == FaultRecording::kAll         ? "all"
                           : recording == FaultRecording::kNonMasked ? "non_masked"
                                                                     : "none";
  }

  NNFI_ASSIGN_OR_RETURN(std::vector<campaign::BatchRow> batches, store->batches());
  for (const campaign::BatchRow& batch : batches) data.golden_seconds += batch.golden_seconds;
  const json& golden = data.summary["golden"];
  data.golden_images = golden.value("images", int64_t{0});
  data.golden_correct = golden.value("correct", int64_t{0});
  data.golden_skipped = golden.value("skipped", int64_t{0});
  data.golden_accuracy = golden.value("accuracy", 0.0);

  // Experiment ids by name (names are unique within a campaign).
  NNFI_ASSIGN_OR_RETURN(std::vector<campaign::SettingRow> setting_rows, store->settings());
  std::map<std::string, int64_t> experiment_ids;
  for (const campaign::SettingRow& row : setting_rows) {
    experiment_ids.emplace(row.experiment_name, row.experiment);
  }
  for (const json& node : data.summary["experiments"]) {
    ExperimentData experiment;
    experiment.name = node.value("name", "");
    experiment.metric = node.value("metric", "");
    experiment.repetitions = node.value("repetitions", int64_t{0});
    experiment.id = experiment_ids.count(experiment.name) ? experiment_ids[experiment.name] : 0;
    experiment.fault_free = experiment.metric == "golden" ? 1.0 : data.golden_accuracy;
    if (data.spec && experiment.id < static_cast<int64_t>(data.spec->experiments.size())) {
      const ExperimentSpec& spec = data.spec->experiments[experiment.id];
      experiment.description = experiment_description(spec);
      experiment.counts = spec.mode == ProbabilityMode::kExactCount;
    }
    for (const json& s : node["settings"]) {
      SettingData setting;
      setting.experiment = experiment.id;
      setting.setting = s.value("setting", int64_t{0});
      setting.group = s.value("group", "");
      setting.kind = s.value("kind", "");
      setting.class_name = s.value("class", "");
      setting.index = s.value("index", int64_t{-1});
      setting.shape = s.value("shape", "");
      setting.sites = s.value("sites", "");
      setting.site_elements = s.value("site_elements", int64_t{0});
      setting.probability = s.value("probability", 0.0);
      setting.repetitions = s.value("repetitions", int64_t{0});
      setting.complete = s.value("complete", false);
      setting.accuracy = metric_stats(s["accuracy"]);
      setting.ground_truth = metric_stats(s["accuracy_ground_truth"]);
      setting.agreement = metric_stats(s["golden_agreement"]);
      setting.inferences = s.value("inferences", int64_t{0});
      setting.faulted = s.value("faulted_inferences", int64_t{0});
      setting.faults = s.value("faults", int64_t{0});
      for (int o = 0; o < 4; ++o) setting.outcomes[o] = s["outcomes"].value(kOutcomeNames[o], 0);
      experiment.settings.push_back(std::move(setting));
    }
    build_groups(experiment);
    for (const json& fit : node["fits"]) {
      for (GroupData& group : experiment.groups) {
        if (group.name != fit.value("group", "")) continue;
        group.fit = FitData{group.name, fit.value("slope", 0.0), fit.value("intercept", 0.0),
                            fit.value("r2", 0.0), fit.value("points", int64_t{0})};
      }
    }
    data.experiments.push_back(std::move(experiment));
  }

  // Per repetition, and what is missing.
  NNFI_ASSIGN_OR_RETURN(std::vector<campaign::UnitRow> units, store->units());
  std::map<std::tuple<int64_t, int64_t, int64_t>, RepetitionData> repetitions;
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t>> done;
  for (const campaign::UnitRow& unit : units) {
    RepetitionData& r = repetitions[{unit.experiment, unit.setting, unit.repetition}];
    r.experiment = unit.experiment;
    r.setting = unit.setting;
    r.repetition = unit.repetition;
    ++r.batches;
    r.images += unit.images;
    r.faulted += unit.faulted;
    r.faults += unit.faults;
    r.correct += unit.correct;
    r.agree += unit.agree;
    const int64_t counts[4] = {unit.masked, unit.benign, unit.sdc, unit.nonfinite};
    for (int o = 0; o < 4; ++o) r.outcomes[o] += counts[o];
    done.insert({unit.experiment, unit.setting, unit.repetition, unit.batch});
  }
  for (auto& [key, r] : repetitions) {
    r.complete = data.batches > 0 && r.batches >= data.batches;
    data.repetitions.push_back(r);
  }
  for (const campaign::SettingRow& row : setting_rows) {
    const int64_t reps = row.experiment < static_cast<int64_t>(repetitions_expected.size())
                             ? repetitions_expected[row.experiment]
                             : 0;
    for (int64_t r = 0; r < reps; ++r) {
      MissingUnits missing{row.experiment, row.setting, r, {}};
      for (int64_t b = 0; b < data.batches; ++b) {
        if (!done.count({row.experiment, row.setting, r, b})) missing.batches.push_back(b);
      }
      data.units_expected += data.batches;
      data.units_missing += static_cast<int64_t>(missing.batches.size());
      if (!missing.batches.empty()) data.missing.push_back(std::move(missing));
    }
  }

  NNFI_RETURN_IF_ERROR(read_bits(*store, data));
  if (load_model) {
    if (data.spec) {
      summarize_model(*data.spec, data);
    } else {
      data.model.error = "the campaign spec could not be read: " + data.spec_error;
    }
  }
  return data;
}

}  // namespace nnfi::report
