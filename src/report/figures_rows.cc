// Figures with one row per group: Fig. 4b/5 (the metric at the largest p),
// outcomes, and SDC share by flipped bit and by IEEE field.
#include <algorithm>
#include <cmath>
#include <map>

#include "report/figures_internal.h"
#include "report/gnuplot.h"
#include "report/report_text.h"

namespace nnfi::report {
namespace {

constexpr const char* kOutcomeColours[4] = {"#bab0ac", "#59a14f", "#e15759", "#7b3294"};
constexpr const char* kFieldNames[3] = {"sign", "exponent", "mantissa"};
constexpr const char* kFieldColours[3] = {"#e15759", "#f28e2b", "#4e79a7"};
// Keys of the row figures sit at the right, beside the rows.
constexpr const char* kRowKey = "set key outside right top vertical font ',9'\n";

}  // namespace

// Fig. 4b/5: one row per group at the experiment's largest p: mean and std
// (box), min and max (whiskers), coloured by class.
void FigureWriter::rows(const ExperimentData& e) {
  double pmax = -INFINITY;
  for (const SettingData& s : e.settings) {
    if (has_runs(s)) pmax = std::max(pmax, s.probability);
  }
  std::vector<std::pair<const GroupData*, const SettingData*>> rows;
  for (const GroupData& g : e.groups) {
    for (size_t s : g.settings) {
      if (has_runs(e.settings[s]) && e.settings[s].probability == pmax) {
        rows.push_back({&g, &e.settings[s]});
      }
    }
  }
  if (rows.empty()) return;
  std::ostringstream dat;
  std::vector<std::string> labels;
  std::vector<const GroupData*> groups;
  double low = INFINITY, high = -INFINITY;
  dat << "# row mean std min max colour\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [g, s] = rows[i];
    dat << i << " " << gp_number(s->accuracy.mean) << " " << gp_number(s->accuracy.std) << " "
        << gp_number(s->accuracy.min) << " " << gp_number(s->accuracy.max) << " "
        << colour_value(colour(g->class_name)) << "\n";
    low = std::min({low, s->accuracy.min, s->accuracy.mean - s->accuracy.std});
    high = std::max({high, s->accuracy.max, s->accuracy.mean + s->accuracy.std});
    labels.push_back((g->index >= 0 ? std::string("#") + std::to_string(g->index) + " " : "") +
                     shorten(g->name, 34) + "  " + g->class_name + " " + g->shape);
    groups.push_back(g);
  }
  const std::string data_file = stem(e, "rows") + ".dat";
  write(data_file, dat.str());
  const std::string q = gp_quote(data_file);
  const std::string at = e.counts ? probability_label(e, pmax) : "p = " + format_number(pmax);
  std::ostringstream gp;
  gp << "set title " << gp_quote(e.name + ": " + metric_label(e) + " per group at " + at) << "\n"
     << row_tics(labels) << "set xrange " << metric_range(low, high, e.fault_free)
     << "\nset grid x\nset xlabel " << gp_quote(metric_label(e)) << "\n"
     << kRowKey << "set arrow from " << gp_number(e.fault_free) << ", graph 0 to "
     << gp_number(e.fault_free) << ", graph 1 nohead lw 1.5 lc rgb 'red' front\nplot " << q
     << " using 2:1:($2-$3):($2+$3):($1-0.32):($1+0.32):6 with boxxyerror fs solid 0.35 "
        "lc rgb variable notitle, "
     << q << " using 2:1:4:5:6 with xerrorbars pt 7 ps 0.7 lc rgb variable notitle"
     << ", NaN with lines lw 1.5 lc rgb 'red' title "
     << gp_quote("fault-free " + format_percent(e.fault_free)) << class_legend(groups) << "\n";
  add(e, "rows", stem(e, "rows"),
      "Fig. 4b/5 type: one row per group at " + at +
          ": mean and standard deviation (box), minimum and maximum (whiskers) over the "
          "repetitions, coloured by class, labelled with class and output dimensions; the red "
          "line is the fault-free value",
      1000, rows_height(rows.size()), gp.str());
}

// Masked, benign, SDC and non-finite shares of the faulted inferences of
// each group, over all its settings.
void FigureWriter::outcomes(const ExperimentData& e) {
  std::ostringstream dat;
  std::vector<std::string> labels;
  dat << "# row, then the cumulative shares: masked benign sdc non_finite\n";
  for (const GroupData& g : e.groups) {
    OutcomeCounts sum{};
    for (size_t s : g.settings) {
      for (int o = 0; o < 4; ++o) sum[o] += e.settings[s].outcomes[o];
    }
    const int64_t total = sum[0] + sum[1] + sum[2] + sum[3];
    if (total == 0) continue;
    dat << labels.size();
    double cumulative = 0;
    for (int o = 0; o < 4; ++o) {
      cumulative += static_cast<double>(sum[o]) / static_cast<double>(total);
      dat << " " << gp_number(cumulative);
    }
    dat << "\n";
    labels.push_back(group_label(g) + "  n=" + std::to_string(total));
  }
  if (labels.empty()) return;
  const std::string data_file = stem(e, "outcomes") + ".dat";
  write(data_file, dat.str());
  const std::string q = gp_quote(data_file);
  std::ostringstream gp;
  gp << "set title " << gp_quote(e.name + ": outcomes of the faulted inferences per group") << "\n"
     << row_tics(labels)
     << "set xrange [0:1]\nset grid x\nset xlabel 'share of faulted inferences'\n"
     << kRowKey << "set style fill solid 0.9 noborder\nplot ";
  for (int o = 0; o < 4; ++o) {
    // Column o + 2 holds the cumulative share up to outcome o; o + 1 where it starts.
    const std::string low = o == 0 ? "(0)" : "($" + std::to_string(o + 1) + ")";
    gp << (o ? ", " : "") << q << " using ((" << low << "+$" << o + 2 << ")/2):1:" << low << ":"
       << o + 2 << ":($1-0.35):($1+0.35) with boxxyerror lc rgb " << gp_quote(kOutcomeColours[o])
       << " title " << gp_quote(kOutcomeNames[o]);
  }
  gp << "\n";
  add(e, "outcomes", stem(e, "outcomes"),
      "Outcomes of the faulted inferences per group over all its settings (n: how many): masked "
      "(output bit-identical to golden), benign (same top-1), SDC (top-1 changed), non-finite "
      "(NaN or Inf in the output)",
      1000, rows_height(labels.size()), gp.str());
}

// SDC share by flipped bit (heat map, a row per group) and by IEEE field.
void FigureWriter::bits(const ExperimentData& e) {
  struct Row {
    const GroupData* group;
    DType dtype = DType::kUndefined;
    std::map<int, std::pair<int64_t, int64_t>> by_bit;  // bit -> (faults, sdc)
  };
  std::vector<Row> rows;
  for (const GroupData& g : e.groups) {
    Row row{&g, DType::kUndefined, {}};
    for (size_t s : g.settings) {
      const SettingData& setting = e.settings[s];
      if (row.dtype == DType::kUndefined) row.dtype = setting.dtype;
      for (const BitCounts& b : data_.bits) {
        if (b.experiment != e.id || b.setting != setting.setting || b.bit < 0) continue;
        auto& [faults, sdc] = row.by_bit[b.bit];
        faults += b.outcomes[0] + b.outcomes[1] + b.outcomes[2] + b.outcomes[3];
        sdc += b.outcomes[2];
      }
    }
    if (!row.by_bit.empty()) rows.push_back(std::move(row));
  }
  if (rows.empty()) return;
  int width = 0;
  bool same_format = true;
  for (const Row& row : rows) {
    width = std::max({width, bit_width(row.dtype), row.by_bit.rbegin()->first + 1});
    same_format = same_format && bit_width(row.dtype) == bit_width(rows[0].dtype) &&
                  bit_field(row.dtype, 0) == bit_field(rows[0].dtype, 0);
  }
  const std::string of =
      data_.fault_recording == "non_masked" ? "recorded (non-masked) faults" : "single-bit faults";
  std::ostringstream dat, fields;
  std::vector<std::string> labels;
  dat << "# bit row sdc_share faults\n";
  fields << "# row sdc_share(sign) sdc_share(exponent) sdc_share(mantissa)\n";
  bool any_field = false;
  for (size_t r = 0; r < rows.size(); ++r) {
    double field_faults[3] = {0, 0, 0}, field_sdc[3] = {0, 0, 0};
    for (const auto& [bit, counts] : rows[r].by_bit) {
      dat << bit << " " << r << " "
          << gp_number(static_cast<double>(counts.second) / static_cast<double>(counts.first))
          << " " << counts.first << "\n";
      const std::string field = bit_field(rows[r].dtype, bit);
      for (int f = 0; f < 3; ++f) {
        if (field != kFieldNames[f]) continue;
        field_faults[f] += static_cast<double>(counts.first);
        field_sdc[f] += static_cast<double>(counts.second);
        any_field = any_field || f > 0;
      }
    }
    fields << r;
    for (int f = 0; f < 3; ++f) {
      fields << " " << gp_number(field_faults[f] > 0 ? field_sdc[f] / field_faults[f] : NAN);
    }
    fields << "\n";
    labels.push_back(group_label(*rows[r].group));
  }
  const std::string data_file = stem(e, "bits") + ".dat";
  write(data_file, dat.str());
  std::ostringstream gp;
  gp << "set title " << gp_quote(e.name + ": SDC share of " + of + " by flipped bit")
     << " offset 0,1\n"
     << row_tics(labels) << "set xrange [-0.5:" << width - 0.5 << "]\nset xtics 0,4 out nomirror\n"
     << "set mxtics 4\nset xlabel 'flipped bit (0 = least significant)'\n"
     << "set cbrange [0:1]\nset cblabel 'SDC share'\n"
     << "set palette defined (0 '#f0f0f0', 0.5 '#fdae61', 1 '#b2182b')\n";
  if (same_format && bit_field(rows[0].dtype, width - 1) == "sign") {
    // Field boundaries of the common format, labelled above the plot.
    int first_exponent = width - 1;
    for (int bit = width - 1; bit >= 0; --bit) {
      if (bit_field(rows[0].dtype, bit) == "exponent") first_exponent = bit;
    }
    for (double x : {first_exponent - 0.5, width - 1.5}) {
      gp << "set arrow from " << x << ", graph 0 to " << x
         << ", graph 1 nohead lw 1.5 lc rgb '#333333' front\n";
    }
    gp << "set label 'mantissa' at " << gp_number((first_exponent - 1) / 2.0)
       << ", graph 1.03 center font ',9'\nset label 'exponent' at "
       << gp_number((first_exponent + width - 2) / 2.0)
       << ", graph 1.03 center font ',9'\nset label 'sign' at " << width - 1
       << ", graph 1.03 center font ',9'\n";
  }
  gp << "plot " << gp_quote(data_file)
     << " using 1:2:(0.5):(0.45):3 with boxxyerror fs solid 1.0 noborder lc palette notitle\n";
  add(e, "bits", stem(e, "bits"),
      "SDC share of the " + of +
          " by flipped bit position, one row per group (all its settings together); blank "
          "cells: no fault recorded at that bit. Lines separate mantissa, exponent and sign",
      1000, rows_height(rows.size()), gp.str());
  if (!any_field) return;
  const std::string fields_file = stem(e, "fields") + ".dat";
  write(fields_file, fields.str());
  const std::string q = gp_quote(fields_file);
  std::ostringstream fp;
  fp << "set title " << gp_quote(e.name + ": SDC share of " + of + " by IEEE-754 field") << "\n"
     << row_tics(labels) << "set xrange [0:1]\nset grid x\nset xlabel 'SDC share'\n"
     << kRowKey << "set style fill solid 0.9 noborder\nplot ";
  for (int f = 0; f < 3; ++f) {
    const double offset = (f - 1) * 0.27;
    fp << (f ? ", " : "") << q << " using ($" << f + 2 << "/2):($1+" << offset << "):(0):" << f + 2
       << ":($1+" << offset - 0.12 << "):($1+" << offset + 0.12 << ") with boxxyerror lc rgb "
       << gp_quote(kFieldColours[f]) << " title " << gp_quote(kFieldNames[f]);
  }
  fp << "\n";
  add(e, "fields", stem(e, "fields"),
      "SDC share of the " + of +
          " per group by the IEEE-754 field of the flipped bit (sign, exponent, mantissa)",
      1000, rows_height(rows.size()), fp.str());
}

}  // namespace nnfi::report
