// Shared by the nnfi sub-commands: their options, their entry points, and the
// batch runner that feeds samples through a model in chunks.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nnfi/graph.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::cli {

struct InspectOptions {
  std::string model;
  std::vector<std::string> feeds;    // TensorFlow: placeholders to feed
  std::vector<std::string> fetches;  // TensorFlow: tensors to fetch (prunes the graph)
  bool fold_constants = false;       // TensorFlow: fold float arithmetic on constants
  bool json = false;
};

struct InferOptions {
  std::string model;
  std::string input;   // .npy
  std::string output;  // .npy
  std::string feed;    // graph input name; empty: the first input
  std::string fetch;   // value name; empty: the first output
  int64_t batch = 32;  // samples per run when the model's batch is free
  bool fold_constants = false;
};

struct EvalOptions {
  std::string model;
  std::string data;   // "idx:IMAGES,LABELS"
  std::string feed;   // empty: the first graph input whose shape fits the images
  std::string fetch;  // empty: the first graph output
  double scale = 1.0 / 255.0;
  int64_t batch = 100;
  int64_t limit = 0;  // 0: every image
  bool json = false;
  bool fold_constants = false;
};

struct SitesOptions {
  std::string model;
  std::string kind = "all";  // node, layer, weight, input or all
  bool json = false;
  std::string feed;             // TensorFlow: the placeholder fed
  std::string fetch;            // TensorFlow: the tensor fetched (prunes the graph)
  bool fold_constants = false;  // TensorFlow: fold float arithmetic on constants
};

// A sub-command: its CLI11 app and what runs when it was the one parsed. Each
// cmd_*.cc adds its own with add_<name>_command; its options live in the closure.
struct Command {
  CLI::App* app = nullptr;
  std::function<Status()> run;
};
Command add_inspect_command(CLI::App& app);
Command add_infer_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_sites_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_replay_command(CLI::App& app);
Command add_report_command(CLI::App& app);

// An integer option >= `minimum`; CLI11's own number checks print a range
// up to DBL_MAX, which reads badly.
CLI::Validator integer_at_least(int64_t minimum);

Status run_inspect(const InspectOptions& options);
Status run_infer(const InferOptions& options);
Status run_eval(const EvalOptions& options);
Status run_sites(const SitesOptions& options);
// "" when `spec` is a valid --data value, else what is wrong (for CLI11).
std::string check_data_spec(const std::string& spec);

// Checks the file exists (a clearer message than a parser's) and loads it.
// `options` carry TensorFlow's feeds, fetches and folding (other formats
// ignore them).
Expected<std::shared_ptr<Graph>> load_model_file(const std::string& path,
                                                 const LoadOptions& options = {});
// LoadOptions for one --feed / --fetch (either may be empty).
LoadOptions load_options(const std::string& feed, const std::string& fetch, bool fold_constants);

// Finds a value by name; "name:0" and "name" are accepted for each other.
Expected<ValueId> find_value_by_name(const Graph& graph, const std::string& name);

// Runs many samples through a model, a chunk at a time. The feed's first axis
// is the batch: fixed models (e.g. [1, 1, 28, 28]) run with their batch and a
// partial last chunk is padded with zeros; free ones ([?, 784]) run with the
// requested batch. Other graph inputs are fed zeros (with a note on stderr).
class BatchRunner {
 public:
  // Writes samples [first, first + count) into rows [0, count) of `input`.
  using FillFn = std::function<Status(int64_t first, int64_t count, Tensor& input)>;
  // Receives the fetched value for samples [first, first + count): its rows
  // when the fetch has the batch as first axis, else (one chunk only) the
  // whole value.
  using ConsumeFn = std::function<Status(int64_t first, int64_t count, const Tensor& output)>;

  // feed/fetch: names, or empty for the first graph input / output.
  static Expected<std::unique_ptr<BatchRunner>> create(std::shared_ptr<const Graph> graph,
                                                       const std::string& feed,
                                                       const std::string& fetch);

  const Graph& graph() const { return *graph_; }
  ValueId feed() const { return feed_; }
  ValueId fetch() const { return fetch_; }
  const Value& feed_value() const { return graph_->values[feed_]; }
  // The model's batch size if fixed, else 0.
  int64_t fixed_batch() const;

  // Runs `total` samples of shape `sample_shape` (the feed shape without its
  // batch axis, every dim known), `batch` at a time unless the model fixes it.
  Status run(const Shape& sample_shape, int64_t total, int64_t batch, const FillFn& fill,
             const ConsumeFn& consume);

 private:
  BatchRunner() = default;
  // Plans for this feed shape; the first time, notes inputs fed zeros on stderr.
  Status make_executor(const Shape& feed_shape);

  std::shared_ptr<const Graph> graph_;
  ValueId feed_ = kNoValue;
  ValueId fetch_ = kNoValue;
  size_t feed_index_ = 0;
  Shape planned_shape_;  // the feed shape the current executor was planned for
  std::unique_ptr<Executor> executor_;
  bool noted_ = false;
};

}  // namespace nnfi::cli
