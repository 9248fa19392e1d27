// nnfi inspect: what a model holds (inputs, outputs, nodes, layers).
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common.h"
#include "nnfi/dataset.h"
#include "text_table.h"

namespace nnfi::cli {
namespace {

using Row = TableRow;

nlohmann::json value_json(const Graph& graph, ValueId id) {
  const Value& value = graph.values[id];
  return {{"name", value.name},
          {"dtype", std::string(dtype_name(value.dtype))},
          {"shape", value.shape}};
}

int64_t total_parameters(const Graph& graph) {
  int64_t total = 0;
  for (size_t l = 0; l < graph.layers.size(); ++l) {
    total += graph.layer_parameter_count(static_cast<int32_t>(l));
  }
  return total;
}

void print_json(const std::string& path, const Graph& graph) {
  nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (ValueId id : graph.inputs) {
    inputs.push_back(value_json(graph, id));
    inputs.back()["expects"] = describe_model_input(graph.values[id].shape);  // nnfi/dataset.h
  }
  for (ValueId id : graph.outputs) outputs.push_back(value_json(graph, id));
  nlohmann::json nodes = nlohmann::json::array();
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    nlohmann::json node_outputs = nlohmann::json::array();
    for (ValueId id : node.outputs) node_outputs.push_back(value_json(graph, id));
    nodes.push_back({{"index", n},
                     {"name", node.name},
                     {"op", std::string(op_type_name(node.op))},
                     {"source_op", node.source_op},
                     {"layer", node.layer >= 0 ? nlohmann::json(graph.layers[node.layer].name)
                                               : nlohmann::json(nullptr)},
                     {"layer_index", node.layer},
                     {"outputs", node_outputs}});
  }
  nlohmann::json layers = nlohmann::json::array();
  for (size_t l = 0; l < graph.layers.size(); ++l) {
    const Layer& layer = graph.layers[l];
    layers.push_back({{"index", l},
                      {"name", layer.name},
                      {"class", layer.class_name},
                      {"output", layer.output != kNoValue ? value_json(graph, layer.output)
                                                          : nlohmann::json(nullptr)},
                      {"parameters", graph.layer_parameter_count(static_cast<int32_t>(l))},
                      {"nodes", layer.nodes.size()}});
  }
  nlohmann::json result = {{"model", path},
                           {"graph", graph.name},
                           {"metadata", graph.metadata},
                           {"inputs", inputs},
                           {"outputs", outputs},
                           {"nodes", nodes},
                           {"layers", layers},
                           {"totals",
                            {{"nodes", graph.nodes.size()},
                             {"layers", graph.layers.size()},
                             {"values", graph.values.size()},
                             {"parameters", total_parameters(graph)}}}};
  // Names from a model file need not be valid UTF-8: replace, never throw.
  std::cout << result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void print_text(const std::string& path, const Graph& graph) {
  std::cout << "model: " << path << "\n";
  if (!graph.name.empty()) std::cout << "graph: " << graph.name << "\n";
  for (const auto& [key, value] : graph.metadata) std::cout << key << ": " << value << "\n";
  auto value_rows = [&](const std::vector<ValueId>& ids) {
    std::vector<Row> rows;
    for (ValueId id : ids) {
      const Value& value = graph.values[id];
      rows.push_back(
          {value.name, std::string(dtype_name(value.dtype)), shape_to_string(value.shape)});
    }
    return rows;
  };
  std::cout << "\ninputs (" << graph.inputs.size() << "):\n";
  print_table(value_rows(graph.inputs));
  // What a data set must give each input (docs/data.md: matching the model input).
  for (ValueId id : graph.inputs) {
    std::cout << "  " << graph.values[id].name << " expects "
              << describe_model_input(graph.values[id].shape) << "\n";
  }
  std::cout << "\noutputs (" << graph.outputs.size() << "):\n";
  print_table(value_rows(graph.outputs));

  std::vector<Row> nodes = {{"#", "name", "op", "source op", "layer", "output shapes"}};
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    std::string shapes;
    for (ValueId id : node.outputs) {
      if (!shapes.empty()) shapes += " ";
      shapes += shape_to_string(graph.values[id].shape);
    }
    nodes.push_back({std::to_string(n), node.name, std::string(op_type_name(node.op)),
                     node.source_op, node.layer >= 0 ? graph.layers[node.layer].name : "-",
                     shapes});
  }
  std::cout << "\nnodes (" << graph.nodes.size() << "):\n";
  print_table(nodes);

  std::vector<Row> layers = {{"#", "name", "class", "output shape", "params"}};
  for (size_t l = 0; l < graph.layers.size(); ++l) {
    const Layer& layer = graph.layers[l];
    layers.push_back(
        {std::to_string(l), layer.name, layer.class_name,
         layer.output != kNoValue ? shape_to_string(graph.values[layer.output].shape) : "-",
         with_commas(graph.layer_parameter_count(static_cast<int32_t>(l)))});
  }
  std::cout << "\nlayers (" << graph.layers.size() << "):\n";
  print_table(layers);
  std::cout << "\ntotals: " << graph.nodes.size() << " nodes, " << graph.layers.size()
            << " layers, " << with_commas(total_parameters(graph)) << " parameters\n";
}

}  // namespace

Status run_inspect(const InspectOptions& options) {
  LoadOptions load;
  load.feeds = options.feeds;
  load.fetches = options.fetches;
  load.fold_constants = options.fold_constants;
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph, load_model_file(options.model, load));
  if (options.json) {
    print_json(options.model, *graph);
  } else {
    print_text(options.model, *graph);
  }
  return Status::ok();
}

Command add_inspect_command(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* command = app.add_subcommand(
      "inspect", "Show a model's inputs, outputs, nodes, layers and parameter counts");
  command->add_option("model", options->model, "Model file (.onnx)")->required();
  command->add_flag("--json", options->json, "Print one JSON object");
  command->add_option("--feed", options->feeds, "TensorFlow: placeholders to feed (comma list)")
      ->delimiter(',');
  command
      ->add_option("--fetch", options->fetches,
                   "TensorFlow: tensors to fetch (comma list; prunes the graph to them)")
      ->delimiter(',');
  command->add_flag("--fold-constants", options->fold_constants,
                    "TensorFlow: fold float arithmetic on constants into constants");
  return {command, [options] { return run_inspect(*options); }};
}

}  // namespace nnfi::cli
