#include "campaign/summary.h"

#include <cstdio>
#include <fstream>
#include <map>

#include "campaign/statistics.h"

namespace nnfi::campaign {
namespace {

using nlohmann::json;

struct RepetitionTotals {
  int64_t batches = 0, images = 0, correct = 0, agree = 0, faulted = 0, faults = 0;
  int64_t masked = 0, benign = 0, sdc = 0, nonfinite = 0;
};

json summary_json(const Summary& summary, const std::vector<double>& values) {
  return json{{"mean", summary.mean},
              {"std", summary.std},
              {"min", summary.min},
              {"max", summary.max},
              {"ci95", {summary.ci95_low, summary.ci95_high}},
              {"cma", summary.cma},
              {"values", values}};
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.10g", value);
  return text;
}

}  // namespace

Expected<json> build_summary(ResultStore& store) {
  NNFI_ASSIGN_OR_RETURN(std::vector<SettingRow> settings, store.settings());
  NNFI_ASSIGN_OR_RETURN(std::vector<UnitRow> units, store.units());
  NNFI_ASSIGN_OR_RETURN(std::vector<BatchRow> batches, store.batches());
  NNFI_ASSIGN_OR_RETURN(std::string layout_text, store.campaign_value("layout"));
  json layout = layout_text.empty() ? json::object() : json::parse(layout_text, nullptr, false);
  const int64_t batches_expected = layout.value("batches", int64_t{0});

  json result;
  for (const char* key : {"source", "model", "data", "seed", "nnfi_version", "config"}) {
    NNFI_ASSIGN_OR_RETURN(std::string value, store.campaign_value(key));
    result["campaign"][key] = value;
  }
  int64_t golden_images = 0, golden_correct = 0, skipped = 0;
  for (const BatchRow& batch : batches) {
    golden_images += batch.images;
    golden_correct += batch.golden_correct;
    skipped += batch.skipped;
  }
  result["golden"] = {{"images", golden_images},
                      {"correct", golden_correct},
                      {"skipped", skipped},
                      {"accuracy", golden_images > 0 ? static_cast<double>(golden_correct) /
                                                           static_cast<double>(golden_images)
                                                     : 0.0}};

  // units -> (experiment, setting) -> repetition -> totals
  std::map<std::pair<int64_t, int64_t>, std::map<int64_t, RepetitionTotals>> totals;
  for (const UnitRow& unit : units) {
    RepetitionTotals& t = totals[{unit.experiment, unit.setting}][unit.repetition];
    ++t.batches;
    t.images += unit.images;
    t.correct += unit.correct;
    t.agree += unit.agree;
    t.faulted += unit.faulted;
    t.faults += unit.faults;
    t.masked += unit.masked;
    t.benign += unit.benign;
    t.sdc += unit.sdc;
    t.nonfinite += unit.nonfinite;
  }

  int64_t missing_units = 0;
  json experiments = json::array();
  std::map<int64_t, size_t> experiment_slot;
  for (const SettingRow& setting : settings) {
    if (!experiment_slot.count(setting.experiment)) {
      experiment_slot[setting.experiment] = experiments.size();
      const int64_t repetitions =
          layout["repetitions"].is_array() &&
                  setting.experiment < static_cast<int64_t>(layout["repetitions"].size())
              ? layout["repetitions"][setting.experiment].get<int64_t>()
              : 0;
      experiments.push_back({{"name", setting.experiment_name},
                             {"metric", setting.metric},
                             {"repetitions", repetitions},
                             {"settings", json::array()},
                             {"fits", json::array()}});
    }
    json& experiment = experiments[experiment_slot[setting.experiment]];
    const int64_t repetitions_expected = experiment["repetitions"].get<int64_t>();
    const auto& per_repetition = totals[{setting.experiment, setting.setting}];
    std::vector<double> accuracy_gt, agreement;
    RepetitionTotals all;
    int64_t complete = 0;
    for (const auto& [repetition, t] : per_repetition) {
      if (batches_expected > 0 && t.batches < batches_expected) {
        missing_units += batches_expected - t.batches;
        continue;  // a partial repetition does not enter the statistics
      }
      ++complete;
      const double images = static_cast<double>(std::max<int64_t>(1, t.images));
      accuracy_gt.push_back(static_cast<double>(t.correct) / images);
      agreement.push_back(static_cast<double>(t.agree) / images);
      all.images += t.images;
      all.faulted += t.faulted;
      all.faults += t.faults;
      all.masked += t.masked;
      all.benign += t.benign;
      all.sdc += t.sdc;
      all.nonfinite += t.nonfinite;
    }
    missing_units += (repetitions_expected - static_cast<int64_t>(per_repetition.size())) *
                     std::max<int64_t>(batches_expected, 1);
    const bool golden_metric = setting.metric == "golden";
    const std::vector<double>& metric_values = golden_metric ? agreement : accuracy_gt;
    const Interval faulted_interval = wilson_interval(all.faulted, all.images);
    json row = {
        {"setting", setting.setting},
        {"group", setting.group},
        {"kind", setting.group_kind},
        {"class", setting.group_class},
        {"index", setting.group_index},
        {"shape", setting.shape},
        {"sites", setting.sites},
        {"site_elements", setting.site_elements},
        {"probability", setting.probability},
        {"repetitions", complete},
        {"complete", complete == repetitions_expected},
        {"accuracy", summary_json(summarize(metric_values), metric_values)},
        {"accuracy_ground_truth", summary_json(summarize(accuracy_gt), accuracy_gt)},
        {"golden_agreement", summary_json(summarize(agreement), agreement)},
        {"inferences", all.images},
        {"faulted_inferences", all.faulted},
        {"faulted_share",
         all.images > 0 ? static_cast<double>(all.faulted) / static_cast<double>(all.images) : 0.0},
        {"faulted_share_ci95", {faulted_interval.low, faulted_interval.high}},
        {"faults", all.faults},
        {"outcomes",
         {{"masked", all.masked},
          {"benign", all.benign},
          {"sdc", all.sdc},
          {"non_finite", all.nonfinite}}}};
    experiment["settings"].push_back(row);
  }

  // Per group: accuracy (the experiment's metric) against p.
  for (json& experiment : experiments) {
    std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> points;
    std::vector<std::string> order;
    for (const json& setting : experiment["settings"]) {
      if (setting["repetitions"].get<int64_t>() == 0) continue;
      const std::string group = setting["group"];
      if (!points.count(group)) order.push_back(group);
      points[group].first.push_back(setting["probability"].get<double>());
      points[group].second.push_back(setting["accuracy"]["mean"].get<double>());
    }
    for (const std::string& group : order) {
      const LinearFit fit = linear_fit(points[group].first, points[group].second);
      if (!fit.valid) continue;
      experiment["fits"].push_back({{"group", group},
                                    {"slope", fit.slope},
                                    {"intercept", fit.intercept},
                                    {"r2", fit.r2},
                                    {"points", points[group].first.size()}});
    }
  }
  result["experiments"] = experiments;
  NNFI_ASSIGN_OR_RETURN(std::string timing, store.campaign_value("timing"));
  if (!timing.empty()) result["timing"] = json::parse(timing, nullptr, false);
  result["complete"] = missing_units == 0 && batches_expected > 0 &&
                       static_cast<int64_t>(batches.size()) == batches_expected;
  result["missing_units"] = missing_units;
  return result;
}

Status write_summary(ResultStore& store, const std::filesystem::path& out_dir) {
  NNFI_ASSIGN_OR_RETURN(json summary, build_summary(store));
  {
    std::ofstream file(out_dir / "summary.json");
    file << summary.dump(2) << "\n";
    if (!file) return io_error((out_dir / "summary.json").string() + ": cannot write");
  }
  std::ofstream settings(out_dir / "settings.csv");
  settings << "experiment,setting,group,kind,class,index,shape,probability,metric,repetitions,"
              "accuracy_mean,accuracy_std,accuracy_min,accuracy_max,ci95_low,ci95_high,"
              "golden_agreement_mean,inferences,faulted_share,faults,masked,benign,sdc,"
              "non_finite\n";
  std::ofstream repetitions(out_dir / "repetitions.csv");
  repetitions << "experiment,setting,group,probability,repetition,accuracy,"
                 "accuracy_ground_truth,golden_agreement\n";
  for (const json& experiment : summary["experiments"]) {
    const std::string name = experiment["name"];
    for (const json& s : experiment["settings"]) {
      const json& accuracy = s["accuracy"];
      const json& outcomes = s["outcomes"];
      settings << csv_field(name) << "," << s["setting"].get<int64_t>() << ","
               << csv_field(s["group"]) << "," << csv_field(s["kind"]) << ","
               << csv_field(s["class"]) << "," << s["index"].get<int64_t>() << ","
               << csv_field(s["shape"]) << "," << number(s["probability"]) << ","
               << csv_field(experiment["metric"]) << "," << s["repetitions"].get<int64_t>() << ","
               << number(accuracy["mean"]) << "," << number(accuracy["std"]) << ","
               << number(accuracy["min"]) << "," << number(accuracy["max"]) << ","
               << number(accuracy["ci95"][0]) << "," << number(accuracy["ci95"][1]) << ","
               << number(s["golden_agreement"]["mean"]) << "," << s["inferences"].get<int64_t>()
               << "," << number(s["faulted_share"]) << "," << s["faults"].get<int64_t>() << ","
               << outcomes["masked"].get<int64_t>() << "," << outcomes["benign"].get<int64_t>()
               << "," << outcomes["sdc"].get<int64_t>() << ","
               << outcomes["non_finite"].get<int64_t>() << "\n";
      const json& values = accuracy["values"];
      for (size_t r = 0; r < values.size(); ++r) {
        repetitions << csv_field(name) << "," << s["setting"].get<int64_t>() << ","
                    << csv_field(s["group"]) << "," << number(s["probability"]) << "," << r << ","
                    << number(values[r]) << "," << number(s["accuracy_ground_truth"]["values"][r])
                    << "," << number(s["golden_agreement"]["values"][r]) << "\n";
      }
    }
  }
  if (!settings || !repetitions) return io_error(out_dir.string() + ": cannot write the CSV files");
  return Status::ok();
}

}  // namespace nnfi::campaign
