// The sections of report.html, each a piece of HTML built from ReportData.
#pragma once

#include <string>
#include <vector>

#include "report/report_data.h"

namespace nnfi::report {

// `nnfi run SOURCE --out DIR` plus the flags that recreate command-line
// overrides (model, data, limit, offset, feed, fetch); notes what it cannot.
std::string reproduction_command(const ReportData& data, std::vector<std::string>& notes);

std::string campaign_section(const ReportData& data, const std::string& command);
std::string golden_section(const ReportData& data);
std::string model_section(const ReportData& data);
// Why the campaign is incomplete and which units are missing (empty when complete).
std::string missing_section(const ReportData& data, const std::string& command);
// Every site group of every experiment, most critical first, sortable.
std::string criticality_section(const ReportData& data);
// The settings of one experiment (collapsed table).
std::string settings_table(const ExperimentData& experiment);

// Makes one gnuplot SVG file fit for inlining: no XML prolog, every id (and
// reference to it) prefixed so that several figures can share one page.
std::string inline_svg(const std::string& svg, const std::string& prefix);

}  // namespace nnfi::report
