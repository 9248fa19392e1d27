// The campaign file: every key parsed, every error naming file, line, key and
// what is allowed.
#include <gtest/gtest.h>

#include <cmath>

#include "nnfi/campaign.h"

namespace nnfi {
namespace {

const char* kValid = R"(model: models/cnn.h5
data: {spec: "gtsrb:data/gtsrb", resize: [30, 30], scale: 1}
seed: 7
batch: 16
record_faults: non_masked
experiments:
  - name: layer_sweep
    target: {layers: each}
    fault: {model: bitflip, bits: random}
    probability: [0.0, 0.5, 1.0]
    repetitions: 10
    metric: ground_truth
  - name: exponent
    target: {layer_classes: [Conv2D], each: true}
    fault: {model: bitflip, bits: "23..30", count: 2}
    faults_per_inference: [1, 2]
  - name: together
    faults:
      - {target: {ops: [Add, Sub]}, fault: {model: set, value: nan}}
      - {target: {weights: [conv1]}, fault: {model: stuck_at, bits: [30], value: 1}, duration: inference}
    probability: 0.1
    probability_mode: per_inference
    metric: golden
)";

Expected<CampaignSpec> parse(const std::string& text) {
  return parse_campaign(text, "/campaigns/test.yaml");
}

std::string error_of(const std::string& text) {
  Expected<CampaignSpec> spec = parse(text);
  EXPECT_FALSE(spec.has_value()) << text;
  return spec.has_value() ? std::string() : spec.status().message();
}

TEST(CampaignConfig, ParsesEveryPart) {
  Expected<CampaignSpec> parsed = parse(kValid);
  ASSERT_TRUE(parsed.has_value()) << parsed.status().message();
  const CampaignSpec& spec = *parsed;
  EXPECT_EQ(spec.model, std::filesystem::path("/campaigns/models/cnn.h5"));
  EXPECT_EQ(spec.data.spec, "gtsrb:/campaigns/data/gtsrb");
  EXPECT_EQ(spec.data.preprocessing.resize_height, 30);
  EXPECT_EQ(spec.data.preprocessing.scale, 1.0);
  EXPECT_EQ(spec.seed, 7u);
  EXPECT_EQ(spec.batch, 16);
  EXPECT_EQ(spec.record_faults, FaultRecording::kNonMasked);
  ASSERT_EQ(spec.experiments.size(), 3u);

  const ExperimentSpec& sweep = spec.experiments[0];
  EXPECT_EQ(sweep.probabilities, (std::vector<double>{0.0, 0.5, 1.0}));
  EXPECT_EQ(sweep.repetitions, 10);
  EXPECT_TRUE(sweep.injections[0].target.all);
  EXPECT_TRUE(sweep.injections[0].target.each);
  EXPECT_EQ(sweep.injections[0].fault.kind, FaultKind::kBitFlip);
  EXPECT_TRUE(sweep.injections[0].fault.bits.empty());

  const ExperimentSpec& exponent = spec.experiments[1];
  EXPECT_EQ(exponent.mode, ProbabilityMode::kExactCount);
  EXPECT_EQ(exponent.fault_counts, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(exponent.injections[0].target.names, (std::vector<std::string>{"class:Conv2D"}));
  EXPECT_EQ(exponent.injections[0].fault.bits, (std::vector<int>{23, 24, 25, 26, 27, 28, 29, 30}));
  EXPECT_EQ(exponent.injections[0].fault.count, 2);

  const ExperimentSpec& together = spec.experiments[2];
  ASSERT_EQ(together.injections.size(), 2u);
  EXPECT_EQ(together.injections[0].target.kind, TargetSpec::Kind::kOps);
  EXPECT_TRUE(std::isnan(together.injections[0].fault.value));
  EXPECT_EQ(together.injections[1].target.kind, TargetSpec::Kind::kWeights);
  EXPECT_EQ(together.injections[1].fault.stuck_value, 1);
  EXPECT_EQ(together.injections[1].weight_duration, WeightFaultDuration::kInference);
  EXPECT_EQ(together.metric, Metric::kGolden);
}

TEST(CampaignConfig, ImagesDefaultToOneOver255LikeTheCommandLine) {
  Expected<CampaignSpec> spec = parse(
      "model: m.onnx\ndata: \"idx:a,b\"\nexperiments: [{name: e, target: {layers: each}, "
      "fault: {model: zero}, probability: 1}]\n");
  ASSERT_TRUE(spec.has_value()) << spec.status().message();
  EXPECT_DOUBLE_EQ(spec->data.preprocessing.scale, 1.0 / 255.0);
  Expected<CampaignSpec> fraction = parse(
      "model: m.onnx\ndata: {spec: \"idx:a,b\", scale: 2/255}\nexperiments: [{name: e, "
      "target: {layers: each}, fault: {model: zero}, probability: 1}]\n");
  ASSERT_TRUE(fraction.has_value()) << fraction.status().message();
  EXPECT_DOUBLE_EQ(fraction->data.preprocessing.scale, 2.0 / 255.0);
}

TEST(CampaignConfig, CanonicalTextIgnoresComments) {
  Expected<CampaignSpec> a = parse(kValid);
  Expected<CampaignSpec> b = parse(std::string("# a comment\n") + kValid);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->text, b->text);
}

TEST(CampaignConfig, RejectsUnknownKeyWithLineAndAllowedKeys) {
  const std::string message = error_of(
      "model: m.onnx\nexperiments:\n  - name: e\n    target: {layers: each}\n"
      "    fault: {model: bitflip}\n    probabilty: [0.1]\n");
  EXPECT_NE(message.find("/campaigns/test.yaml:6"), std::string::npos) << message;
  EXPECT_NE(message.find("experiments[0].probabilty"), std::string::npos) << message;
  EXPECT_NE(message.find("allowed here: name, target, fault"), std::string::npos) << message;
}

struct BadConfig {
  const char* name;
  const char* text;
  const char* expected;  // a part of the message
};

const std::string kHead = "model: m.onnx\n";
const std::string kExperiment =
    "experiments:\n  - name: e\n    target: {layers: each}\n    fault: {model: bitflip}\n";

class CampaignConfigRejects : public ::testing::TestWithParam<BadConfig> {};

TEST_P(CampaignConfigRejects, NamesTheProblem) {
  const std::string message = error_of(GetParam().text);
  EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
  EXPECT_NE(message.find("/campaigns/test.yaml"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, CampaignConfigRejects,
    ::testing::Values(
        BadConfig{"NotYaml", "model: [unclosed\n", "not valid YAML"},
        BadConfig{"NotAMapping", "- a\n- b\n", "expected a campaign"},
        BadConfig{"NoModel", "experiments: []\n", "missing 'model'"},
        BadConfig{"NoExperiments", "model: m.onnx\n", "missing 'experiments'"},
        BadConfig{"EmptyExperiments", "model: m.onnx\nexperiments: []\n",
                  "expected a non-empty list of experiments"},
        BadConfig{"ProbabilityAboveOne",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: zero}, probability: [0.5, 1.5]}\n",
                  "expected probabilities in [0, 1]"},
        BadConfig{"NoProbability",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: zero}}\n",
                  "give exactly one of 'probability'"},
        BadConfig{"BothProbabilityAndCount",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: zero}, probability: 1, faults_per_inference: 2}\n",
                  "give exactly one of 'probability'"},
        BadConfig{"UnknownFaultModel",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: melt}, probability: 1}\n",
                  "expected one of bitflip, stuck_at, zero, random_value, set, got 'melt'"},
        BadConfig{"BitOutOfRange",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: bitflip, bits: [31, 64]}, probability: 1}\n",
                  "expected an integer >= 0 and <= 63, got '64'"},
        BadConfig{"BadBitRange",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: bitflip, bits: \"30..23\"}, probability: 1}\n",
                  "expected a bit range LOW..HIGH"},
        BadConfig{"StuckAtWithoutValue",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: stuck_at, bits: [3]}, probability: 1}\n",
                  "missing 'value' (0 or 1)"},
        BadConfig{"KeyOfAnotherFaultModel",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: zero, bits: [3]}, probability: 1}\n",
                  "unknown key; allowed here: model, scope"},
        BadConfig{"EmptyRandomRange",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: random_value, low: 2, high: 1}, probability: 1}\n",
                  "expected low < high"},
        BadConfig{"TwoSelectors",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each, ops: [Add]}, "
                  "fault: {model: zero}, probability: 1}\n",
                  "expected exactly one of layers"},
        BadConfig{"RepeatedName",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: zero}, probability: 1}\n  - {name: e, target: {layers: each}, fault: "
                  "{model: zero}, probability: 1}\n",
                  "is used twice"},
        BadConfig{"NegativeRepetitions",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: zero}, probability: 1, repetitions: 0}\n",
                  "expected an integer >= 1"},
        BadConfig{"BadMetric",
                  "model: m.onnx\nexperiments:\n  - {name: e, target: {layers: each}, fault: "
                  "{model: zero}, probability: 1, metric: top5}\n",
                  "expected one of ground_truth, golden"},
        BadConfig{"BadScale",
                  "model: m.onnx\ndata: {spec: \"idx:a,b\", scale: 1/zero}\nexperiments:\n  - "
                  "{name: e, target: {layers: each}, fault: {model: zero}, probability: 1}\n",
                  "expected a number or a fraction"},
        BadConfig{"DataWithoutSpec",
                  "model: m.onnx\ndata: {scale: 1}\nexperiments:\n  - {name: e, target: "
                  "{layers: each}, fault: {model: zero}, probability: 1}\n",
                  "missing 'spec'"},
        BadConfig{"BadSeed",
                  "model: m.onnx\nseed: -3\nexperiments:\n  - {name: e, target: {layers: each}, "
                  "fault: {model: zero}, probability: 1}\n",
                  "expected an unsigned 64-bit integer"}),
    [](const ::testing::TestParamInfo<BadConfig>& info) { return info.param.name; });

TEST(CampaignConfig, MissingFileIsAnError) {
  Expected<CampaignSpec> spec = load_campaign_file("/nonexistent/campaign.yaml");
  ASSERT_FALSE(spec.has_value());
  EXPECT_NE(spec.status().message().find("/nonexistent/campaign.yaml: cannot open"),
            std::string::npos);
}

}  // namespace
}  // namespace nnfi
