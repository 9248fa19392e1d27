// InjectTF / InjectTF2 config files -> CampaignSpec. The semantics follow
// their code (mbsa-tud/InjectTF: InjectedFunctions.cond_perturb, FaultTypes;
// mbsa-tud/InjectTF2: InjectionManager.inject_batch); docs/injecttf-configs.md
// describes the mapping and where it differs.
#include "campaign/injecttf_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "campaign/yaml_reader.h"

namespace nnfi {
namespace {

using campaign::YamlNode;

constexpr const char* kInjectTFKeys[] = {"Seed", "ScalarFaultType", "TensorFaultType", "Ops"};
constexpr const char* kExperimentInjectTF = "injecttf";
constexpr const char* kExperimentInjectTF2 = "injecttf2";
// The model line of the campaign text: parse_campaign wants one; the real
// model comes from --model (stored beside the text, as for our own files).
constexpr const char* kModelPlaceholder = "(--model)";

std::string lower(const std::string& text) {
  std::string result = text;
  for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

// The shortest text that reads back as the same double.
std::string number_text(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

// A YAML double-quoted scalar (names may hold ':', '#', '/', quotes).
std::string quoted(const std::string& text) {
  std::string result = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      result += '\\';
      result += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\x%02x", static_cast<unsigned char>(c));
      result += escape;
    } else {
      result += c;
    }
  }
  return result + "\"";
}

Expected<double> probability_of(const YamlNode& node) {
  NNFI_ASSIGN_OR_RETURN(double p, node.as_double());
  if (p < 0.0 || p > 1.0) {
    return node.error("expected a probability in [0, 1], got " + node.text());
  }
  return p;
}

// InjectTF's TensorFaultType -> our fault model. FaultTypes.py: BitFlip flips
// one random bit of one random element of the op's output (the whole batch
// tensor); Zero and Rand replace the whole tensor (zeros; uniform in [0, 1)).
FaultModel tensor_fault(const std::string& type) {
  FaultModel fault;
  if (type == "Zero") {
    fault.kind = FaultKind::kZero;
    fault.scope = FaultScope::kTensor;
  } else if (type == "Rand") {
    fault.kind = FaultKind::kRandomValue;
    fault.low = 0.0;
    fault.high = 1.0;
    fault.scope = FaultScope::kTensor;
  }
  return fault;  // BitFlip (and None, which runs with p = 0): one random bit of one element
}

Expected<CampaignSpec> convert_injecttf(const YamlNode& root, const InjectTFRunOptions& options) {
  NNFI_RETURN_IF_ERROR(root.check_keys({"Seed", "ScalarFaultType", "TensorFaultType", "Ops"}));
  CampaignSpec spec;
  if (root.has("Seed")) {
    NNFI_ASSIGN_OR_RETURN(spec.seed, root.child("Seed").as_uint64());
  }
  // InjectTF reads both fault types without a default (a missing one is a KeyError there).
  for (const char* key : {"ScalarFaultType", "TensorFaultType"}) {
    if (!root.has(key)) {
      return root.error(std::string("missing '") + key + "' (None, Rand, BitFlip or Zero)");
    }
    NNFI_RETURN_IF_ERROR(root.child(key).as_choice({"None", "Rand", "BitFlip", "Zero"}).status());
  }
  // ScalarFaultType acts on op outputs that hold one value for the whole
  // batch; those have no batch axis and are no activation sites in nnfi, so it
  // is checked and otherwise has no effect (docs/injecttf-configs.md).
  const std::string tensor_type = root.child("TensorFaultType").text();
  if (!root.has("Ops")) return root.error("missing 'Ops' (op types and probabilities, {Add: 0.5})");
  const YamlNode ops = root.child("Ops");
  if (!ops.is_map() || ops.raw().size() == 0) {
    return ops.error("expected op types with their probabilities, e.g. {Add: 0.5, Relu: 0.1}");
  }
  ExperimentSpec experiment;
  experiment.name = kExperimentInjectTF;
  experiment.mode = ProbabilityMode::kPerExecution;
  experiment.repetitions = options.repetitions;
  InjectionSpec injection;
  injection.target.kind = TargetSpec::Kind::kOps;
  injection.fault = tensor_fault(tensor_type);
  std::string first_op;
  double first_p = 0.0;
  for (const auto& entry : ops.raw()) {
    const std::string op = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    if (op.empty()) return ops.error("expected op type names (such as Add) as keys");
    const YamlNode value = ops.child(op);
    NNFI_ASSIGN_OR_RETURN(double p, probability_of(value));
    if (first_op.empty()) {
      first_op = op;
      first_p = p;
    } else if (p != first_p) {
      // InjectTF wraps every listed op in the same graph, each with its own
      // probability; an nnfi experiment has one probability for all its sites.
      return value.error("probability " + number_text(p) + " differs from " + first_op + "'s " +
                         number_text(first_p) +
                         ": InjectTF injects all Ops in the same run, each with its own "
                         "probability, which nnfi cannot express (one probability per "
                         "experiment); give every op the same probability, or put each op in "
                         "a file of its own");
    }
    injection.target.names.push_back(op);
  }
  // TensorFaultType None leaves every value as it was: the run is the golden one.
  experiment.probabilities = {tensor_type == "None" ? 0.0 : first_p};
  experiment.injections.push_back(std::move(injection));
  spec.experiments.push_back(std::move(experiment));
  return spec;
}

Expected<CampaignSpec> convert_injecttf2(const YamlNode& root, const InjectTFRunOptions& options) {
  NNFI_RETURN_IF_ERROR(root.check_keys({"inject_layer"}));
  const YamlNode layer = root.child("inject_layer");
  NNFI_RETURN_IF_ERROR(
      layer.check_keys({"layer_name", "fault_type", "bit_flip_type", "bit_number", "probability"}));
  for (const char* key : {"layer_name", "fault_type", "bit_flip_type", "probability"}) {
    if (!layer.has(key)) return layer.error(std::string("missing '") + key + "'");
  }
  InjectionSpec injection;
  injection.target.kind = TargetSpec::Kind::kLayers;
  NNFI_ASSIGN_OR_RETURN(std::string name, layer.child("layer_name").as_string());
  injection.target.names = {name};
  const YamlNode fault_type = layer.child("fault_type");
  if (fault_type.text() != "BitFlip") {
    return fault_type.error("expected BitFlip (the only fault type InjectTF2 implements), got '" +
                            fault_type.text() + "'");
  }
  NNFI_ASSIGN_OR_RETURN(std::string bit_flip_type,
                        layer.child("bit_flip_type").as_choice({"RandomBit", "SpecificBit"}));
  // InjectTF2 reads bit_number only for SpecificBit; its own test config
  // carries one beside RandomBit, so it is allowed (and checked) there too.
  int64_t bit = -1;
  if (layer.has("bit_number")) {
    const YamlNode number = layer.child("bit_number");
    Expected<int64_t> value = number.as_int(0, 31);
    if (!value) {
      return number.error(
          "expected a bit number from 0 to 31 (bits of a float32: 31 sign, "
          "30..23 exponent, 22..0 mantissa), got '" +
          number.text() + "'");
    }
    bit = *value;
  } else if (bit_flip_type == "SpecificBit") {
    return layer.error("missing 'bit_number' (0..31), needed by bit_flip_type SpecificBit");
  }
  injection.fault.kind = FaultKind::kBitFlip;
  if (bit_flip_type == "SpecificBit") injection.fault.bits = {static_cast<int>(bit)};
  ExperimentSpec experiment;
  experiment.name = kExperimentInjectTF2;
  experiment.mode = ProbabilityMode::kPerInference;
  experiment.repetitions = options.repetitions;
  NNFI_ASSIGN_OR_RETURN(double p, probability_of(layer.child("probability")));
  experiment.probabilities = {p};
  experiment.injections.push_back(std::move(injection));
  CampaignSpec spec;
  spec.experiments.push_back(std::move(experiment));
  return spec;
}

std::string fault_text(const FaultModel& fault) {
  std::string text = "{model: " + std::string(fault_kind_name(fault.kind));
  if (fault.kind == FaultKind::kBitFlip) {
    if (fault.bits.empty()) {
      text += ", bits: random";
    } else {
      text += ", bits: [";
      for (size_t i = 0; i < fault.bits.size(); ++i) {
        text += (i > 0 ? ", " : "") + std::to_string(fault.bits[i]);
      }
      text += "]";
    }
  }
  if (fault.kind == FaultKind::kRandomValue) {
    text += ", low: " + number_text(fault.low) + ", high: " + number_text(fault.high);
  }
  if (fault.scope == FaultScope::kTensor) text += ", scope: tensor";
  return text + "}";
}

// Our parser's reading of the campaign text of `converted`; its `text` is the
// canonical form (as for our own files).
Expected<CampaignSpec> reparse(const CampaignSpec& converted, const std::filesystem::path& source) {
  const std::string campaign_text = injecttf_campaign_text(converted);
  Expected<CampaignSpec> spec = parse_campaign(campaign_text, source);
  if (!spec) {
    return internal_error(source.string() + ": the converted campaign does not parse (" +
                          spec.status().message() + "):\n" + campaign_text);
  }
  return spec;
}

Expected<CampaignSpec> parse_unguarded(const std::string& text, const std::filesystem::path& source,
                                       const InjectTFRunOptions& options) {
  NNFI_ASSIGN_OR_RETURN(YAML::Node document, campaign::parse_yaml(text, source));
  YamlNode root(document, "", &source);
  const InjectTFFormat format = injecttf_format(document);
  if (format == InjectTFFormat::kNone) {
    return invalid_argument(source.string() +
                            ": not an InjectTF config (top-level keys Seed, ScalarFaultType, "
                            "TensorFaultType, Ops) nor an InjectTF2 config (inject_layer)");
  }
  if (options.repetitions < 1) {
    return invalid_argument("repetitions must be at least 1, got " +
                            std::to_string(options.repetitions));
  }
  if (options.batch < 1 || options.batch > 65536) {
    return invalid_argument("batch must be from 1 to 65536, got " + std::to_string(options.batch));
  }
  NNFI_ASSIGN_OR_RETURN(CampaignSpec converted, format == InjectTFFormat::kInjectTF
                                                    ? convert_injecttf(root, options)
                                                    : convert_injecttf2(root, options));
  converted.batch = options.batch;
  // The spec is what our parser makes of the equivalent campaign text, the
  // same parse that replay and reports do from the stored text.
  NNFI_ASSIGN_OR_RETURN(CampaignSpec spec, reparse(converted, source));
  spec.model.clear();
  spec.data_given = false;
  return spec;
}

// Same op under another name: TensorFlow renamed tf.add's op to AddV2 (1.14).
bool same_op(const std::string& wanted, const std::string& type) {
  const std::string a = lower(wanted), b = lower(type);
  if (a == b) return true;
  return (a == "add" && b == "addv2") || (a == "addv2" && b == "add");
}

// The nearest op of another format, used only when the model has no op of the name.
bool nearest_op(const std::string& wanted, const std::string& type) {
  const std::string a = lower(wanted), b = lower(type);
  return (a == "conv2d" && b == "conv") || (a == "matmul" && b == "gemm");
}

// The line of Ops.<op> in the source file, for messages (0 when unknown).
int line_of_op(const std::filesystem::path& source, const std::string& op) {
  try {
    const YAML::Node document = YAML::LoadFile(source.string());
    const YAML::Node value = document["Ops"][op];
    if (value.IsDefined()) return value.Mark().line + 1;
  } catch (const YAML::Exception&) {
  }
  return 0;
}

}  // namespace

InjectTFFormat injecttf_format(const YAML::Node& document) {
  if (!document.IsMap()) return InjectTFFormat::kNone;
  bool injecttf = false, injecttf2 = false;
  for (const auto& entry : document) {
    if (!entry.first.IsScalar()) continue;
    const std::string& key = entry.first.Scalar();
    for (const char* name : kInjectTFKeys) injecttf = injecttf || key == name;
    injecttf2 = injecttf2 || key == "inject_layer";
  }
  if (injecttf) return InjectTFFormat::kInjectTF;
  return injecttf2 ? InjectTFFormat::kInjectTF2 : InjectTFFormat::kNone;
}

bool looks_like_injecttf_config(const YAML::Node& document) {
  return injecttf_format(document) != InjectTFFormat::kNone;
}

bool looks_like_injecttf_config_file(const std::filesystem::path& path) {
  try {
    return looks_like_injecttf_config(YAML::LoadFile(path.string()));
  } catch (const YAML::Exception&) {
    return false;
  }
}

Expected<CampaignSpec> parse_injecttf_config(const std::string& text,
                                             const std::filesystem::path& source,
                                             const InjectTFRunOptions& options) {
  try {
    return parse_unguarded(text, source, options);
  } catch (const YAML::Exception& error) {
    return invalid_argument(
        source.string().append(":").append(std::to_string(error.mark.line + 1)) + ": " + error.msg);
  }
}

Expected<CampaignSpec> load_injecttf_config(const std::filesystem::path& path,
                                            const InjectTFRunOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return io_error(path.string() + ": cannot open the config file");
  std::stringstream buffer;
  buffer << file.rdbuf();
  return parse_injecttf_config(buffer.str(), path, options);
}

Status resolve_injecttf_op_types(CampaignSpec& spec, const Graph& graph) {
  // The op types sites carry: the source format's where known, else the IR's.
  std::vector<std::string> types;
  for (const Node& node : graph.nodes) {
    std::string type = node.source_op.empty() ? std::string(op_type_name(node.op)) : node.source_op;
    if (std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
  }
  for (ExperimentSpec& experiment : spec.experiments) {
    for (InjectionSpec& injection : experiment.injections) {
      if (injection.target.kind != TargetSpec::Kind::kOps) continue;
      std::vector<std::string> resolved;
      for (const std::string& wanted : injection.target.names) {
        std::vector<std::string> found;
        for (const std::string& type : types) {
          if (same_op(wanted, type)) found.push_back(type);
        }
        if (found.empty()) {
          for (const std::string& type : types) {
            if (nearest_op(wanted, type)) found.push_back(type);
          }
        }
        if (found.empty()) {
          std::string where = spec.source.string();
          const int line = line_of_op(spec.source, wanted);
          if (line > 0) where.append(":").append(std::to_string(line));
          std::string list;
          for (const std::string& type : types) list += (list.empty() ? "" : ", ") + type;
          return invalid_argument(where + ": key 'Ops." + wanted +
                                  "': the model has no op of type " + wanted +
                                  " (matched case-insensitively); its op types: " + list);
        }
        for (const std::string& type : found) {
          if (std::find(resolved.begin(), resolved.end(), type) == resolved.end()) {
            resolved.push_back(type);
          }
        }
      }
      injection.target.names = std::move(resolved);
    }
  }
  NNFI_ASSIGN_OR_RETURN(CampaignSpec reread, reparse(spec, spec.source));
  spec.text = reread.text;
  return Status::ok();
}

std::string injecttf_campaign_text(const CampaignSpec& spec) {
  const bool layers = !spec.experiments.empty() && !spec.experiments[0].injections.empty() &&
                      spec.experiments[0].injections[0].target.kind == TargetSpec::Kind::kLayers;
  std::string text = std::string("# nnfi campaign converted from an ") +
                     (layers ? "InjectTF2" : "InjectTF") +
                     " config (docs/injecttf-configs.md); model and data come from the "
                     "command line\n";
  text += "model: " + quoted(kModelPlaceholder) + "\n";
  text += "seed: " + std::to_string(spec.seed) + "\n";
  text += "batch: " + std::to_string(spec.batch) + "\n";
  text += "experiments:\n";
  for (const ExperimentSpec& experiment : spec.experiments) {
    text += "  - name: " + quoted(experiment.name) + "\n";
    for (const InjectionSpec& injection : experiment.injections) {
      const bool ops = injection.target.kind == TargetSpec::Kind::kOps;
      text += std::string("    target: {") + (ops ? "ops" : "layers") + ": [";
      for (size_t i = 0; i < injection.target.names.size(); ++i) {
        text += (i > 0 ? ", " : "") + quoted(injection.target.names[i]);
      }
      text += "]}\n";
      text += "    fault: " + fault_text(injection.fault) + "\n";
    }
    text += "    probability: [";
    for (size_t i = 0; i < experiment.probabilities.size(); ++i) {
      text += (i > 0 ? ", " : "") + number_text(experiment.probabilities[i]);
    }
    text += "]\n";
    text +=
        std::string("    probability_mode: ") +
        (experiment.mode == ProbabilityMode::kPerExecution ? "per_execution" : "per_inference") +
        "\n";
    text += "    repetitions: " + std::to_string(experiment.repetitions) + "\n";
    text += "    metric: ground_truth\n";
  }
  return text;
}

}  // namespace nnfi
