// The nnfi program on TensorFlow graphs: --feed/--fetch reach the importer
// (pruning), --fold-constants is reported by inspect and eval, and both
// frozen fixtures reach their reference accuracies through `nnfi eval`.
#include <string>
#include <vector>

#include "support/cli_runner.h"
#include "support/test_support.h"
#include "tf/tf_test_builder.h"

namespace nnfi {
namespace {

using testing::tf_files::contains;
using testing::tf_files::TempDir;

using RunResult = testing::CliResult;

RunResult nnfi(const std::vector<std::string>& args) {
  static TempDir dir;
  return testing::run_nnfi(args, dir.path());
}

std::string fixture(const std::string& relative) {
  return (testing::fixtures_dir() / relative).string();
}

TEST(TfCliTest, InspectPrunesToFetchesAndReportsFolding) {
  NNFI_REQUIRE_FIXTURES();
  const std::string model = fixture("tf/mnist_mlp_frozen_tf1.15.pb");
  RunResult all = nnfi({"inspect", model});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_TRUE(contains(all.out, "inputs (2)")) << all.out;
  EXPECT_TRUE(contains(all.out, "tf.fold_constants: no")) << all.out;
  RunResult pruned = nnfi({"inspect", model, "--feed", "x", "--fetch", "y:0", "--fold-constants"});
  ASSERT_EQ(pruned.code, 0) << pruned.err;
  EXPECT_TRUE(contains(pruned.out, "inputs (1)")) << pruned.out;
  EXPECT_TRUE(contains(pruned.out, "nodes (9)")) << pruned.out;
  EXPECT_TRUE(contains(pruned.out, "tf.fold_constants: yes")) << pruned.out;
  EXPECT_TRUE(contains(pruned.out, "AddV2")) << pruned.out;
}

TEST(TfCliTest, InspectNamesTheMissingFetch) {
  NNFI_REQUIRE_FIXTURES();
  RunResult result = nnfi({"inspect", fixture("tf/mnist_mlp_frozen_tf1.15.pb"), "--fetch", "z"});
  EXPECT_EQ(result.code, 1);
  EXPECT_TRUE(contains(result.err, "fetch 'z' names no node")) << result.err;
  EXPECT_TRUE(contains(result.err, "mnist_mlp_frozen_tf1.15.pb")) << result.err;
}

TEST(TfCliTest, EvalMnistMlpReachesReferenceAccuracy) {
  NNFI_REQUIRE_FIXTURES();
  const std::string data = "idx:" + fixture("data/mnist_test/t10k-images-idx3-ubyte.gz") + "," +
                           fixture("data/mnist_test/t10k-labels-idx1-ubyte.gz");
  RunResult result = nnfi({"eval", fixture("tf/mnist_mlp_frozen_tf1.15.pb"), "--data", data,
                           "--feed", "x", "--fetch", "y", "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "\"accuracy\":0.983")) << result.out;
  EXPECT_TRUE(contains(result.out, "\"tf.fold_constants\":\"no\"")) << result.out;
}

// The fixtures README: top-1 16/20, top-5 20/20 (class = ImageNet index + 1).
TEST(TfCliTest, EvalMobileNetOnImagenetSamples) {
  NNFI_REQUIRE_FIXTURES();
  RunResult result = nnfi({"eval", fixture("tf/mobilenet_v1_0.25_224_frozen.pb"), "--data",
                           "folder:" + fixture("data/imagenet_samples"), "--label-from", "suffix",
                           "--resize", "224", "--preset", "tf", "--label-offset", "1", "--feed",
                           "input", "--fetch", "MobilenetV1/Predictions/Reshape_1", "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "\"correct\":16")) << result.out;
  EXPECT_TRUE(contains(result.out, "\"top5\":1.0")) << result.out;
}

}  // namespace
}  // namespace nnfi
