// Reports from a campaign's results folder (the folder `nnfi run` writes):
// the paper's figures (SVG and PNG, drawn by gnuplot), one self-contained
// report page (DIR/report.html) and tidy tables (CSV or JSON). docs/report.md
// describes every figure, table and column.
//
// Everything is computed from DIR/results.sqlite alone (plus the model file,
// for the model summary), so a report works on a partial (interrupted)
// campaign too: it says which units (experiment, setting, repetition, batch)
// are missing, and the statistics use the finished repetitions only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "nnfi/status.h"

namespace nnfi {

// One cell of a tidy table: empty (no value, e.g. the mean of zero finished
// repetitions), an integer, a number, a text or a flag.
using TableCell = std::variant<std::monostate, int64_t, double, std::string, bool>;

// A tidy table: one observation per row, one variable per column.
struct TidyTable {
  std::string name;  // "settings", "repetitions", "bits", "missing"
  std::vector<std::string> columns;
  std::vector<std::vector<TableCell>> rows;  // each row has columns.size() cells
};

// The tables of a results folder, in this order:
//   settings     one row per (experiment, setting): accuracy statistics, outcomes, the fit
//   repetitions  one row per (experiment, setting, repetition): metrics, CMA, outcomes
//   bits         one row per (experiment, setting, flipped bit): faults and outcomes by bit
//                position and IEEE field (sign, exponent, mantissa)
//   missing      one row per unfinished (experiment, setting, repetition): missing batches
struct ReportTables {
  std::vector<TidyTable> tables;
  int64_t units_expected = 0;  // settings x repetitions x batches
  int64_t units_missing = 0;
  const TidyTable* find(const std::string& name) const;
};

// Reads the tables of DIR. A missing folder, a folder without results.sqlite
// or a file that is not an nnfi result store is an error naming it.
Expected<ReportTables> read_report_tables(const std::filesystem::path& results_dir);

// CSV (RFC 4180: a header line, fields quoted where needed, empty cells empty).
std::string table_to_csv(const TidyTable& table);
// A JSON array of records ({column: value}; empty cells are null).
std::string table_to_json(const TidyTable& table);
// A JSON object {"settings": [...], "repetitions": [...], ..., "units_expected": n,
// "units_missing": m}.
std::string tables_to_json(const ReportTables& tables);

struct ReportOptions {
  // Where report.html and figures/ go; empty: the results folder itself.
  std::filesystem::path output_dir;
  bool figures = true;  // false: the page without figures (no gnuplot needed)
  bool png = true;      // PNG copies of every figure besides the SVG
  // The gnuplot program (a name looked up in PATH, or a path). When it cannot
  // be run, the report is still written, without figures, and says why.
  std::string gnuplot = "gnuplot";
};

struct ReportResult {
  std::filesystem::path html;               // the report page
  std::vector<std::filesystem::path> svgs;  // figures drawn, one SVG each
  std::vector<std::filesystem::path> pngs;  // their PNG copies (options.png)
  int64_t units_missing = 0;                // > 0: a partial campaign
  std::vector<std::string> notes;           // what the report could not show, and why
  double seconds = 0;                       // wall time of write_report
};

// Writes OUTPUT/report.html and OUTPUT/figures/ (the SVG and PNG files, and
// the gnuplot script and data files that drew them, to edit and re-run).
Expected<ReportResult> write_report(const std::filesystem::path& results_dir,
                                    const ReportOptions& options = {});

}  // namespace nnfi
