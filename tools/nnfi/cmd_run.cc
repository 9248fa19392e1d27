// nnfi run: run (or resume) a fault-injection campaign file.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "campaign/injecttf_config.h"
#include "common.h"
#include "data_flags.h"
#include "nnfi/campaign.h"

namespace nnfi::cli {
namespace {

struct RunCommandOptions {
  std::string campaign;
  std::string out;
  int threads = 0;
  std::string engine = "cached";
  std::string kernels = "window";
  std::string model;
  std::string feed;
  std::string fetch;
  DataFlags data;
  bool quiet = false;
  int64_t repetitions = 0;  // InjectTF configs only; 0: not given
  int64_t batch = 0;        // InjectTF configs only; 0: not given
};

// The default results folder: beside the working directory, named after the file.
std::filesystem::path default_out_dir(const std::string& campaign) {
  return std::filesystem::path(std::filesystem::path(campaign).stem().string() + "-results");
}

// A group name in at most `width` characters. Layer names differ at their
// end ("features.1/Relu", "features.10/MaxPool"), so a long one keeps its end.
std::string shorten(const std::string& name, size_t width) {
  if (name.size() <= width) return name;
  return "..." + name.substr(name.size() - (width - 3));
}

// The group column: as wide as the longest name, 12 to 48 characters.
size_t group_width(const nlohmann::json& experiment) {
  size_t width = 12;
  for (const auto& setting : experiment["settings"]) {
    width = std::max(width, setting["group"].get<std::string>().size());
  }
  return std::min<size_t>(width, 48);
}

void print_summary(const std::filesystem::path& out_dir) {
  std::ifstream file(out_dir / "summary.json");
  nlohmann::json summary = nlohmann::json::parse(file, nullptr, false);
  if (summary.is_discarded()) return;
  const auto& golden = summary["golden"];
  std::printf("golden accuracy: %.2f%% (%lld/%lld)\n", 100.0 * golden["accuracy"].get<double>(),
              static_cast<long long>(golden["correct"].get<int64_t>()),
              static_cast<long long>(golden["images"].get<int64_t>()));
  for (const auto& experiment : summary["experiments"]) {
    std::printf("\nexperiment %s (metric: %s)\n", experiment["name"].get<std::string>().c_str(),
                experiment["metric"].get<std::string>().c_str());
    const int width = static_cast<int>(group_width(experiment));
    std::printf("  %-*s %8s %9s %8s %8s %8s %7s %7s\n", width, "group", "p", "accuracy", "std",
                "min", "max", "masked", "sdc");
    for (const auto& setting : experiment["settings"]) {
      const auto& accuracy = setting["accuracy"];
      const auto& outcomes = setting["outcomes"];
      const double faulted = std::max<double>(1.0, setting["faulted_inferences"].get<double>());
      std::printf("  %-*s %8.4g %8.2f%% %7.2f%% %7.2f%% %7.2f%% %6.1f%% %6.1f%%\n", width,
                  shorten(setting["group"].get<std::string>(), width).c_str(),
                  setting["probability"].get<double>(), 100 * accuracy["mean"].get<double>(),
                  100 * accuracy["std"].get<double>(), 100 * accuracy["min"].get<double>(),
                  100 * accuracy["max"].get<double>(),
                  100 * outcomes["masked"].get<double>() / faulted,
                  100 * outcomes["sdc"].get<double>() / faulted);
    }
    for (const auto& fit : experiment["fits"]) {
      std::printf("  fit %-*s slope %.4f  intercept %.4f  R^2 %.3f\n", width,
                  shorten(fit["group"].get<std::string>(), width).c_str(),
                  fit["slope"].get<double>(), fit["intercept"].get<double>(),
                  fit["r2"].get<double>());
    }
  }
  if (!summary["complete"].get<bool>()) {
    std::printf("\nincomplete: %lld units missing (run the same command again to resume)\n",
                static_cast<long long>(summary["missing_units"].get<int64_t>()));
  }
}

// An InjectTF or InjectTF2 config (docs/injecttf-configs.md) converted with
// the model and data from the command line, or our own campaign file.
Expected<CampaignSpec> load_run_spec(const RunCommandOptions& options) {
  if (!looks_like_injecttf_config_file(options.campaign)) {
    if (options.repetitions > 0 || options.batch > 0) {
      return invalid_argument("--repetitions and --batch are for InjectTF and InjectTF2 configs; " +
                              options.campaign + " sets its own in the file");
    }
    return load_campaign_file(options.campaign);
  }
  if (options.model.empty() || options.data.data.empty()) {
    return invalid_argument(options.campaign +
                            " is an InjectTF/InjectTF2 config, which names no model and no data "
                            "set: give them with --model and --data");
  }
  InjectTFRunOptions converted;
  if (options.repetitions > 0) converted.repetitions = options.repetitions;
  if (options.batch > 0) converted.batch = options.batch;
  NNFI_ASSIGN_OR_RETURN(CampaignSpec spec, load_injecttf_config(options.campaign, converted));
  const bool ops = std::any_of(spec.experiments.begin(), spec.experiments.end(), [](auto& e) {
    return e.injections[0].target.kind == TargetSpec::Kind::kOps;
  });
  if (ops) {
    // InjectTF's op type names are matched against the model's (a second
    // load: run_campaign loads the model again).
    NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph, load_model_file(options.model, spec.load));
    NNFI_RETURN_IF_ERROR(resolve_injecttf_op_types(spec, *graph));
  }
  return spec;
}

Status run_run(const RunCommandOptions& options) {
  NNFI_ASSIGN_OR_RETURN(CampaignSpec spec, load_run_spec(options));
  if (!options.model.empty()) spec.model = options.model;
  if (!options.feed.empty()) spec.feed = options.feed;
  if (!options.fetch.empty()) spec.fetch = options.fetch;
  if (spec.data_given) {
    // The file's data section stays; --data may point it at another copy of
    // the data and --limit/--offset select from it (tests run the examples on
    // the fixtures this way). Preprocessing comes from the file alone.
    const DataFlags defaults;
    const DataFlags& flags = options.data;
    if (flags.resize != defaults.resize || flags.scale != defaults.scale ||
        flags.mean != defaults.mean || flags.std != defaults.std ||
        flags.preset != defaults.preset || flags.bgr || flags.grayscale ||
        flags.layout != defaults.layout || flags.central_crop != defaults.central_crop ||
        flags.resize_method != defaults.resize_method) {
      return invalid_argument(options.campaign +
                              " has its own data section: its preprocessing applies; only "
                              "--data, --limit and --offset may change it on the command line");
    }
    if (!flags.data.empty()) spec.data.spec = flags.data;
    if (flags.limit != 0) spec.data.limit = flags.limit;
    if (flags.offset != 0) spec.data.offset = flags.offset;
  } else if (!options.data.data.empty()) {
    NNFI_ASSIGN_OR_RETURN(spec.data, dataset_options_from_flags(options.data));
    spec.data_given = true;
  }
  RunOptions run;
  run.out_dir =
      options.out.empty() ? default_out_dir(options.campaign) : std::filesystem::path(options.out);
  run.threads = options.threads;
  run.engine = options.engine == "naive"    ? Engine::kNaive
               : options.engine == "prefix" ? Engine::kPrefixOnly
                                            : Engine::kCachedPrefix;
  run.progress = !options.quiet;
  run.window_kernels = options.kernels == "window";
  NNFI_RETURN_IF_ERROR(run_campaign(spec, run));
  print_summary(run.out_dir);
  std::printf("\nresults: %s (summary.json, settings.csv, repetitions.csv, results.sqlite)\n",
              run.out_dir.string().c_str());
  return Status::ok();
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunCommandOptions>();
  CLI::App* command =
      app.add_subcommand("run", "Run or resume a fault-injection campaign (docs/campaign.md)");
  command
      ->add_option(
          "campaign", options->campaign,
          "Campaign file (.yaml), or an InjectTF/InjectTF2 config (docs/injecttf-configs.md)")
      ->required();
  command->add_option("--out,-o", options->out,
                      "Results folder (default: <campaign name>-results); an interrupted run "
                      "resumes there");
  command->add_option("--threads", options->threads, "Threads (default: all cores)")
      ->check(integer_at_least(1));
  command
      ->add_option("--engine", options->engine,
                   "cached: resume faulty inferences at the injected node and stop when the "
                   "fault is masked; prefix: resume but run everything downstream; naive: "
                   "re-run the whole model (the reference)")
      ->check(CLI::IsMember({"cached", "prefix", "naive"}))
      ->capture_default_str();
  command
      ->add_option("--kernels", options->kernels,
                   "window: conv and pools on the position-invariant kernels that window-by-"
                   "window recompute needs; onednn: on oneDNN (for speed comparisons; results "
                   "may differ in the last bits)")
      ->check(CLI::IsMember({"window", "onednn"}))
      ->capture_default_str();
  command->add_option("--model", options->model, "Model file (overrides the campaign's)");
  command->add_option("--feed", options->feed, "Graph input fed the images");
  command->add_option("--fetch", options->fetch, "Value holding the class scores");
  // The data set flags of nnfi eval, for campaign files without a data section.
  add_data_flags(command, options->data);
  command
      ->add_option("--repetitions", options->repetitions,
                   "InjectTF/InjectTF2 configs: passes over the data set (default 1)")
      ->check(integer_at_least(1));
  command
      ->add_option("--batch", options->batch,
                   "InjectTF/InjectTF2 configs: images per batch (default 32); InjectTF draws "
                   "one fault per op per batch")
      ->check(integer_at_least(1));
  command->add_flag("--quiet,-q", options->quiet, "No progress lines");
  return {command, [options] { return run_run(*options); }};
}

}  // namespace nnfi::cli
