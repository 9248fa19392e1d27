// Driving gnuplot: quoting for its scripts and data files, and running it on
// script files (several at once) with its messages in a log file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "nnfi/status.h"

namespace nnfi::report {

// A single-quoted gnuplot string ('' stands for '); control characters become spaces.
std::string gp_quote(const std::string& text);
// A number for a script or data file ("NaN" for NaN and infinities).
std::string gp_number(double value);

// Runs `program script` for each script at the same time, stdout and stderr
// of each into its log, and waits for all. Returns one exit status per script;
// an error when the program cannot be started (e.g. not installed).
Expected<std::vector<int>> run_gnuplot(const std::string& program,
                                       const std::vector<std::filesystem::path>& scripts,
                                       const std::vector<std::filesystem::path>& logs);

}  // namespace nnfi::report
