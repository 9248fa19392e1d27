// nnfi sites: every place a fault can go (node outputs, layer outputs,
// weights, inputs) with its per-image shape and element count.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common.h"
#include "nnfi/fault.h"
#include "text_table.h"

namespace nnfi::cli {
namespace {

using Row = TableRow;

constexpr SiteKind kAllKinds[] = {SiteKind::kNodeOutput, SiteKind::kLayerOutput, SiteKind::kWeight,
                                  SiteKind::kInput};

// The batch the sites are planned with: the model's own if fixed, else 1.
// Every other dimension of every input must be known.
Expected<std::vector<Shape>> site_input_shapes(const Graph& graph) {
  std::vector<Shape> shapes;
  for (ValueId id : graph.inputs) {
    Shape shape = graph.values[id].shape;
    if (!shape.empty() && shape[0] < 0) shape[0] = 1;
    if (!shape_is_known(shape)) {
      return invalid_argument("input '" + graph.values[id].name + "' has shape " +
                              shape_to_string(graph.values[id].shape) +
                              ": only the first (batch) dimension may be unknown");
    }
    shapes.push_back(std::move(shape));
  }
  return shapes;
}

std::string layer_name(const Graph& graph, int32_t layer) {
  return layer >= 0 ? graph.layers[layer].name : "-";
}

const char* op_header(SiteKind kind) {
  switch (kind) {
    case SiteKind::kNodeOutput: return "op";
    case SiteKind::kLayerOutput: return "class";
    case SiteKind::kWeight: return "read by";
    case SiteKind::kInput: return "op";
  }
  return "op";
}

std::string plural(SiteKind kind, size_t count) {
  return std::string(site_kind_name(kind)) + (count == 1 ? " site" : " sites");
}

struct KindSites {
  SiteKind kind;
  std::vector<Site> sites;
  int64_t elements = 0;
};

void print_text(const SitesOptions& options, const Graph& graph, int64_t batch,
                const std::vector<KindSites>& all) {
  std::cout << "model: " << options.model << "\n";
  std::cout << "planned with batch " << batch
            << "; activation shapes are per image, weight shapes whole\n";
  for (const KindSites& group : all) {
    std::cout << "\n" << site_kind_name(group.kind) << " sites (" << group.sites.size() << "):\n";
    if (group.sites.empty()) continue;
    // Node and weight sites belong to a layer; a layer site is one, an input none.
    const bool layer_column =
        group.kind == SiteKind::kNodeOutput || group.kind == SiteKind::kWeight;
    std::vector<Row> rows = {{"#", "name", op_header(group.kind)}};
    if (layer_column) rows[0].push_back("layer");
    rows[0].insert(rows[0].end(), {"shape", "elements"});
    for (size_t i = 0; i < group.sites.size(); ++i) {
      const Site& site = group.sites[i];
      Row row = {std::to_string(i), site.name, site.op_type};
      if (layer_column) row.push_back(layer_name(graph, site.layer));
      row.insert(row.end(), {shape_to_string(site.shape), with_commas(site.elements)});
      rows.push_back(std::move(row));
    }
    print_table(rows);
  }
  std::string totals;
  for (const KindSites& group : all) {
    if (!totals.empty()) totals += ", ";
    totals += std::to_string(group.sites.size()) + " " + plural(group.kind, group.sites.size()) +
              " (" + with_commas(group.elements) + " elements)";
  }
  std::cout << "\ntotals: " << totals << "\n";
}

void print_json(const SitesOptions& options, const Graph& graph, int64_t batch,
                const std::vector<KindSites>& all) {
  nlohmann::json sites = nlohmann::json::array();
  nlohmann::json totals = nlohmann::json::object();
  for (const KindSites& group : all) {
    for (const Site& site : group.sites) {
      sites.push_back({{"kind", std::string(site_kind_name(site.kind))},
                       {"name", site.name},
                       {"op", site.op_type},
                       {"value", graph.values[site.value].name},
                       {"node", site.node != kNoNode ? nlohmann::json(graph.nodes[site.node].name)
                                                     : nlohmann::json(nullptr)},
                       {"layer", site.layer >= 0 ? nlohmann::json(graph.layers[site.layer].name)
                                                 : nlohmann::json(nullptr)},
                       {"layer_index", site.layer},
                       {"shape", site.shape},
                       {"elements", site.elements}});
    }
    totals[std::string(site_kind_name(group.kind))] = {{"sites", group.sites.size()},
                                                       {"elements", group.elements}};
  }
  nlohmann::json result = {
      {"model", options.model}, {"batch", batch}, {"sites", sites}, {"totals", totals}};
  // Names from a model file need not be valid UTF-8: replace, never throw.
  std::cout << result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace

Status run_sites(const SitesOptions& options) {
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph,
                        load_model_file(options.model, load_options(options.feed, options.fetch,
                                                                    options.fold_constants)));
  NNFI_ASSIGN_OR_RETURN(std::vector<Shape> shapes, site_input_shapes(*graph));
  const int64_t batch = !shapes.empty() && !shapes[0].empty() ? shapes[0][0] : 1;
  PlanOptions plan_options;
  plan_options.use_fast_kernels = false;  // only shapes are needed
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan,
                        Plan::create(graph, std::move(shapes), plan_options));
  std::vector<KindSites> all;
  for (SiteKind kind : kAllKinds) {
    if (options.kind != "all" && options.kind != site_kind_name(kind)) continue;
    KindSites group{kind, enumerate_sites(*graph, *plan, kind)};
    for (const Site& site : group.sites) group.elements += site.elements;
    all.push_back(std::move(group));
  }
  if (options.json) {
    print_json(options, *graph, batch, all);
  } else {
    print_text(options, *graph, batch, all);
  }
  return Status::ok();
}

Command add_sites_command(CLI::App& app) {
  auto options = std::make_shared<SitesOptions>();
  CLI::App* command = app.add_subcommand(
      "sites", "List where faults can go: node outputs, layer outputs, weights, inputs");
  command->add_option("model", options->model, "Model file (.onnx)")->required();
  command->add_option("--kind", options->kind, "Which sites: node, layer, weight, input or all")
      ->check(CLI::IsMember({"node", "layer", "weight", "input", "all"}))
      ->capture_default_str();
  command->add_flag("--json", options->json, "Print one JSON object");
  command->add_option("--feed", options->feed, "TensorFlow: the placeholder fed the images");
  command->add_option("--fetch", options->fetch,
                      "TensorFlow: the tensor fetched (the graph is pruned to what it needs)");
  command->add_flag("--fold-constants", options->fold_constants,
                    "TensorFlow: fold float arithmetic on constants (fewer sites)");
  return {command, [options] { return run_sites(*options); }};
}

}  // namespace nnfi::cli
