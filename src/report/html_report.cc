// nnfi::write_report: DIR/report.html, one self-contained page (figures as
// inline SVG, a few lines of inline CSS and JavaScript, nothing fetched: a
// Content-Security-Policy forbids any load), and the figures folder.
#include <chrono>
#include <fstream>
#include <sstream>

#include "nnfi/report.h"
#include "report/figures.h"
#include "report/html_sections.h"
#include "report/report_data.h"
#include "report/report_text.h"

namespace nnfi {
namespace {

using namespace report;
namespace fs = std::filesystem;

constexpr const char* kStyle = R"css(
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 1.5em 3em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-top: 1em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
table.sortable th { cursor: pointer; background: #f4f4f4; user-select: none; }
table.sortable th[data-dir="asc"]::after { content: " \25B2"; }
table.sortable th[data-dir="desc"]::after { content: " \25BC"; }
table.facts th { background: #f4f4f4; width: 14em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
#criticality-table td:nth-child(5) { white-space: nowrap; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; }
pre.command { background: #1f2430; color: #e6e6e6; }
.big { font-size: 1.4em; font-weight: bold; }
.warning { background: #fff4e5; border-left: 4px solid #f28e2b; padding: 0 1em 0.5em; }
.note { color: #8a4b00; }
figure.plot { margin: 1.5em 0; }
figure.plot svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; }
)css";

// Errors anywhere on the page are collected (before any other script runs);
// the check at the end marks the page as drawn when every figure has a
// non-empty box and no error happened: data-report-state="ok".
constexpr const char* kHeadScript = R"js(
window.reportErrors = [];
window.addEventListener('error', function (event) {
  window.reportErrors.push(String(event.message || event.type));
  document.documentElement.setAttribute('data-report-state', 'error');
});
)js";

constexpr const char* kBodyScript = R"js(
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-v');
    if (v === null) return cell.textContent.trim().toLowerCase();
    return v === '' ? null : parseFloat(v);
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('thead th').forEach(function (th, column) {
      th.addEventListener('click', function () {
        var dir = th.getAttribute('data-dir') === 'desc' ? 'asc' : 'desc';
        table.querySelectorAll('thead th').forEach(function (h) { h.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column] ? key(a.cells[column]) : null;
          var y = b.cells[column] ? key(b.cells[column]) : null;
          if (x === null || y === null) return (x === null) - (y === null);
          var order = x < y ? -1 : x > y ? 1 : 0;
          return dir === 'asc' ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  var figures = document.querySelectorAll('figure.plot svg');
  var drawn = 0;
  figures.forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && svg.querySelector('path, polygon, rect, text')) drawn++;
  });
  var root = document.documentElement;
  root.setAttribute('data-figures', drawn + '/' + figures.length);
  var ok = window.reportErrors.length === 0 && drawn === figures.length;
  root.setAttribute('data-report-state', ok ? 'ok' : 'error');
  if (!ok) root.setAttribute('data-report-errors', window.reportErrors.join(' | '));
})();
)js";

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string figure_html(const Figure& figure, int number, const fs::path& figures_dir) {
  std::ostringstream html;
  html << "<figure class=\"plot\" id=\"fig-" << figure.stem
       << "\" style=\"max-width:" << figure.width << "px\">\n"
       << inline_svg(read_file(figure.svg), figure.stem + "-") << "\n<figcaption>Figure " << number
       << ". " << html_escape(figure.caption) << ". Files: <a href=\""
       << html_escape((figures_dir / (figure.stem + ".svg")).string()) << "\">SVG</a>";
  if (!figure.png.empty()) {
    html << ", <a href=\"" << html_escape((figures_dir / (figure.stem + ".png")).string())
         << "\">PNG</a>";
  }
  html << ".</figcaption></figure>\n";
  return html.str();
}

}  // namespace

Expected<ReportResult> write_report(const fs::path& results_dir, const ReportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  NNFI_ASSIGN_OR_RETURN(ReportData data, load_report_data(results_dir, true));
  const fs::path out = options.output_dir.empty() ? results_dir : options.output_dir;
  std::error_code error;
  fs::create_directories(out, error);
  if (!fs::is_directory(out, error)) {
    return io_error(out.string() + ": cannot create the report folder");
  }
  ReportResult result;
  result.units_missing = data.units_missing;
  const fs::path figures_dir = out / "figures";
  FigureSet figures = draw_figures(data, figures_dir, options);

  std::vector<std::string> notes;
  const std::string command = reproduction_command(data, notes);
  if (!data.model.loaded) notes.push_back("no model summary: " + data.model.error);
  if (!data.spec_error.empty()) notes.push_back("campaign spec: " + data.spec_error);
  if (data.fault_recording == "none") {
    notes.push_back("the campaign recorded no faults (record_faults: none): no SDC-by-bit figures");
  } else if (data.fault_recording == "non_masked") {
    notes.push_back(
        "the campaign recorded non-masked faults only (record_faults: non_masked): "
        "SDC shares by bit are shares of the recorded faults");
  }
  int64_t multi_bit = 0;
  for (const BitCounts& b : data.bits) {
    if (b.bit < 0) multi_bit += b.outcomes[0] + b.outcomes[1] + b.outcomes[2] + b.outcomes[3];
  }
  if (multi_bit > 0) {
    notes.push_back(std::to_string(multi_bit) +
                    " recorded faults changed more than one bit (or were not bit flips): they are "
                    "not in the by-bit figures");
  }
  notes.insert(notes.end(), figures.notes.begin(), figures.notes.end());

  const std::string source = data.campaign.count("source") ? data.campaign["source"] : "";
  const std::string title =
      "nnfi report: " +
      (source.empty() ? results_dir.string() : fs::path(source).filename().string());
  int drawn = 0;
  for (const Figure& figure : figures.figures) drawn += figure.svg.empty() ? 0 : 1;
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\" data-figures-expected=\"" << drawn
       << "\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
       << html_escape(title) << "</title>\n<script>" << kHeadScript << "</script>\n<style>"
       << kStyle << "</style>\n</head>\n<body>\n<h1>" << html_escape(title) << "</h1>\n"
       << "<p>Results folder <code>" << html_escape(results_dir.string()) << "</code>, written by "
       << "nnfi " << html_escape(data.campaign["nnfi_version"]) << "; report by nnfi "
       << NNFI_VERSION << ". " << (data.units_missing > 0 ? "<b>Partial campaign.</b>" : "")
       << "</p>\n<nav><a href=\"#campaign\">Campaign</a><a href=\"#golden\">Golden run</a>"
          "<a href=\"#model\">Model</a><a href=\"#criticality\">Sites by criticality</a>";
  for (const ExperimentData& e : data.experiments) {
    html << "<a href=\"#experiment-" << e.id << "\">" << html_escape(e.name) << "</a>";
  }
  html << "</nav>\n" << missing_section(data, command);
  if (!notes.empty()) {
    html << "<section id=\"notes\"><h2>Notes</h2><ul>\n";
    for (const std::string& note : notes)
      html << "<li class=\"note\">" << html_escape(note) << "</li>\n";
    html << "</ul></section>\n";
  }
  html << campaign_section(data, command) << golden_section(data) << model_section(data)
       << criticality_section(data);
  int number = 0;
  for (const ExperimentData& e : data.experiments) {
    html << "<section id=\"experiment-" << e.id << "\"><h2>Experiment " << html_escape(e.name)
         << "</h2>\n<p>" << html_escape(e.description) << (e.description.empty() ? "" : ". ")
         << "Metric: "
         << (e.metric == "golden" ? "agreement with the fault-free top-1"
                                  : "accuracy against the labels")
         << " (fault-free: " << format_percent(e.fault_free) << ").</p>\n"
         << settings_table(e);
    for (const Figure& figure : figures.figures) {
      if (figure.experiment != e.id || figure.svg.empty()) continue;
      html << figure_html(figure, ++number, fs::path("figures"));
      result.svgs.push_back(figure.svg);
      if (!figure.png.empty()) result.pngs.push_back(figure.png);
    }
    html << "</section>\n";
  }
  html << "<script>" << kBodyScript << "</script>\n</body>\n</html>\n";

  result.html = out / "report.html";
  std::ofstream file(result.html, std::ios::binary);
  file << html.str();
  file.close();
  if (!file) return io_error(result.html.string() + ": cannot write");
  result.notes = std::move(notes);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace nnfi
