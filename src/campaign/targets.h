// From an experiment's targets to concrete site groups: one group per layer
// for "layers: each", one per op type for "ops: [...], each: true", one for
// everything otherwise. A group is what one setting injects into.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nnfi/campaign.h"
#include "nnfi/fault.h"

namespace nnfi::campaign {

// A site of a setting with the key its random draws use.
struct SettingSite {
  Site site;
  int injection = 0;  // index into ExperimentSpec::injections
  uint64_t key = 0;   // RandomKey::site: a hash of (injection, site name)
};

struct SiteGroup {
  std::string name;         // layer / op type / node / weight name, or "all"
  std::string kind;         // "layer", "op", "node", "weight", "input", "all"
  std::string group_class;  // layer class or op type, where one applies
  int64_t index = -1;       // layer index, where one applies
  std::string shape;        // one image's output shape (single-site groups)
  std::vector<SettingSite> sites;
  int64_t elements() const;
};

// Resolves every injection of `experiment` on a planned graph. The first
// injection's target decides the grouping; later injections add their sites to
// every group (they act together in the same inference). Errors name the
// experiment and list what exists (layer names, op types) when nothing matches.
Expected<std::vector<SiteGroup>> resolve_groups(const ExperimentSpec& experiment,
                                                const Graph& graph, const Plan& plan);

// The stable RandomKey::site of a site of injection `injection`.
uint64_t site_key(int injection, const std::string& site_name);

}  // namespace nnfi::campaign
