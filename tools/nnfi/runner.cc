// Model loading, value lookup and chunked execution shared by the commands.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "common.h"
#include "nnfi/model.h"

namespace nnfi::cli {

Expected<std::shared_ptr<Graph>> load_model_file(const std::string& path,
                                                 const LoadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(path + ": no such file");
  // Folders are refused by load_model unless they hold a TensorFlow SavedModel
  // or checkpoint.
  Expected<std::shared_ptr<Graph>> graph = load_model(path, options);
  if (!graph) {
    Status status = graph.status();
    // Make sure the user learns which file failed, whatever the importer said.
    if (status.message().find(path) == std::string::npos) return status.with_context(path);
    return status;
  }
  return graph;
}

LoadOptions load_options(const std::string& feed, const std::string& fetch, bool fold_constants) {
  LoadOptions options;
  if (!feed.empty()) options.feeds.push_back(feed);
  if (!fetch.empty()) options.fetches.push_back(fetch);
  options.fold_constants = fold_constants;
  return options;
}

namespace {

std::string value_list(const Graph& graph, const std::vector<ValueId>& ids) {
  std::string text;
  for (ValueId id : ids) {
    if (!text.empty()) text += ", ";
    text += "'" + graph.values[id].name + "'";
  }
  return text.empty() ? "none" : text;
}

}  // namespace

Expected<ValueId> find_value_by_name(const Graph& graph, const std::string& name) {
  if (auto id = graph.find_value(name)) return *id;
  // TensorFlow-style names carry an output index: "x:0" and "x" mean the same.
  const bool has_index = name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0;
  const std::string other = has_index ? name.substr(0, name.size() - 2) : name + ":0";
  if (auto id = graph.find_value(other)) return *id;
  return not_found("the model has no value named '" + name +
                   "' (inputs: " + value_list(graph, graph.inputs) +
                   "; outputs: " + value_list(graph, graph.outputs) + ")");
}

Expected<std::unique_ptr<BatchRunner>> BatchRunner::create(std::shared_ptr<const Graph> graph,
                                                           const std::string& feed,
                                                           const std::string& fetch) {
  std::unique_ptr<BatchRunner> runner(new BatchRunner());
  const Graph& g = *graph;
  if (g.inputs.empty()) return invalid_argument("the model has no inputs to feed");
  if (feed.empty()) {
    runner->feed_ = g.inputs[0];
  } else {
    NNFI_ASSIGN_OR_RETURN(runner->feed_, find_value_by_name(g, feed));
  }
  auto position = std::find(g.inputs.begin(), g.inputs.end(), runner->feed_);
  if (position == g.inputs.end()) {
    return invalid_argument("'" + g.values[runner->feed_].name +
                            "' is not an input of the model (inputs: " + value_list(g, g.inputs) +
                            ")");
  }
  runner->feed_index_ = static_cast<size_t>(position - g.inputs.begin());
  if (fetch.empty()) {
    if (g.outputs.empty()) return invalid_argument("the model has no outputs to fetch");
    runner->fetch_ = g.outputs[0];
  } else {
    NNFI_ASSIGN_OR_RETURN(runner->fetch_, find_value_by_name(g, fetch));
  }
  if (g.values[runner->feed_].shape.empty()) {
    return unsupported("input '" + g.values[runner->feed_].name +
                       "' is a scalar; nnfi feeds inputs with a batch as first axis");
  }
  runner->graph_ = std::move(graph);
  return runner;
}

int64_t BatchRunner::fixed_batch() const {
  const Shape& shape = feed_value().shape;
  return !shape.empty() && shape[0] > 0 ? shape[0] : 0;
}

Status BatchRunner::make_executor(const Shape& feed_shape) {
  const Graph& g = *graph_;
  std::vector<Shape> shapes;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    if (i == feed_index_) {
      shapes.push_back(feed_shape);
      continue;
    }
    // Inputs not fed (e.g. a labels input for an accuracy subgraph) get zeros.
    const Value& input = g.values[g.inputs[i]];
    Shape shape = input.shape;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] < 0) shape[d] = d == 0 ? feed_shape[0] : 1;
    }
    if (!noted_) {
      std::cerr << "nnfi: note: input '" << input.name << "' is not fed; it gets zeros of shape "
                << shape_to_string(shape) << "\n";
    }
    shapes.push_back(std::move(shape));
  }
  // Plain inference: a fused plan, unless the fetched value is an inner one
  // (a fused plan computes only the graph outputs as the IR says).
  PlanOptions options;
  options.fuse_for_inference =
      std::find(g.outputs.begin(), g.outputs.end(), fetch_) != g.outputs.end();
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan,
                        Plan::create(graph_, std::move(shapes), options));
  if (plan->value_dtype(fetch_) == DType::kUndefined) {
    return invalid_argument("value '" + g.values[fetch_].name + "' is not computed by the model");
  }
  noted_ = true;
  // Only the fetch is read back: the other values share buffers.
  executor_ = std::make_unique<Executor>(plan, std::vector<ValueId>{fetch_});
  planned_shape_ = feed_shape;
  return Status::ok();
}

Status BatchRunner::run(const Shape& sample_shape, int64_t total, int64_t batch, const FillFn& fill,
                        const ConsumeFn& consume) {
  if (total <= 0) return invalid_argument("there are no samples to run");
  const int64_t fixed = fixed_batch();
  const int64_t chunk = fixed > 0 ? fixed : std::clamp<int64_t>(batch, 1, total);
  const std::string& fetch_name = graph_->values[fetch_].name;
  for (int64_t first = 0; first < total; first += chunk) {
    const int64_t count = std::min(chunk, total - first);
    Shape feed_shape = sample_shape;
    feed_shape.insert(feed_shape.begin(), fixed > 0 ? chunk : count);
    if (!executor_ || planned_shape_ != feed_shape) {
      NNFI_RETURN_IF_ERROR(make_executor(feed_shape));
    }
    Tensor& input = executor_->value(feed_);
    NNFI_RETURN_IF_ERROR(fill(first, count, input));
    const int64_t planned = feed_shape[0];
    if (count < planned) {  // padding rows of a fixed batch
      const size_t row_bytes = input.num_bytes() / static_cast<size_t>(planned);
      std::memset(static_cast<std::byte*>(input.raw_data()) + row_bytes * count, 0,
                  row_bytes * static_cast<size_t>(planned - count));
    }
    NNFI_RETURN_IF_ERROR(executor_->run());
    const Tensor& output = executor_->value(fetch_);
    if (output.rank() >= 1 && output.dim(0) == planned) {
      if (count == planned) {
        NNFI_RETURN_IF_ERROR(consume(first, count, output));
      } else {
        Shape rows_shape = output.shape();
        rows_shape[0] = count;
        Tensor rows(output.dtype(), rows_shape);
        std::memcpy(rows.raw_data(), output.raw_data(), rows.num_bytes());
        NNFI_RETURN_IF_ERROR(consume(first, count, rows));
      }
    } else if (first == 0 && count == total && count == planned) {
      NNFI_RETURN_IF_ERROR(consume(first, count, output));
    } else {
      return invalid_argument(
          "the fetched value '" + fetch_name + "' has shape " + shape_to_string(output.shape()) +
          ", without the batch (" + std::to_string(planned) +
          ") as first axis, so the outputs of several runs cannot be joined" +
          (fixed > 0 ? " (the model's batch is fixed at " + std::to_string(fixed) + ")"
                     : "; run all " + std::to_string(total) + " samples at once with --batch " +
                           std::to_string(total)));
    }
  }
  return Status::ok();
}

}  // namespace nnfi::cli
