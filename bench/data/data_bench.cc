// Data reading against inference: for each data set, the time to open it and read (decode and
// preprocess) every example in batches, and the time to run a model on the same batches. The
// issue's bar: reading must cost less than the inference it feeds.
//
//   nnfi_data_bench [--batch 100] [--repeat 3] [--fixtures DIR] [--fashion-model M]
//                   [--gtsrb-model M]
//
// Timing is plain std::chrono, best of --repeat passes. Data: Fashion-MNIST's 10,000 test images
// (IDX gzip; /usr/share/datasets/fashion-mnist or the fixtures) and the 1000 GTSRB test images
// of the fixtures (PPM, bilinear 32 -> 30 for the Keras model). Models: the example Fashion-MNIST
// CNN (ONNX); for GTSRB the fixture's Keras CNN when the Keras importer loads it, else the
// benchmark's GTSRB-like ONNX CNN (bench/models/gtsrb_cnn.onnx, 32x32 NCHW, no resize).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "nnfi/dataset.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"

namespace nnfi::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int64_t batch = 100;
  int repeat = 3;
  std::string fixtures = NNFI_SOURCE_DIR "/../shared/fixtures";
  std::string fashion_model = NNFI_SOURCE_DIR "/examples/fashion_mnist/fashion_mnist_cnn.onnx";
  std::string gtsrb_model;  // empty: the Keras fixture, else bench/models/gtsrb_cnn.onnx
};

struct Case {
  std::string name;
  DatasetOptions data;
  std::string model;
};

struct Timing {
  int64_t examples = 0;
  double read_seconds = 1e30;
  double infer_seconds = 1e30;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Expected<Timing> time_case(const Case& c, const Options& options) {
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph, load_model(c.model));
  const Value& input = graph->values[graph->inputs[0]];
  Timing timing;
  for (int r = 0; r < options.repeat; ++r) {
    // Reading: open (listing, headers, labels) plus every batch.
    std::vector<DataBatch> batches;
    auto start = Clock::now();
    NNFI_ASSIGN_OR_RETURN(std::unique_ptr<Dataset> dataset, open_dataset(c.data, input.shape));
    for (int64_t first = 0; first < dataset->size(); first += options.batch) {
      NNFI_ASSIGN_OR_RETURN(DataBatch batch,
                            dataset->read(first, std::min(options.batch, dataset->size() - first)));
      batches.push_back(std::move(batch));
    }
    timing.read_seconds = std::min(timing.read_seconds, seconds_since(start));
    timing.examples = dataset->size();

    // Inference on the same batches (plans made beforehand, as a campaign makes them once).
    std::vector<std::unique_ptr<Executor>> executors;
    for (const DataBatch& batch : batches) {
      if (!executors.empty() &&
          executors.back()->plan().input_shapes()[0] == batch.inputs.shape()) {
        continue;
      }
      NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan,
                            Plan::create(graph, {batch.inputs.shape()}));
      executors.push_back(std::make_unique<Executor>(plan));
    }
    start = Clock::now();
    for (const DataBatch& batch : batches) {
      for (auto& executor : executors) {
        if (executor->plan().input_shapes()[0] != batch.inputs.shape()) continue;
        NNFI_RETURN_IF_ERROR(executor->set_input(0, batch.inputs));
        NNFI_RETURN_IF_ERROR(executor->run());
        break;
      }
    }
    timing.infer_seconds = std::min(timing.infer_seconds, seconds_since(start));
  }
  return timing;
}

int run(const Options& options) {
  const std::filesystem::path fixtures = options.fixtures;
  std::vector<Case> cases;

  Case fashion{"fashion-mnist idx (10,000)", {}, options.fashion_model};
  const std::filesystem::path debian = "/usr/share/datasets/fashion-mnist";
  fashion.data.spec = "idx:" + (std::filesystem::exists(debian / "t10k-images-idx3-ubyte.gz")
                                    ? debian
                                    : fixtures / "data/fashion_mnist_test")
                                   .string();
  fashion.data.preprocessing.scale = 1.0 / 255.0;
  cases.push_back(fashion);

  Case gtsrb{"gtsrb ppm (1000)", {}, options.gtsrb_model};
  gtsrb.data.spec = "gtsrb:" + (fixtures / "data/gtsrb_test_32x32").string();
  if (gtsrb.model.empty()) {
    const std::string keras = (fixtures / "keras/gtsrb_cnn_keras2.11.h5").string();
    gtsrb.model = load_model(keras).has_value()
                      ? keras
                      : std::string(NNFI_SOURCE_DIR "/bench/models/gtsrb_cnn.onnx");
  }
  if (gtsrb.model.find(".h5") != std::string::npos) {
    gtsrb.name += ", resize 32->30";
    gtsrb.data.preprocessing.resize_height = gtsrb.data.preprocessing.resize_width = 30;
  } else {
    gtsrb.data.preprocessing.scale = 1.0 / 255.0;  // the ONNX CNN takes 3x32x32 in [0, 1)
  }
  cases.push_back(gtsrb);

  std::printf(
      "| data set | model | examples | read s | read images/s | inference s | read/inference |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  int failures = 0;
  for (const Case& c : cases) {
    Expected<Timing> timing = time_case(c, options);
    if (!timing) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(), timing.status().message().c_str());
      ++failures;
      continue;
    }
    std::printf("| %s | %s | %lld | %.3f | %.0f | %.3f | %.3f |\n", c.name.c_str(),
                std::filesystem::path(c.model).filename().c_str(),
                static_cast<long long>(timing->examples), timing->read_seconds,
                static_cast<double>(timing->examples) / timing->read_seconds, timing->infer_seconds,
                timing->read_seconds / timing->infer_seconds);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace nnfi::bench

int main(int argc, char** argv) {
  nnfi::bench::Options options;
  CLI::App app{"nnfi data reading benchmark", "nnfi_data_bench"};
  app.add_option("--batch", options.batch, "Examples per read and per inference run")
      ->capture_default_str();
  app.add_option("--repeat", options.repeat, "Passes; the best is reported")->capture_default_str();
  app.add_option("--fixtures", options.fixtures, "The shared fixtures folder")
      ->capture_default_str();
  app.add_option("--fashion-model", options.fashion_model, "Fashion-MNIST model")
      ->capture_default_str();
  app.add_option("--gtsrb-model", options.gtsrb_model, "GTSRB model (default: see the header)");
  CLI11_PARSE(app, argc, argv);
  return nnfi::bench::run(options);
}
