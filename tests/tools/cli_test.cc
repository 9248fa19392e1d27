// End-to-end tests of the nnfi program: runs the built binary and checks its
// output, its files and its exit codes (0 ok, 1 error, 2 bad usage).

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/temp_files.h"
#include "nnfi/data.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::fixtures_dir;
using testing::TempDirTest;

using RunResult = testing::CliResult;
using testing::read_text;

class CliTest : public TempDirTest {
 protected:
  RunResult nnfi(const std::vector<std::string>& args) { return testing::run_nnfi(args, dir_); }

  // An error run: the given exit code and exactly one "nnfi: error: " line
  // on stderr that contains every one of `expected`.
  void expect_error(const RunResult& result, int code, const std::vector<std::string>& expected) {
    EXPECT_TRUE(testing::is_cli_error(result, code, expected));
  }

  static std::string mnist8() { return (fixtures_dir() / "onnx/mnist-8.onnx").string(); }
  static std::string golden(const std::string& file) {
    return (fixtures_dir() / "golden/mnist-8" / file).string();
  }
  static std::string mnist_data() {
    const auto folder = fixtures_dir() / "data/mnist_test";
    return "idx:" + (folder / "t10k-images-idx3-ubyte.gz").string() + "," +
           (folder / "t10k-labels-idx1-ubyte.gz").string();
  }
};

TEST_F(CliTest, PrintsHelpAndVersion) {
  RunResult help = nnfi({"--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* command : {"inspect", "infer", "eval"}) {
    EXPECT_NE(help.out.find(command), std::string::npos) << help.out;
  }
  RunResult eval_help = nnfi({"eval", "--help"});
  EXPECT_EQ(eval_help.code, 0);
  EXPECT_NE(eval_help.out.find("--scale"), std::string::npos) << eval_help.out;
  RunResult version = nnfi({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_NE(version.out.find(NNFI_VERSION), std::string::npos);
}

TEST_F(CliTest, InspectsMnist8) {
  NNFI_REQUIRE_FIXTURES();
  RunResult result = nnfi({"inspect", mnist8()});
  ASSERT_EQ(result.code, 0) << result.err;
  for (const char* text : {"Input3  float32  [1, 1, 28, 28]", "Plus214_Output_0  float32  [1, 10]",
                           "Convolution28", "MaxPool", "[1, 16, 4, 4]", "nodes (12)",
                           "totals: 12 nodes, 12 layers, 5,994 parameters"}) {
    EXPECT_NE(result.out.find(text), std::string::npos) << "'" << text << "' not in:\n"
                                                        << result.out;
  }
}

TEST_F(CliTest, InspectsMnist8AsJson) {
  NNFI_REQUIRE_FIXTURES();
  RunResult result = nnfi({"inspect", mnist8(), "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << result.out;
  EXPECT_EQ(json["inputs"][0]["name"], "Input3");
  EXPECT_EQ(json["inputs"][0]["dtype"], "float32");
  EXPECT_EQ(json["inputs"][0]["shape"], nlohmann::json({1, 1, 28, 28}));
  EXPECT_EQ(json["outputs"][0]["name"], "Plus214_Output_0");
  ASSERT_EQ(json["nodes"].size(), 12u);
  const nlohmann::json& conv = json["nodes"][1];
  EXPECT_EQ(conv["op"], "Conv");
  EXPECT_EQ(conv["source_op"], "Conv");
  EXPECT_EQ(conv["layer"], "Convolution28");
  EXPECT_EQ(conv["outputs"][0]["shape"], nlohmann::json({1, 8, 28, 28}));
  ASSERT_EQ(json["layers"].size(), 12u);
  EXPECT_EQ(json["layers"][1]["class"], "Conv");
  EXPECT_EQ(json["layers"][1]["parameters"], 200);
  EXPECT_EQ(json["totals"]["parameters"], 5994);  // float weights only, not shape tensors
  EXPECT_EQ(json["totals"]["nodes"], 12);
}

TEST_F(CliTest, InferReproducesGoldenOutput) {
  NNFI_REQUIRE_FIXTURES();
  const std::string out = path("out.npy").string();
  RunResult result = nnfi({"infer", mnist8(), "--input", golden("input.npy"), "--output", out});
  ASSERT_EQ(result.code, 0) << result.err;
  Expected<Tensor> actual = read_npy(out);
  Expected<Tensor> expected = read_npy(golden("output.npy"));
  ASSERT_TRUE(actual.has_value()) << actual.status().message();
  ASSERT_TRUE(expected.has_value()) << expected.status().message();
  // 1e-5 relative; the absolute floor covers logits near zero (|logit| <= 28).
  EXPECT_TRUE(testing::tensors_close(*actual, *expected, 1e-5, 1e-5));
}

TEST_F(CliTest, InferAcceptsBatchLayoutAndNamesWithIndex) {
  NNFI_REQUIRE_FIXTURES();
  // [16, 1, 28, 28] (a batch of the model's sample shape) gives the same as
  // [16, 1, 1, 28, 28] (16 whole model inputs); "Input3:0" names "Input3".
  Expected<Tensor> input = read_npy(golden("input.npy"));
  ASSERT_TRUE(input.has_value());
  Expected<Tensor> batch = input->reshaped({16, 1, 28, 28});
  ASSERT_TRUE(batch.has_value());
  const std::string in = path("batch.npy").string(), out = path("out.npy").string();
  ASSERT_TRUE(write_npy(in, *batch).is_ok());
  RunResult result = nnfi({"infer", mnist8(), "--input", in, "--output", out, "--feed", "Input3:0",
                           "--fetch", "Plus214_Output_0:0"});
  ASSERT_EQ(result.code, 0) << result.err;
  Expected<Tensor> actual = read_npy(out);
  Expected<Tensor> expected = read_npy(golden("output.npy"));
  ASSERT_TRUE(actual.has_value() && expected.has_value());
  EXPECT_TRUE(testing::tensors_close(*actual, *expected, 1e-5, 1e-5));
}

TEST_F(CliTest, InferFetchesIntermediateValue) {
  NNFI_REQUIRE_FIXTURES();
  const std::string out = path("relu.npy").string();
  RunResult result = nnfi({"infer", mnist8(), "--input", golden("input.npy"), "--output", out,
                           "--fetch", "ReLU32_Output_0"});
  ASSERT_EQ(result.code, 0) << result.err;
  Expected<Tensor> relu = read_npy(out);
  ASSERT_TRUE(relu.has_value()) << relu.status().message();
  EXPECT_EQ(relu->shape(), (Shape{16, 8, 28, 28}));
  for (int64_t i = 0; i < relu->num_elements(); ++i) ASSERT_GE(relu->data<float>()[i], 0.0f);
}

TEST_F(CliTest, EvalMnist8ReachesReferenceAccuracy) {
  NNFI_REQUIRE_FIXTURES();
  RunResult result = nnfi({"eval", mnist8(), "--data", mnist_data(), "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << result.out;
  EXPECT_EQ(json["images"], 10000);
  EXPECT_EQ(json["correct"], 9890);  // 98.90%, as the fixture's reference
  EXPECT_DOUBLE_EQ(json["accuracy"].get<double>(), 0.989);
  ASSERT_TRUE(json.contains("top5"));
  EXPECT_GE(json["top5"].get<double>(), json["accuracy"].get<double>());
}

TEST_F(CliTest, EvalPrintsTextWithLimit) {
  NNFI_REQUIRE_FIXTURES();
  RunResult result = nnfi({"eval", mnist8(), "--data", mnist_data(), "--limit", "50"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("accuracy: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("/50)"), std::string::npos) << result.out;
}

TEST_F(CliTest, EvalFeedsFlatInputsInBatches) {
  NNFI_REQUIRE_FIXTURES();
  // tf2onnx MLP: inputs x:0 [?, 784] and y_:0 (labels, fed zeros); scores in y:0.
  // A batch of 7 leaves a partial last batch (300 = 42 * 7 + 6).
  RunResult result =
      nnfi({"eval", (fixtures_dir() / "onnx/mnist_mlp_tf2onnx.onnx").string(), "--data",
            mnist_data(), "--fetch", "y", "--batch", "7", "--limit", "300", "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << result.out;
  EXPECT_EQ(json["images"], 300);
  EXPECT_GE(json["accuracy"].get<double>(), 0.95);
  EXPECT_NE(result.err.find("nnfi: note: input 'y_:0' is not fed"), std::string::npos)
      << result.err;
}

TEST_F(CliTest, RejectsMissingModel) {
  RunResult result = nnfi({"inspect", path("absent.onnx").string()});
  expect_error(result, 1, {"absent.onnx", "no such file"});
}

TEST_F(CliTest, RejectsTruncatedOnnx) {
  NNFI_REQUIRE_FIXTURES();
  const std::string model = read_text(mnist8());
  ASSERT_GT(model.size(), 1000u);
  auto file = write_file("truncated.onnx", model.substr(0, model.size() / 2));
  expect_error(nnfi({"inspect", file.string()}), 1, {"truncated.onnx"});
  expect_error(nnfi({"infer", file.string(), "--input", golden("input.npy"), "--output",
                     path("o.npy").string()}),
               1, {"truncated.onnx"});
}

// Keras files on which libhdf5 crashes (see hdf5_guard.h) are errors too,
// found by corrupting the GTSRB fixture at random. Byte 1054 = 0x78 makes
// model_config's string point at an unused slot of its global heap
// collection (zeroed: H5HG_read always crashes). Byte 989 = 0xca garbles
// the root group's object header: H5Aexists then reads whatever memory
// holds, which crashes in most runs and not in some; either way an error.
TEST_F(CliTest, RejectsKerasFilesThatCrashLibhdf5) {
  NNFI_REQUIRE_FIXTURES();
  const std::string model = read_text(fixtures_dir() / "keras/gtsrb_cnn_keras2.11.h5");
  ASSERT_GT(model.size(), 2000u);
  for (const auto& [offset, value] : {std::pair<size_t, unsigned char>{1054, 0x78}, {989, 0xca}}) {
    std::string corrupt = model;
    corrupt[offset] = static_cast<char>(value);
    auto file = write_file("corrupt.h5", corrupt);
    std::vector<std::string> expected = {"corrupt.h5"};
    if (offset == 1054) expected.push_back("corrupt HDF5 file");
    expect_error(nnfi({"inspect", file.string()}), 1, expected);
    expect_error(nnfi({"infer", file.string(), "--input", golden("input.npy"), "--output",
                       path("o.npy").string()}),
                 1, expected);
  }
}

TEST_F(CliTest, RejectsNonOnnxFile) {
  auto file = write_file("notes.onnx", "these are notes, not a model\n");
  expect_error(nnfi({"inspect", file.string()}), 1, {"notes.onnx"});
  auto empty = write_file("empty.onnx", "");
  expect_error(nnfi({"inspect", empty.string()}), 1, {"empty.onnx"});
}

TEST_F(CliTest, RejectsWrongShapedNpy) {
  NNFI_REQUIRE_FIXTURES();
  const std::string in = path("wrong.npy").string();
  ASSERT_TRUE(write_npy(in, testing::random_tensor({3, 5}, 1)).is_ok());
  expect_error(nnfi({"infer", mnist8(), "--input", in, "--output", path("o.npy").string()}), 1,
               {"wrong.npy", "[3, 5]", "[1, 1, 28, 28]", "Input3"});
  EXPECT_FALSE(std::filesystem::exists(path("o.npy")));
}

TEST_F(CliTest, RejectsWrongDtypeNpy) {
  NNFI_REQUIRE_FIXTURES();
  const std::string in = path("ints.npy").string();
  ASSERT_TRUE(write_npy(in, Tensor(DType::kInt32, {2, 1, 28, 28})).is_ok());
  expect_error(nnfi({"infer", mnist8(), "--input", in, "--output", path("o.npy").string()}), 1,
               {"ints.npy", "int32", "float32"});
}

TEST_F(CliTest, RejectsMalformedInputNpy) {
  NNFI_REQUIRE_FIXTURES();
  auto in = write_file("broken.npy", "\x93NUMPY\x01");
  expect_error(
      nnfi({"infer", mnist8(), "--input", in.string(), "--output", path("o.npy").string()}), 1,
      {"broken.npy"});
  expect_error(nnfi({"infer", mnist8(), "--input", path("none.npy").string(), "--output",
                     path("o.npy").string()}),
               1, {"none.npy", "no such file"});
}

TEST_F(CliTest, RejectsUnwritableOutput) {
  NNFI_REQUIRE_FIXTURES();
  expect_error(nnfi({"infer", mnist8(), "--input", golden("input.npy"), "--output",
                     path("no/dir/o.npy").string()}),
               1, {"no/dir/o.npy"});
}

TEST_F(CliTest, RejectsUnknownFeedAndFetchNames) {
  NNFI_REQUIRE_FIXTURES();
  const std::string out = path("o.npy").string();
  expect_error(nnfi({"infer", mnist8(), "--input", golden("input.npy"), "--output", out, "--feed",
                     "Pixels"}),
               1, {"'Pixels'", "Input3"});
  expect_error(nnfi({"infer", mnist8(), "--input", golden("input.npy"), "--output", out, "--fetch",
                     "Logits"}),
               1, {"'Logits'", "Plus214_Output_0"});
  // A value that exists but is not a graph input cannot be fed.
  expect_error(nnfi({"infer", mnist8(), "--input", golden("input.npy"), "--output", out, "--feed",
                     "ReLU32_Output_0"}),
               1, {"'ReLU32_Output_0' is not an input"});
}

TEST_F(CliTest, RejectsBadDataSets) {
  NNFI_REQUIRE_FIXTURES();
  const auto folder = fixtures_dir() / "data/mnist_test";
  const std::string images = (folder / "t10k-images-idx3-ubyte.gz").string();
  expect_error(nnfi({"eval", mnist8(), "--data", "idx:" + images + "," + path("none.gz").string()}),
               1, {"none.gz"});
  // Images whose size fits no input.
  auto small = write_file("small.idx", std::string("\0\0\x08\x03\0\0\0\x01\0\0\0\x02\0\0\0\x02"
                                                   "abcd",
                                                   20));
  auto label = write_file("label.idx", std::string("\0\0\x08\x01\0\0\0\x01\x01", 9));
  expect_error(nnfi({"eval", mnist8(), "--data", "idx:" + small.string() + "," + label.string()}),
               1, {"[2, 2]", "Input3"});
  // Labels outside the model's classes.
  auto big_label = write_file("big.idx", std::string("\0\0\x08\x01\0\0\0\x01\x0c", 9));
  auto image =
      write_file("image.idx", std::string("\0\0\x08\x03\0\0\0\x01\0\0\0\x1c\0\0\0\x1c", 16) +
                                  std::string(784, '\x10'));
  expect_error(
      nnfi({"eval", mnist8(), "--data", "idx:" + image.string() + "," + big_label.string()}), 1,
      {"label 12", "10 classes"});
}

TEST_F(CliTest, RejectsBadUsageWithExitCode2) {
  expect_error(nnfi({}), 2, {});
  expect_error(nnfi({"frobnicate"}), 2, {});
  expect_error(nnfi({"inspect"}), 2, {"model"});
  expect_error(nnfi({"inspect", "m.onnx", "--bogus"}), 2, {"--bogus"});
  expect_error(nnfi({"infer", "m.onnx", "--input", "a.npy"}), 2, {"--output"});
  expect_error(nnfi({"infer", "m.onnx", "-i", "a.npy", "-o", "b.npy", "--batch", "abc"}), 2,
               {"--batch"});
  expect_error(nnfi({"eval", "m.onnx", "--data", "idx:a,b", "--batch", "0"}), 2, {"--batch"});
  expect_error(nnfi({"eval", "m.onnx", "--data", "csv:a"}), 2, {"idx:IMAGES,LABELS"});
  expect_error(nnfi({"eval", "m.onnx", "--data", "idx:a,b", "--limit", "-3"}), 2, {"--limit"});
}

}  // namespace
}  // namespace nnfi
