// nnfi eval: top-1 (and top-5) accuracy of a classifier on a labelled data set.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "common.h"
#include "nnfi/data.h"

namespace nnfi::cli {
namespace {

// The per-sample feed shape for images of shape `image`: the model's shape
// without its batch axis when the element counts agree; unknown dims are
// taken from the image (same rank) or inferred (a single unknown dim).
Expected<Shape> sample_shape_for(const Value& feed, const Shape& image) {
  const Shape model(feed.shape.begin() + 1, feed.shape.end());
  const int64_t elements = shape_num_elements(image);
  int64_t known = 1;
  int unknown = 0;
  for (int64_t dim : model) {
    if (dim < 0) {
      ++unknown;
    } else {
      known *= dim;
    }
  }
  Shape result = model;
  if (unknown == 0 && known == elements) return result;
  if (unknown == 1 && known > 0 && elements % known == 0) {
    for (int64_t& dim : result) {
      if (dim < 0) dim = elements / known;
    }
    return result;
  }
  if (unknown > 1 && model.size() == image.size()) {
    bool fits = true;
    for (size_t i = 0; i < model.size(); ++i) fits = fits && (model[i] < 0 || model[i] == image[i]);
    if (fits) return image;
  }
  return invalid_argument("images of shape " + shape_to_string(image) + " (" +
                          std::to_string(elements) + " values) do not fit input '" + feed.name +
                          "' of shape " + shape_to_string(feed.shape) +
                          " (expected the same number of values per sample)");
}

struct DataSpec {
  std::string images;
  std::string labels;
};

Expected<DataSpec> parse_data_spec(const std::string& spec) {
  const std::string prefix = "idx:";
  const size_t comma = spec.find(',');
  if (spec.rfind(prefix, 0) != 0 || comma == std::string::npos || comma == prefix.size() ||
      comma + 1 == spec.size()) {
    return invalid_argument("--data '" + spec + "': expected idx:IMAGES,LABELS");
  }
  return DataSpec{spec.substr(prefix.size(), comma - prefix.size()), spec.substr(comma + 1)};
}

}  // namespace

std::string check_data_spec(const std::string& spec) {
  Expected<DataSpec> parsed = parse_data_spec(spec);
  return parsed ? std::string() : "expected idx:IMAGES,LABELS, got '" + spec + "'";
}

Status run_eval(const EvalOptions& options) {
  NNFI_ASSIGN_OR_RETURN(DataSpec spec, parse_data_spec(options.data));
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph, load_model_file(options.model));
  NNFI_ASSIGN_OR_RETURN(LabelledImages data, read_idx_dataset(spec.images, spec.labels));
  const Shape image(data.images.shape().begin() + 1, data.images.shape().end());
  std::string feed_name = options.feed;
  if (feed_name.empty()) {
    // With several inputs (e.g. images and one-hot labels), feed the first that fits.
    for (ValueId input : graph->inputs) {
      const Value& value = graph->values[input];
      if (!value.shape.empty() && sample_shape_for(value, image).has_value()) {
        feed_name = value.name;
        break;
      }
    }
  }
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<BatchRunner> runner,
                        BatchRunner::create(graph, feed_name, options.fetch));
  const Value& feed = runner->feed_value();
  if (feed.dtype != DType::kFloat32) {
    return unsupported("input '" + feed.name + "' is " + std::string(dtype_name(feed.dtype)) +
                       "; nnfi eval feeds float32 images");
  }
  const Value& fetch = graph->values[runner->fetch()];
  if (fetch.shape.empty()) {
    return invalid_argument("output '" + fetch.name +
                            "' is a scalar, not scores per image; name the scores with --fetch");
  }
  NNFI_ASSIGN_OR_RETURN(Shape sample, sample_shape_for(feed, image));
  int64_t total = data.images.dim(0);
  if (options.limit > 0) total = std::min(total, options.limit);
  if (total == 0) return invalid_argument(spec.images + " holds no images");
  const int64_t pixels = shape_num_elements(image);
  const float scale = static_cast<float>(options.scale);

  int64_t correct = 0, correct5 = 0, classes = 0;
  auto fill = [&](int64_t first, int64_t count, Tensor& input) {
    float* out = input.data<float>();
    for (int64_t i = 0; i < count * pixels; ++i) {
      out[i] = static_cast<float>(data.images.element_as_double(first * pixels + i)) * scale;
    }
    return Status::ok();
  };
  auto consume = [&](int64_t first, int64_t count, const Tensor& output) -> Status {
    if (output.num_elements() % count != 0 || output.num_elements() == 0) {
      return invalid_argument("output '" + graph->values[runner->fetch()].name + "' of shape " +
                              shape_to_string(output.shape()) + " does not hold scores per image");
    }
    classes = output.num_elements() / count;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t label = data.labels.element_as_int64(first + i);
      if (label < 0 || label >= classes) {
        return invalid_argument(spec.labels + ": label " + std::to_string(label) + " of image " +
                                std::to_string(first + i) + " is outside the model's " +
                                std::to_string(classes) + " classes");
      }
      const int64_t base = i * classes;
      const double target = output.element_as_double(base + label);
      // Rank of the label: how many classes score strictly higher, or equal
      // with a lower index (argmax takes the first maximum).
      // NaN ranks above every number, as in numpy's argmax.
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
      if (better == 0) ++correct;
      if (better < 5) ++correct5;
    }
    return Status::ok();
  };
  const auto start = std::chrono::steady_clock::now();
  NNFI_RETURN_IF_ERROR(runner->run(sample, total, options.batch, fill, consume));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const double accuracy = static_cast<double>(correct) / static_cast<double>(total);
  const double top5 = static_cast<double>(correct5) / static_cast<double>(total);
  if (options.json) {
    nlohmann::json result = {{"accuracy", accuracy}, {"images", total}, {"correct", correct}};
    if (classes >= 5) result["top5"] = top5;
    std::cout << result.dump() << "\n";
    return Status::ok();
  }
  std::printf("accuracy: %.2f%% (%lld/%lld)\n", 100.0 * accuracy, static_cast<long long>(correct),
              static_cast<long long>(total));
  if (classes >= 5) {
    std::printf("top-5:    %.2f%% (%lld/%lld)\n", 100.0 * top5, static_cast<long long>(correct5),
                static_cast<long long>(total));
  }
  std::printf("%lld images in %.2f s (%.0f images/s)\n", static_cast<long long>(total), seconds,
              seconds > 0 ? static_cast<double>(total) / seconds : 0.0);
  return Status::ok();
}

Command add_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  CLI::App* command = app.add_subcommand("eval", "Accuracy of a classifier on a labelled data set");
  command->add_option("model", options->model, "Model file (.onnx)")->required();
  command->add_option("--data", options->data, "Data set: idx:IMAGES,LABELS (IDX, .gz or plain)")
      ->required()
      ->check(CLI::Validator([](std::string& spec) { return check_data_spec(spec); }, "", "DATA"));
  command->add_option("--feed", options->feed,
                      "Graph input for the images (default: the first input they fit)");
  command->add_option("--fetch", options->fetch,
                      "Value holding the class scores (default: the first graph output)");
  command->add_option("--scale", options->scale, "Value fed = pixel * scale")
      ->capture_default_str();
  command
      ->add_option("--batch", options->batch, "Images per run when the model's batch is not fixed")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_option("--limit", options->limit, "Evaluate only the first N images (0: all)")
      ->capture_default_str()
      ->check(integer_at_least(0));
  command->add_flag("--json", options->json, "Print one JSON object");
  return {command, [options] { return run_eval(*options); }};
}

}  // namespace nnfi::cli
