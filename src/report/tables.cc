// Tidy tables of a results folder (nnfi report --csv / --json): one row per
// setting, per repetition, per (setting, flipped bit) and per unfinished
// repetition. docs/report.md lists the columns.
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "nnfi/report.h"
#include "report/report_data.h"
#include "report/report_text.h"

namespace nnfi {
namespace {

using report::ExperimentData;
using report::ReportData;
using report::SettingData;

TableCell share(int64_t part, int64_t whole) {
  if (whole <= 0) return std::monostate{};
  return static_cast<double>(part) / static_cast<double>(whole);
}

TidyTable settings_table(const ReportData& data) {
  TidyTable table{"settings",
                  {"experiment",
                   "metric",
                   "setting",
                   "group",
                   "kind",
                   "class",
                   "index",
                   "shape",
                   "sites",
                   "site_elements",
                   "probability",
                   "repetitions",
                   "repetitions_expected",
                   "complete",
                   "accuracy_mean",
                   "accuracy_std",
                   "accuracy_min",
                   "accuracy_max",
                   "accuracy_ci95_low",
                   "accuracy_ci95_high",
                   "accuracy_ground_truth_mean",
                   "golden_agreement_mean",
                   "fault_free",
                   "accuracy_drop",
                   "inferences",
                   "faulted_inferences",
                   "faulted_share",
                   "faults",
                   "masked",
                   "benign",
                   "sdc",
                   "non_finite",
                   "sdc_share",
                   "fit_slope",
                   "fit_intercept",
                   "fit_r2"},
                  {}};
  for (const ExperimentData& e : data.experiments) {
    for (const report::GroupData& group : e.groups) {
      for (size_t index : group.settings) {
        const SettingData& s = e.settings[index];
        const bool has = s.repetitions > 0;
        auto stat = [has](double value) -> TableCell {
          if (!has) return std::monostate{};
          return value;
        };
        const std::optional<report::FitData>& fit = group.fit;
        table.rows.push_back({e.name,
                              e.metric,
                              s.setting,
                              s.group,
                              s.kind,
                              s.class_name,
                              s.index,
                              s.shape,
                              s.sites,
                              s.site_elements,
                              s.probability,
                              s.repetitions,
                              e.repetitions,
                              s.complete,
                              stat(s.accuracy.mean),
                              stat(s.accuracy.std),
                              stat(s.accuracy.min),
                              stat(s.accuracy.max),
                              stat(s.accuracy.ci95_low),
                              stat(s.accuracy.ci95_high),
                              stat(s.ground_truth.mean),
                              stat(s.agreement.mean),
                              e.fault_free,
                              stat(e.fault_free - s.accuracy.mean),
                              s.inferences,
                              s.faulted,
                              share(s.faulted, s.inferences),
                              s.faults,
                              s.outcomes[0],
                              s.outcomes[1],
                              s.outcomes[2],
                              s.outcomes[3],
                              share(s.outcomes[2], s.faulted),
                              fit ? TableCell(fit->slope) : TableCell(),
                              fit ? TableCell(fit->intercept) : TableCell(),
                              fit ? TableCell(fit->r2) : TableCell()});
      }
    }
  }
  return table;
}

TidyTable repetitions_table(const ReportData& data) {
  TidyTable table{"repetitions",
                  {"experiment",
                   "metric",
                   "setting",
                   "group",
                   "class",
                   "index",
                   "probability",
                   "repetition",
                   "complete",
                   "batches",
                   "images",
                   "faulted_inferences",
                   "faults",
                   "accuracy",
                   "accuracy_ground_truth",
                   "golden_agreement",
                   "cma",
                   "masked",
                   "benign",
                   "sdc",
                   "non_finite"},
                  {}};
  // CMA of the metric over the finished repetitions, in repetition order.
  std::map<std::pair<int64_t, int64_t>, std::pair<double, int64_t>> running;
  for (const report::RepetitionData& r : data.repetitions) {
    const ExperimentData* e = data.experiment(r.experiment);
    const SettingData* s = data.setting(r.experiment, r.setting);
    if (e == nullptr || s == nullptr) continue;
    const double images = static_cast<double>(std::max<int64_t>(1, r.images));
    const double ground_truth = static_cast<double>(r.correct) / images;
    const double agreement = static_cast<double>(r.agree) / images;
    const double metric = e->metric == "golden" ? agreement : ground_truth;
    TableCell cma = std::monostate{};
    if (r.complete) {
      auto& [sum, count] = running[{r.experiment, r.setting}];
      sum += metric;
      ++count;
      cma = sum / static_cast<double>(count);
    }
    table.rows.push_back(
        {e->name,        e->metric,     s->setting,   s->group,  s->class_name, s->index,
         s->probability, r.repetition,  r.complete,   r.batches, r.images,      r.faulted,
         r.faults,       metric,        ground_truth, agreement, cma,           r.outcomes[0],
         r.outcomes[1],  r.outcomes[2], r.outcomes[3]});
  }
  return table;
}

TidyTable bits_table(const ReportData& data) {
  TidyTable table{"bits",
                  {"experiment", "setting", "group", "class", "index", "probability", "dtype",
                   "bit", "field", "faults", "masked", "benign", "sdc", "non_finite", "sdc_share"},
                  {}};
  for (const report::BitCounts& b : data.bits) {
    const ExperimentData* e = data.experiment(b.experiment);
    const SettingData* s = data.setting(b.experiment, b.setting);
    if (e == nullptr || s == nullptr) continue;
    int64_t faults = 0;
    for (int64_t count : b.outcomes) faults += count;
    const std::string dtype =
        s->dtype == DType::kUndefined ? "" : std::string(dtype_name(s->dtype));
    table.rows.push_back({e->name, s->setting, s->group, s->class_name, s->index, s->probability,
                          dtype, int64_t{b.bit}, report::bit_field(s->dtype, b.bit), faults,
                          b.outcomes[0], b.outcomes[1], b.outcomes[2], b.outcomes[3],
                          share(b.outcomes[2], faults)});
  }
  return table;
}

TidyTable missing_table(const ReportData& data) {
  TidyTable table{
      "missing",
      {"experiment", "setting", "group", "probability", "repetition", "batches_missing", "batches"},
      {}};
  for (const report::MissingUnits& m : data.missing) {
    const ExperimentData* e = data.experiment(m.experiment);
    const SettingData* s = data.setting(m.experiment, m.setting);
    table.rows.push_back({e ? TableCell(e->name) : TableCell(std::to_string(m.experiment)),
                          m.setting, s ? TableCell(s->group) : TableCell(std::monostate{}),
                          s ? TableCell(s->probability) : TableCell(std::monostate{}), m.repetition,
                          static_cast<int64_t>(m.batches.size()), report::index_ranges(m.batches)});
  }
  return table;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string cell_text(const TableCell& cell) {
  if (std::holds_alternative<int64_t>(cell)) return std::to_string(std::get<int64_t>(cell));
  if (std::holds_alternative<double>(cell)) {
    const double value = std::get<double>(cell);
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char text[32];
    std::snprintf(text, sizeof(text), "%.10g", value);
    return text;
  }
  if (std::holds_alternative<bool>(cell)) return std::get<bool>(cell) ? "true" : "false";
  if (std::holds_alternative<std::string>(cell)) return csv_field(std::get<std::string>(cell));
  return "";
}

nlohmann::json cell_json(const TableCell& cell) {
  if (std::holds_alternative<int64_t>(cell)) return std::get<int64_t>(cell);
  if (std::holds_alternative<double>(cell)) {
    const double value = std::get<double>(cell);
    if (!std::isfinite(value)) return nullptr;
    return value;
  }
  if (std::holds_alternative<bool>(cell)) return std::get<bool>(cell);
  if (std::holds_alternative<std::string>(cell)) return std::get<std::string>(cell);
  return nullptr;
}

nlohmann::json records(const TidyTable& table) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& row : table.rows) {
    nlohmann::json record = nlohmann::json::object();
    for (size_t c = 0; c < table.columns.size() && c < row.size(); ++c) {
      record[table.columns[c]] = cell_json(row[c]);
    }
    array.push_back(std::move(record));
  }
  return array;
}

}  // namespace

const TidyTable* ReportTables::find(const std::string& name) const {
  for (const TidyTable& table : tables) {
    if (table.name == name) return &table;
  }
  return nullptr;
}

Expected<ReportTables> read_report_tables(const std::filesystem::path& results_dir) {
  // The model gives the stored formats of the sites (the bit fields); a
  // missing model leaves them float32, as most campaigns are.
  NNFI_ASSIGN_OR_RETURN(ReportData data, report::load_report_data(results_dir, true));
  ReportTables tables;
  tables.tables = {settings_table(data), repetitions_table(data), bits_table(data),
                   missing_table(data)};
  tables.units_expected = data.units_expected;
  tables.units_missing = data.units_missing;
  return tables;
}

std::string table_to_csv(const TidyTable& table) {
  std::string text;
  // Appended piecewise: "literal" + std::string&& trips GCC 12's false -Wrestrict.
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (c > 0) text += ',';
    text += csv_field(table.columns[c]);
  }
  text += '\n';
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) text += ',';
      text += cell_text(row[c]);
    }
    text += '\n';
  }
  return text;
}

std::string table_to_json(const TidyTable& table) { return records(table).dump(1) + "\n"; }

std::string tables_to_json(const ReportTables& tables) {
  nlohmann::json object = nlohmann::json::object();
  for (const TidyTable& table : tables.tables) object[table.name] = records(table);
  object["units_expected"] = tables.units_expected;
  object["units_missing"] = tables.units_missing;
  return object.dump(1) + "\n";
}

}  // namespace nnfi
