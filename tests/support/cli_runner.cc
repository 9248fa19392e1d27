#include "support/cli_runner.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace nnfi::testing {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string shell_quoted(const std::string& text) {
  std::string result = "'";
  for (char c : text) result += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return result + "'";
}

CliResult run_nnfi(const std::vector<std::string>& args, const std::filesystem::path& scratch_dir) {
  const std::filesystem::path out = scratch_dir / "nnfi.stdout";
  const std::filesystem::path err = scratch_dir / "nnfi.stderr";
  std::string command = shell_quoted(NNFI_BINARY_PATH);
  // Appended piecewise: "literal" + std::string&& trips GCC 12's false -Wrestrict.
  for (const std::string& arg : args) command.append(" ").append(shell_quoted(arg));
  command.append(" >").append(shell_quoted(out.string()));
  command.append(" 2>").append(shell_quoted(err.string()));
  const int status = std::system(command.c_str());
  CliResult result;
  if (WIFEXITED(status)) result.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.code = 128 + WTERMSIG(status);
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

::testing::AssertionResult is_cli_error(const CliResult& result, int code,
                                        const std::vector<std::string>& expected) {
  if (result.code != code) {
    return ::testing::AssertionFailure()
           << "exit code " << result.code << ", expected " << code << "; stderr: " << result.err;
  }
  if (result.err.rfind("nnfi: error: ", 0) != 0 ||
      std::count(result.err.begin(), result.err.end(), '\n') != 1) {
    return ::testing::AssertionFailure()
           << "expected one 'nnfi: error: ' line, got: " << result.err;
  }
  for (const std::string& text : expected) {
    if (result.err.find(text) == std::string::npos) {
      return ::testing::AssertionFailure() << "'" << text << "' not in: " << result.err;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace nnfi::testing
