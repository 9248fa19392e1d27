// Campaigns end to end on a branching model and the Fashion-MNIST CNN: the
// cached-prefix engine agrees bit for bit with the naive one, results do not
// depend on threads or batch size, p = 0 is the golden run, the share of
// faulted inferences follows p, and a changed campaign is refused.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "campaign/campaign_test_support.h"
#include "campaign/statistics.h"
#include "campaign/summary.h"

namespace nnfi::testing {
namespace {

std::string branching_campaign(const std::string& experiments, int64_t batch = 16) {
  return "model: branching.onnx\n"
         "data: {spec: \"npy:x.npy,y.npy\"}\n"
         "seed: 11\n"
         "batch: " +
         std::to_string(batch) + "\nexperiments:\n" + experiments;
}

// Every kind of site and fault, on a DAG (skip connection and concat).
const char* kEveryKind = R"(  - name: layers
    target: {layers: each}
    fault: {model: bitflip, bits: random}
    probability: [0.5, 1.0]
    repetitions: 2
  - name: ops_together
    target: {ops: [Add, Conv]}
    fault: {model: bitflip, bits: exponent, count: 2}
    probability: 0.3
    repetitions: 2
    metric: golden
  - name: exact
    target: {layers: all}
    fault: {model: bitflip, bits: "20..31", burst: 3}
    faults_per_inference: [3]
  - name: values
    faults:
      - {target: {nodes: [relu1]}, fault: {model: set, value: nan}}
      - {target: {nodes: [conv3]}, fault: {model: random_value, low: -10, high: 10}}
      - {target: {input: true}, fault: {model: stuck_at, bits: [30], value: 1}}
    probability: 0.4
  - name: weights
    target: {weights: each}
    fault: {model: bitflip, bits: random}
    probability: 1.0
    repetitions: 2
  - name: weights_per_image
    target: {weights: [w3]}
    fault: {model: bitflip, bits: [30]}
    duration: inference
    probability: 0.2
  - name: shared
    target: {ops: [Sqrt]}
    fault: {model: bitflip, bits: random}
    probability: [0.3, 1.0]
  - name: shared_execution
    target: {ops: [Sqrt, Mul], each: true}
    fault: {model: bitflip, bits: random}
    probability: 0.7
    probability_mode: per_execution
    repetitions: 2
  - name: execution
    target: {ops: [Relu], each: true}
    fault: {model: zero, scope: {elements: 4}}
    probability: 0.5
    probability_mode: per_execution
    repetitions: 3
)";

class CampaignRun : public CampaignTest {
 protected:
  void SetUp() override {
    CampaignTest::SetUp();
    write_branching_model(dir_, 96);
  }
};

TEST_F(CampaignRun, CachedPrefixAgreesWithNaiveBitForBitOnABranchingModel) {
  const CampaignSpec spec = campaign(branching_campaign(kEveryKind));
  RunOptions naive;
  naive.engine = Engine::kNaive;
  const nlohmann::json a = run(spec, "cached");
  const nlohmann::json b = run(spec, "naive", naive);
  const std::vector<std::string> faults = fault_rows("cached");
  EXPECT_GT(faults.size(), 2000u);  // thousands of random faults
  EXPECT_EQ(faults, fault_rows("naive"));
  EXPECT_EQ(unit_rows("cached"), unit_rows("naive"));
  EXPECT_EQ(a["experiments"], b["experiments"]);
  // Not everything is masked: the comparison is about real propagation.
  int64_t sdc = 0, masked = 0;
  for (const auto& experiment : a["experiments"]) {
    for (const auto& setting : experiment["settings"]) {
      sdc += setting["outcomes"]["sdc"].get<int64_t>();
      masked += setting["outcomes"]["masked"].get<int64_t>();
    }
  }
  EXPECT_GT(sdc, 0);
  EXPECT_GT(masked, 0);
}

TEST_F(CampaignRun, SameSeedSameSummaryForAnyThreadsAndBatch) {
  const std::string experiments = R"(  - name: layers
    target: {layers: each}
    fault: {model: bitflip, bits: random}
    probability: [0.25, 1.0]
    repetitions: 2
  - name: exact
    target: {layers: all}
    fault: {model: bitflip}
    faults_per_inference: 2
)";
  RunOptions one_thread;
  one_thread.threads = 1;
  RunOptions two_threads;
  two_threads.threads = 2;
  const nlohmann::json batch1 =
      run(campaign(branching_campaign(experiments, 1), "b1.yaml"), "b1", one_thread);
  const nlohmann::json batch32 =
      run(campaign(branching_campaign(experiments, 32), "b32.yaml"), "b32", two_threads);
  const nlohmann::json batch32_one =
      run(campaign(branching_campaign(experiments, 32), "b32.yaml"), "b32_one", one_thread);
  // Several small batches on two threads run side by side, one per thread.
  const nlohmann::json batch5 =
      run(campaign(branching_campaign(experiments, 5), "b5.yaml"), "b5", two_threads);
  EXPECT_EQ(batch5["timing"]["batch_workers"], 2);
  EXPECT_EQ(batch1["experiments"], batch32["experiments"]);
  EXPECT_EQ(batch32["experiments"], batch32_one["experiments"]);
  EXPECT_EQ(batch5["experiments"], batch32["experiments"]);
  EXPECT_EQ(batch1["golden"], batch32["golden"]);
  EXPECT_EQ(batch5["golden"], batch32["golden"]);
  EXPECT_EQ(fault_rows("b1"), fault_rows("b32"));
  EXPECT_EQ(fault_rows("b5"), fault_rows("b32"));
}

TEST_F(CampaignRun, ZeroProbabilityIsTheGoldenRunWithoutSpread) {
  const nlohmann::json summary = run(campaign(branching_campaign(R"(  - name: none
    target: {layers: each}
    fault: {model: bitflip}
    probability: 0.0
    repetitions: 4
)")),
                                     "out");
  const double golden = summary["golden"]["accuracy"];
  for (const auto& setting : summary["experiments"][0]["settings"]) {
    EXPECT_EQ(setting["accuracy"]["mean"].get<double>(), golden);
    EXPECT_EQ(setting["accuracy"]["std"].get<double>(), 0.0);
    EXPECT_EQ(setting["faulted_inferences"].get<int64_t>(), 0);
    EXPECT_EQ(setting["golden_agreement"]["min"].get<double>(), 1.0);
  }
  EXPECT_TRUE(fault_rows("out").empty());
  EXPECT_TRUE(summary["complete"].get<bool>());
}

TEST_F(CampaignRun, ShareOfFaultedInferencesFollowsP) {
  const nlohmann::json summary = run(campaign(branching_campaign(R"(  - name: share
    target: {layers: [conv2]}
    fault: {model: bitflip}
    probability: [0.1, 0.3, 0.7]
    repetitions: 20
)")),
                                     "out");
  for (const auto& setting : summary["experiments"][0]["settings"]) {
    const double p = setting["probability"];
    const int64_t trials = setting["inferences"];
    const int64_t faulted = setting["faulted_inferences"];
    EXPECT_EQ(trials, 96 * 20);
    // The 99.9% Wilson interval of the observed share holds p.
    const campaign::Interval interval = campaign::wilson_interval(faulted, trials, 3.2905);
    EXPECT_LE(interval.low, p) << "p=" << p << " faulted " << faulted << "/" << trials;
    EXPECT_GE(interval.high, p) << "p=" << p << " faulted " << faulted << "/" << trials;
  }
}

TEST_F(CampaignRun, ExactlyKFaultsPerInference) {
  const nlohmann::json summary = run(campaign(branching_campaign(R"(  - name: exact
    target: {layers: [conv1, conv2]}
    fault: {model: bitflip}
    faults_per_inference: [1, 3]
)")),
                                     "out");
  const auto& settings = summary["experiments"][0]["settings"];
  ASSERT_EQ(settings.size(), 2u);
  EXPECT_EQ(settings[0]["faulted_inferences"].get<int64_t>(), 96);
  EXPECT_EQ(settings[0]["faults"].get<int64_t>(), 96);
  EXPECT_EQ(settings[1]["faults"].get<int64_t>(), 3 * 96);
}

TEST_F(CampaignRun, PerExecutionDrawsOncePerBatch) {
  const nlohmann::json summary = run(campaign(branching_campaign(R"(  - name: injecttf
    target: {ops: [Relu]}
    fault: {model: bitflip}
    probability: 1.0
    probability_mode: per_execution
)")),
                                     "out");
  // 96 images in batches of 16: one fault per Relu node per batch.
  const auto& setting = summary["experiments"][0]["settings"][0];
  EXPECT_EQ(setting["faults"].get<int64_t>(), 2 * 6);
  EXPECT_LE(setting["faulted_inferences"].get<int64_t>(), 12);
}

TEST_F(CampaignRun, PerExecutionTensorScopeHitsTheWholeBatchTensor) {
  // InjectTF's Zero: a hit zeroes the node's whole output over the batch.
  const nlohmann::json summary = run(campaign(branching_campaign(R"(  - name: zero
    target: {nodes: [relu2]}
    fault: {model: zero, scope: tensor}
    probability: 1.0
    probability_mode: per_execution
)")),
                                     "out");
  const auto& setting = summary["experiments"][0]["settings"][0];
  EXPECT_EQ(setting["faulted_inferences"].get<int64_t>(), 96);
  EXPECT_EQ(setting["faults"].get<int64_t>(), 96 * 4 * 8 * 8);  // every element of every image
}

TEST_F(CampaignRun, LinearFitOverTheSweep) {
  const nlohmann::json summary = run(campaign(branching_campaign(R"(  - name: sweep
    target: {layers: [dense]}
    fault: {model: bitflip, bits: [30]}
    probability: [0.0, 0.5, 1.0]
    repetitions: 3
    metric: golden
)")),
                                     "out");
  const auto& fits = summary["experiments"][0]["fits"];
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_EQ(fits[0]["group"], "dense");
  EXPECT_EQ(fits[0]["points"].get<int64_t>(), 3);
  // Exponent flips in the logits change top-1s: agreement with golden drops with p.
  EXPECT_LT(fits[0]["slope"].get<double>(), 0.0);
  EXPECT_NEAR(fits[0]["intercept"].get<double>(), 1.0, 0.05);
}

TEST_F(CampaignRun, RefusesAChangedCampaignInTheSameFolder) {
  const std::string experiment = R"(  - name: e
    target: {layers: each}
    fault: {model: bitflip}
    probability: 0.5
)";
  run(campaign(branching_campaign(experiment)), "out");
  std::string changed = experiment;
  changed.replace(changed.find("0.5"), 3, "0.6");
  RunOptions options;
  options.out_dir = path("out");
  options.progress = false;
  const Status status = run_campaign(campaign(branching_campaign(changed)), options);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("the campaign configuration changed"), std::string::npos)
      << status.message();
}

TEST_F(CampaignRun, ResumesFromWhatTheStoreHas) {
  const CampaignSpec spec = campaign(branching_campaign(R"(  - name: e
    target: {layers: each}
    fault: {model: bitflip}
    probability: [0.5, 1.0]
    repetitions: 2
)"));
  const nlohmann::json whole = run(spec, "whole");
  run(spec, "partial");
  // Lose the last half of the batches, as a killed run would.
  {
    Expected<std::unique_ptr<campaign::ResultStore>> store =
        campaign::ResultStore::open_existing(path("partial") / "results.sqlite");
    ASSERT_TRUE(store.has_value());
    ASSERT_EQ(sqlite3_exec((*store)->handle(),
                           "DELETE FROM units WHERE batch >= 3; DELETE FROM batches WHERE batch >= "
                           "3; DELETE FROM faults WHERE image >= 48;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    ASSERT_TRUE(campaign::write_summary(**store, path("partial")).is_ok());
  }
  std::ifstream partial_file(path("partial") / "summary.json");
  const nlohmann::json partial = nlohmann::json::parse(partial_file);
  EXPECT_FALSE(partial["complete"].get<bool>());
  EXPECT_GT(partial["missing_units"].get<int64_t>(), 0);
  const nlohmann::json resumed = run(spec, "partial");
  EXPECT_EQ(resumed["experiments"], whole["experiments"]);
  EXPECT_TRUE(resumed["complete"].get<bool>());
  EXPECT_EQ(fault_rows("partial"), fault_rows("whole"));
}

TEST_F(CampaignRun, ReplayShowsTheRecordedOutcome) {
  const CampaignSpec spec = campaign(branching_campaign(R"(  - name: e
    target: {layers: [conv2]}
    fault: {model: bitflip, bits: [30]}
    probability: 1.0
)"));
  run(spec, "out");
  const std::vector<std::string> faults = fault_rows("out");
  ASSERT_EQ(faults.size(), 96u);
  for (int64_t id : {1, 17, 96}) {
    Expected<std::string> report = replay_fault(path("out"), id);
    ASSERT_TRUE(report.has_value()) << report.status().message();
    // One fault per image here, so the replay reproduces the recorded outcome.
    const size_t at = report->find("output: top-1");
    ASSERT_NE(at, std::string::npos) << *report;
    const std::string output_line = report->substr(at);
    const std::string outcome = output_line.substr(output_line.find("): ") + 3);
    const std::string replayed = outcome.substr(0, outcome.find(' '));
    EXPECT_NE(outcome.find("(recorded: " + replayed + ")"), std::string::npos) << *report;
    EXPECT_NE(report->find("conv2"), std::string::npos);
  }
  Expected<std::string> missing = replay_fault(path("out"), 100000);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.status().message().find("no fault with id 100000"), std::string::npos);
}

TEST_F(CampaignRun, NamesWhatExistsWhenATargetMatchesNothing) {
  RunOptions options;
  options.out_dir = path("out");
  options.progress = false;
  const Status status = run_campaign(campaign(branching_campaign(R"(  - name: e
    target: {layers: [conv9]}
    fault: {model: bitflip}
    probability: 0.5
)")),
                                     options);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("no layer site matches 'conv9'"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("conv1, relu1, conv2"), std::string::npos) << status.message();
}

TEST_F(CampaignRun, AFaultInASharedTensorReachesEveryImageOfTheBatch) {
  // InjectTF's per-execution meaning on a tensor without batch axis: one hit
  // per batch corrupts what all 16 images of the batch read.
  const nlohmann::json summary = run(campaign(branching_campaign(R"(  - name: shared
    target: {ops: [Sqrt]}
    fault: {model: bitflip, bits: [30]}
    probability: 1.0
    probability_mode: per_execution
)")),
                                     "out");
  const auto& setting = summary["experiments"][0]["settings"][0];
  EXPECT_EQ(setting["faulted_inferences"].get<int64_t>(), 96);
  EXPECT_EQ(setting["faults"].get<int64_t>(), 96);  // one per image, 6 distinct ones
  EXPECT_EQ(setting["site_elements"].get<int64_t>(), 4);
}

TEST_F(CampaignRun, CachedPrefixAgreesWithNaiveOnTheFashionCnn) {
  const std::string data = fashion_data_spec();
  if (data.empty()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const CampaignSpec spec = campaign("model: " + fashion_model_path() + "\ndata: {spec: \"" + data +
                                     "\", limit: 64}\nseed: 3\nbatch: 32\n" +
                                     R"(experiments:
  - name: layers
    target: {layers: each}
    fault: {model: bitflip}
    probability: 1.0
    repetitions: 2
)");
  RunOptions naive;
  naive.engine = Engine::kNaive;
  const nlohmann::json a = run(spec, "cached");
  const nlohmann::json b = run(spec, "naive", naive);
  EXPECT_GT(fault_rows("cached").size(), 1500u);
  EXPECT_EQ(fault_rows("cached"), fault_rows("naive"));
  EXPECT_EQ(a["experiments"], b["experiments"]);
}

}  // namespace
}  // namespace nnfi::testing
