#include "keras/keras_writer.h"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>
#include <zip.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "nnfi/model.h"
#include "nnfi/runtime.h"

namespace nnfi::testing {
namespace {

json shape_json(const Shape& shape) {
  json dims = json::array();
  for (int64_t dim : shape) dims.push_back(dim < 0 ? json(nullptr) : json(dim));
  return dims;
}

// "layer@2" -> ("layer", 2)
std::pair<std::string, int64_t> split_call(const std::string& ref) {
  const size_t at = ref.find('@');
  if (at == std::string::npos) return {ref, 0};
  return {ref.substr(0, at), std::stoll(ref.substr(at + 1))};
}

json keras2_ref(const std::string& ref) {
  auto [name, call] = split_call(ref);
  return json::array({name, call, 0, json::object()});
}

json keras3_tensor(const std::string& ref) {
  auto [name, call] = split_call(ref);
  return {{"class_name", "__keras_tensor__"},
          {"config",
           {{"shape", json::array()},
            {"dtype", "float32"},
            {"keras_history", json::array({name, call, 0})}}}};
}

json layer_entry(const TestModel& model, const TestLayer& layer, bool with_inbound) {
  json config = layer.config;
  json entry = {{"class_name", layer.class_name}, {"config", config}};
  if (model.keras_major >= 3) {
    entry["module"] = "keras.layers";
    entry["registered_name"] = nullptr;
  }
  if (!with_inbound) return entry;
  entry["name"] = config["name"];
  json inbound = json::array();
  for (const auto& call : layer.calls) {
    if (model.keras_major >= 3) {
      json args = json::array();
      if (call.size() == 1) {
        args.push_back(keras3_tensor(call[0]));
      } else {
        json list = json::array();
        for (const std::string& ref : call) list.push_back(keras3_tensor(ref));
        args.push_back(list);
      }
      inbound.push_back({{"args", args}, {"kwargs", json::object()}});
    } else {
      json node = json::array();
      for (const std::string& ref : call) node.push_back(keras2_ref(ref));
      inbound.push_back(node);
    }
  }
  entry["inbound_nodes"] = inbound;
  return entry;
}

// ---- HDF5 writing ----

struct H5 {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5() {
    if (id >= 0) close(id);
  }
};

void write_strings(hid_t object, const std::string& name, const std::vector<std::string>& values,
                   bool scalar, bool fixed) {
  H5 type{H5Tcopy(H5T_C_S1), &H5Tclose};
  size_t size = 1;
  for (const std::string& value : values) size = std::max(size, value.size());
  if (fixed) {
    H5Tset_size(type.id, size);
    H5Tset_strpad(type.id, H5T_STR_NULLPAD);
  } else {
    H5Tset_size(type.id, H5T_VARIABLE);
    H5Tset_cset(type.id, H5T_CSET_UTF8);
  }
  const hsize_t count = values.size();
  H5 space{scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), &H5Sclose};
  H5 attribute{H5Acreate2(object, name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT),
               &H5Aclose};
  ASSERT_GE(attribute.id, 0) << name;
  if (values.empty()) return;
  if (fixed) {
    std::string buffer(size * values.size(), '\0');
    for (size_t i = 0; i < values.size(); ++i)
      buffer.replace(i * size, values[i].size(), values[i]);
    ASSERT_GE(H5Awrite(attribute.id, type.id, buffer.data()), 0);
  } else {
    std::vector<const char*> pointers;
    for (const std::string& value : values) pointers.push_back(value.c_str());
    ASSERT_GE(H5Awrite(attribute.id, type.id, pointers.data()), 0);
  }
}

// Creates the groups along `path` (relative to `root`) and a float dataset.
void write_dataset(hid_t root, const std::string& path, const Tensor& tensor) {
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == std::string::npos) break;
    const std::string group = path.substr(0, slash);
    if (H5Lexists(root, group.c_str(), H5P_DEFAULT) <= 0) {
      H5 created{H5Gcreate2(root, group.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), &H5Gclose};
    }
    start = slash + 1;
  }
  std::vector<hsize_t> dims(tensor.shape().begin(), tensor.shape().end());
  H5 space{dims.empty() ? H5Screate(H5S_SCALAR)
                        : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
           &H5Sclose};
  H5 dataset{H5Dcreate2(root, path.c_str(), H5T_IEEE_F32LE, space.id, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             &H5Dclose};
  ASSERT_GE(dataset.id, 0) << path;
  ASSERT_GE(
      H5Dwrite(dataset.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.raw_data()), 0);
}

hid_t make_group(hid_t parent, const std::string& name) {
  return H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TestLayer layer(const std::string& class_name, const std::string& name, json config,
                std::vector<std::pair<std::string, Tensor>> weights) {
  TestLayer result;
  result.class_name = class_name;
  result.config = config.is_null() ? json::object() : std::move(config);
  result.config["name"] = name;
  result.config["trainable"] = true;
  result.config["dtype"] = "float32";
  result.weights = std::move(weights);
  return result;
}

json model_config(const TestModel& model) {
  json layers = json::array();
  json config = {{"name", model.functional ? "model" : "sequential"}};
  if (model.functional) {
    for (const TestLayer& layer : model.layers) layers.push_back(layer_entry(model, layer, true));
    auto endpoints = [&](const std::vector<std::string>& refs) {
      json list = json::array();
      for (const std::string& ref : refs) {
        auto [name, call] = split_call(ref);
        list.push_back(json::array({name, call, 0}));
      }
      // Keras 3 writes a single endpoint as one flat triple.
      if (model.keras_major >= 3 && list.size() == 1) return list[0];
      return list;
    };
    config["input_layers"] = endpoints(model.inputs);
    config["output_layers"] = endpoints(model.outputs);
  } else {
    if (model.input_layer) {
      TestLayer input = layer("InputLayer", "input_1");
      input.config[model.keras_major >= 3 ? "batch_shape" : "batch_input_shape"] =
          shape_json(model.input_shape);
      layers.push_back(layer_entry(model, input, false));
    }
    for (size_t i = 0; i < model.layers.size(); ++i) {
      json entry = layer_entry(model, model.layers[i], false);
      if (i == 0 && !model.input_layer) {
        entry["config"]["batch_input_shape"] = shape_json(model.input_shape);
      }
      layers.push_back(entry);
    }
  }
  config["layers"] = layers;
  json root = {{"class_name", model.functional ? (model.keras_major >= 3 ? "Functional" : "Model")
                                               : "Sequential"},
               {"config", config}};
  if (model.keras_major >= 3) root["module"] = "keras";
  return root;
}

void write_h5(const std::filesystem::path& path, const TestModel& model, const H5Options& options) {
  H5 file{H5Fcreate(path.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), &H5Fclose};
  ASSERT_GE(file.id, 0);
  const bool fixed = options.fixed_length_strings;
  write_strings(file.id, "keras_version", {options.keras_version}, true, fixed);
  write_strings(file.id, "backend", {"tensorflow"}, true, fixed);
  if (options.write_config) {
    const std::string text =
        options.config_override.empty() ? model_config(model).dump() : options.config_override;
    write_strings(file.id, "model_config", {text}, true, fixed);
  }
  H5 weights{make_group(file.id, "model_weights"), &H5Gclose};
  std::vector<std::string> names;
  for (const TestLayer& layer : model.layers) {
    const std::string name = layer.config["name"].get<std::string>();
    names.push_back(name);
    H5 group{make_group(weights.id, name), &H5Gclose};
    std::vector<std::string> weight_names;
    for (const auto& [weight, tensor] : layer.weights) {
      const std::string stored =
          options.weight_suffix ? name + "/" + weight + ":0" : "sequential/" + name + "/" + weight;
      weight_names.push_back(stored);
      write_dataset(group.id, stored, tensor);
    }
    write_strings(group.id, "weight_names", weight_names, false, fixed);
  }
  write_strings(weights.id, "layer_names", names, false, fixed);
  write_strings(weights.id, "keras_version", {options.keras_version}, true, fixed);
  write_strings(weights.id, "backend", {"tensorflow"}, true, fixed);
}

void write_keras_archive(const std::filesystem::path& path, const TestModel& model,
                         const std::string& keras_version) {
  const std::filesystem::path weights_path = path.string() + ".weights.tmp.h5";
  {
    H5 file{H5Fcreate(weights_path.string().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
            &H5Fclose};
    ASSERT_GE(file.id, 0);
    H5 layers{make_group(file.id, "layers"), &H5Gclose};
    H5 vars{make_group(file.id, "vars"), &H5Gclose};
    for (const TestLayer& layer : model.layers) {
      if (layer.v3_name.empty()) continue;
      H5 group{make_group(layers.id, layer.v3_name), &H5Gclose};
      H5 layer_vars{make_group(group.id, "vars"), &H5Gclose};
      for (size_t i = 0; i < layer.weights.size(); ++i) {
        write_dataset(layer_vars.id, std::to_string(i), layer.weights[i].second);
      }
    }
  }
  const std::string weights = read_bytes(weights_path);
  std::filesystem::remove(weights_path);
  const std::string config = model_config(model).dump();
  const std::string metadata = json{{"keras_version", keras_version}}.dump();
  int error = 0;
  zip_t* archive = zip_open(path.string().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  ASSERT_NE(archive, nullptr);
  for (const auto& [name, bytes] :
       std::vector<std::pair<std::string, const std::string*>>{{"metadata.json", &metadata},
                                                               {"config.json", &config},
                                                               {"model.weights.h5", &weights}}) {
    zip_source_t* source = zip_source_buffer(archive, bytes->data(), bytes->size(), 0);
    ASSERT_NE(source, nullptr);
    ASSERT_GE(zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE), 0);
  }
  ASSERT_EQ(zip_close(archive), 0);
}

Expected<std::vector<Tensor>> run_keras_file(const std::filesystem::path& path,
                                             const std::vector<Tensor>& inputs, bool fast_kernels) {
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph, import_keras(path));
  std::vector<Shape> shapes;
  for (const Tensor& input : inputs) shapes.push_back(input.shape());
  PlanOptions options;
  options.use_fast_kernels = fast_kernels;
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan, Plan::create(graph, shapes, options));
  Executor executor(plan);
  for (size_t i = 0; i < inputs.size(); ++i) {
    NNFI_RETURN_IF_ERROR(executor.set_input(i, inputs[i]));
  }
  NNFI_RETURN_IF_ERROR(executor.run());
  std::vector<Tensor> outputs;
  for (ValueId id : graph->outputs) outputs.push_back(executor.value(id).clone());
  return outputs;
}

}  // namespace nnfi::testing
