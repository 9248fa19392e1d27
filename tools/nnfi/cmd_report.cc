// nnfi report: the figures and report page of a results folder, or its tidy
// tables as CSV or JSON (docs/report.md).
#include <cstdio>
#include <fstream>
#include <iostream>

#include "common.h"
#include "nnfi/report.h"

namespace nnfi::cli {
namespace {

struct ReportCommandOptions {
  std::string results;
  bool csv = false;
  bool json = false;
  std::string table;  // empty: settings (CSV) or all (JSON)
  std::string output;
  bool no_figures = false;
  bool no_png = false;
  std::string gnuplot = "gnuplot";
};

Status write_text(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return Status::ok();
  }
  std::ofstream file(path, std::ios::binary);
  file << text;
  file.close();
  if (!file) return io_error(path + ": cannot write");
  return Status::ok();
}

void note_missing(int64_t missing, int64_t expected, const std::string& results) {
  if (missing == 0) return;
  std::cerr << "nnfi: note: partial campaign: " << missing << " of " << expected
            << " units are missing (nnfi report " << results
            << " --csv --table missing lists them)\n";
}

Status run_tables(const ReportCommandOptions& options) {
  NNFI_ASSIGN_OR_RETURN(ReportTables tables, read_report_tables(options.results));
  note_missing(tables.units_missing, tables.units_expected, options.results);
  const std::string name = !options.table.empty() ? options.table
                           : options.json         ? "all"
                                                  : "settings";
  if (options.json) {
    if (name == "all") return write_text(options.output, tables_to_json(tables));
    return write_text(options.output, table_to_json(*tables.find(name)));
  }
  if (name != "all") return write_text(options.output, table_to_csv(*tables.find(name)));
  if (options.output.empty() || options.output == "-") {
    return invalid_argument(
        "--csv --table all writes one file per table: give a folder with "
        "--output");
  }
  std::error_code error;
  std::filesystem::create_directories(options.output, error);
  for (const TidyTable& table : tables.tables) {
    const std::string file =
        (std::filesystem::path(options.output) / (table.name + ".csv")).string();
    NNFI_RETURN_IF_ERROR(write_text(file, table_to_csv(table)));
    std::printf("%s\n", file.c_str());
  }
  return Status::ok();
}

Status run_report(const ReportCommandOptions& options) {
  if (options.csv || options.json) return run_tables(options);
  if (!options.table.empty()) {
    return invalid_argument("--table selects a table of --csv or --json output");
  }
  ReportOptions report;
  report.output_dir = options.output;
  report.figures = !options.no_figures;
  report.png = !options.no_png;
  report.gnuplot = options.gnuplot;
  NNFI_ASSIGN_OR_RETURN(ReportResult result, write_report(options.results, report));
  for (const std::string& note : result.notes) std::cerr << "nnfi: note: " << note << "\n";
  if (result.units_missing > 0) {
    std::cerr << "nnfi: note: partial campaign: " << result.units_missing
              << " units are missing; the report lists them\n";
  }
  std::printf("report: %s (%zu figures%s) in %.2f s\n", result.html.string().c_str(),
              result.svgs.size(), result.pngs.empty() ? "" : ", SVG and PNG in figures/",
              result.seconds);
  return Status::ok();
}

}  // namespace

Command add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "report", "Figures and an HTML report of a results folder, or its tables as CSV/JSON");
  command->add_option("results", options->results, "Results folder of nnfi run")->required();
  auto* csv = command->add_flag("--csv", options->csv, "Tidy tables as CSV instead of the report");
  auto* json =
      command->add_flag("--json", options->json, "Tidy tables as JSON instead of the report");
  csv->excludes(json);
  command
      ->add_option("--table", options->table,
                   "CSV/JSON: settings (default for CSV), repetitions, bits, missing, or all "
                   "(default for JSON; CSV: one file each in the --output folder)")
      ->check(CLI::IsMember({"settings", "repetitions", "bits", "missing", "all"}));
  command->add_option("--output,-o", options->output,
                      "Report: the folder for report.html and figures/ (default: the results "
                      "folder); CSV/JSON: the file (default: stdout)");
  command->add_flag("--no-figures", options->no_figures,
                    "Report without figures (writes their gnuplot scripts only)");
  command->add_flag("--no-png", options->no_png, "SVG figures only");
  command->add_option("--gnuplot", options->gnuplot, "The gnuplot program")->capture_default_str();
  return {command, [options] { return run_report(*options); }};
}

}  // namespace nnfi::cli
