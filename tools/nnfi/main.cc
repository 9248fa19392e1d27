// nnfi: the command-line program. Exit codes: 0 success, 2 bad usage (a
// command-line parse error), 1 any other error, reported as one line
// "nnfi: error: ..." on stderr.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "common.h"

namespace nnfi::cli {

CLI::Validator integer_at_least(int64_t minimum) {
  return CLI::Validator(
      [minimum](std::string& text) -> std::string {
        int64_t value = 0;
        const char* end = text.data() + text.size();
        auto [ptr, error] = std::from_chars(text.data(), end, value);
        if (error != std::errc() || ptr != end || value < minimum) {
          return "expected an integer >= " + std::to_string(minimum) + ", got '" + text + "'";
        }
        return std::string();
      },
      "INT>=" + std::to_string(minimum), "integer_at_least");
}

}  // namespace nnfi::cli

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

int report(const nnfi::Status& status) {
  if (status.is_ok()) return 0;
  std::cerr << "nnfi: error: " << status.message() << "\n";
  return kExitError;
}

// libgomp reads OMP_WAIT_POLICY once, when it loads, and by default keeps
// idle threads spinning for a while. On a machine that is busy with other
// work those spinning threads take the cores the work needs: campaigns on the
// GTSRB CNN ran 6x slower at load 4 (golden runs 3.1 s vs 0.47 s for 1000
// images). Unless the user chose a policy, restart once with passive waiting.
void prefer_passive_openmp_waits(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: go on as we are
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = nnfi::cli;
  prefer_passive_openmp_waits(argv);
  CLI::App app{"nnfi: fault injection for trained neural networks", "nnfi"};
  app.set_version_flag("--version", NNFI_VERSION);
  app.require_subcommand(1);

  // One line per sub-command, in the order `nnfi --help` lists them.
  const std::vector<cli::Command> commands = {
      cli::add_inspect_command(app), cli::add_infer_command(app), cli::add_eval_command(app),
      cli::add_sites_command(app),   cli::add_run_command(app),   cli::add_replay_command(app),
      cli::add_report_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(error);  // --help, --version
    }
    std::cerr << "nnfi: error: " << error.what() << " (run 'nnfi --help' for usage)\n";
    return kExitUsage;
  }

  try {
    for (const cli::Command& command : commands) {
      if (command.app->parsed()) return report(command.run());
    }
  } catch (const std::bad_alloc&) {
    std::cerr << "nnfi: error: out of memory (try a smaller --batch)\n";
    return kExitError;
  } catch (const std::exception& error) {
    // The library reports errors as Status; this is only a last guard.
    std::cerr << "nnfi: error: " << error.what() << "\n";
    return kExitError;
  }
  std::cerr << "nnfi: error: no command given (run 'nnfi --help' for usage)\n";
  return kExitUsage;
}
