#include "report/html_sections.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <sstream>

#include "report/report_text.h"

namespace nnfi::report {
namespace {

std::string esc(const std::string& text) { return html_escape(text); }

// A table cell that sorts by `value` (empty: sorts last).
std::string number_cell(double value, const std::string& text) {
  if (!std::isfinite(value)) return "<td class=\"num\" data-v=\"\">" + esc(text) + "</td>";
  return "<td class=\"num\" data-v=\"" + format_number(value, 10) + "\">" + esc(text) + "</td>";
}

std::string text_cell(const std::string& text) { return "<td>" + esc(text) + "</td>"; }

std::string fact(const std::string& key, const std::string& value) {
  return "<tr><th>" + esc(key) + "</th><td>" + esc(value) + "</td></tr>\n";
}

}  // namespace

std::string reproduction_command(const ReportData& data, std::vector<std::string>& notes) {
  const std::string source = data.campaign.count("source") ? data.campaign.at("source") : "";
  std::string command = "nnfi run " + shell_quote(source.empty() ? "CAMPAIGN.yaml" : source) +
                        " --out " + shell_quote(data.dir.string());
  if (!data.spec) return command;
  const CampaignSpec& stored = *data.spec;
  Expected<CampaignSpec> parsed = parse_campaign(stored.text, stored.source);
  if (!parsed.has_value()) {
    notes.push_back(
        "the stored campaign text does not parse on its own (an InjectTF config?): "
        "the command names the model and the data set explicitly");
    return command + " --model " + shell_quote(stored.model.string()) + " --data " +
           shell_quote(stored.data.spec);
  }
  if (parsed->model != stored.model) command += " --model " + shell_quote(stored.model.string());
  if (parsed->feed != stored.feed) command += " --feed " + shell_quote(stored.feed);
  if (parsed->fetch != stored.fetch) command += " --fetch " + shell_quote(stored.fetch);
  if (!parsed->data_given && stored.data_given) {
    command += " --data " + shell_quote(stored.data.spec);
    notes.push_back(
        "the data set came from the command line: add the preprocessing flags of "
        "the original run (docs/data.md) to the reproduction command");
  } else if (parsed->data.spec != stored.data.spec) {
    command += " --data " + shell_quote(stored.data.spec);
  }
  if (parsed->data.limit != stored.data.limit) {
    command += " --limit " + std::to_string(stored.data.limit);
  }
  if (parsed->data.offset != stored.data.offset) {
    command += " --offset " + std::to_string(stored.data.offset);
  }
  std::error_code error;
  if (!source.empty() && !std::filesystem::exists(source, error)) {
    notes.push_back("the campaign file " + source +
                    " is gone; its text as run is in the configuration section");
  } else if (!source.empty()) {
    Expected<CampaignSpec> current = load_campaign_file(source);
    if (current.has_value() && current->text != stored.text) {
      notes.push_back("the campaign file " + source +
                      " changed since the run; its text as run is in the configuration section");
    }
  }
  return command;
}

std::string campaign_section(const ReportData& data, const std::string& command) {
  auto value = [&](const char* key) {
    auto it = data.campaign.find(key);
    return it != data.campaign.end() ? it->second : std::string();
  };
  std::ostringstream html;
  html << "<section id=\"campaign\"><h2>Campaign</h2>\n<table class=\"facts\">\n"
       << fact("campaign file", value("source")) << fact("model", value("model"))
       << fact("data set", value("data")) << fact("seed", value("seed"))
       << fact("images", std::to_string(data.images) + " in " + std::to_string(data.batches) +
                             " batches of " + std::to_string(data.batch))
       << fact("recorded faults", data.fault_recording)
       << fact("nnfi version (run)", value("nnfi_version"))
       << fact("results folder", data.dir.string());
  for (const ExperimentData& e : data.experiments) {
    html << fact("experiment " + e.name,
                 (e.description.empty() ? "" : e.description + "; ") + "metric " + e.metric);
  }
  html << "</table>\n<h3>Reproduce</h3>\n<pre class=\"command\">" << esc(command)
       << "</pre>\n<p>Run from the folder the campaign was run in. The same command resumes an "
          "interrupted run; a changed campaign file, model or data set is refused.</p>\n";
  if (!value("config").empty()) {
    html << "<details><summary>Configuration as run</summary><pre>" << esc(value("config"))
         << "</pre></details>\n";
  }
  html << "</section>\n";
  return html.str();
}

std::string golden_section(const ReportData& data) {
  std::ostringstream html;
  html << "<section id=\"golden\"><h2>Fault-free (golden) run</h2>\n<p class=\"big\">accuracy "
       << esc(format_percent(data.golden_accuracy)) << "</p>\n<table class=\"facts\">\n"
       << fact("correct", std::to_string(data.golden_correct) + " of " +
                              std::to_string(data.golden_images) + " images")
       << fact("skipped images", std::to_string(data.golden_skipped))
       << fact("golden run time", format_number(data.golden_seconds, 4) + " s")
       << "</table></section>\n";
  return html.str();
}

std::string model_section(const ReportData& data) {
  const ModelSummary& model = data.model;
  std::ostringstream html;
  html << "<section id=\"model\"><h2>Model</h2>\n";
  if (!model.loaded) {
    html << "<p class=\"note\">No model summary: " << esc(model.error) << "</p></section>\n";
    return html.str();
  }
  html << "<table class=\"facts\">\n" << fact("file", model.path);
  if (!model.format.empty()) html << fact("format", model.format);
  for (const std::string& input : model.inputs) html << fact("input", input);
  for (const std::string& output : model.outputs) html << fact("output", output);
  html << fact("nodes", std::to_string(model.nodes))
       << fact("layers", std::to_string(model.layers.size()))
       << fact("parameters", std::to_string(model.parameters)) << "</table>\n";
  html << "<details" << (model.layers.size() <= 60 ? " open" : "")
       << "><summary>Layers</summary>\n<table class=\"sortable\"><thead><tr><th>#</th>"
          "<th>layer</th><th>class</th><th>output shape</th><th>parameters</th><th>nodes</th>"
          "</tr></thead><tbody>\n";
  for (const LayerInfo& layer : model.layers) {
    html << "<tr>" << number_cell(static_cast<double>(layer.index), std::to_string(layer.index))
         << text_cell(layer.name) << text_cell(layer.class_name) << text_cell(layer.shape)
         << number_cell(static_cast<double>(layer.parameters), std::to_string(layer.parameters))
         << number_cell(static_cast<double>(layer.nodes), std::to_string(layer.nodes)) << "</tr>\n";
  }
  html << "</tbody></table></details></section>\n";
  return html.str();
}

std::string missing_section(const ReportData& data, const std::string& command) {
  if (data.units_missing == 0 && data.units_expected > 0) return "";
  std::ostringstream html;
  html << "<section id=\"missing\" class=\"warning\"><h2>Partial campaign</h2>\n<p>"
       << data.units_missing << " of " << data.units_expected
       << " units (setting &times; repetition &times; batch) are missing. Statistics use the "
          "finished repetitions only. Run <code>"
       << esc(command) << "</code> to finish it.</p>\n<ul>\n";
  constexpr size_t kShown = 30;
  for (size_t i = 0; i < data.missing.size() && i < kShown; ++i) {
    const MissingUnits& m = data.missing[i];
    const ExperimentData* e = data.experiment(m.experiment);
    const SettingData* s = data.setting(m.experiment, m.setting);
    html << "<li>" << esc(e ? e->name : std::to_string(m.experiment)) << ", setting " << m.setting;
    if (s && e) {
      html << " (" << esc(s->group) << ", " << (e->counts ? "" : "p = ")
           << esc(probability_label(*e, s->probability)) << ")";
    }
    html << ", repetition " << m.repetition << ": "
         << (static_cast<int64_t>(m.batches.size()) == data.batches
                 ? "all batches"
                 : "batches " + esc(index_ranges(m.batches)))
         << "</li>\n";
  }
  if (data.missing.size() > kShown) {
    html << "<li>&hellip; and " << data.missing.size() - kShown
         << " more repetitions (<code>nnfi report DIR --csv --table missing</code> lists them "
            "all)</li>\n";
  }
  html << "</ul></section>\n";
  return html.str();
}

std::string criticality_section(const ReportData& data) {
  struct Row {
    const ExperimentData* e;
    const GroupData* g;
    const SettingData* at;  // the setting at the experiment's largest p with results
    double drop;
    OutcomeCounts outcomes;
    int64_t faulted;
  };
  std::vector<Row> rows;
  for (const ExperimentData& e : data.experiments) {
    double pmax = -INFINITY;
    for (const SettingData& s : e.settings) {
      if (s.repetitions > 0) pmax = std::max(pmax, s.probability);
    }
    for (const GroupData& g : e.groups) {
      Row row{&e, &g, nullptr, NAN, {}, 0};
      for (size_t s : g.settings) {
        const SettingData& setting = e.settings[s];
        for (int o = 0; o < 4; ++o) row.outcomes[o] += setting.outcomes[o];
        row.faulted += setting.faulted;
        if (setting.repetitions > 0 && setting.probability == pmax) row.at = &setting;
      }
      if (row.at) row.drop = e.fault_free - row.at->accuracy.mean;
      rows.push_back(row);
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (std::isnan(a.drop) != std::isnan(b.drop)) return !std::isnan(a.drop);
    return a.drop > b.drop;
  });
  std::ostringstream html;
  html << "<section id=\"criticality\"><h2>Sites by criticality</h2>\n<p>One row per site group "
          "and experiment, most critical first: the drop of the metric from its fault-free value "
          "at the experiment's largest probability (or fault count). Click a column to sort.</p>\n"
          "<table class=\"sortable\" id=\"criticality-table\"><thead><tr><th>experiment</th>"
          "<th>#</th><th>group</th><th>class</th><th>shape</th><th>elements</th><th>p</th>"
          "<th>mean</th><th>std</th><th>drop</th><th>slope</th><th>R&sup2;</th><th>SDC share</th>"
          "<th>non-finite share</th></tr></thead><tbody>\n";
  for (const Row& row : rows) {
    const SettingData* at = row.at;
    const double faulted = static_cast<double>(row.faulted);
    html << "<tr>" << text_cell(row.e->name)
         << number_cell(row.g->index >= 0 ? static_cast<double>(row.g->index) : NAN,
                        row.g->index >= 0 ? std::to_string(row.g->index) : "")
         << text_cell(row.g->name) << text_cell(row.g->class_name) << text_cell(row.g->shape);
    if (at) {
      html << number_cell(static_cast<double>(at->site_elements), std::to_string(at->site_elements))
           << number_cell(at->probability, probability_label(*row.e, at->probability))
           << number_cell(at->accuracy.mean, format_percent(at->accuracy.mean))
           << number_cell(at->accuracy.std, format_percent(at->accuracy.std))
           << number_cell(row.drop, format_percent(row.drop));
    } else {
      html << "<td></td><td></td><td colspan=\"3\" data-v=\"\">no finished repetition</td>";
    }
    if (row.g->fit) {
      html << number_cell(row.g->fit->slope, format_number(row.g->fit->slope, 4))
           << number_cell(row.g->fit->r2, format_number(row.g->fit->r2, 3));
    } else {
      html << number_cell(NAN, "") << number_cell(NAN, "");
    }
    const double sdc = faulted > 0 ? static_cast<double>(row.outcomes[2]) / faulted : NAN;
    const double nonfinite = faulted > 0 ? static_cast<double>(row.outcomes[3]) / faulted : NAN;
    html << number_cell(sdc, faulted > 0 ? format_percent(sdc) : "")
         << number_cell(nonfinite, faulted > 0 ? format_percent(nonfinite) : "") << "</tr>\n";
  }
  html << "</tbody></table></section>\n";
  return html.str();
}

std::string settings_table(const ExperimentData& e) {
  std::ostringstream html;
  html << "<details><summary>Settings of " << esc(e.name) << " (" << e.settings.size()
       << ")</summary>\n<table class=\"sortable\"><thead><tr><th>setting</th><th>group</th>"
          "<th>"
       << (e.counts ? "k" : "p")
       << "</th><th>repetitions</th><th>mean</th><th>std</th><th>min</th><th>max</th>"
          "<th>95% CI</th><th>faulted share</th><th>masked</th><th>benign</th><th>SDC</th>"
          "<th>non-finite</th></tr></thead><tbody>\n";
  for (const GroupData& g : e.groups) {
    for (size_t index : g.settings) {
      const SettingData& s = e.settings[index];
      const bool has = s.repetitions > 0;
      auto stat = [&](double value) {
        return has ? number_cell(value, format_percent(value)) : number_cell(NAN, "");
      };
      const double share = s.inferences > 0
                               ? static_cast<double>(s.faulted) / static_cast<double>(s.inferences)
                               : NAN;
      html << "<tr>" << number_cell(static_cast<double>(s.setting), std::to_string(s.setting))
           << text_cell(s.group) << number_cell(s.probability, probability_label(e, s.probability))
           << number_cell(static_cast<double>(s.repetitions),
                          std::to_string(s.repetitions) + "/" + std::to_string(e.repetitions))
           << stat(s.accuracy.mean) << stat(s.accuracy.std) << stat(s.accuracy.min)
           << stat(s.accuracy.max)
           << (has ? number_cell(s.accuracy.ci95_low, format_percent(s.accuracy.ci95_low) + " .. " +
                                                          format_percent(s.accuracy.ci95_high))
                   : number_cell(NAN, ""))
           << number_cell(share, std::isfinite(share) ? format_percent(share) : "");
      for (int64_t count : s.outcomes) {
        html << number_cell(static_cast<double>(count), std::to_string(count));
      }
      html << "</tr>\n";
    }
  }
  html << "</tbody></table></details>\n";
  return html.str();
}

std::string inline_svg(const std::string& svg, const std::string& prefix) {
  size_t start = svg.find("<svg");
  if (start == std::string::npos) return "";
  std::string body = svg.substr(start);
  // Every id the figure defines.
  std::set<std::string> ids;
  for (size_t at = body.find(" id="); at != std::string::npos; at = body.find(" id=", at + 4)) {
    const char quote = at + 4 < body.size() ? body[at + 4] : 0;
    if (quote != '\'' && quote != '"') continue;
    const size_t end = body.find(quote, at + 5);
    if (end != std::string::npos) ids.insert(body.substr(at + 5, end - at - 5));
  }
  auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  std::string out;
  out.reserve(body.size() + ids.size() * prefix.size() * 2);
  for (size_t i = 0; i < body.size();) {
    // `id='X'` and references `#X` followed by a quote or ')'.
    size_t name_start = std::string::npos;
    if (body.compare(i, 5, " id='") == 0 || body.compare(i, 5, " id=\"") == 0) {
      out.append(body, i, 5);
      name_start = i + 5;
    } else if (body[i] == '#') {
      out += '#';
      name_start = i + 1;
    }
    if (name_start == std::string::npos) {
      out += body[i++];
      continue;
    }
    size_t end = name_start;
    while (end < body.size() && is_name(body[end])) ++end;
    const std::string name = body.substr(name_start, end - name_start);
    const bool closes =
        end < body.size() && (body[end] == '\'' || body[end] == '"' || body[end] == ')');
    if (ids.count(name) && closes) out += prefix;
    out += name;
    i = end;
  }
  return out;
}

}  // namespace nnfi::report
