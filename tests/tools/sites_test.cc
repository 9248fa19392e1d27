// End-to-end tests of `nnfi sites`: the table, --kind, --json, and errors.
#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/temp_files.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::TempDirTest;

using SitesRun = testing::CliResult;

class SitesCliTest : public TempDirTest {
 protected:
  SitesRun nnfi(const std::vector<std::string>& args) { return testing::run_nnfi(args, dir_); }

  static std::string fashion() {
    return std::string(NNFI_SOURCE_DIR) + "/examples/fashion_mnist/fashion_mnist_cnn.onnx";
  }
};

TEST_F(SitesCliTest, ListsEveryKindAsATable) {
  SitesRun result = nnfi({"sites", fashion()});
  ASSERT_EQ(result.code, 0) << result.err;
  for (const char* text :
       {"planned with batch 1", "node sites (15):", "layer sites (15):", "weight sites (12):",
        "input sites (1):", "/net/features/features.0/Conv", "[32, 26, 26]  21,632",
        "net.classifier.1.weight  Gemm", "[128, 1024]     131,072",
        "0  input  Input  [1, 28, 28]  784",
        "totals: 15 node sites (108,052 elements), 15 layer sites (108,052 elements), "
        "12 weight sites (197,482 elements), 1 input site (784 elements)"}) {
    EXPECT_NE(result.out.find(text), std::string::npos) << "'" << text << "' not in:\n"
                                                        << result.out;
  }
}

TEST_F(SitesCliTest, KindSelectsOneList) {
  SitesRun result = nnfi({"sites", fashion(), "--kind", "weight"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("weight sites (12):"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("node sites"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("totals: 12 weight sites (197,482 elements)\n"), std::string::npos)
      << result.out;
}

TEST_F(SitesCliTest, PrintsJson) {
  SitesRun result = nnfi({"sites", fashion(), "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << result.out;
  EXPECT_EQ(json["batch"], 1);
  ASSERT_EQ(json["sites"].size(), 15u + 15u + 12u + 1u);
  const nlohmann::json& first = json["sites"][0];
  EXPECT_EQ(first["kind"], "node");
  EXPECT_EQ(first["name"], "/net/features/features.0/Conv");
  EXPECT_EQ(first["op"], "Conv");
  EXPECT_EQ(first["layer"], "/net/features/features.0/Conv");
  EXPECT_EQ(first["shape"], nlohmann::json({32, 26, 26}));
  EXPECT_EQ(first["elements"], 21632);
  const nlohmann::json& input = json["sites"][42];
  EXPECT_EQ(input["kind"], "input");
  EXPECT_EQ(input["node"], nullptr);
  EXPECT_EQ(input["layer"], nullptr);
  EXPECT_EQ(json["totals"]["weight"]["sites"], 12);
  EXPECT_EQ(json["totals"]["weight"]["elements"], 197482);
  EXPECT_EQ(json["totals"]["node"]["elements"], 108052);
  EXPECT_EQ(json["totals"]["input"]["elements"], 784);
}

TEST_F(SitesCliTest, RejectsMissingModel) {
  SitesRun result = nnfi({"sites", path("missing.onnx").string()});
  EXPECT_EQ(result.code, 1) << result.err;
  EXPECT_EQ(result.err.rfind("nnfi: error: ", 0), 0u) << result.err;
  EXPECT_NE(result.err.find("missing.onnx"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
}

TEST_F(SitesCliTest, RejectsGarbageModel) {
  SitesRun result = nnfi({"sites", write_file("bad.onnx", "not a model").string()});
  EXPECT_EQ(result.code, 1) << result.err;
  EXPECT_NE(result.err.find("bad.onnx"), std::string::npos) << result.err;
}

TEST_F(SitesCliTest, RejectsUnknownKind) {
  SitesRun result = nnfi({"sites", fashion(), "--kind", "neuron"});
  EXPECT_EQ(result.code, 2) << result.err;
  EXPECT_NE(result.err.find("neuron"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace nnfi

namespace nnfi {
namespace {

TEST_F(SitesCliTest, TensorFlowFeedAndFetchPruneTheGraph) {
  NNFI_REQUIRE_FIXTURES();
  const std::string model = (testing::fixtures_dir() / "tf/mnist_mlp_frozen_tf1.15.pb").string();
  SitesRun pruned = nnfi({"sites", model, "--kind", "node", "--feed", "x", "--fetch", "y"});
  ASSERT_EQ(pruned.code, 0) << pruned.err;
  // MatMul, AddV2, Relu x2, then MatMul, AddV2, Softmax: the accuracy subgraph is gone.
  EXPECT_NE(pruned.out.find("totals: 9 node sites (1,182 elements)"), std::string::npos)
      << pruned.out;
  EXPECT_EQ(pruned.out.find("ArgMax"), std::string::npos) << pruned.out;
  SitesRun bad = nnfi({"sites", model, "--fetch", "nowhere"});
  EXPECT_EQ(bad.code, 1) << bad.err;
  EXPECT_NE(bad.err.find("nowhere"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace nnfi
