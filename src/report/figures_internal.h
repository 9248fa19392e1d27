// Shared by the figure files: the writer that puts each figure's gnuplot
// script and data into the figures folder, and small helpers. figures.cc
// holds the common parts, figures_sweep.cc the figures over p (Fig. 2,
// Fig. 4a, CMA), figures_rows.cc those with a row per group (Fig. 4b/5,
// outcomes, bits).
#pragma once

#include <cstddef>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "report/figures.h"
#include "report/report_data.h"

namespace nnfi::report {

inline constexpr size_t kPanelsPerPage = 12;

// 0xRRGGBB of "#rrggbb", for gnuplot's `lc rgb variable` columns.
long colour_value(const std::string& hex);
std::string metric_label(const ExperimentData& e);  // "accuracy" / "golden agreement"
std::string amount_axis(const ExperimentData& e);   // "probability p" / "faults per inference k"
// "#3 conv2d_1 (Conv2D)", long names shortened from the left.
std::string group_label(const GroupData& g);
// A shorter form of `text`: at most `limit` characters, "..." + its end.
std::string shorten(const std::string& text, size_t limit);
bool has_runs(const SettingData& s);
// Groups with at least one setting that has finished repetitions.
std::vector<const GroupData*> groups_with_runs(const ExperimentData& e);
// A value range for the metric that shows `low`..`high` and the fault-free
// value with a margin, within [0, 1.05]; as gnuplot's "[lo:hi]".
std::pair<double, double> metric_bounds(double low, double high, double fault_free);
std::string metric_range(double low, double high, double fault_free);
// "set ytics (...)" and yrange: one labelled row per group, row 0 on top.
std::string row_tics(const std::vector<std::string>& labels);
int rows_height(size_t rows);

class FigureWriter {
 public:
  FigureWriter(const ReportData& data, std::filesystem::path dir)
      : data_(data), dir_(std::move(dir)) {}

  void experiment(const ExperimentData& e) {
    accuracy_pages(e);
    fits(e);
    rows(e);
    cma_pages(e);
    outcomes(e);
    bits(e);
  }
  FigureSet& result() { return set_; }

 private:
  // figures_sweep.cc
  void accuracy_pages(const ExperimentData& e);
  void fits(const ExperimentData& e);
  void cma_pages(const ExperimentData& e);
  // figures_rows.cc
  void rows(const ExperimentData& e);
  void outcomes(const ExperimentData& e);
  void bits(const ExperimentData& e);

  // figures.cc
  std::string stem(const ExperimentData& e, const std::string& kind, size_t page = 0) const;
  void write(const std::string& name, const std::string& text);
  void add(const ExperimentData& e, const std::string& kind, const std::string& figure_stem,
           const std::string& caption, int width, int height, const std::string& script);
  // ", <fault-free> with lines ... red": a plot element.
  std::string fault_free_line(const ExperimentData& e) const;
  // One key entry per class of `groups`, in their colours: plot elements.
  std::string class_legend(const std::vector<const GroupData*>& groups) const;
  std::string colour(const std::string& class_name) const {
    return class_colour(data_, class_name);
  }

  const ReportData& data_;
  std::filesystem::path dir_;
  FigureSet set_;
};

}  // namespace nnfi::report
