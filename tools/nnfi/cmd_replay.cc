// nnfi replay: re-run one recorded fault alone and show how it propagates.
#include <cstdio>

#include "common.h"
#include "nnfi/campaign.h"

namespace nnfi::cli {
namespace {

struct ReplayOptions {
  std::string out;
  int64_t fault = 0;
};

Status run_replay(const ReplayOptions& options) {
  NNFI_ASSIGN_OR_RETURN(std::string report, replay_fault(options.out, options.fault));
  std::fputs(report.c_str(), stdout);
  return Status::ok();
}

}  // namespace

Command add_replay_command(CLI::App& app) {
  auto options = std::make_shared<ReplayOptions>();
  CLI::App* command = app.add_subcommand(
      "replay", "Re-run one recorded fault of a campaign alone and show how it propagates");
  command->add_option("results", options->out, "Results folder of nnfi run")->required();
  command->add_option("--fault", options->fault, "Fault id (the faults table of results.sqlite)")
      ->required()
      ->check(integer_at_least(1));
  return {command, [options] { return run_replay(*options); }};
}

}  // namespace nnfi::cli
