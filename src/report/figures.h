// The report's figures, drawn by gnuplot: for every experiment the paper's
// Fig. 2 (accuracy against p per group), Fig. 4a (every group's linear fit),
// Fig. 4b/5 (one row per group), CMA convergence, outcomes per group and SDC
// share by flipped bit. Each figure is a gnuplot script plus a data file in
// the figures folder; two gnuplot processes draw all SVGs and all PNGs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nnfi/report.h"
#include "report/report_data.h"

namespace nnfi::report {

struct Figure {
  std::string stem;  // file name without extension: "e0-accuracy-1"
  int64_t experiment = 0;
  std::string kind;  // accuracy, fits, rows, cma, outcomes, bits, fields
  std::string caption;
  int width = 0, height = 0;       // pixels
  std::filesystem::path svg, png;  // set when drawn
};

struct FigureSet {
  std::vector<Figure> figures;     // in page order
  std::vector<std::string> notes;  // figures left out, and why
};

// Writes the scripts and data into `dir` (created) and runs gnuplot unless
// options.figures is false. Never fails: what could not be drawn is in notes.
FigureSet draw_figures(const ReportData& data, const std::filesystem::path& dir,
                       const ReportOptions& options);

// The colour of a group class (Conv2D, Dense, ...), the same in every figure.
std::string class_colour(const ReportData& data, const std::string& class_name);

}  // namespace nnfi::report
