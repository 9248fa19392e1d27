// nnfi eval: top-1 (and top-5) accuracy of a classifier on a labelled data set, read and
// preprocessed a batch at a time (nnfi/dataset.h, flags in data_flags.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "common.h"
#include "data_flags.h"
#include "nnfi/dataset.h"

namespace nnfi::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// How many skip reasons are printed before "... and N more".
constexpr int64_t kSkipNotes = 10;

// The rank of `label` among the scores: how many classes score strictly higher, or equal with a
// lower index (argmax takes the first maximum). NaN ranks above every number, as in numpy.
int64_t label_rank(const Tensor& output, int64_t base, int64_t classes, int64_t label) {
  const double target = output.element_as_double(base + label);
  int64_t better = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const double score = output.element_as_double(base + c);
    const bool score_nan = std::isnan(score), target_nan = std::isnan(target);
    const bool higher =
        score_nan != target_nan
            ? score_nan
            : (score_nan ? c < label : score > target || (score == target && c < label));
    if (higher) ++better;
  }
  return better;
}

// The class count of the fetched scores when the graph knows it ([N, classes]), else 0.
int64_t static_classes(const Value& fetch) {
  return fetch.shape.size() >= 2 && fetch.shape.back() > 0 ? fetch.shape.back() : 0;
}

// Opens the data set for the feed: the named one, or the first graph input it fits (a model may
// also take labels, as tf2onnx's accuracy graphs do). Errors name the input.
Expected<std::unique_ptr<Dataset>> open_for_feed(const Graph& graph, const std::string& feed,
                                                 const DatasetOptions& options,
                                                 std::string* feed_name) {
  std::vector<ValueId> candidates;
  if (!feed.empty()) {
    NNFI_ASSIGN_OR_RETURN(ValueId id, find_value_by_name(graph, feed));
    candidates.push_back(id);
  } else {
    candidates = graph.inputs;
  }
  Status first_error;
  for (ValueId id : candidates) {
    const Value& value = graph.values[id];
    if (value.shape.empty()) continue;
    Expected<std::unique_ptr<Dataset>> dataset = open_dataset(options, value.shape);
    if (dataset) {
      *feed_name = value.name;
      return dataset;
    }
    // Problems with the data themselves (missing files, bad rows) are the same for every input;
    // only a shape that does not fit this input sends us on to the next.
    if (dataset.status().message().find("model input") == std::string::npos) {
      return dataset.status();
    }
    if (first_error.is_ok())
      first_error = dataset.status().with_context("input '" + value.name + "'");
  }
  if (first_error.is_ok()) return invalid_argument("the model has no input to feed images to");
  return first_error;
}

Status run_eval_with_data(const EvalOptions& options, const DataFlags& flags) {
  NNFI_ASSIGN_OR_RETURN(DatasetOptions data, dataset_options_from_flags(flags));
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph,
                        load_model_file(options.model, load_options(options.feed, options.fetch,
                                                                    options.fold_constants)));
  // The fetch first: its class count lets the data set check labels (with file and line) at open.
  ValueId fetch_id = kNoValue;
  if (!options.fetch.empty()) {
    NNFI_ASSIGN_OR_RETURN(fetch_id, find_value_by_name(*graph, options.fetch));
  } else if (!graph->outputs.empty()) {
    fetch_id = graph->outputs[0];
  }
  if (fetch_id != kNoValue) data.num_classes = static_classes(graph->values[fetch_id]);
  std::string feed_name;
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<Dataset> dataset,
                        open_for_feed(*graph, options.feed, data, &feed_name));
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<BatchRunner> runner,
                        BatchRunner::create(graph, feed_name, options.fetch));
  const Value& feed = runner->feed_value();
  if (feed.dtype != DType::kFloat32) {
    return unsupported("input '" + feed.name + "' is " + std::string(dtype_name(feed.dtype)) +
                       "; nnfi eval feeds float32 examples");
  }
  const Value& fetch = graph->values[runner->fetch()];
  if (fetch.shape.empty()) {
    return invalid_argument("output '" + fetch.name +
                            "' is a scalar, not scores per image; name the scores with --fetch");
  }

  int64_t correct = 0, correct5 = 0, classes = 0, evaluated = 0, skipped = 0;
  double read_seconds = 0, run_seconds = 0;
  const DataBatch* batch = nullptr;
  auto fill = [&](int64_t first, int64_t count, Tensor& input) {
    const size_t row = batch->inputs.num_bytes() / batch->ids.size();
    std::memcpy(input.raw_data(),
                static_cast<const std::byte*>(batch->inputs.raw_data()) + row * first,
                row * static_cast<size_t>(count));
    return Status::ok();
  };
  auto consume = [&](int64_t first, int64_t count, const Tensor& output) -> Status {
    if (output.num_elements() % count != 0 || output.num_elements() == 0) {
      return invalid_argument("output '" + fetch.name + "' of shape " +
                              shape_to_string(output.shape()) + " does not hold scores per image");
    }
    classes = output.num_elements() / count;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t label = batch->labels[static_cast<size_t>(first + i)];
      if (label < 0 || label >= classes) {
        return invalid_argument(
            dataset->example_source(batch->ids[static_cast<size_t>(first + i)]) + ": label " +
            std::to_string(label) + " is outside the model's " + std::to_string(classes) +
            " classes");
      }
      const int64_t rank = label_rank(output, i * classes, classes, label);
      if (rank == 0) ++correct;
      if (rank < 5) ++correct5;
    }
    return Status::ok();
  };

  const int64_t total = dataset->size();
  const int64_t step =
      runner->fixed_batch() > 0 ? std::max(options.batch, runner->fixed_batch()) : options.batch;
  for (int64_t first = 0; first < total; first += step) {
    auto read_start = Clock::now();
    NNFI_ASSIGN_OR_RETURN(DataBatch current, dataset->read(first, std::min(step, total - first)));
    read_seconds += seconds_since(read_start);
    for (size_t i = 0; i < current.skip_reasons.size(); ++i) {
      if (skipped + static_cast<int64_t>(i) < kSkipNotes) {
        std::cerr << "nnfi: note: skipped " << current.skip_reasons[i] << "\n";
      }
    }
    skipped += current.skipped;
    if (current.ids.empty()) continue;
    batch = &current;
    const auto kept = static_cast<int64_t>(current.ids.size());
    auto run_start = Clock::now();
    NNFI_RETURN_IF_ERROR(runner->run(dataset->example_shape(), kept, options.batch, fill, consume));
    run_seconds += seconds_since(run_start);
    evaluated += kept;
  }
  if (skipped > kSkipNotes) {
    std::cerr << "nnfi: note: ... and " << skipped - kSkipNotes << " more skipped\n";
  }
  if (evaluated == 0) {
    return invalid_argument("all " + std::to_string(total) + " selected examples of " + data.spec +
                            " were skipped; nothing to evaluate");
  }

  const double accuracy = static_cast<double>(correct) / static_cast<double>(evaluated);
  const double top5 = static_cast<double>(correct5) / static_cast<double>(evaluated);
  if (options.json) {
    nlohmann::json result = {{"accuracy", accuracy},
                             {"images", evaluated},
                             {"correct", correct},
                             {"skipped", skipped},
                             {"selected", total}};
    if (classes >= 5) result["top5"] = top5;
    if (!graph->metadata.empty()) result["model_metadata"] = graph->metadata;
    std::cout << result.dump() << "\n";
    return Status::ok();
  }
  std::printf("data: %s\n", dataset->description().c_str());
  std::printf("accuracy: %.2f%% (%lld/%lld)\n", 100.0 * accuracy, static_cast<long long>(correct),
              static_cast<long long>(evaluated));
  if (classes >= 5) {
    std::printf("top-5:    %.2f%% (%lld/%lld)\n", 100.0 * top5, static_cast<long long>(correct5),
                static_cast<long long>(evaluated));
  }
  if (skipped > 0) {
    std::printf("skipped:  %lld of the %lld selected examples (not in the accuracy)\n",
                static_cast<long long>(skipped), static_cast<long long>(total));
  }
  const double seconds = read_seconds + run_seconds;
  std::printf("%lld images in %.2f s (%.0f images/s; reading %.2f s, inference %.2f s)\n",
              static_cast<long long>(evaluated), seconds,
              seconds > 0 ? static_cast<double>(evaluated) / seconds : 0.0, read_seconds,
              run_seconds);
  if (graph->metadata.count("tf.fold_constants")) {
    std::printf("constant folding: %s\n", graph->metadata.at("tf.fold_constants").c_str());
  }
  return Status::ok();
}

}  // namespace

std::string check_data_spec(const std::string& spec) {
  Status status = check_dataset_spec(spec);
  return status.is_ok() ? std::string() : status.message();
}

// The programmatic entry point of common.h: options.data, scale and limit as the flags would.
Status run_eval(const EvalOptions& options) {
  DataFlags flags;
  flags.data = options.data;
  char scale[32];
  std::snprintf(scale, sizeof(scale), "%.17g", options.scale);
  flags.scale = scale;
  flags.limit = options.limit;
  return run_eval_with_data(options, flags);
}

Command add_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  auto flags = std::make_shared<DataFlags>();
  CLI::App* command = app.add_subcommand("eval", "Accuracy of a classifier on a labelled data set");
  command->add_option("model", options->model, "Model file (.onnx, .h5, .keras, .pb)")->required();
  add_data_flags(command, *flags);
  command->get_option("--data")->required();
  command->add_option("--feed", options->feed,
                      "Graph input for the images (default: the first input they fit)");
  command->add_option("--fetch", options->fetch,
                      "Value holding the class scores (default: the first graph output)");
  command
      ->add_option("--batch", options->batch, "Images per run when the model's batch is not fixed")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_flag("--json", options->json, "Print one JSON object");
  command->add_flag("--fold-constants", options->fold_constants,
                    "TensorFlow: fold float arithmetic on constants into constants");
  return {command, [options, flags] { return run_eval_with_data(*options, *flags); }};
}

}  // namespace nnfi::cli
