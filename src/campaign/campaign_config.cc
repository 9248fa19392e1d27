// The campaign file: YAML -> CampaignSpec. Every key is documented in
// docs/campaign.md; unknown keys and bad values are errors naming the file,
// the line, the key and what is allowed.
#include <fstream>
#include <sstream>

#include "campaign/yaml_reader.h"
#include "nnfi/campaign.h"

namespace nnfi {
namespace {

using campaign::YamlNode;

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& path) {
  std::filesystem::path result(path);
  if (result.is_relative() && !base.empty()) result = base / result;
  return result.lexically_normal();
}

// Resolves the file paths inside a data spec ("gtsrb:DIR", "idx:A,B",
// "npy:F.npz,XNAME,YNAME": array names are not paths).
std::string resolve_data_spec(const std::filesystem::path& base, const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return spec;
  std::string result = spec.substr(0, colon + 1);
  std::stringstream parts(spec.substr(colon + 1));
  std::string part;
  int index = 0;
  bool npz = false;
  while (std::getline(parts, part, ',')) {
    if (index > 0) result += ',';
    if (index == 0) npz = part.size() > 4 && part.compare(part.size() - 4, 4, ".npz") == 0;
    result += (index == 0 || !npz) ? resolve(base, part).string() : part;
    ++index;
  }
  return result;
}

Status parse_data(const YamlNode& node, const std::filesystem::path& base, DatasetOptions& data) {
  if (node.is_scalar()) {
    data.spec = resolve_data_spec(base, node.text());
    if (data.spec.rfind("npy:", 0) != 0) data.preprocessing.scale = 1.0 / 255.0;
    return Status::ok();
  }
  NNFI_RETURN_IF_ERROR(
      node.check_keys({"spec", "resize", "resize_method", "central_crop", "scale", "mean", "std",
                       "preset", "bgr", "grayscale", "layout", "limit", "offset", "sample",
                       "sample_seed", "label_offset", "roi_crop", "on_error"}));
  if (!node.has("spec")) return node.error("missing 'spec' (e.g. \"gtsrb:DIR\", \"idx:IMG,LBL\")");
  NNFI_ASSIGN_OR_RETURN(std::string spec, node.child("spec").as_string());
  data.spec = resolve_data_spec(base, spec);
  Preprocessing& pre = data.preprocessing;
  if (node.has("resize")) {
    NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> size, node.child("resize").as_int_list(1));
    if (size.size() != 2) return node.child("resize").error("expected [height, width]");
    pre.resize_height = size[0];
    pre.resize_width = size[1];
  }
  if (node.has("resize_method")) {
    NNFI_ASSIGN_OR_RETURN(std::string method,
                          node.child("resize_method").as_choice({"bilinear", "nearest", "area"}));
    pre.resize_method = method == "bilinear"  ? ResizeMethod::kBilinear
                        : method == "nearest" ? ResizeMethod::kNearest
                                              : ResizeMethod::kArea;
  }
  if (node.has("central_crop")) {
    NNFI_ASSIGN_OR_RETURN(pre.central_crop, node.child("central_crop").as_double());
  }
  // As on the command line: images are scaled by 1/255 unless a preset or a
  // scale says otherwise; npy data are fed as stored.
  if (data.spec.rfind("npy:", 0) != 0 && !node.has("preset")) pre.scale = 1.0 / 255.0;
  if (node.has("scale")) {
    const YamlNode scale = node.child("scale");
    const std::string text = scale.text();
    const size_t slash = text.find('/');
    if (slash != std::string::npos) {
      YamlNode top(YAML::Node(text.substr(0, slash)), scale.path(), nullptr);
      YamlNode bottom(YAML::Node(text.substr(slash + 1)), scale.path(), nullptr);
      Expected<double> a = top.as_double(), b = bottom.as_double();
      if (!a || !b || *b == 0) {
        return scale.error("expected a number or a fraction such as 1/255, got '" + text + "'");
      }
      pre.scale = *a / *b;
    } else {
      NNFI_ASSIGN_OR_RETURN(pre.scale, scale.as_double());
    }
  }
  if (node.has("mean")) {
    NNFI_ASSIGN_OR_RETURN(pre.mean, node.child("mean").as_double_list());
  }
  if (node.has("std")) {
    NNFI_ASSIGN_OR_RETURN(pre.std, node.child("std").as_double_list());
  }
  if (node.has("preset")) {
    NNFI_ASSIGN_OR_RETURN(pre.preset, node.child("preset").as_choice({"tf", "torch", "caffe"}));
  }
  if (node.has("bgr")) {
    NNFI_ASSIGN_OR_RETURN(pre.bgr, node.child("bgr").as_bool());
  }
  if (node.has("grayscale")) {
    NNFI_ASSIGN_OR_RETURN(pre.grayscale, node.child("grayscale").as_bool());
  }
  if (node.has("layout")) {
    NNFI_ASSIGN_OR_RETURN(std::string layout,
                          node.child("layout").as_choice({"auto", "nhwc", "nchw"}));
    pre.layout = layout == "nhwc"   ? DataLayout::kNHWC
                 : layout == "nchw" ? DataLayout::kNCHW
                                    : DataLayout::kAuto;
  }
  if (node.has("limit")) {
    NNFI_ASSIGN_OR_RETURN(data.limit, node.child("limit").as_int(0));
  }
  if (node.has("offset")) {
    NNFI_ASSIGN_OR_RETURN(data.offset, node.child("offset").as_int(0));
  }
  if (node.has("sample")) {
    NNFI_ASSIGN_OR_RETURN(data.sample, node.child("sample").as_int(0));
  }
  if (node.has("sample_seed")) {
    NNFI_ASSIGN_OR_RETURN(data.sample_seed, node.child("sample_seed").as_uint64());
  }
  if (node.has("label_offset")) {
    NNFI_ASSIGN_OR_RETURN(data.label_offset, node.child("label_offset").as_int(INT32_MIN));
  }
  if (node.has("roi_crop")) {
    NNFI_ASSIGN_OR_RETURN(data.roi_crop, node.child("roi_crop").as_bool());
  }
  if (node.has("on_error")) {
    NNFI_ASSIGN_OR_RETURN(std::string on_error, node.child("on_error").as_choice({"fail", "skip"}));
    data.on_error = on_error == "skip" ? OnError::kSkip : OnError::kFail;
  }
  return Status::ok();
}

Status parse_model(const YamlNode& node, const std::filesystem::path& base, CampaignSpec& spec) {
  if (node.is_scalar()) {
    spec.model = resolve(base, node.text());
    return Status::ok();
  }
  NNFI_RETURN_IF_ERROR(node.check_keys({"path", "feed", "fetch"}));
  if (!node.has("path")) return node.error("missing 'path' (the model file)");
  NNFI_ASSIGN_OR_RETURN(std::string path, node.child("path").as_string());
  spec.model = resolve(base, path);
  if (node.has("feed")) {
    NNFI_ASSIGN_OR_RETURN(spec.feed, node.child("feed").as_string());
  }
  if (node.has("fetch")) {
    NNFI_ASSIGN_OR_RETURN(spec.fetch, node.child("fetch").as_string());
  }
  return Status::ok();
}

// "each" / "all" / a list of names.
Status parse_selector(const YamlNode& node, TargetSpec& target) {
  if (node.is_scalar() && (node.text() == "each" || node.text() == "all")) {
    target.all = true;
    target.each = node.text() == "each";
    return Status::ok();
  }
  if (node.is_scalar() && node.text() == "true" && target.kind == TargetSpec::Kind::kInput) {
    return Status::ok();
  }
  NNFI_ASSIGN_OR_RETURN(target.names, node.as_string_list());
  return Status::ok();
}

Status parse_target(const YamlNode& node, TargetSpec& target) {
  NNFI_RETURN_IF_ERROR(
      node.check_keys({"layers", "layer_classes", "ops", "nodes", "weights", "input", "each"}));
  struct Selector {
    const char* key;
    TargetSpec::Kind kind;
  };
  const Selector selectors[] = {
      {"layers", TargetSpec::Kind::kLayers},   {"layer_classes", TargetSpec::Kind::kLayers},
      {"ops", TargetSpec::Kind::kOps},         {"nodes", TargetSpec::Kind::kNodes},
      {"weights", TargetSpec::Kind::kWeights}, {"input", TargetSpec::Kind::kInput}};
  int found = 0;
  for (const Selector& selector : selectors) {
    if (!node.has(selector.key)) continue;
    ++found;
    target.kind = selector.kind;
    if (std::string(selector.key) == "layer_classes") {
      NNFI_ASSIGN_OR_RETURN(target.names, node.child(selector.key).as_string_list());
      for (std::string& name : target.names) name = "class:" + name;
    } else {
      NNFI_RETURN_IF_ERROR(parse_selector(node.child(selector.key), target));
    }
  }
  if (found != 1) {
    return node.error("expected exactly one of layers, layer_classes, ops, nodes, weights, input");
  }
  if (node.has("each")) {
    NNFI_ASSIGN_OR_RETURN(bool each, node.child("each").as_bool());
    target.each = target.each || each;
  }
  return Status::ok();
}

// Named bit ranges of float32 (DESIGN.md: 31 sign, 30..23 exponent, 22..0 mantissa).
Expected<std::vector<int>> parse_bits(const YamlNode& node) {
  std::vector<int> bits;
  auto range = [&bits](int from, int to) {
    for (int bit = from; bit <= to; ++bit) bits.push_back(bit);
  };
  if (node.is_scalar()) {
    const std::string text = node.text();
    if (text == "random" || text == "all") return bits;  // empty: every bit of the dtype
    if (text == "sign") {
      range(31, 31);
      return bits;
    }
    if (text == "exponent") {
      range(23, 30);
      return bits;
    }
    if (text == "mantissa") {
      range(0, 22);
      return bits;
    }
    const size_t dots = text.find("..");
    if (dots != std::string::npos) {
      YamlNode from(YAML::Node(text.substr(0, dots)), node.path(), nullptr);
      YamlNode to(YAML::Node(text.substr(dots + 2)), node.path(), nullptr);
      Expected<int64_t> low = from.as_int(0, 63);
      Expected<int64_t> high = to.as_int(0, 63);
      if (!low || !high || *low > *high) {
        return node.error("expected a bit range LOW..HIGH within 0..63, got '" + text + "'");
      }
      range(static_cast<int>(*low), static_cast<int>(*high));
      return bits;
    }
    NNFI_ASSIGN_OR_RETURN(int64_t bit, node.as_int(0, 63));
    bits.push_back(static_cast<int>(bit));
    return bits;
  }
  if (!node.is_sequence() || node.items().empty()) {
    return node.error(
        "expected random, sign, exponent, mantissa, a range LOW..HIGH or a list of bit numbers");
  }
  for (const YamlNode& item : node.items()) {
    NNFI_ASSIGN_OR_RETURN(int64_t bit, item.as_int(0, 63));
    bits.push_back(static_cast<int>(bit));
  }
  return bits;
}

Status parse_fault(const YamlNode& node, FaultModel& fault) {
  if (!node.has("model")) {
    return node.error("missing 'model' (bitflip, stuck_at, zero, random_value or set)");
  }
  NNFI_ASSIGN_OR_RETURN(
      std::string model,
      node.child("model").as_choice({"bitflip", "stuck_at", "zero", "random_value", "set"}));
  if (model == "bitflip") {
    fault.kind = FaultKind::kBitFlip;
    NNFI_RETURN_IF_ERROR(node.check_keys({"model", "bits", "count", "burst", "scope"}));
  } else if (model == "stuck_at") {
    fault.kind = FaultKind::kStuckAt;
    NNFI_RETURN_IF_ERROR(node.check_keys({"model", "bits", "value", "scope"}));
  } else if (model == "zero") {
    fault.kind = FaultKind::kZero;
    NNFI_RETURN_IF_ERROR(node.check_keys({"model", "scope"}));
  } else if (model == "random_value") {
    fault.kind = FaultKind::kRandomValue;
    NNFI_RETURN_IF_ERROR(node.check_keys({"model", "low", "high", "scope"}));
  } else {
    fault.kind = FaultKind::kSet;
    NNFI_RETURN_IF_ERROR(node.check_keys({"model", "value", "scope"}));
  }
  if (node.has("bits")) {
    NNFI_ASSIGN_OR_RETURN(fault.bits, parse_bits(node.child("bits")));
  }
  if (node.has("count")) {
    NNFI_ASSIGN_OR_RETURN(int64_t count, node.child("count").as_int(1, 64));
    fault.count = static_cast<int>(count);
  }
  if (node.has("burst")) {
    NNFI_ASSIGN_OR_RETURN(int64_t burst, node.child("burst").as_int(1, 64));
    fault.burst = static_cast<int>(burst);
  }
  if (node.has("value")) {
    if (fault.kind == FaultKind::kStuckAt) {
      NNFI_ASSIGN_OR_RETURN(int64_t value, node.child("value").as_int(0, 1));
      fault.stuck_value = static_cast<int>(value);
    } else {
      NNFI_ASSIGN_OR_RETURN(fault.value, node.child("value").as_double(/*allow_special=*/true));
    }
  } else if (fault.kind == FaultKind::kStuckAt || fault.kind == FaultKind::kSet) {
    return node.error(
        "missing 'value' (" +
        std::string(fault.kind == FaultKind::kStuckAt ? "0 or 1" : "a number, nan, inf or -inf") +
        ")");
  }
  if (node.has("low")) {
    NNFI_ASSIGN_OR_RETURN(fault.low, node.child("low").as_double());
  }
  if (node.has("high")) {
    NNFI_ASSIGN_OR_RETURN(fault.high, node.child("high").as_double());
  }
  if (fault.kind == FaultKind::kRandomValue && !(fault.low < fault.high)) {
    return node.error("expected low < high, got [" + std::to_string(fault.low) + ", " +
                      std::to_string(fault.high) + ")");
  }
  if (node.has("scope")) {
    const YamlNode scope = node.child("scope");
    if (scope.is_map()) {
      NNFI_RETURN_IF_ERROR(scope.check_keys({"elements"}));
      fault.scope = FaultScope::kElements;
      NNFI_ASSIGN_OR_RETURN(fault.elements, scope.child("elements").as_int(1));
    } else {
      NNFI_ASSIGN_OR_RETURN(std::string name, scope.as_choice({"element", "tensor"}));
      fault.scope = name == "tensor" ? FaultScope::kTensor : FaultScope::kElement;
    }
  }
  return Status::ok();
}

// target, fault and duration of an injection, from an experiment or a `faults` entry.
Status parse_injection_fields(const YamlNode& node, InjectionSpec& injection) {
  NNFI_RETURN_IF_ERROR(parse_target(node.child("target"), injection.target));
  NNFI_RETURN_IF_ERROR(parse_fault(node.child("fault"), injection.fault));
  if (node.has("duration")) {
    NNFI_ASSIGN_OR_RETURN(std::string duration,
                          node.child("duration").as_choice({"repetition", "inference"}));
    injection.weight_duration = duration == "inference" ? WeightFaultDuration::kInference
                                                        : WeightFaultDuration::kRepetition;
  }
  return Status::ok();
}

Status parse_injection(const YamlNode& node, InjectionSpec& injection) {
  NNFI_RETURN_IF_ERROR(node.check_keys({"target", "fault", "duration"}));
  if (!node.has("target")) return node.error("missing 'target'");
  if (!node.has("fault")) return node.error("missing 'fault'");
  return parse_injection_fields(node, injection);
}

Status parse_experiment(const YamlNode& node, ExperimentSpec& experiment) {
  NNFI_RETURN_IF_ERROR(
      node.check_keys({"name", "target", "fault", "faults", "duration", "probability",
                       "probability_mode", "faults_per_inference", "repetitions", "metric"}));
  if (!node.has("name")) return node.error("missing 'name'");
  NNFI_ASSIGN_OR_RETURN(experiment.name, node.child("name").as_string());
  if (node.has("faults")) {
    if (node.has("target") || node.has("fault") || node.has("duration")) {
      return node.error(
          "give either 'faults' (a list of {target, fault}) or 'target' and "
          "'fault', not both");
    }
    const YamlNode faults = node.child("faults");
    if (!faults.is_sequence() || faults.items().empty()) {
      return faults.error("expected a list of {target, fault, duration} entries");
    }
    for (const YamlNode& item : faults.items()) {
      InjectionSpec injection;
      NNFI_RETURN_IF_ERROR(parse_injection(item, injection));
      experiment.injections.push_back(std::move(injection));
    }
  } else {
    if (!node.has("target")) return node.error("missing 'target' (or 'faults')");
    if (!node.has("fault")) return node.error("missing 'fault' (or 'faults')");
    InjectionSpec injection;
    NNFI_RETURN_IF_ERROR(parse_injection_fields(node, injection));
    experiment.injections.push_back(std::move(injection));
  }
  const bool has_p = node.has("probability");
  const bool has_k = node.has("faults_per_inference");
  if (has_p == has_k) {
    return node.error(
        "give exactly one of 'probability' (a list of p in [0, 1]) and "
        "'faults_per_inference' (a list of k >= 0)");
  }
  if (has_p) {
    NNFI_ASSIGN_OR_RETURN(experiment.probabilities, node.child("probability").as_double_list());
    for (double p : experiment.probabilities) {
      if (!(p >= 0.0 && p <= 1.0)) {
        return node.child("probability")
            .error("expected probabilities in [0, 1], got " + std::to_string(p));
      }
    }
    if (node.has("probability_mode")) {
      NNFI_ASSIGN_OR_RETURN(
          std::string mode,
          node.child("probability_mode").as_choice({"per_inference", "per_execution"}));
      experiment.mode =
          mode == "per_execution" ? ProbabilityMode::kPerExecution : ProbabilityMode::kPerInference;
    }
  } else {
    if (node.has("probability_mode")) {
      return node.child("probability_mode")
          .error("does not apply to faults_per_inference (exactly k faults per image)");
    }
    experiment.mode = ProbabilityMode::kExactCount;
    NNFI_ASSIGN_OR_RETURN(experiment.fault_counts,
                          node.child("faults_per_inference").as_int_list(0));
  }
  if (node.has("repetitions")) {
    NNFI_ASSIGN_OR_RETURN(experiment.repetitions, node.child("repetitions").as_int(1, 1000000));
  }
  if (node.has("metric")) {
    NNFI_ASSIGN_OR_RETURN(std::string metric,
                          node.child("metric").as_choice({"ground_truth", "golden"}));
    experiment.metric = metric == "golden" ? Metric::kGolden : Metric::kGroundTruth;
  }
  return Status::ok();
}

Expected<CampaignSpec> parse_campaign_unguarded(const std::string& text,
                                                const std::filesystem::path& source) {
  NNFI_ASSIGN_OR_RETURN(YAML::Node document, campaign::parse_yaml(text, source));
  YamlNode root(document, "", &source);
  if (!root.is_map()) {
    return invalid_argument(source.string() +
                            ": expected a campaign (a mapping with model, data, experiments)");
  }
  NNFI_RETURN_IF_ERROR(root.check_keys(
      {"model", "feed", "fetch", "data", "seed", "batch", "record_faults", "experiments"}));
  CampaignSpec spec;
  spec.source = source;
  const std::filesystem::path base = source.parent_path();
  if (!root.has("model")) return root.error("missing 'model' (the model file)");
  NNFI_RETURN_IF_ERROR(parse_model(root.child("model"), base, spec));
  if (root.has("feed")) {
    NNFI_ASSIGN_OR_RETURN(spec.feed, root.child("feed").as_string());
  }
  if (root.has("fetch")) {
    NNFI_ASSIGN_OR_RETURN(spec.fetch, root.child("fetch").as_string());
  }
  if (root.has("data")) {
    NNFI_RETURN_IF_ERROR(parse_data(root.child("data"), base, spec.data));
    spec.data_given = true;
  }
  if (root.has("seed")) {
    NNFI_ASSIGN_OR_RETURN(spec.seed, root.child("seed").as_uint64());
  }
  if (root.has("batch")) {
    NNFI_ASSIGN_OR_RETURN(spec.batch, root.child("batch").as_int(1, 65536));
  }
  if (root.has("record_faults")) {
    NNFI_ASSIGN_OR_RETURN(std::string record,
                          root.child("record_faults").as_choice({"all", "non_masked", "none"}));
    spec.record_faults = record == "all"          ? FaultRecording::kAll
                         : record == "non_masked" ? FaultRecording::kNonMasked
                                                  : FaultRecording::kNone;
  }
  if (!root.has("experiments")) return root.error("missing 'experiments' (a list)");
  const YamlNode experiments = root.child("experiments");
  if (!experiments.is_sequence() || experiments.items().empty()) {
    return experiments.error("expected a non-empty list of experiments");
  }
  for (const YamlNode& item : experiments.items()) {
    ExperimentSpec experiment;
    NNFI_RETURN_IF_ERROR(parse_experiment(item, experiment));
    for (const ExperimentSpec& other : spec.experiments) {
      if (other.name == experiment.name) {
        return item.child("name").error("experiment name '" + experiment.name +
                                        "' is used twice; names identify results");
      }
    }
    spec.experiments.push_back(std::move(experiment));
  }
  // The canonical text ignores comments and formatting: it is what a resumed
  // run compares with the stored campaign.
  YAML::Emitter emitter;
  emitter << document;
  spec.text = emitter.c_str();
  return spec;
}

}  // namespace

Expected<CampaignSpec> parse_campaign(const std::string& text,
                                      const std::filesystem::path& source) {
  try {
    return parse_campaign_unguarded(text, source);
  } catch (const YAML::Exception& error) {
    return invalid_argument(
        source.string().append(":").append(std::to_string(error.mark.line + 1)) + ": " + error.msg);
  }
}

Expected<CampaignSpec> load_campaign_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return io_error(path.string() + ": cannot open the campaign file");
  std::stringstream buffer;
  buffer << file.rdbuf();
  return parse_campaign(buffer.str(), path);
}

}  // namespace nnfi
