#include "campaign/campaign_setup.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <set>

namespace nnfi::campaign {
namespace {

// "name" and "name:0" name the same value.
std::optional<ValueId> find_value_named(const Graph& graph, const std::string& name) {
  if (auto found = graph.find_value(name)) return found;
  if (name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0) {
    return graph.find_value(name.substr(0, name.size() - 2));
  }
  return graph.find_value(name + ":0");
}

std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

void fnv1a(uint64_t& hash, const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ull;
  }
}

Status hash_file(const std::filesystem::path& path, uint64_t& hash) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return io_error(path.string() + ": cannot read the model file");
  std::vector<char> buffer(1 << 20);
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    fnv1a(hash, buffer.data(), static_cast<size_t>(file.gcount()));
  }
  return Status::ok();
}

const char* metric_name(Metric metric) {
  return metric == Metric::kGolden ? "golden" : "ground_truth";
}

}  // namespace

Expected<std::string> model_fingerprint(const std::filesystem::path& path) {
  uint64_t hash = 0xcbf29ce484222325ull;
  if (std::filesystem::is_directory(path)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const std::string relative = std::filesystem::relative(file, path).string();
      fnv1a(hash, relative.data(), relative.size());
      NNFI_RETURN_IF_ERROR(hash_file(file, hash));
    }
  } else {
    NNFI_RETURN_IF_ERROR(hash_file(path, hash));
  }
  return hex(hash);
}

Expected<std::unique_ptr<PreparedCampaign>> prepare_campaign(const CampaignSpec& spec,
                                                             Engine engine, int threads,
                                                             bool window_kernels) {
  auto campaign = std::make_unique<PreparedCampaign>();
  campaign->spec = &spec;
  campaign->seed = spec.seed;
  campaign->record_faults = spec.record_faults;
  if (!spec.data_given) {
    return invalid_argument(spec.source.string() +
                            ": no data set: add a 'data' section or give --data");
  }
  if (!std::filesystem::exists(spec.model)) {
    return not_found(spec.model.string() + ": model file not found (named in " +
                     spec.source.string() + ")");
  }
  // The model's fingerprint (its identity for resuming) is a byte-serial
  // hash, ~0.7 s for VGG16's 528 MB: it runs on another thread while the
  // model loads, which uses one.
  std::future<Expected<std::string>> fingerprint =
      std::async(std::launch::async, [path = spec.model] { return model_fingerprint(path); });
  // TensorFlow graphs are pruned to what the fetch needs and fed at the feed.
  LoadOptions load = spec.load;
  if (load.feeds.empty() && !spec.feed.empty()) load.feeds = {spec.feed};
  if (load.fetches.empty() && !spec.fetch.empty()) load.fetches = {spec.fetch};
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph, load_model(spec.model, load));
  campaign->graph = graph;
  if (graph->inputs.empty())
    return invalid_argument(spec.model.string() + ": the model has no inputs");

  // Feed and fetch.
  campaign->feed_index = 0;
  if (!spec.feed.empty()) {
    std::optional<ValueId> feed = find_value_named(*graph, spec.feed);
    auto position =
        feed ? std::find(graph->inputs.begin(), graph->inputs.end(), *feed) : graph->inputs.end();
    if (position == graph->inputs.end()) {
      return not_found("feed '" + spec.feed + "' is not an input of " + spec.model.string());
    }
    campaign->feed_index = static_cast<size_t>(position - graph->inputs.begin());
  }
  campaign->feed = graph->inputs[campaign->feed_index];
  if (!spec.fetch.empty()) {
    std::optional<ValueId> fetch = find_value_named(*graph, spec.fetch);
    if (!fetch)
      return not_found("fetch '" + spec.fetch + "' is not a value of " + spec.model.string());
    campaign->fetch = *fetch;
  } else {
    if (graph->outputs.empty()) return invalid_argument(spec.model.string() + " has no outputs");
    campaign->fetch = graph->outputs[0];
  }

  // The data set, shaped for the feed.
  const Value& feed = graph->values[campaign->feed];
  campaign->batch = spec.batch;
  if (!feed.shape.empty() && feed.shape[0] > 0) {
    if (feed.shape[0] != 1) {
      return unsupported("input '" + feed.name + "' fixes the batch at " +
                         std::to_string(feed.shape[0]) +
                         "; nnfi run supports a free batch or a batch of 1");
    }
    campaign->batch = 1;
  }
  DatasetOptions data = spec.data;
  NNFI_ASSIGN_OR_RETURN(campaign->dataset, open_dataset(data, feed.shape));
  const Shape sample_shape = campaign->dataset->example_shape();
  if (campaign->dataset->size() == 0) {
    return invalid_argument(campaign->dataset->description() + ": no images selected");
  }

  // Sites are the same whatever the kernels, so resolve them on a plain plan,
  // then plan for real with reference kernels where weights get corrupted.
  PlanOptions no_kernels;
  no_kernels.use_fast_kernels = false;  // shapes only: no weight copies
  PlanCache probe(graph, campaign->feed_index, sample_shape, no_kernels);
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> probe_plan, probe.get(1));
  if (probe_plan->value_dtype(campaign->fetch) != DType::kFloat32) {
    return unsupported("fetch '" + graph->values[campaign->fetch].name +
                       "' is not float32 class scores");
  }
  campaign->classes = shape_num_elements(probe_plan->value_shape(campaign->fetch));
  const Shape& fetch_shape = probe_plan->value_shape(campaign->fetch);
  if (fetch_shape.empty() || fetch_shape[0] != 1 || campaign->classes < 1) {
    return invalid_argument("fetch '" + graph->values[campaign->fetch].name + "' of shape " +
                            shape_to_string(fetch_shape) +
                            " does not hold class scores per image (expected [batch, classes])");
  }

  std::vector<std::vector<SiteGroup>> groups_per_experiment;
  std::set<NodeId> weight_consumers;
  for (const ExperimentSpec& experiment : spec.experiments) {
    NNFI_ASSIGN_OR_RETURN(std::vector<SiteGroup> groups,
                          resolve_groups(experiment, *graph, *probe_plan));
    for (const SiteGroup& group : groups) {
      for (const SettingSite& site : group.sites) {
        if (site.site.kind != SiteKind::kWeight) continue;
        if (experiment.mode == ProbabilityMode::kPerExecution) {
          return invalid_argument("experiment '" + experiment.name +
                                  "': probability_mode per_execution applies to activations, "
                                  "not weights");
        }
        if (experiment.mode == ProbabilityMode::kExactCount &&
            experiment.injections[site.injection].weight_duration ==
                WeightFaultDuration::kInference) {
          return invalid_argument("experiment '" + experiment.name +
                                  "': faults_per_inference with weight faults needs duration: "
                                  "repetition");
        }
        for (size_t n = 0; n < graph->nodes.size(); ++n) {
          const auto& inputs = graph->nodes[n].inputs;
          if (std::find(inputs.begin(), inputs.end(), site.site.value) != inputs.end()) {
            weight_consumers.insert(static_cast<NodeId>(n));
          }
        }
      }
    }
    groups_per_experiment.push_back(std::move(groups));
  }
  PlanOptions plan_options;
  plan_options.reference_nodes.assign(weight_consumers.begin(), weight_consumers.end());
  // Every engine (naive included) computes conv and pools with the window
  // kernels, so windowed recomputes, golden runs and full re-runs agree bit
  // for bit.
  plan_options.window_kernels = window_kernels;
  campaign->trial_plans =
      std::make_unique<PlanCache>(graph, campaign->feed_index, sample_shape, plan_options);
  // Shapes, constants and graph walks need no kernels (and no weight copies).
  PlanOptions shapes_only;
  shapes_only.use_fast_kernels = false;
  PlanCache shape_plans(graph, campaign->feed_index, sample_shape, shapes_only);
  NNFI_ASSIGN_OR_RETURN(campaign->plan_for_weights, shape_plans.get(1));
  if (engine == Engine::kCachedPrefix && window_kernels) {
    campaign->regions =
        std::make_unique<RegionModel>(*campaign->plan_for_weights, plan_options.reference_nodes);
  }
  // Which values follow the batch: their first axis is 1 at batch 1 and 2 at
  // batch 2. A model with a fixed batch only ever runs one size, where every
  // value is copied whole.
  campaign->batched.assign(graph->values.size(), 0);
  if (Expected<std::shared_ptr<const Plan>> two = shape_plans.get(2)) {
    for (size_t v = 0; v < graph->values.size(); ++v) {
      const auto id = static_cast<ValueId>(v);
      const Shape& a = campaign->plan_for_weights->value_shape(id);
      const Shape& b = (*two)->value_shape(id);
      campaign->batched[v] = !a.empty() && !b.empty() && a[0] == 1 && b[0] == 2;
    }
  }
  NNFI_ASSIGN_OR_RETURN(int64_t bytes_per_image, shape_plans.bytes_per_image());
  campaign->bytes_per_image = bytes_per_image;
  campaign->trial_plans->set_bytes_per_image(bytes_per_image);
  campaign->trial_rows =
      trial_rows_for_memory(bytes_per_image, campaign->batch, threads, int64_t{1} << 30);

  for (size_t e = 0; e < spec.experiments.size(); ++e) {
    const ExperimentSpec& experiment = spec.experiments[e];
    std::vector<double> amounts = experiment.probabilities;
    if (experiment.mode == ProbabilityMode::kExactCount) {
      amounts.assign(experiment.fault_counts.begin(), experiment.fault_counts.end());
    }
    int64_t setting_index = 0;
    for (const SiteGroup& group : groups_per_experiment[e]) {
      const ResumePlan resume = make_resume_plan(*campaign->plan_for_weights, group.sites, engine,
                                                 campaign->fetch, campaign->regions.get());
      for (double amount : amounts) {
        PreparedSetting setting;
        setting.experiment = static_cast<int64_t>(e);
        setting.setting = setting_index++;
        setting.spec = &experiment;
        setting.group = group;
        setting.amount = amount;
        setting.resume = resume;
        for (size_t s = 0; s < group.sites.size(); ++s) {
          const SettingSite& site = group.sites[s];
          const InjectionSpec& injection = experiment.injections[site.injection];
          setting.models.push_back(&injection.fault);
          if (site.site.kind != SiteKind::kWeight) continue;
          (injection.weight_duration == WeightFaultDuration::kInference
               ? setting.inference_weights
               : setting.repetition_weights)
              .push_back(static_cast<int>(s));
        }
        SettingRow row;
        row.experiment = setting.experiment;
        row.setting = setting.setting;
        row.experiment_name = experiment.name;
        row.group = group.name;
        row.group_kind = group.kind;
        row.group_class = group.group_class;
        row.group_index = group.index;
        row.shape = group.shape;
        row.probability = amount;
        row.metric = metric_name(experiment.metric);
        for (const SettingSite& site : group.sites) {
          row.sites += (row.sites.empty() ? "" : ",") + site.site.name;
        }
        row.site_elements = group.elements();
        campaign->setting_rows.push_back(row);
        campaign->settings.push_back(std::move(setting));
      }
    }
  }

  std::set<ValueId> golden_values{campaign->fetch};
  for (const PreparedSetting& setting : campaign->settings) {
    golden_values.insert(setting.resume.frontier.begin(), setting.resume.frontier.end());
    for (NodeId node : setting.resume.nodes) {
      for (ValueId value : graph->nodes[node].inputs) {
        if (value != kNoValue) golden_values.insert(value);
      }
      golden_values.insert(graph->nodes[node].outputs.begin(), graph->nodes[node].outputs.end());
    }
  }
  campaign->golden_values.assign(golden_values.begin(), golden_values.end());

  // Batched tails get plans with kernels (and weight copies) for the nodes
  // tails can run only.
  std::set<NodeId> tail_set;
  for (const PreparedSetting& setting : campaign->settings) {
    if (campaign->regions == nullptr) break;
    for (NodeId node : tail_nodes(setting.resume, *campaign->regions, setting.group.sites)) {
      tail_set.insert(node);
    }
  }
  PlanOptions tail_options = plan_options;
  tail_options.kernel_nodes.assign(tail_set.begin(), tail_set.end());
  if (tail_set.empty()) tail_options.use_fast_kernels = tail_options.window_kernels = false;
  campaign->tail_plans =
      std::make_unique<PlanCache>(graph, campaign->feed_index, sample_shape, tail_options);

  CampaignIdentity& identity = campaign->identity;
  identity.config = spec.text + "\n# model: " + spec.model.string() + "\n# data: " + data.spec +
                    "\n# feed: " + spec.feed + "\n# fetch: " + spec.fetch;
  if (!window_kernels) identity.config += "\n# kernels: onednn";
  NNFI_ASSIGN_OR_RETURN(identity.model_hash, fingerprint.get());
  identity.data_hash = dataset_fingerprint(data);
  identity.seed = std::to_string(spec.seed);
  identity.nnfi_version = NNFI_VERSION;
  return campaign;
}

}  // namespace nnfi::campaign
