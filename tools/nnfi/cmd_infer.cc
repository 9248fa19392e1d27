// nnfi infer: run a model on the samples of an .npy file, write the fetched
// value to another .npy file.
#include <cstring>
#include <iostream>

#include "common.h"
#include "nnfi/data.h"

namespace nnfi::cli {
namespace {

// True where every known dim of `model` equals the dim of `given` at the same place.
bool dims_fit(const Shape& given, const Shape& model) {
  if (given.size() != model.size()) return false;
  for (size_t i = 0; i < given.size(); ++i) {
    if (model[i] >= 0 && model[i] != given[i]) return false;
  }
  return true;
}

// The input as [N, sample...]: either a batch with the model's rank, or rows
// that are whole model inputs stacked on a new first axis (then merged).
Expected<Tensor> as_batch(const Tensor& input, const Value& feed, const std::string& path) {
  const Shape& model = feed.shape;
  const Shape& given = input.shape();
  const Shape model_sample(model.begin() + 1, model.end());
  if (given.size() == model.size() &&
      dims_fit(Shape(given.begin() + 1, given.end()), model_sample)) {
    return input;
  }
  if (given.size() == model.size() + 1 && dims_fit(Shape(given.begin() + 1, given.end()), model)) {
    Shape merged(given.begin() + 1, given.end());
    merged[0] = given[0] * given[1];
    return input.reshaped(merged);
  }
  // Name both accepted layouts, e.g. [N, 1, 28, 28] and [N, 1, 1, 28, 28].
  const std::string batch_form =
      model_sample.empty() ? "[N]" : "[N, " + shape_to_string(model_sample).substr(1);
  const std::string stacked_form = "[N, " + shape_to_string(model).substr(1);
  return invalid_argument(path + " holds shape " + shape_to_string(given) + " but input '" +
                          feed.name + "' has shape " + shape_to_string(model) + " (expected " +
                          batch_form + " or " + stacked_form + ")");
}

}  // namespace

Status run_infer(const InferOptions& options) {
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph,
                        load_model_file(options.model, load_options(options.feed, options.fetch,
                                                                    options.fold_constants)));
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<BatchRunner> runner,
                        BatchRunner::create(graph, options.feed, options.fetch));
  NNFI_ASSIGN_OR_RETURN(Tensor input, read_npy(options.input));
  const Value& feed = runner->feed_value();
  if (input.dtype() != feed.dtype) {
    return invalid_argument(options.input + " holds " + std::string(dtype_name(input.dtype())) +
                            " values but input '" + feed.name + "' expects " +
                            std::string(dtype_name(feed.dtype)));
  }
  NNFI_ASSIGN_OR_RETURN(Tensor batch, as_batch(input, feed, options.input));
  const int64_t total = batch.dim(0);
  if (total == 0) return invalid_argument(options.input + " holds no samples (first axis is 0)");
  const Shape sample_shape(batch.shape().begin() + 1, batch.shape().end());
  const size_t sample_bytes = batch.num_bytes() / static_cast<size_t>(total);

  std::vector<Tensor> pieces;
  auto fill = [&](int64_t first, int64_t count, Tensor& chunk) {
    std::memcpy(chunk.raw_data(),
                static_cast<const std::byte*>(batch.raw_data()) + first * sample_bytes,
                sample_bytes * static_cast<size_t>(count));
    return Status::ok();
  };
  auto consume = [&](int64_t, int64_t, const Tensor& output) {
    pieces.push_back(output.clone());
    return Status::ok();
  };
  NNFI_RETURN_IF_ERROR(runner->run(sample_shape, total, options.batch, fill, consume));

  // Join the pieces along the first axis.
  Tensor result = pieces.front();
  if (pieces.size() > 1) {
    Shape shape = pieces.front().shape();
    shape[0] = 0;
    for (const Tensor& piece : pieces) shape[0] += piece.dim(0);
    result = Tensor(pieces.front().dtype(), shape);
    auto* out = static_cast<std::byte*>(result.raw_data());
    for (const Tensor& piece : pieces) {
      std::memcpy(out, piece.raw_data(), piece.num_bytes());
      out += piece.num_bytes();
    }
  }
  return write_npy(options.output, result);
}

Command add_infer_command(CLI::App& app) {
  auto options = std::make_shared<InferOptions>();
  CLI::App* command = app.add_subcommand(
      "infer", "Run a model on the samples of an .npy file (first axis = batch)");
  command->add_option("model", options->model, "Model file (.onnx)")->required();
  command->add_option("--input,-i", options->input, "Input .npy file")->required();
  command->add_option("--output,-o", options->output, "Output .npy file")->required();
  command->add_option("--feed", options->feed,
                      "Graph input to feed (\"name\" or \"name:0\"; default: the first input)");
  command->add_option("--fetch", options->fetch,
                      "Value to fetch (default: the first graph output)");
  command
      ->add_option("--batch", options->batch, "Samples per run when the model's batch is not fixed")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_flag("--fold-constants", options->fold_constants,
                    "TensorFlow: fold float arithmetic on constants into constants");
  return {command, [options] { return run_infer(*options); }};
}

}  // namespace nnfi::cli
