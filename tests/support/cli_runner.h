// Running the built nnfi program from tests: its exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace nnfi::testing {

struct CliResult {
  int code = -1;  // exit status; 128 + signal when killed by one
  std::string out;
  std::string err;
};

// Runs NNFI_BINARY_PATH with `args` through /bin/sh (each argument quoted);
// stdout and stderr go through files in `scratch_dir`.
CliResult run_nnfi(const std::vector<std::string>& args, const std::filesystem::path& scratch_dir);

// An error run: exit code `code` and exactly one "nnfi: error: " line on
// stderr containing every one of `expected`.
::testing::AssertionResult is_cli_error(const CliResult& result, int code,
                                        const std::vector<std::string>& expected);

std::string read_text(const std::filesystem::path& file);
// Single-quotes an argument for /bin/sh.
std::string shell_quoted(const std::string& text);

}  // namespace nnfi::testing
