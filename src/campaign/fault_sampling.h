// Which images of a batch get faults in one unit (setting x repetition), and
// where: the draws of DESIGN.md's probability semantics, keyed by (seed,
// experiment, setting, repetition, image, site) so that they do not depend on
// the batch size, the thread count or the order units run in.
#pragma once

#include <cstdint>
#include <vector>

#include "campaign/targets.h"
#include "campaign/trial_engine.h"
#include "nnfi/campaign.h"

namespace nnfi::campaign {

// RandomKey::image of the per-repetition draws of permanent weight faults.
constexpr uint64_t kRepetitionImage = ~uint64_t{0};
// The high bit marks per-execution draws, keyed by the batch index instead of an image.
constexpr uint64_t kExecutionImageBit = uint64_t{1} << 63;

struct UnitKey {
  uint64_t seed = 0;
  int64_t experiment = 0, setting = 0, repetition = 0, batch = 0;
};

// The activation faults of one unit: one Trial per image that drew a fault,
// in row order. `amount` is p, or k for exactly-k.
std::vector<Trial> sample_activation_trials(const UnitKey& unit, ProbabilityMode mode,
                                            double amount, const std::vector<SettingSite>& sites,
                                            const std::vector<const FaultModel*>& models,
                                            const std::vector<int64_t>& image_ids);

// A weight of the setting corrupted for one repetition (or one image).
struct WeightFault {
  int site = 0;  // index into the setting's sites
  Tensor corrupted;
  std::vector<ElementFault> faults;
};

// Permanent weight faults of one repetition: each weight site in `eligible`
// (indices into sites) gets a fault with probability p (exactly-k: k element
// faults spread over those weights).
std::vector<WeightFault> sample_repetition_weight_faults(
    const UnitKey& unit, ProbabilityMode mode, double amount, const std::vector<SettingSite>& sites,
    const std::vector<int>& eligible, const std::vector<const FaultModel*>& models,
    const Plan& plan);

// Per-inference weight faults of one image (duration: inference).
std::vector<WeightFault> sample_image_weight_faults(const UnitKey& unit, double probability,
                                                    const std::vector<SettingSite>& sites,
                                                    const std::vector<int>& eligible,
                                                    const std::vector<const FaultModel*>& models,
                                                    const Plan& plan, int64_t image_id);

}  // namespace nnfi::campaign
