// nnfi: the command-line program. Exit codes: 0 success, 2 bad usage (a
// command-line parse error), 1 any other error, reported as one line
// "nnfi: error: ..." on stderr.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include "common.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// An integer option >= `minimum`; CLI11's own number checks print a range
// up to DBL_MAX, which reads badly.
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

int report(const nnfi::Status& status) {
  if (status.is_ok()) return 0;
  std::cerr << "nnfi: error: " << status.message() << "\n";
  return kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  using nnfi::cli::EvalOptions;
  using nnfi::cli::InferOptions;
  using nnfi::cli::InspectOptions;

  CLI::App app{"nnfi: fault injection for trained neural networks", "nnfi"};
  app.set_version_flag("--version", NNFI_VERSION);
  app.require_subcommand(1);

  InspectOptions inspect_options;
  CLI::App* inspect = app.add_subcommand(
      "inspect", "Show a model's inputs, outputs, nodes, layers and parameter counts");
  inspect->add_option("model", inspect_options.model, "Model file (.onnx)")->required();
  inspect->add_flag("--json", inspect_options.json, "Print one JSON object");

  InferOptions infer_options;
  CLI::App* infer = app.add_subcommand(
      "infer", "Run a model on the samples of an .npy file (first axis = batch)");
  infer->add_option("model", infer_options.model, "Model file (.onnx)")->required();
  infer->add_option("--input,-i", infer_options.input, "Input .npy file")->required();
  infer->add_option("--output,-o", infer_options.output, "Output .npy file")->required();
  infer->add_option("--feed", infer_options.feed,
                    "Graph input to feed (\"name\" or \"name:0\"; default: the first input)");
  infer->add_option("--fetch", infer_options.fetch,
                    "Value to fetch (default: the first graph output)");
  infer
      ->add_option("--batch", infer_options.batch,
                   "Samples per run when the model's batch is not fixed")
      ->capture_default_str()
      ->check(integer_at_least(1));

  EvalOptions eval_options;
  CLI::App* eval = app.add_subcommand("eval", "Accuracy of a classifier on a labelled data set");
  eval->add_option("model", eval_options.model, "Model file (.onnx)")->required();
  eval->add_option("--data", eval_options.data, "Data set: idx:IMAGES,LABELS (IDX, .gz or plain)")
      ->required()
      ->check(CLI::Validator([](std::string& spec) { return nnfi::cli::check_data_spec(spec); }, "",
                             "DATA"));
  eval->add_option("--feed", eval_options.feed,
                   "Graph input for the images (default: the first input they fit)");
  eval->add_option("--fetch", eval_options.fetch,
                   "Value holding the class scores (default: the first graph output)");
  eval->add_option("--scale", eval_options.scale, "Value fed = pixel * scale")
      ->capture_default_str();
  eval->add_option("--batch", eval_options.batch,
                   "Images per run when the model's batch is not fixed")
      ->capture_default_str()
      ->check(integer_at_least(1));
  eval->add_option("--limit", eval_options.limit, "Evaluate only the first N images (0: all)")
      ->capture_default_str()
      ->check(integer_at_least(0));
  eval->add_flag("--json", eval_options.json, "Print one JSON object");

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
    if (inspect->parsed()) return report(nnfi::cli::run_inspect(inspect_options));
    if (infer->parsed()) return report(nnfi::cli::run_infer(infer_options));
    if (eval->parsed()) return report(nnfi::cli::run_eval(eval_options));
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
