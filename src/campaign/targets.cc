#include "campaign/targets.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace nnfi::campaign {
namespace {

const char* kind_word(TargetSpec::Kind kind) {
  switch (kind) {
    case TargetSpec::Kind::kLayers: return "layer";
    case TargetSpec::Kind::kOps: return "op";
    case TargetSpec::Kind::kNodes: return "node";
    case TargetSpec::Kind::kWeights: return "weight";
    case TargetSpec::Kind::kInput: return "input";
  }
  return "?";
}

std::optional<int64_t> parse_index(const std::string& text) {
  int64_t value = 0;
  auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string list_some(const std::vector<std::string>& names) {
  std::string text;
  const size_t shown = std::min<size_t>(names.size(), 25);
  for (size_t i = 0; i < shown; ++i) text += (i > 0 ? ", " : "") + names[i];
  if (names.size() > shown) text += ", ... (" + std::to_string(names.size()) + " in all)";
  return text;
}

// A site matches a selector name: layers by name, index or "class:X"; ops by
// op type; nodes and inputs by name; weights by value name or layer name.
bool matches(const Site& site, const std::string& selector, const Graph& graph) {
  switch (site.kind) {
    case SiteKind::kLayerOutput: {
      if (selector.rfind("class:", 0) == 0) return site.op_type == selector.substr(6);
      if (auto index = parse_index(selector)) return *index == site.layer;
      return site.name == selector;
    }
    case SiteKind::kNodeOutput:
      return site.op_type == selector ||
             (site.node != kNoNode && op_type_name(graph.nodes[site.node].op) == selector);
    case SiteKind::kWeight:
      return site.name == selector ||
             (site.layer >= 0 && graph.layers[site.layer].name == selector);
    case SiteKind::kInput: return site.name == selector;
  }
  return false;
}

SiteKind site_kind_for(TargetSpec::Kind kind) {
  switch (kind) {
    case TargetSpec::Kind::kLayers: return SiteKind::kLayerOutput;
    case TargetSpec::Kind::kOps:
    case TargetSpec::Kind::kNodes: return SiteKind::kNodeOutput;
    case TargetSpec::Kind::kWeights: return SiteKind::kWeight;
    case TargetSpec::Kind::kInput: return SiteKind::kInput;
  }
  return SiteKind::kNodeOutput;
}

std::vector<std::string> available_names(const std::vector<Site>& sites, TargetSpec::Kind kind) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const Site& site : sites) {
    const std::string& name = kind == TargetSpec::Kind::kOps ? site.op_type : site.name;
    if (seen.insert(name).second) names.push_back(name);
  }
  return names;
}

// The groups of one target: (group key, sites) in first-appearance order.
Expected<std::vector<SiteGroup>> groups_for_target(const std::string& experiment_name,
                                                   int injection, const TargetSpec& target,
                                                   const Graph& graph, const Plan& plan) {
  const std::vector<Site> sites = enumerate_sites(graph, plan, site_kind_for(target.kind));
  const std::string what = std::string(kind_word(target.kind));
  if (sites.empty()) {
    return invalid_argument("experiment '" + experiment_name + "': the model has no " + what +
                            " sites to inject into");
  }
  std::vector<const Site*> chosen;
  if (target.all || target.names.empty()) {
    for (const Site& site : sites) chosen.push_back(&site);
  } else {
    for (const std::string& selector : target.names) {
      if (target.kind == TargetSpec::Kind::kNodes) {
        auto found = std::find_if(sites.begin(), sites.end(),
                                  [&](const Site& site) { return site.name == selector; });
        if (found != sites.end()) chosen.push_back(&*found);
        if (found != sites.end()) continue;
      } else {
        size_t before = chosen.size();
        for (const Site& site : sites) {
          if (matches(site, selector, graph)) chosen.push_back(&site);
        }
        if (chosen.size() > before) continue;
      }
      return invalid_argument(
          "experiment '" + experiment_name + "': no " + what + " site matches '" + selector +
          "'; the model has: " + list_some(available_names(sites, target.kind)));
    }
  }
  // Drop repeats (a layer named twice, by name and by index), keep order.
  std::set<const Site*> seen;
  std::vector<const Site*> unique;
  for (const Site* site : chosen) {
    if (seen.insert(site).second) unique.push_back(site);
  }
  std::vector<SiteGroup> groups;
  std::map<std::string, size_t> group_of;
  for (const Site* site : unique) {
    std::string key = "all";
    if (target.each) key = target.kind == TargetSpec::Kind::kOps ? site->op_type : site->name;
    auto [entry, inserted] = group_of.emplace(key, groups.size());
    if (inserted) {
      SiteGroup group;
      group.name = key;
      group.kind = target.each ? (target.kind == TargetSpec::Kind::kOps ? "op" : what) : "all";
      if (target.each) {
        group.group_class = site->op_type;
        group.index = site->kind == SiteKind::kLayerOutput ? site->layer : -1;
        group.shape = shape_to_string(site->shape);
      } else if (unique.size() == 1) {
        group.name = site->name;
        group.kind = what;
        group.group_class = site->op_type;
        group.index = site->kind == SiteKind::kLayerOutput ? site->layer : -1;
        group.shape = shape_to_string(site->shape);
      }
      groups.push_back(std::move(group));
    }
    groups[entry->second].sites.push_back({*site, injection, site_key(injection, site->name)});
  }
  return groups;
}

}  // namespace

int64_t SiteGroup::elements() const {
  int64_t total = 0;
  for (const SettingSite& site : sites) total += site.site.elements;
  return total;
}

uint64_t site_key(int injection, const std::string& site_name) {
  // FNV-1a over the injection index and the name: stable across runs,
  // machines and model re-exports that keep the names.
  uint64_t hash = 0xcbf29ce484222325ull;
  auto mix = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  };
  for (int shift = 0; shift < 32; shift += 8) mix(static_cast<unsigned char>(injection >> shift));
  for (char c : site_name) mix(static_cast<unsigned char>(c));
  return hash;
}

Expected<std::vector<SiteGroup>> resolve_groups(const ExperimentSpec& experiment,
                                                const Graph& graph, const Plan& plan) {
  if (experiment.injections.empty()) {
    return invalid_argument("experiment '" + experiment.name + "' injects nothing");
  }
  NNFI_ASSIGN_OR_RETURN(
      std::vector<SiteGroup> groups,
      groups_for_target(experiment.name, 0, experiment.injections[0].target, graph, plan));
  for (size_t i = 1; i < experiment.injections.size(); ++i) {
    TargetSpec target = experiment.injections[i].target;
    target.each = false;  // later injections join every group
    NNFI_ASSIGN_OR_RETURN(
        std::vector<SiteGroup> extra,
        groups_for_target(experiment.name, static_cast<int>(i), target, graph, plan));
    for (SiteGroup& group : groups) {
      for (const SiteGroup& add : extra) {
        group.sites.insert(group.sites.end(), add.sites.begin(), add.sites.end());
      }
    }
  }
  for (const SiteGroup& group : groups) {
    for (const SettingSite& site : group.sites) {
      const InjectionSpec& injection = experiment.injections[site.injection];
      Status valid = validate_fault_model(injection.fault, plan.value_dtype(site.site.value));
      if (!valid.is_ok()) {
        return valid.with_context("experiment '" + experiment.name + "', site '" + site.site.name +
                                  "'");
      }
    }
  }
  return groups;
}

}  // namespace nnfi::campaign
