#include "campaign/fault_sampling.h"

#include <algorithm>
#include <set>

namespace nnfi::campaign {
namespace {

RandomKey key_for(const UnitKey& unit, uint64_t image, uint64_t site) {
  return RandomKey{unit.seed,
                   static_cast<uint64_t>(unit.experiment),
                   static_cast<uint64_t>(unit.setting),
                   static_cast<uint64_t>(unit.repetition),
                   image,
                   site};
}

// The k-th of an image's exactly-k faults draws its bits from its own stream.
uint64_t exact_fault_site_key(uint64_t site_key, int64_t k) {
  return site_key ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(k + 1));
}

// The site key of the exactly-k placement draws (which element of which site).
constexpr uint64_t kPlacementSite = 0x6b5f706c6163656dull;

bool is_weight(const SettingSite& site) { return site.site.kind == SiteKind::kWeight; }

// Draws k distinct positions in [0, total).
std::vector<int64_t> distinct_positions(RandomStream& rng, int64_t k, int64_t total) {
  std::vector<int64_t> positions;
  std::set<int64_t> seen;
  k = std::min(k, total);
  while (static_cast<int64_t>(positions.size()) < k) {
    const auto position = static_cast<int64_t>(rng.next_below(static_cast<uint64_t>(total)));
    if (seen.insert(position).second) positions.push_back(position);
  }
  return positions;
}

// (site index, element) of a flat position over the sites' elements.
std::pair<int, int64_t> locate(const std::vector<SettingSite>& sites,
                               const std::vector<int>& eligible, int64_t position) {
  for (int s : eligible) {
    if (position < sites[s].site.elements) return {s, position};
    position -= sites[s].site.elements;
  }
  return {eligible.back(), 0};
}

}  // namespace

std::vector<Trial> sample_activation_trials(const UnitKey& unit, ProbabilityMode mode,
                                            double amount, const std::vector<SettingSite>& sites,
                                            const std::vector<const FaultModel*>& models,
                                            const std::vector<int64_t>& image_ids) {
  std::vector<int> eligible;
  int64_t total_elements = 0;
  for (size_t s = 0; s < sites.size(); ++s) {
    if (is_weight(sites[s])) continue;
    eligible.push_back(static_cast<int>(s));
    total_elements += sites[s].site.elements;
  }
  const auto rows = static_cast<int64_t>(image_ids.size());
  std::vector<Trial> trials(static_cast<size_t>(rows));
  for (int64_t row = 0; row < rows; ++row) trials[row].row = row;
  if (eligible.empty() || total_elements == 0 || amount <= 0) return {};

  switch (mode) {
    case ProbabilityMode::kPerInference:
      for (int64_t row = 0; row < rows; ++row) {
        for (int s : eligible) {
          const RandomKey key = key_for(unit, static_cast<uint64_t>(image_ids[row]), sites[s].key);
          RandomStream rng(key);
          if (rng.next_uniform() < amount) trials[row].faults.push_back({s, key, rng.draws(), -1});
        }
      }
      break;
    case ProbabilityMode::kPerExecution:
      // InjectTF: one draw per execution of the node over the whole batch; a
      // hit corrupts one element of the batch tensor (or, scope tensor, all
      // of it). Keyed by the batch index, so it depends on the batch size by
      // design.
      for (int s : eligible) {
        const RandomKey key =
            key_for(unit, kExecutionImageBit | static_cast<uint64_t>(unit.batch), sites[s].key);
        RandomStream rng(key);
        if (!(rng.next_uniform() < amount)) continue;
        const int64_t elements = sites[s].site.elements;
        if (models[s]->scope == FaultScope::kTensor && !sites[s].site.shared) {
          // The whole batch tensor (InjectTF's Zero and Rand): every image's
          // slice, each from its own part of the stream.
          const uint64_t first_draw = rng.draws();
          for (int64_t row = 0; row < rows; ++row) {
            trials[row].faults.push_back(
                {s, key, first_draw + (static_cast<uint64_t>(row) << 32), -1});
          }
          continue;
        }
        if (sites[s].site.shared) {
          // One tensor read by the whole batch: every image sees the fault.
          const auto position =
              static_cast<int64_t>(rng.next_below(static_cast<uint64_t>(elements)));
          const uint64_t first_draw = rng.draws();
          for (int64_t row = 0; row < rows; ++row) {
            trials[row].faults.push_back({s, key, first_draw, position});
          }
          continue;
        }
        const auto position =
            static_cast<int64_t>(rng.next_below(static_cast<uint64_t>(rows * elements)));
        const int64_t row = position / elements;
        trials[row].faults.push_back({s, key, rng.draws(), position % elements});
      }
      break;
    case ProbabilityMode::kExactCount: {
      const auto k = static_cast<int64_t>(amount);
      for (int64_t row = 0; row < rows; ++row) {
        const auto image = static_cast<uint64_t>(image_ids[row]);
        RandomStream placement(key_for(unit, image, kPlacementSite));
        const std::vector<int64_t> positions = distinct_positions(placement, k, total_elements);
        for (size_t j = 0; j < positions.size(); ++j) {
          auto [s, element] = locate(sites, eligible, positions[j]);
          const RandomKey key =
              key_for(unit, image, exact_fault_site_key(sites[s].key, static_cast<int64_t>(j)));
          trials[row].faults.push_back({s, key, 0, element});
        }
      }
      break;
    }
  }
  std::vector<Trial> faulted;
  for (Trial& trial : trials) {
    if (!trial.faults.empty()) faulted.push_back(std::move(trial));
  }
  return faulted;
}

namespace {

WeightFault corrupt_weight(int s, const FaultModel& model, const Plan& plan, ValueId value,
                           RandomStream& rng, int64_t fixed_element) {
  WeightFault fault;
  fault.site = s;
  fault.corrupted = plan.constant_value(value)->clone();
  const TensorView view{fault.corrupted.raw_data(), fault.corrupted.dtype(),
                        fault.corrupted.num_elements()};
  fault.faults = inject_fault_at(model, view, fixed_element, rng);
  return fault;
}

}  // namespace

std::vector<WeightFault> sample_repetition_weight_faults(
    const UnitKey& unit, ProbabilityMode mode, double amount, const std::vector<SettingSite>& sites,
    const std::vector<int>& eligible, const std::vector<const FaultModel*>& models,
    const Plan& plan) {
  std::vector<WeightFault> result;
  int64_t total_elements = 0;
  for (int s : eligible) total_elements += sites[s].site.elements;
  if (eligible.empty() || amount <= 0) return result;
  if (mode == ProbabilityMode::kExactCount) {
    RandomStream placement(key_for(unit, kRepetitionImage, kPlacementSite));
    const std::vector<int64_t> positions =
        distinct_positions(placement, static_cast<int64_t>(amount), total_elements);
    for (size_t j = 0; j < positions.size(); ++j) {
      auto [s, element] = locate(sites, eligible, positions[j]);
      RandomStream rng(key_for(unit, kRepetitionImage,
                               exact_fault_site_key(sites[s].key, static_cast<int64_t>(j))));
      // Several faults in one weight accumulate in the same corrupted copy.
      auto existing = std::find_if(result.begin(), result.end(),
                                   [s = s](const WeightFault& fault) { return fault.site == s; });
      if (existing == result.end()) {
        result.push_back(corrupt_weight(s, *models[s], plan, sites[s].site.value, rng, element));
      } else {
        const TensorView view{existing->corrupted.raw_data(), existing->corrupted.dtype(),
                              existing->corrupted.num_elements()};
        for (const ElementFault& fault : inject_fault_at(*models[s], view, element, rng)) {
          existing->faults.push_back(fault);
        }
      }
    }
    return result;
  }
  for (int s : eligible) {
    RandomStream rng(key_for(unit, kRepetitionImage, sites[s].key));
    if (rng.next_uniform() < amount) {
      result.push_back(corrupt_weight(s, *models[s], plan, sites[s].site.value, rng, -1));
    }
  }
  return result;
}

std::vector<WeightFault> sample_image_weight_faults(const UnitKey& unit, double probability,
                                                    const std::vector<SettingSite>& sites,
                                                    const std::vector<int>& eligible,
                                                    const std::vector<const FaultModel*>& models,
                                                    const Plan& plan, int64_t image_id) {
  std::vector<WeightFault> result;
  for (int s : eligible) {
    RandomStream rng(key_for(unit, static_cast<uint64_t>(image_id), sites[s].key));
    if (rng.next_uniform() < probability) {
      result.push_back(corrupt_weight(s, *models[s], plan, sites[s].site.value, rng, -1));
    }
  }
  return result;
}

}  // namespace nnfi::campaign
