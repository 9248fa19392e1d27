// Figures over the probability sweep: Fig. 2 (the metric against p per
// group), Fig. 4a (every group's linear fit) and the CMA convergence.
#include <algorithm>
#include <cmath>
#include <map>

#include "report/figures_internal.h"
#include "report/gnuplot.h"
#include "report/report_text.h"

namespace nnfi::report {
namespace {

std::string page_note(size_t page, size_t pages) {
  if (pages < 2) return "";
  return " (page " + std::to_string(page + 1) + " of " + std::to_string(pages) + ")";
}

// Columns and rows of a page of `count` panels.
std::pair<size_t, size_t> page_layout(size_t count) {
  const size_t cols = std::min<size_t>(4, count);
  return {cols, (count + cols - 1) / cols};
}

}  // namespace

// Fig. 2: the metric against p per group, mean with std error bars, the
// fault-free value in red, the linear fit dashed; 12 panels per page.
void FigureWriter::accuracy_pages(const ExperimentData& e) {
  double pmin = INFINITY, pmax = -INFINITY, low = INFINITY, high = -INFINITY;
  for (const SettingData& s : e.settings) {
    pmin = std::min(pmin, s.probability);
    pmax = std::max(pmax, s.probability);
    if (!has_runs(s)) continue;
    low = std::min(low, s.accuracy.mean - s.accuracy.std);
    high = std::max(high, s.accuracy.mean + s.accuracy.std);
  }
  const std::vector<const GroupData*> groups = groups_with_runs(e);
  if (groups.empty() || !(pmax > pmin)) return;
  const std::string data_file = stem(e, "accuracy") + ".dat";
  std::ostringstream dat;
  dat << "# per group (one index each): p mean std min max\n";
  for (const GroupData* g : groups) {
    dat << "# " << g->name << "\n";
    for (size_t s : g->settings) {
      const SettingData& setting = e.settings[s];
      if (!has_runs(setting)) continue;
      dat << gp_number(setting.probability) << " " << gp_number(setting.accuracy.mean) << " "
          << gp_number(setting.accuracy.std) << " " << gp_number(setting.accuracy.min) << " "
          << gp_number(setting.accuracy.max) << "\n";
    }
    dat << "\n\n";
  }
  write(data_file, dat.str());
  const double pad = 0.04 * (pmax - pmin);
  const size_t pages = (groups.size() + kPanelsPerPage - 1) / kPanelsPerPage;
  for (size_t page = 0; page < pages; ++page) {
    const size_t first = page * kPanelsPerPage;
    const size_t count = std::min(kPanelsPerPage, groups.size() - first);
    const auto [cols, rows] = page_layout(count);
    std::ostringstream gp;
    gp << "set multiplot layout " << rows << "," << cols << " title "
       << gp_quote(e.name + ": " + metric_label(e) + " against " + amount_axis(e) +
                   page_note(page, pages))
       << "\nset xrange [" << gp_number(pmin - pad) << ":" << gp_number(pmax + pad) << "]\n"
       << "set yrange " << metric_range(low, high, e.fault_free)
       << "\nset grid\nset key off\nset xlabel " << gp_quote(amount_axis(e)) << "\nset ylabel "
       << gp_quote(metric_label(e)) << "\n";
    for (size_t i = first; i < first + count; ++i) {
      const GroupData& g = *groups[i];
      gp << "set title " << gp_quote(group_label(g)) << " font ',10'\nplot " << gp_quote(data_file)
         << " index " << i << " using 1:2:3 with yerrorbars pt 7 ps 0.6 lc rgb "
         << gp_quote(colour(g.class_name)) << " notitle" << fault_free_line(e);
      if (g.fit) {
        gp << ", (" << gp_number(g.fit->intercept) << ")+(" << gp_number(g.fit->slope)
           << ")*x with lines lc rgb '#333333' dt 2 notitle";
      }
      gp << "\n";
    }
    gp << "unset multiplot\n";
    add(e, "accuracy", stem(e, "accuracy", pages > 1 ? page + 1 : 0),
        "Fig. 2 type: " + metric_label(e) + " against " + amount_axis(e) +
            " per group: mean with standard-deviation error bars, the fault-free value as a red "
            "line, the linear fit dashed" +
            page_note(page, pages),
        std::max<int>(560, 300 * static_cast<int>(cols) + 40), 60 + 250 * static_cast<int>(rows),
        gp.str());
  }
}

// Fig. 4a: every group's fit on one plot, coloured by class; the best and
// worst group (fit value at the largest p) with error bars; layer numbers at
// the right, spread apart where lines end close together.
void FigureWriter::fits(const ExperimentData& e) {
  std::vector<const GroupData*> groups;
  double pmin = INFINITY, pmax = -INFINITY;
  for (const GroupData& g : e.groups) {
    if (!g.fit) continue;
    groups.push_back(&g);
    for (size_t s : g.settings) {
      pmin = std::min(pmin, e.settings[s].probability);
      pmax = std::max(pmax, e.settings[s].probability);
    }
  }
  if (groups.empty() || !(pmax > pmin)) return;
  auto at = [](const GroupData* g, double p) { return g->fit->intercept + g->fit->slope * p; };
  const auto by_end = [&](const GroupData* a, const GroupData* b) {
    return at(a, pmax) < at(b, pmax);
  };
  const GroupData* best = *std::max_element(groups.begin(), groups.end(), by_end);
  const GroupData* worst = *std::min_element(groups.begin(), groups.end(), by_end);
  double low = INFINITY, high = -INFINITY;
  for (const GroupData* g : groups) {
    low = std::min({low, at(g, pmin), at(g, pmax)});
    high = std::max({high, at(g, pmin), at(g, pmax)});
  }
  for (const GroupData* g : {best, worst}) {
    for (size_t s : g->settings) {
      const SettingData& setting = e.settings[s];
      if (!has_runs(setting)) continue;
      low = std::min(low, setting.accuracy.mean - setting.accuracy.std);
      high = std::max(high, setting.accuracy.mean + setting.accuracy.std);
    }
  }
  // Label positions: in order of the line ends, apart by 2.5% of the axis
  // (less when there are many), pushed up, then down to stay on the axis.
  const auto [axis_low, axis_high] = metric_bounds(low, high, e.fault_free);
  std::vector<const GroupData*> order = groups;
  std::sort(order.begin(), order.end(), by_end);
  const double span = axis_high - axis_low;
  const double gap = std::min(0.025 * span, span / static_cast<double>(order.size() + 1));
  std::map<const GroupData*, double> label_y;
  double previous = -INFINITY;
  for (const GroupData* g : order) {
    previous = std::max(at(g, pmax), previous + gap);
    label_y[g] = previous;
  }
  double cap = axis_high - 0.5 * gap;
  for (auto g = order.rbegin(); g != order.rend(); ++g) {
    label_y[*g] = std::min(label_y[*g], cap);
    cap = label_y[*g] - gap;
  }
  std::ostringstream dat;
  dat << "# fit segments: p0 y0 p1 y1 colour label_y label\n";
  for (const GroupData* g : groups) {
    std::string label = g->index >= 0 ? std::to_string(g->index) : shorten(g->name, 16);
    std::replace(label.begin(), label.end(), '"', '\'');
    dat << gp_number(pmin) << " " << gp_number(at(g, pmin)) << " " << gp_number(pmax) << " "
        << gp_number(at(g, pmax)) << " " << colour_value(colour(g->class_name)) << " "
        << gp_number(label_y[g]) << " \"" << label << "\"\n";
  }
  for (const GroupData* g : {best, worst}) {
    dat << "\n\n# points of " << g->name << ": p mean std\n";
    for (size_t s : g->settings) {
      const SettingData& setting = e.settings[s];
      if (!has_runs(setting)) continue;
      dat << gp_number(setting.probability) << " " << gp_number(setting.accuracy.mean) << " "
          << gp_number(setting.accuracy.std) << "\n";
    }
  }
  const std::string data_file = stem(e, "fits") + ".dat";
  write(data_file, dat.str());
  const std::string q = gp_quote(data_file);
  std::ostringstream gp;
  gp << "set title "
     << gp_quote(e.name + ": linear fits of " + metric_label(e) + " against " + amount_axis(e) +
                 ", one line per group")
     << "\nset xrange [" << gp_number(pmin) << ":" << gp_number(pmax) << "]\nset yrange ["
     << gp_number(axis_low) << ":" << gp_number(axis_high) << "]"
     << "\nset grid\nset rmargin 9\nset key outside bottom center horizontal font ',9'\n"
     << "set xlabel " << gp_quote(amount_axis(e)) << "\nset ylabel " << gp_quote(metric_label(e))
     << "\nplot " << q
     << " index 0 using 1:2:($3-$1):($4-$2):5 with vectors nohead lw 1.5 lc rgb variable "
        "notitle, "
     << q << " index 0 using 3:6:7 with labels left offset char 0.6,0 font ',8' notitle, " << q
     << " index 1 using 1:2:3 with yerrorbars pt 7 ps 0.8 lc rgb "
     << gp_quote(colour(best->class_name)) << " title " << gp_quote("best: " + group_label(*best));
  if (worst != best) {
    gp << ", " << q << " index 2 using 1:2:3 with yerrorbars pt 5 ps 0.8 lc rgb "
       << gp_quote(colour(worst->class_name)) << " title "
       << gp_quote("worst: " + group_label(*worst));
  }
  gp << fault_free_line(e) << class_legend(groups) << "\n";
  add(e, "fits", stem(e, "fits"),
      "Fig. 4a type: the linear fit of every group, coloured by class, with the means and "
      "standard deviations of the best and the worst group; the numbers at the right are layer "
      "indices",
      900, 600, gp.str());
}

// The cumulative moving average of the metric after each repetition, one
// line per setting, a panel per group, the same range in every panel.
void FigureWriter::cma_pages(const ExperimentData& e) {
  if (e.repetitions < 2) return;
  const std::vector<const GroupData*> groups = groups_with_runs(e);
  if (groups.empty()) return;
  std::ostringstream dat;
  std::vector<std::vector<std::pair<size_t, std::string>>> blocks(groups.size());
  size_t block = 0;
  double low = INFINITY, high = -INFINITY;
  for (size_t i = 0; i < groups.size(); ++i) {
    for (size_t s : groups[i]->settings) {
      const SettingData& setting = e.settings[s];
      if (setting.accuracy.cma.empty()) continue;
      dat << "# " << setting.group << " p=" << gp_number(setting.probability)
          << ": repetition cma\n";
      for (size_t r = 0; r < setting.accuracy.cma.size(); ++r) {
        dat << r + 1 << " " << gp_number(setting.accuracy.cma[r]) << "\n";
        low = std::min(low, setting.accuracy.cma[r]);
        high = std::max(high, setting.accuracy.cma[r]);
      }
      dat << "\n\n";
      blocks[i].push_back(
          {block++, (e.counts ? "" : "p=") + probability_label(e, setting.probability)});
    }
  }
  const bool one_line =
      std::all_of(blocks.begin(), blocks.end(), [](const auto& lines) { return lines.size() < 2; });
  const std::string data_file = stem(e, "cma") + ".dat";
  write(data_file, dat.str());
  const size_t pages = (groups.size() + kPanelsPerPage - 1) / kPanelsPerPage;
  for (size_t page = 0; page < pages; ++page) {
    const size_t first = page * kPanelsPerPage;
    const size_t count = std::min(kPanelsPerPage, groups.size() - first);
    const auto [cols, rows] = page_layout(count);
    std::ostringstream gp;
    gp << "set multiplot layout " << rows << "," << cols << " title "
       << gp_quote(e.name + ": cumulative moving average of " + metric_label(e) +
                   " over the repetitions" + page_note(page, pages))
       << "\nset grid\nset xrange [1:" << e.repetitions << "]\n"
       << (e.repetitions <= 12 ? "set xtics 1\n" : "") << "set yrange "
       << metric_range(low, high, low) << "\nset xlabel 'repetition'\nset ylabel "
       << gp_quote("CMA of " + metric_label(e)) << "\n"
       << (one_line ? "set key off\n" : "set key bottom right font ',7' samplen 1\n");
    for (size_t i = first; i < first + count; ++i) {
      gp << "set title " << gp_quote(group_label(*groups[i])) << " font ',10'\nplot ";
      for (size_t b = 0; b < blocks[i].size(); ++b) {
        gp << (b ? ", " : "") << gp_quote(data_file) << " index " << blocks[i][b].first
           << " using 1:2 with linespoints pt 7 ps 0.4 title " << gp_quote(blocks[i][b].second);
      }
      gp << (blocks[i].empty() ? "NaN notitle\n" : "\n");
    }
    gp << "unset multiplot\n";
    add(e, "cma", stem(e, "cma", pages > 1 ? page + 1 : 0),
        "Convergence: the cumulative moving average of " + metric_label(e) +
            " after each repetition, one line per setting" + page_note(page, pages),
        std::max<int>(560, 300 * static_cast<int>(cols) + 40), 60 + 240 * static_cast<int>(rows),
        gp.str());
  }
}

}  // namespace nnfi::report
