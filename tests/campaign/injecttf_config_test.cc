// InjectTF and InjectTF2 config files: every key and value converted to our
// CampaignSpec, every error naming file, line, key and what is allowed, and
// the op-type matching against a model.
#include "campaign/injecttf_config.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/temp_files.h"
#include "nnfi/campaign.h"

namespace nnfi {
namespace {

const char* kSource = "/configs/InjectTF_conf.yml";

// InjectTF's example config (example/InjectTF_example_conf.yml), comments included.
const char* kInjectTFExample = R"(# This is a sample YAML file for fault injection configuration

# Deterministic fault seed for the injections
# Seed: 1000

# Type of fault to be injected for Scalars and Tensors
# Allowed values are: None, Rand, Zero, BitFlip

ScalarFaultType: BitFlip
TensorFaultType: BitFlip

# List of operations and their injection probabilities.
Ops:
  Add: 0.5  # 50% probability of fault injection
)";

// InjectTF2's example configs (example/example_config.yml, example_config_2.yml).
const char* kInjectTF2Random = R"(inject_layer:
  layer_name: dense_1
  fault_type: BitFlip
  bit_flip_type: RandomBit
  probability: 1.0
)";
const char* kInjectTF2Specific = R"(inject_layer:
  layer_name: dense_1
  fault_type: BitFlip
  bit_flip_type: SpecificBit
  bit_number: 31 # Max value is 31, min value is 0
  probability: 1.0
)";

Expected<CampaignSpec> parse(const std::string& text, const InjectTFRunOptions& options = {}) {
  return parse_injecttf_config(text, kSource, options);
}

CampaignSpec parse_ok(const std::string& text, const InjectTFRunOptions& options = {}) {
  Expected<CampaignSpec> spec = parse(text, options);
  EXPECT_TRUE(spec.has_value()) << spec.status().message();
  return spec.has_value() ? *spec : CampaignSpec{};
}

std::string error_of(const std::string& text, const InjectTFRunOptions& options = {}) {
  Expected<CampaignSpec> spec = parse(text, options);
  EXPECT_FALSE(spec.has_value()) << text;
  return spec.has_value() ? std::string() : spec.status().message();
}

// Every fragment must appear in the message.
void expect_contains(const std::string& message, const std::vector<std::string>& fragments) {
  for (const std::string& fragment : fragments) {
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "'" << fragment << "' not in: " << message;
  }
}

std::string injecttf(const std::string& tensor_type, const std::string& ops = "{Add: 0.5}",
                     const std::string& extra = "") {
  return "ScalarFaultType: BitFlip\nTensorFaultType: " + tensor_type + "\nOps: " + ops + "\n" +
         extra;
}

const FaultModel& fault_of(const CampaignSpec& spec) {
  return spec.experiments.at(0).injections.at(0).fault;
}

TEST(InjectTFConfig, ConvertsInjectTFsExample) {
  const CampaignSpec spec = parse_ok(kInjectTFExample);
  EXPECT_EQ(spec.source, std::filesystem::path(kSource));
  EXPECT_TRUE(spec.model.empty());
  EXPECT_FALSE(spec.data_given);
  EXPECT_EQ(spec.seed, 0u);  // Seed is commented out
  EXPECT_EQ(spec.batch, 32);
  ASSERT_EQ(spec.experiments.size(), 1u);
  const ExperimentSpec& experiment = spec.experiments[0];
  EXPECT_EQ(experiment.name, "injecttf");
  EXPECT_EQ(experiment.mode, ProbabilityMode::kPerExecution);
  EXPECT_EQ(experiment.probabilities, std::vector<double>{0.5});
  EXPECT_EQ(experiment.repetitions, 1);
  EXPECT_EQ(experiment.metric, Metric::kGroundTruth);
  ASSERT_EQ(experiment.injections.size(), 1u);
  const TargetSpec& target = experiment.injections[0].target;
  EXPECT_EQ(target.kind, TargetSpec::Kind::kOps);
  EXPECT_EQ(target.names, std::vector<std::string>{"Add"});
  EXPECT_FALSE(target.each);
  EXPECT_FALSE(target.all);
  // BitFlip: one random bit (of all 32) of one element of the batch tensor.
  const FaultModel& fault = fault_of(spec);
  EXPECT_EQ(fault.kind, FaultKind::kBitFlip);
  EXPECT_TRUE(fault.bits.empty());
  EXPECT_EQ(fault.count, 1);
  EXPECT_EQ(fault.scope, FaultScope::kElement);
}

TEST(InjectTFConfig, SeedBecomesTheCampaignSeed) {
  EXPECT_EQ(parse_ok(injecttf("BitFlip", "{Add: 0.5}", "Seed: 1000\n")).seed, 1000u);
  EXPECT_EQ(parse_ok(injecttf("BitFlip", "{Add: 0.5}", "Seed: 0\n")).seed, 0u);
}

TEST(InjectTFConfig, ZeroReplacesTheWholeTensor) {
  const FaultModel fault = fault_of(parse_ok(injecttf("Zero")));
  EXPECT_EQ(fault.kind, FaultKind::kZero);
  EXPECT_EQ(fault.scope, FaultScope::kTensor);
}

TEST(InjectTFConfig, RandReplacesTheWholeTensorWithUniformValues) {
  const FaultModel fault = fault_of(parse_ok(injecttf("Rand")));
  EXPECT_EQ(fault.kind, FaultKind::kRandomValue);
  EXPECT_EQ(fault.low, 0.0);
  EXPECT_EQ(fault.high, 1.0);
  EXPECT_EQ(fault.scope, FaultScope::kTensor);
}

TEST(InjectTFConfig, NoneRunsWithoutFaults) {
  const CampaignSpec spec = parse_ok(injecttf("None", "{Relu: 0.7}"));
  EXPECT_EQ(spec.experiments[0].probabilities, std::vector<double>{0.0});
}

TEST(InjectTFConfig, ScalarFaultTypeIsCheckedButChangesNothing) {
  const std::string reference = parse_ok(injecttf("BitFlip")).text;
  for (const char* type : {"None", "Rand", "BitFlip", "Zero"}) {
    const std::string text =
        std::string("ScalarFaultType: ") + type + "\nTensorFaultType: BitFlip\nOps: {Add: 0.5}\n";
    EXPECT_EQ(parse_ok(text).text, reference) << type;
  }
}

TEST(InjectTFConfig, SeveralOpsAreInjectedTogether) {
  const CampaignSpec spec = parse_ok(injecttf("BitFlip", "{Add: 0.25, Relu: 0.25, MUL: 0.25}"));
  ASSERT_EQ(spec.experiments.size(), 1u);
  EXPECT_EQ(spec.experiments[0].injections[0].target.names,
            (std::vector<std::string>{"Add", "Relu", "MUL"}));
  EXPECT_EQ(spec.experiments[0].probabilities, std::vector<double>{0.25});
}

TEST(InjectTFConfig, CommandLineSetsRepetitionsAndBatch) {
  InjectTFRunOptions options;
  options.repetitions = 5;
  options.batch = 100;
  const CampaignSpec spec = parse_ok(kInjectTFExample, options);
  EXPECT_EQ(spec.batch, 100);
  EXPECT_EQ(spec.experiments[0].repetitions, 5);
  // Both are part of the campaign's identity (a resumed run compares the text).
  EXPECT_NE(spec.text, parse_ok(kInjectTFExample).text);
}

TEST(InjectTFConfig, ConvertsInjectTF2RandomBit) {
  const CampaignSpec spec = parse_ok(kInjectTF2Random);
  EXPECT_TRUE(spec.model.empty());
  EXPECT_FALSE(spec.data_given);
  ASSERT_EQ(spec.experiments.size(), 1u);
  const ExperimentSpec& experiment = spec.experiments[0];
  EXPECT_EQ(experiment.name, "injecttf2");
  // Each image gets a fault with probability p (InjectTF2's inject_batch).
  EXPECT_EQ(experiment.mode, ProbabilityMode::kPerInference);
  EXPECT_EQ(experiment.probabilities, std::vector<double>{1.0});
  EXPECT_EQ(experiment.repetitions, 1);
  const TargetSpec& target = experiment.injections.at(0).target;
  EXPECT_EQ(target.kind, TargetSpec::Kind::kLayers);
  EXPECT_EQ(target.names, std::vector<std::string>{"dense_1"});
  const FaultModel& fault = fault_of(spec);
  EXPECT_EQ(fault.kind, FaultKind::kBitFlip);
  EXPECT_TRUE(fault.bits.empty());
  EXPECT_EQ(fault.scope, FaultScope::kElement);
}

TEST(InjectTFConfig, ConvertsInjectTF2SpecificBit) {
  const CampaignSpec spec = parse_ok(kInjectTF2Specific);
  EXPECT_EQ(fault_of(spec).bits, std::vector<int>{31});
  EXPECT_EQ(fault_of(spec).scope, FaultScope::kElement);
  EXPECT_EQ(spec.experiments[0].probabilities, std::vector<double>{1.0});
}

TEST(InjectTFConfig, InjectTF2IgnoresBitNumberWithRandomBit) {
  // InjectTF2's own test config (tests/configuration_files/config_manager_test.yml).
  const CampaignSpec spec = parse_ok(R"(inject_layer:
  layer_name: "test_layer_name"
  fault_type: BitFlip
  bit_flip_type: RandomBit
  bit_number: 31
  probability: 0.25
)");
  EXPECT_TRUE(fault_of(spec).bits.empty());
  EXPECT_EQ(spec.experiments[0].probabilities, std::vector<double>{0.25});
}

TEST(InjectTFConfig, TextIsTheEquivalentCampaign) {
  for (const char* config : {kInjectTFExample, kInjectTF2Specific}) {
    const CampaignSpec spec = parse_ok(config);
    Expected<CampaignSpec> ours = parse_campaign(spec.text, kSource);
    ASSERT_TRUE(ours.has_value()) << ours.status().message() << "\n" << spec.text;
    ASSERT_EQ(ours->experiments.size(), spec.experiments.size());
    EXPECT_EQ(ours->seed, spec.seed);
    EXPECT_EQ(ours->batch, spec.batch);
    const ExperimentSpec& a = ours->experiments[0];
    const ExperimentSpec& b = spec.experiments[0];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.mode, b.mode);
    EXPECT_EQ(a.probabilities, b.probabilities);
    EXPECT_EQ(a.injections[0].target.names, b.injections[0].target.names);
    EXPECT_EQ(a.injections[0].fault.bits, b.injections[0].fault.bits);
    EXPECT_EQ(a.injections[0].fault.kind, b.injections[0].fault.kind);
  }
}

TEST(InjectTFConfig, StoredSpecRebuildsForReplay) {
  CampaignSpec spec = parse_ok(kInjectTF2Specific);
  spec.model = "/models/mnist.h5";
  spec.data.spec = "idx:a.gz,b.gz";
  spec.data_given = true;
  Expected<CampaignSpec> rebuilt = campaign_spec_from_json(campaign_spec_to_json(spec));
  ASSERT_TRUE(rebuilt.has_value()) << rebuilt.status().message();
  EXPECT_EQ(rebuilt->model, spec.model);
  EXPECT_EQ(rebuilt->text, spec.text);
  EXPECT_EQ(rebuilt->experiments[0].injections[0].fault.bits, std::vector<int>{31});
}

TEST(InjectTFConfig, ProbabilitiesKeepEveryDigit) {
  const CampaignSpec spec = parse_ok(injecttf("BitFlip", "{Add: 0.1234567890123}"));
  EXPECT_EQ(spec.experiments[0].probabilities, std::vector<double>{0.1234567890123});
}

TEST(InjectTFConfig, NamesWithSpecialCharactersSurviveTheText) {
  const CampaignSpec spec = parse_ok(R"(inject_layer:
  layer_name: "/net/block #1: \"conv\""
  fault_type: BitFlip
  bit_flip_type: RandomBit
  probability: 0.5
)");
  EXPECT_EQ(spec.experiments[0].injections[0].target.names,
            std::vector<std::string>{"/net/block #1: \"conv\""});
}

TEST(InjectTFConfig, DetectsTheFormat) {
  EXPECT_EQ(injecttf_format(YAML::Load(kInjectTFExample)), InjectTFFormat::kInjectTF);
  EXPECT_EQ(injecttf_format(YAML::Load("Seed: 3")), InjectTFFormat::kInjectTF);
  EXPECT_EQ(injecttf_format(YAML::Load(kInjectTF2Random)), InjectTFFormat::kInjectTF2);
  EXPECT_EQ(injecttf_format(YAML::Load("model: m.onnx\nexperiments: []")), InjectTFFormat::kNone);
  EXPECT_EQ(injecttf_format(YAML::Load("[1, 2]")), InjectTFFormat::kNone);
  EXPECT_EQ(injecttf_format(YAML::Load("just text")), InjectTFFormat::kNone);
  EXPECT_TRUE(looks_like_injecttf_config(YAML::Load(kInjectTF2Specific)));
  EXPECT_FALSE(looks_like_injecttf_config(YAML::Load("model: m.onnx")));
}

class InjectTFConfigFile : public testing::TempDirTest {};

TEST_F(InjectTFConfigFile, LoadsFromAFile) {
  const auto file = write_file("InjectTF_conf.yml", kInjectTFExample);
  EXPECT_TRUE(looks_like_injecttf_config_file(file));
  Expected<CampaignSpec> spec = load_injecttf_config(file);
  ASSERT_TRUE(spec.has_value()) << spec.status().message();
  EXPECT_EQ(spec->source, file);
  EXPECT_EQ(spec->experiments[0].injections[0].target.names, std::vector<std::string>{"Add"});
}

TEST_F(InjectTFConfigFile, OwnCampaignsAndBrokenFilesAreNotInjectTF) {
  EXPECT_FALSE(looks_like_injecttf_config_file(write_file("c.yaml", "model: m.onnx\n")));
  EXPECT_FALSE(looks_like_injecttf_config_file(write_file("bad.yaml", "Ops: [unclosed\n")));
  EXPECT_FALSE(looks_like_injecttf_config_file(path("missing.yml")));
}

TEST_F(InjectTFConfigFile, RejectsAMissingFile) {
  Expected<CampaignSpec> spec = load_injecttf_config(path("missing.yml"));
  ASSERT_FALSE(spec.has_value());
  expect_contains(spec.status().message(), {"missing.yml", "cannot open"});
}

// --- InjectTF errors ---------------------------------------------------------

TEST(InjectTFConfig, RejectsUnknownKeys) {
  expect_contains(error_of(injecttf("BitFlip", "{Add: 0.5}", "Sed: 3\n")),
                  {kSource, ":4:", "key 'Sed'", "Seed, ScalarFaultType, TensorFaultType, Ops"});
}

TEST(InjectTFConfig, RejectsAMixOfBothFormats) {
  expect_contains(error_of(injecttf("BitFlip", "{Add: 0.5}", "inject_layer: {}\n")),
                  {"key 'inject_layer'", "unknown key"});
}

TEST(InjectTFConfig, RejectsMissingFaultTypes) {
  expect_contains(error_of("TensorFaultType: BitFlip\nOps: {Add: 0.5}\n"),
                  {kSource, "missing 'ScalarFaultType'", "None, Rand, BitFlip or Zero"});
  expect_contains(error_of("ScalarFaultType: BitFlip\nOps: {Add: 0.5}\n"),
                  {"missing 'TensorFaultType'"});
}

TEST(InjectTFConfig, RejectsUnknownFaultTypes) {
  expect_contains(error_of(injecttf("bitflip")), {kSource, ":2:", "key 'TensorFaultType'",
                                                  "None, Rand, BitFlip, Zero", "got 'bitflip'"});
  expect_contains(error_of("ScalarFaultType: Random\nTensorFaultType: Zero\nOps: {Add: 0.5}\n"),
                  {":1:", "key 'ScalarFaultType'", "got 'Random'"});
}

TEST(InjectTFConfig, RejectsMissingOrEmptyOps) {
  expect_contains(error_of("ScalarFaultType: BitFlip\nTensorFaultType: BitFlip\n"),
                  {"missing 'Ops'", "{Add: 0.5}"});
  expect_contains(error_of(injecttf("BitFlip", "{}")), {"key 'Ops'", "op types with"});
  expect_contains(error_of(injecttf("BitFlip", "[Add, Relu]")), {"key 'Ops'", "op types with"});
}

TEST(InjectTFConfig, RejectsBadProbabilities) {
  expect_contains(error_of(injecttf("BitFlip", "{Add: 1.5}")),
                  {":3:", "key 'Ops.Add'", "[0, 1]", "1.5"});
  expect_contains(error_of(injecttf("BitFlip", "{Add: half}")),
                  {"key 'Ops.Add'", "expected a number", "half"});
  expect_contains(error_of(injecttf("BitFlip", "{Add: -0.1}")), {"key 'Ops.Add'", "[0, 1]"});
}

TEST(InjectTFConfig, RejectsOpsWithDifferentProbabilities) {
  expect_contains(
      error_of(injecttf("BitFlip", "\n  Add: 0.5\n  Relu: 0.1")),
      {":5:", "key 'Ops.Relu'", "0.1 differs from Add's 0.5", "same run", "same probability"});
}

TEST(InjectTFConfig, RejectsBadSeeds) {
  expect_contains(error_of(injecttf("BitFlip", "{Add: 0.5}", "Seed: -4\n")),
                  {"key 'Seed'", "unsigned 64-bit integer", "-4"});
  expect_contains(error_of(injecttf("BitFlip", "{Add: 0.5}", "Seed: 1.5\n")), {"key 'Seed'"});
}

TEST(InjectTFConfig, RejectsBadRunOptions) {
  InjectTFRunOptions options;
  options.repetitions = 0;
  expect_contains(error_of(kInjectTFExample, options), {"repetitions", "at least 1"});
  options = {};
  options.batch = 0;
  expect_contains(error_of(kInjectTFExample, options), {"batch", "1 to 65536"});
}

TEST(InjectTFConfig, RejectsOtherFiles) {
  expect_contains(error_of("model: m.onnx\nexperiments: []\n"),
                  {kSource, "not an InjectTF config", "inject_layer"});
  expect_contains(error_of("Ops: {Add: [unclosed\n"), {kSource, "not valid YAML"});
}

// --- InjectTF2 errors --------------------------------------------------------

std::string injecttf2(const std::string& body) { return "inject_layer:\n" + body; }

TEST(InjectTFConfig, RejectsUnknownInjectTF2Keys) {
  expect_contains(error_of(injecttf2("  layer_name: d\n  elements: all\n")),
                  {":3:", "key 'inject_layer.elements'",
                   "layer_name, fault_type, bit_flip_type, bit_number, probability"});
  expect_contains(error_of(std::string(kInjectTF2Random) + "inject_layer_number: {1: {}}\n"),
                  {"key 'inject_layer_number'", "allowed here: inject_layer"});
}

TEST(InjectTFConfig, RejectsInjectLayerThatIsNoMapping) {
  expect_contains(error_of("inject_layer: [dense_1]\n"), {"key 'inject_layer'", "mapping"});
  expect_contains(error_of("inject_layer:\n"), {"key 'inject_layer'", "mapping"});
}

TEST(InjectTFConfig, RejectsMissingInjectTF2Keys) {
  const std::string all =
      "  layer_name: d\n  fault_type: BitFlip\n  bit_flip_type: RandomBit\n  probability: 1\n";
  for (const char* key : {"layer_name", "fault_type", "bit_flip_type", "probability"}) {
    std::string body;
    std::istringstream lines(all);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(std::string(key) + ":") == std::string::npos) body += line + "\n";
    }
    expect_contains(error_of(injecttf2(body)),
                    {kSource, "key 'inject_layer'", std::string("missing '") + key + "'"});
  }
}

TEST(InjectTFConfig, RejectsFaultTypesOtherThanBitFlip) {
  expect_contains(error_of(injecttf2("  layer_name: d\n  fault_type: Zero\n  bit_flip_type: "
                                     "RandomBit\n  probability: 1\n")),
                  {":3:", "key 'inject_layer.fault_type'", "BitFlip", "got 'Zero'"});
}

TEST(InjectTFConfig, RejectsUnknownBitFlipTypes) {
  expect_contains(error_of(injecttf2("  layer_name: d\n  fault_type: BitFlip\n  bit_flip_type: "
                                     "Random\n  probability: 1\n")),
                  {":4:", "key 'inject_layer.bit_flip_type'", "RandomBit, SpecificBit"});
}

TEST(InjectTFConfig, RejectsSpecificBitWithoutBitNumber) {
  expect_contains(error_of(injecttf2("  layer_name: d\n  fault_type: BitFlip\n  bit_flip_type: "
                                     "SpecificBit\n  probability: 1\n")),
                  {"key 'inject_layer'", "missing 'bit_number'", "SpecificBit"});
}

TEST(InjectTFConfig, RejectsBitNumbersOutsideFloat32) {
  for (const char* bit : {"32", "-1", "sign"}) {
    expect_contains(error_of(injecttf2(std::string("  layer_name: d\n  fault_type: BitFlip\n  "
                                                   "bit_flip_type: SpecificBit\n  bit_number: ") +
                                       bit + "\n  probability: 1\n")),
                    {":5:", "key 'inject_layer.bit_number'", "0 to 31", bit});
  }
}

TEST(InjectTFConfig, RejectsInjectTF2ProbabilitiesOutsideZeroToOne) {
  expect_contains(error_of(injecttf2("  layer_name: d\n  fault_type: BitFlip\n  bit_flip_type: "
                                     "RandomBit\n  probability: 2\n")),
                  {":5:", "key 'inject_layer.probability'", "[0, 1]"});
}

// --- op types against a model -------------------------------------------------

Graph graph_with_ops(const std::vector<std::pair<OpType, std::string>>& ops) {
  Graph graph;
  for (const auto& [op, source] : ops) {
    Node node;
    node.name = std::string("n").append(
        std::to_string(graph.nodes.size()));  // not "n" + ...: GCC 12 -Wrestrict
    node.op = op;
    node.source_op = source;
    graph.nodes.push_back(node);
  }
  return graph;
}

std::vector<std::string> resolved(const std::string& ops, const Graph& graph) {
  CampaignSpec spec = parse_ok(injecttf("BitFlip", ops));
  Status status = resolve_injecttf_op_types(spec, graph);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return spec.experiments[0].injections[0].target.names;
}

TEST(InjectTFOpTypes, MatchCaseInsensitively) {
  const Graph onnx = graph_with_ops({{OpType::kConv, "Conv"}, {OpType::kRelu, "Relu"}});
  EXPECT_EQ(resolved("{RELU: 0.5}", onnx), std::vector<std::string>{"Relu"});
  EXPECT_EQ(resolved("{relu: 0.5}", onnx), std::vector<std::string>{"Relu"});
}

TEST(InjectTFOpTypes, AddMatchesAddV2) {
  const Graph tf115 = graph_with_ops(
      {{OpType::kMatMul, "MatMul"}, {OpType::kAdd, "AddV2"}, {OpType::kRelu, "Relu"}});
  EXPECT_EQ(resolved("{Add: 0.5}", tf115), std::vector<std::string>{"AddV2"});
  EXPECT_EQ(resolved("{ADD: 0.5}", tf115), std::vector<std::string>{"AddV2"});
  const Graph both = graph_with_ops({{OpType::kAdd, "Add"}, {OpType::kAdd, "AddV2"}});
  EXPECT_EQ(resolved("{Add: 0.5}", both), (std::vector<std::string>{"Add", "AddV2"}));
}

TEST(InjectTFOpTypes, TensorFlowNamesFindOnnxOpsOnlyWhenTheirOwnAreAbsent) {
  const Graph onnx = graph_with_ops({{OpType::kConv, "Conv"}, {OpType::kGemm, "Gemm"}});
  EXPECT_EQ(resolved("{Conv2D: 0.5, MatMul: 0.5}", onnx),
            (std::vector<std::string>{"Conv", "Gemm"}));
  const Graph mixed = graph_with_ops({{OpType::kMatMul, "MatMul"}, {OpType::kGemm, "Gemm"}});
  EXPECT_EQ(resolved("{MatMul: 0.5}", mixed), std::vector<std::string>{"MatMul"});
}

TEST(InjectTFOpTypes, IrOpNamesStandInForMissingSourceOps) {
  const Graph graph = graph_with_ops({{OpType::kRelu, ""}, {OpType::kAdd, ""}});
  EXPECT_EQ(resolved("{Relu: 0.5, add: 0.5}", graph), (std::vector<std::string>{"Relu", "Add"}));
}

TEST(InjectTFOpTypes, TextNamesTheResolvedTypes) {
  CampaignSpec spec = parse_ok(injecttf("BitFlip", "{ADD: 0.5}"));
  ASSERT_TRUE(resolve_injecttf_op_types(spec, graph_with_ops({{OpType::kAdd, "AddV2"}})).is_ok());
  EXPECT_NE(spec.text.find("AddV2"), std::string::npos) << spec.text;
  EXPECT_EQ(spec.text.find("ADD"), std::string::npos) << spec.text;
  Expected<CampaignSpec> ours = parse_campaign(spec.text, kSource);
  ASSERT_TRUE(ours.has_value()) << ours.status().message();
  EXPECT_EQ(ours->experiments[0].injections[0].target.names, std::vector<std::string>{"AddV2"});
}

TEST_F(InjectTFConfigFile, RejectsOpTypesTheModelLacks) {
  const auto file = write_file("conf.yml", injecttf("BitFlip", "\n  Relu: 0.5\n  Sub: 0.5"));
  Expected<CampaignSpec> spec = load_injecttf_config(file);
  ASSERT_TRUE(spec.has_value()) << spec.status().message();
  const Status status = resolve_injecttf_op_types(
      *spec, graph_with_ops({{OpType::kConv, "Conv"}, {OpType::kRelu, "Relu"}}));
  ASSERT_FALSE(status.is_ok());
  expect_contains(status.message(), {file.string() + ":5:", "key 'Ops.Sub'", "no op of type Sub",
                                     "its op types: Conv, Relu"});
}

}  // namespace
}  // namespace nnfi
