#include "report/figures.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "report/figures_internal.h"
#include "report/gnuplot.h"
#include "report/report_text.h"

namespace nnfi::report {
namespace {

namespace fs = std::filesystem;

// Tableau 10: distinguishable, and kind to colour-blind readers.
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#17becf"};

// The last lines of a gnuplot log, for a note.
std::string log_tail(const fs::path& log) {
  std::ifstream file(log);
  std::string line, text;
  std::vector<std::string> lines;
  while (std::getline(file, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  for (size_t i = lines.size() > 4 ? lines.size() - 4 : 0; i < lines.size(); ++i) {
    text += (text.empty() ? "" : " | ") + lines[i];
  }
  return text;
}

}  // namespace

long colour_value(const std::string& hex) { return std::stol(hex.substr(1), nullptr, 16); }

std::string metric_label(const ExperimentData& e) {
  return e.metric == "golden" ? "golden agreement" : "accuracy";
}

std::string amount_axis(const ExperimentData& e) {
  return e.counts ? "faults per inference k" : "probability p";
}

std::string shorten(const std::string& text, size_t limit) {
  if (text.size() <= limit || limit < 4) return text;
  return "..." + text.substr(text.size() - (limit - 3));
}

std::string group_label(const GroupData& g) {
  std::string label = g.index >= 0 ? std::string("#") + std::to_string(g.index) + " " : "";
  label += shorten(g.name, 34);
  if (!g.class_name.empty() && g.name.find(g.class_name) == std::string::npos) {
    label += " (" + g.class_name + ")";
  }
  return label;
}

bool has_runs(const SettingData& s) { return s.repetitions > 0; }

std::vector<const GroupData*> groups_with_runs(const ExperimentData& e) {
  std::vector<const GroupData*> groups;
  for (const GroupData& g : e.groups) {
    if (std::any_of(g.settings.begin(), g.settings.end(),
                    [&](size_t s) { return has_runs(e.settings[s]); })) {
      groups.push_back(&g);
    }
  }
  return groups;
}

std::pair<double, double> metric_bounds(double low, double high, double fault_free) {
  low = std::min(low, fault_free);
  high = std::max(high, fault_free);
  if (!std::isfinite(low) || !std::isfinite(high)) return {0.0, 1.05};
  const double margin = 0.08 * std::max(high - low, 0.02);
  return {low - margin < 0.1 ? 0.0 : low - margin, std::min(high + margin, 1.05)};
}

std::string metric_range(double low, double high, double fault_free) {
  const auto [lo, hi] = metric_bounds(low, high, fault_free);
  return std::string("[") + gp_number(lo) + ":" + gp_number(hi) + "]";
}

std::string row_tics(const std::vector<std::string>& labels) {
  std::string text = "set ytics (";
  for (size_t i = 0; i < labels.size(); ++i) {
    text += (i ? ", " : "") + gp_quote(labels[i]) + " " + std::to_string(i);
  }
  text +=
      ") nomirror scale 0 font ',9'\nset yrange [" + gp_number(labels.size() - 0.5) + ":-0.5]\n";
  return text;
}

int rows_height(size_t rows) { return std::max<int>(260, 130 + 18 * static_cast<int>(rows)); }

std::string FigureWriter::stem(const ExperimentData& e, const std::string& kind,
                               size_t page) const {
  std::string text = std::string("e") + std::to_string(e.id) + "-" + kind;
  return page > 0 ? text + "-" + std::to_string(page) : text;
}

void FigureWriter::write(const std::string& name, const std::string& text) {
  std::ofstream file(dir_ / name, std::ios::binary);
  file << text;
  if (!file) set_.notes.push_back((dir_ / name).string() + ": cannot write");
}

void FigureWriter::add(const ExperimentData& e, const std::string& kind,
                       const std::string& figure_stem, const std::string& caption, int width,
                       int height, const std::string& script) {
  write(figure_stem + ".gp", script);
  set_.figures.push_back({figure_stem, e.id, kind, caption, width, height, {}, {}});
}

std::string FigureWriter::fault_free_line(const ExperimentData& e) const {
  return ", " + gp_number(e.fault_free) + " with lines lw 1.5 lc rgb 'red' title " +
         gp_quote("fault-free " + format_percent(e.fault_free));
}

std::string FigureWriter::class_legend(const std::vector<const GroupData*>& groups) const {
  std::vector<std::string> seen;
  std::string text;
  for (const GroupData* g : groups) {
    if (std::find(seen.begin(), seen.end(), g->class_name) != seen.end()) continue;
    seen.push_back(g->class_name);
    text += ", NaN with lines lw 3 lc rgb " + gp_quote(colour(g->class_name)) + " title " +
            gp_quote(g->class_name.empty() ? "(none)" : g->class_name);
  }
  return text;
}

std::string class_colour(const ReportData& data, const std::string& class_name) {
  std::vector<std::string> classes;
  for (const ExperimentData& e : data.experiments) {
    for (const GroupData& g : e.groups) {
      if (g.class_name == class_name) {
        return kPalette[classes.size() % (sizeof(kPalette) / sizeof(kPalette[0]))];
      }
      if (std::find(classes.begin(), classes.end(), g.class_name) == classes.end()) {
        classes.push_back(g.class_name);
      }
    }
  }
  return kPalette[0];
}

FigureSet draw_figures(const ReportData& data, const fs::path& dir, const ReportOptions& options) {
  std::error_code error;
  fs::create_directories(dir, error);
  FigureWriter writer(data, dir);
  for (const ExperimentData& e : data.experiments) writer.experiment(e);
  FigureSet set = std::move(writer.result());
  if (set.figures.empty()) return set;

  // One master script per format: each figure's script drawn into its file.
  const std::string font = "font 'DejaVu Sans,10'";
  std::vector<std::pair<std::string, std::string>> formats = {{"svg", "svg"}};
  if (options.png) formats.push_back({"png", "pngcairo"});
  std::vector<fs::path> scripts, logs;
  for (const auto& [extension, terminal] : formats) {
    std::ostringstream master;
    master << "# Draws every figure as " << extension << ": gnuplot " << extension << ".gp\n"
           << "cd " << gp_quote(fs::absolute(dir).string()) << "\n";
    for (const Figure& figure : set.figures) {
      master << "set terminal " << terminal << " size " << figure.width << "," << figure.height
             << (extension == "svg" ? " dynamic" : "") << " noenhanced " << font
             << " background rgb 'white'\nset output " << gp_quote(figure.stem + "." + extension)
             << "\nload " << gp_quote(figure.stem + ".gp") << "\nunset output\nreset\n";
    }
    std::ofstream(dir / (extension + ".gp")) << master.str();
    scripts.push_back(dir / (extension + ".gp"));
    logs.push_back(dir / ("gnuplot-" + extension + ".log"));
  }
  if (!options.figures) {
    set.notes.push_back("figures not drawn (--no-figures); their scripts are in " + dir.string());
    return set;
  }
  Expected<std::vector<int>> codes = run_gnuplot(options.gnuplot, scripts, logs);
  if (!codes.has_value()) {
    set.notes.push_back("figures not drawn: " + codes.status().message());
    return set;
  }
  for (size_t i = 0; i < codes->size(); ++i) {
    if ((*codes)[i] != 0) {
      set.notes.push_back("gnuplot failed on " + scripts[i].string() + " (exit " +
                          std::to_string((*codes)[i]) + "): " + log_tail(logs[i]));
    }
  }
  for (Figure& figure : set.figures) {
    const fs::path svg = dir / (figure.stem + ".svg"), png = dir / (figure.stem + ".png");
    if (fs::exists(svg, error) && fs::file_size(svg, error) > 0) figure.svg = svg;
    if (options.png && fs::exists(png, error) && fs::file_size(png, error) > 0) figure.png = png;
    if (figure.svg.empty()) set.notes.push_back("figure " + figure.stem + " was not drawn");
  }
  return set;
}

}  // namespace nnfi::report
