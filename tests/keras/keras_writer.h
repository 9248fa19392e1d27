// Test-side writer of small Keras model files, through the HDF5 C API (and
// libzip for .keras), independent of the importer's code: a model_config JSON
// attribute plus model_weights/<layer>/<weight> datasets with weight_names,
// in the layouts Keras 2.x (".../kernel:0"), Keras 3 (no ":0") and the .keras
// archive (layers/<snake_name>/vars/<i>) use.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "nnfi/graph.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::testing {

using nlohmann::json;

struct TestLayer {
  std::string class_name;
  json config;                                          // includes "name"
  std::vector<std::pair<std::string, Tensor>> weights;  // Keras order, short names
  // Functional models: the inputs of each call, as "layer" or "layer@call".
  std::vector<std::vector<std::string>> calls;
  // .keras archives: the group the weights go under ("conv2d", "dense_1").
  std::string v3_name;
};

struct TestModel {
  bool functional = false;
  int keras_major = 2;            // 2: Keras 2 JSON (list inbound_nodes); 3: Keras 3 dicts
  Shape input_shape;              // batch shape of the (first) InputLayer, -1 = None
  bool input_layer = true;        // Sequential: false writes batch_input_shape on layer 0
  std::vector<TestLayer> layers;  // functional: InputLayers included
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;  // "layer" or "layer@call"
};

struct H5Options {
  std::string keras_version = "2.11.0";
  bool fixed_length_strings = false;  // h5py's 'S' strings (standalone Keras 2.2)
  bool weight_suffix = true;          // "dense/kernel:0" (Keras 2) or "sequential/dense/kernel"
  bool write_config = true;
  std::string config_override;  // written verbatim when not empty
};

json model_config(const TestModel& model);

// model.save(...h5) layout.
void write_h5(const std::filesystem::path& path, const TestModel& model,
              const H5Options& options = {});
// model.save(...keras) layout: config.json, metadata.json, model.weights.h5.
void write_keras_archive(const std::filesystem::path& path, const TestModel& model,
                         const std::string& keras_version = "3.10.0");

// Layer shorthands (Keras 2 style configs; Keras 3 reads the same keys).
TestLayer layer(const std::string& class_name, const std::string& name, json config = {},
                std::vector<std::pair<std::string, Tensor>> weights = {});

// Loads with import_keras and runs `inputs` through Graph + Plan + Executor;
// returns the graph outputs.
Expected<std::vector<Tensor>> run_keras_file(const std::filesystem::path& path,
                                             const std::vector<Tensor>& inputs,
                                             bool fast_kernels = true);

}  // namespace nnfi::testing
