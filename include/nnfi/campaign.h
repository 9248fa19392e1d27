// Fault-injection campaigns: a campaign file (YAML) names a model, a data set
// and a list of experiments; running it measures accuracy under faults and
// writes the results to a folder that survives a crash (results.sqlite) plus a
// summary (summary.json, CSV). docs/campaign.md documents every key.
//
// Vocabulary (DESIGN.md, "Semantics users rely on"):
//   experiment  a target (sites), one or more fault specs, probabilities,
//               repetitions and a metric;
//   setting     one group of sites x one probability: the unit the
//               statistics are about (layers: each -> one group per layer);
//   repetition  one pass over the data set with fresh random faults;
//   unit        (experiment, setting, repetition, batch): what the result
//               store records as done; a resumed run skips finished units.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nnfi/dataset.h"
#include "nnfi/fault.h"
#include "nnfi/model.h"
#include "nnfi/status.h"

namespace nnfi {

// Which sites an injection goes to. Exactly one of the selectors is used.
struct TargetSpec {
  enum class Kind { kLayers, kOps, kNodes, kWeights, kInput };
  Kind kind = Kind::kLayers;
  // kLayers: names, indices ("3") or classes ("Conv2D"); kOps: op types
  // (Node::source_op or IR op); kNodes: node names; kWeights: weight value
  // names or layer names (every float weight of those layers).
  std::vector<std::string> names;
  bool all = false;   // every site of the kind ("layers: each" / "layers: all")
  bool each = false;  // one setting per layer / op type / node / weight
};

// When a fault happens.
enum class ProbabilityMode {
  kPerInference,  // each image, each site: a fault with probability p (InjectTF2)
  kPerExecution,  // each execution of a node over the batch: one draw (InjectTF)
  kExactCount,    // exactly k faults per image over all the selected elements
};

// Weight faults: how long a corrupted weight lasts.
enum class WeightFaultDuration { kRepetition, kInference };

struct InjectionSpec {
  TargetSpec target;
  FaultModel fault;
  WeightFaultDuration weight_duration = WeightFaultDuration::kRepetition;
};

enum class Metric { kGroundTruth, kGolden };

struct ExperimentSpec {
  std::string name;
  // Several injections act together in the same inference. The first one's
  // target decides how settings are grouped (each/all); the others add their
  // sites to every setting.
  std::vector<InjectionSpec> injections;
  ProbabilityMode mode = ProbabilityMode::kPerInference;
  std::vector<double> probabilities;  // kPerInference / kPerExecution
  std::vector<int64_t> fault_counts;  // kExactCount: k per image
  int64_t repetitions = 1;
  Metric metric = Metric::kGroundTruth;
};

enum class FaultRecording { kAll, kNonMasked, kNone };

struct CampaignSpec {
  std::filesystem::path source;  // the campaign file (for messages)
  std::string text;              // its canonical form, stored and compared on resume
  std::filesystem::path model;
  LoadOptions load;
  std::string feed;   // graph input fed the images (empty: the first)
  std::string fetch;  // value holding the class scores (empty: the first output)
  DatasetOptions data;
  bool data_given = false;  // false: the command line must supply --data
  uint64_t seed = 0;
  int64_t batch = 32;
  FaultRecording record_faults = FaultRecording::kAll;
  std::vector<ExperimentSpec> experiments;
};

// Reads a campaign file; errors name the file, the line, the key and what is
// allowed. Relative paths (model, data) are resolved against the file's folder.
Expected<CampaignSpec> load_campaign_file(const std::filesystem::path& path);
// The same from text (tests); `source` names it in messages and resolves paths.
Expected<CampaignSpec> parse_campaign(const std::string& text, const std::filesystem::path& source);

// The campaign as run (file plus command-line overrides), for the result
// store; replay and reports rebuild it from there.
std::string campaign_spec_to_json(const CampaignSpec& spec);
Expected<CampaignSpec> campaign_spec_from_json(const std::string& text);

enum class Engine {
  // Resume each faulty inference at the injected node from golden values,
  // skip nodes whose inputs equal golden and stop once nothing differs.
  kCachedPrefix,
  kPrefixOnly,  // resume at the injected node, but run everything downstream (benchmarks)
  kNaive,       // re-run the whole model for every faulty inference (the reference)
};

struct RunOptions {
  std::filesystem::path out_dir;
  int threads = 0;  // 0: OpenMP's default
  Engine engine = Engine::kCachedPrefix;
  bool progress = true;  // progress lines on stderr
  // Conv and pools on the position-invariant window kernels (the default,
  // needed for window-by-window recompute) or on oneDNN (for comparisons:
  // the cached engine then resumes and masks but recomputes whole tensors).
  // Part of the campaign's identity: a folder is resumed with its own.
  bool window_kernels = true;
};

// Runs (or resumes) a campaign into options.out_dir: results.sqlite,
// summary.json, settings.csv, repetitions.csv. A folder holding a different
// campaign (config, model or data changed) is refused.
Status run_campaign(const CampaignSpec& spec, const RunOptions& options);

// Re-runs one recorded fault alone and describes how it propagates: per
// downstream layer, how many elements differ from golden and the largest
// absolute difference. Returns the printable report.
Expected<std::string> replay_fault(const std::filesystem::path& out_dir, int64_t fault_id);

}  // namespace nnfi
