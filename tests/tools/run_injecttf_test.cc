// nnfi run on InjectTF's and InjectTF2's own config files, end to end: the
// built program, the project's Fashion-MNIST CNN (ONNX) and Debian's test set.
#include <sys/wait.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/temp_files.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::TempDirTest;

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string quoted(const std::string& text) {
  std::string result = "'";
  for (char c : text) result += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return result + "'";
}

constexpr const char* kFashionDir = "/usr/share/datasets/fashion-mnist/";
// The first dense layer of the CNN (nnfi sites --kind layer).
constexpr const char* kDenseLayer = "/net/classifier/classifier.1/Gemm";

class RunInjectTF : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (!std::filesystem::exists(std::string(kFashionDir) + "t10k-images-idx3-ubyte.gz")) {
      GTEST_SKIP() << "SKIPPED: Debian's dataset-fashion-mnist is not installed";
    }
  }

  RunResult nnfi(const std::vector<std::string>& args) {
    std::string command = quoted(NNFI_BINARY_PATH);
    for (const std::string& arg : args) command.append(" ").append(quoted(arg));
    command.append(" >").append(quoted(path("stdout").string()));
    command.append(" 2>").append(quoted(path("stderr").string()));
    const int status = std::system(command.c_str());
    RunResult result;
    if (WIFEXITED(status)) result.code = WEXITSTATUS(status);
    result.out = read_text(path("stdout"));
    result.err = read_text(path("stderr"));
    return result;
  }

  // nnfi run CONFIG on the CNN with 200 test images, into DIR/out.
  RunResult run(const std::filesystem::path& config, std::vector<std::string> extra = {}) {
    const std::string dir = kFashionDir;
    std::vector<std::string> args = {
        "run",     config.string(),
        "--model", std::string(NNFI_SOURCE_DIR) + "/examples/fashion_mnist/fashion_mnist_cnn.onnx",
        "--data",  "idx:" + dir + "t10k-images-idx3-ubyte.gz," + dir + "t10k-labels-idx1-ubyte.gz",
        "--limit", "200",
        "--out",   path("out").string(),
        "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return nnfi(args);
  }

  nlohmann::json summary() {
    return nlohmann::json::parse(read_text(path("out") / "summary.json"), nullptr, false);
  }

  // An error run: exit code 1 and every fragment on stderr.
  static void expect_error(const RunResult& result, const std::vector<std::string>& fragments) {
    EXPECT_EQ(result.code, 1) << result.out << result.err;
    EXPECT_EQ(result.err.rfind("nnfi: error: ", 0), 0u) << result.err;
    for (const std::string& fragment : fragments) {
      EXPECT_NE(result.err.find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << result.err;
    }
  }
};

TEST_F(RunInjectTF, RunsAnInjectTF2ConfigAsItIs) {
  const auto config = write_file("example_config_2.yml", std::string(R"(inject_layer:
  layer_name: )") + kDenseLayer + R"(
  fault_type: BitFlip
  bit_flip_type: SpecificBit
  bit_number: 30 # the exponent's top bit
  probability: 0.5
)");
  const RunResult result = run(config);
  ASSERT_EQ(result.code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("experiment injecttf2"), std::string::npos) << result.out;
  const nlohmann::json first = summary();
  ASSERT_FALSE(first.is_discarded());
  const auto& setting = first["experiments"][0]["settings"][0];
  EXPECT_EQ(setting["group"], kDenseLayer);
  EXPECT_EQ(setting["probability"].get<double>(), 0.5);
  EXPECT_EQ(setting["inferences"].get<int64_t>(), 200);
  // Each image gets one fault with probability 0.5 (InjectTF2's inject_batch).
  const auto faulted = setting["faulted_inferences"].get<int64_t>();
  EXPECT_EQ(setting["faults"].get<int64_t>(), faulted);
  EXPECT_GT(faulted, 60);
  EXPECT_LT(faulted, 140);
  // SpecificBit 30: every recorded fault flipped bit 30.
  const RunResult replay = nnfi({"replay", path("out").string(), "--fault", "1"});
  ASSERT_EQ(replay.code, 0) << replay.err;
  EXPECT_NE(replay.out.find("(bit 30)"), std::string::npos) << replay.out;

  // The same command again resumes the finished run: nothing changes.
  const RunResult again = run(config);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(summary()["experiments"], first["experiments"]);
  // A changed config is refused in the same folder.
  std::string changed = read_text(config);
  changed.replace(changed.find("0.5"), 3, "0.25");
  write_file("example_config_2.yml", changed);
  expect_error(run(config), {"another campaign"});
}

TEST_F(RunInjectTF, RunsAnInjectTFConfigPerOpExecution) {
  const auto config = write_file("InjectTF_conf.yml", R"(Seed: 1000
ScalarFaultType: BitFlip
TensorFaultType: BitFlip
Ops:
  RELU: 1.0  # InjectTF's TensorFlow name; the ONNX model says Relu
)");
  const RunResult result = run(config, {"--batch", "100"});
  ASSERT_EQ(result.code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("experiment injecttf"), std::string::npos) << result.out;
  const nlohmann::json json = summary();
  const auto& setting = json["experiments"][0]["settings"][0];
  // One fault per Relu node (the CNN has 5) per batch of 100: 2 batches.
  EXPECT_EQ(setting["faults"].get<int64_t>(), 10);
  EXPECT_LE(setting["faulted_inferences"].get<int64_t>(), 10);
  EXPECT_GE(setting["faulted_inferences"].get<int64_t>(), 1);
}

TEST_F(RunInjectTF, TensorFaultTypeNoneRunsFaultFree) {
  const auto config =
      write_file("none.yml", "ScalarFaultType: None\nTensorFaultType: None\nOps: {Relu: 0.5}\n");
  const RunResult result = run(config);
  ASSERT_EQ(result.code, 0) << result.out << result.err;
  const nlohmann::json json = summary();
  const auto& setting = json["experiments"][0]["settings"][0];
  EXPECT_EQ(setting["faults"].get<int64_t>(), 0);
  EXPECT_EQ(setting["accuracy"]["mean"], json["golden"]["accuracy"]);
}

TEST_F(RunInjectTF, RejectsAConfigWithoutModel) {
  const auto config = write_file("conf.yml",
                                 "ScalarFaultType: Zero\nTensorFaultType: Zero\n"
                                 "Ops: {Relu: 0.5}\n");
  expect_error(nnfi({"run", config.string(), "--data", "idx:a.gz,b.gz"}),
               {"conf.yml", "InjectTF/InjectTF2 config", "--model", "--data"});
}

TEST_F(RunInjectTF, RejectsOpTypesTheModelLacks) {
  const auto config = write_file("conf.yml",
                                 "ScalarFaultType: Zero\nTensorFaultType: Zero\n"
                                 "Ops: {Sub: 0.5}\n");
  expect_error(run(config), {"conf.yml:3", "Ops.Sub", "no op of type Sub", "Conv, Relu"});
}

TEST_F(RunInjectTF, RejectsALayerTheModelLacks) {
  const auto config = write_file("conf.yml", R"(inject_layer:
  layer_name: dense_1
  fault_type: BitFlip
  bit_flip_type: RandomBit
  probability: 1.0
)");
  expect_error(run(config), {"dense_1", kDenseLayer});
}

TEST_F(RunInjectTF, RejectsABadConfigNamingFileAndLine) {
  const auto config = write_file("conf.yml", R"(inject_layer:
  layer_name: dense_1
  fault_type: Zero
  bit_flip_type: RandomBit
  probability: 1.0
)");
  expect_error(run(config), {"conf.yml:3", "inject_layer.fault_type", "BitFlip"});
}

TEST_F(RunInjectTF, RejectsInjectTFFlagsOnOurOwnCampaigns) {
  const auto campaign = write_file("campaign.yaml", R"(model: m.onnx
experiments:
  - name: e
    target: {layers: each}
    fault: {model: bitflip}
    probability: 0.5
)");
  expect_error(nnfi({"run", campaign.string(), "--repetitions", "3"}),
               {"--repetitions", "InjectTF", "campaign.yaml"});
}

TEST_F(RunInjectTF, RunsAnInjectTFConfigOnATensorFlowGraph) {
  NNFI_REQUIRE_FIXTURES();
  const auto pb = testing::fixtures_dir() / "tf/mnist_mlp_frozen_tf1.15.pb";
  const auto data = testing::fixtures_dir() / "data/mnist_test";
  if (!std::filesystem::exists(pb) || !std::filesystem::exists(data)) {
    GTEST_SKIP() << "SKIPPED: " << pb << " or " << data << " missing";
  }
  if (nnfi({"inspect", pb.string()}).code != 0) {
    GTEST_SKIP() << "SKIPPED: this build of nnfi does not read TensorFlow graphs";
  }
  // InjectTF's own example: Add, which TensorFlow 1.15 writes as AddV2.
  const auto config = write_file("InjectTF_example_conf.yml", R"(ScalarFaultType: BitFlip
TensorFaultType: BitFlip
Ops:
  Add: 0.5
)");
  const RunResult result =
      nnfi({"run", config.string(), "--model", pb.string(), "--feed", "x", "--fetch", "y", "--data",
            "idx:" + (data / "t10k-images-idx3-ubyte.gz").string() + "," +
                (data / "t10k-labels-idx1-ubyte.gz").string(),
            "--limit", "200", "--batch", "20", "--out", path("out").string(), "--quiet"});
  ASSERT_EQ(result.code, 0) << result.out << result.err;
  const nlohmann::json json = summary();
  EXPECT_GT(json["golden"]["accuracy"].get<double>(), 0.9);
  const auto& setting = json["experiments"][0]["settings"][0];
  // Three AddV2 (one per dense layer), ten batches, p = 0.5: about 15 faults.
  EXPECT_GT(setting["faults"].get<int64_t>(), 3);
  EXPECT_LT(setting["faults"].get<int64_t>(), 28);
}

}  // namespace
}  // namespace nnfi
