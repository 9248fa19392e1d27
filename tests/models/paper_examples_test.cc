// The campaign files of examples/ (the paper's three experiments) run as
// written, pointed at ../shared/fixtures instead of a user's copies of the
// models and data, with fewer repetitions and images to stay quick.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/temp_files.h"
#include "nnfi/campaign.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::fixtures_dir;

class PaperExamples : public testing::TempDirTest {
 protected:
  // Loads examples/<file>, retargets model and data at the fixtures, keeps
  // `repetitions` per experiment and `limit` images (0: all), runs it.
  nlohmann::json run_example(const std::string& file, const std::string& model,
                             const std::string& data, int64_t repetitions, int64_t limit) {
    Expected<CampaignSpec> loaded =
        load_campaign_file(std::string(NNFI_SOURCE_DIR) + "/examples/" + file);
    EXPECT_TRUE(loaded.has_value()) << loaded.status().message();
    if (!loaded.has_value()) return {};
    CampaignSpec spec = *loaded;
    spec.model = fixtures_dir() / model;
    spec.data.spec = data;
    spec.data.limit = limit;
    spec.data.sample = 0;
    for (ExperimentSpec& experiment : spec.experiments) experiment.repetitions = repetitions;
    RunOptions options;
    options.out_dir = path("out");
    options.progress = false;
    const Status status = run_campaign(spec, options);
    EXPECT_TRUE(status.is_ok()) << status.message();
    std::ifstream summary(path("out") / "summary.json");
    return nlohmann::json::parse(summary, nullptr, false);
  }
};

TEST_F(PaperExamples, GtsrbLayerwiseSweepAndCriticality) {
  NNFI_REQUIRE_FIXTURES();
  const nlohmann::json summary =
      run_example("gtsrb_layerwise/campaign.yaml", "keras/gtsrb_cnn_keras2.11.h5",
                  "gtsrb:" + (fixtures_dir() / "data/gtsrb_test_32x32").string(), 2, 200);
  ASSERT_TRUE(summary["complete"].get<bool>());
  const double golden = summary["golden"]["accuracy"];
  EXPECT_GE(golden, 0.93);
  const auto& sweep = summary["experiments"][0];
  EXPECT_EQ(sweep["settings"].size(), 12u * 6u);  // 12 layers x 6 probabilities
  EXPECT_EQ(sweep["fits"].size(), 12u);
  for (const auto& setting : sweep["settings"]) {
    if (setting["probability"].get<double>() == 0.0) {
      EXPECT_EQ(setting["accuracy"]["mean"].get<double>(), golden);
    }
  }
  // The output layer loses accuracy with p.
  for (const auto& fit : sweep["fits"]) {
    if (fit["group"] == "dense_1") {
      EXPECT_LT(fit["slope"].get<double>(), 0.0);
    }
  }
  const auto& criticality = summary["experiments"][1];
  EXPECT_EQ(criticality["metric"], "golden");
  EXPECT_EQ(criticality["settings"].size(), 12u);
}

TEST_F(PaperExamples, MobilenetOperationwiseInjectsAddSubMulRsqrt) {
  NNFI_REQUIRE_FIXTURES();
  const nlohmann::json summary =
      run_example("mobilenet_operationwise/campaign.yaml", "tf/mobilenet_v1_0.25_224_frozen.pb",
                  "folder:" + (fixtures_dir() / "data/imagenet_samples").string(), 1, 0);
  ASSERT_TRUE(summary["complete"].get<bool>());
  EXPECT_DOUBLE_EQ(summary["golden"]["accuracy"].get<double>(), 0.8);  // 16/20, as the README
  const auto& settings = summary["experiments"][0]["settings"];
  ASSERT_EQ(settings.size(), 4u * 5u);
  std::vector<std::string> groups;
  for (const auto& setting : settings) {
    if (setting["probability"].get<double>() == 1.0) {
      groups.push_back(setting["group"]);
      EXPECT_GT(setting["faults"].get<int64_t>(), 0) << setting["group"];
      EXPECT_LT(setting["accuracy"]["mean"].get<double>(), 0.8) << setting["group"];
    }
  }
  EXPECT_EQ(groups, (std::vector<std::string>{"Add", "Sub", "Mul", "Rsqrt"}));
}

TEST_F(PaperExamples, DeepCriticalityOnBranchingResnet20) {
  NNFI_REQUIRE_FIXTURES();
  const nlohmann::json summary =
      run_example("criticality_deep/resnet20.yaml", "keras/cifar10_resnet20v1_keras2.2.5.h5",
                  "folder:" + (fixtures_dir() / "data/cifar10_samples").string(), 1, 0);
  ASSERT_TRUE(summary["complete"].get<bool>());
  EXPECT_DOUBLE_EQ(summary["golden"]["accuracy"].get<double>(), 1.0);  // 20/20
  const auto& settings = summary["experiments"][0]["settings"];
  EXPECT_GT(settings.size(), 60u);  // every Keras layer of ResNet20, Add merges included
  bool has_add = false;
  for (const auto& setting : settings) has_add = has_add || setting["class"] == "Add";
  EXPECT_TRUE(has_add);
}

TEST_F(PaperExamples, DeepCriticalityOnMobilenet) {
  NNFI_REQUIRE_FIXTURES();
  const nlohmann::json summary =
      run_example("criticality_deep/mobilenet.yaml", "tf/mobilenet_v1_0.25_224_frozen.pb",
                  "folder:" + (fixtures_dir() / "data/imagenet_samples").string(), 1, 10);
  ASSERT_TRUE(summary["complete"].get<bool>());
  EXPECT_GT(summary["experiments"][0]["settings"].size(), 20u);
}

}  // namespace
}  // namespace nnfi
