// nnfi eval on every data set kind: the fixture models reproduce the fixtures README accuracies
// from the raw data, and bad data fail with the file and line, or are skipped and counted.
// Keras and TensorFlow models are skipped (loudly) where their importer is not built in.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/temp_files.h"
#include "nnfi/model.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::fixtures_dir;
using testing::read_text;

struct CliRun : testing::CliResult {
  nlohmann::json json;  // stdout parsed, when it is JSON
};

std::string fixture(const std::string& relative) { return (fixtures_dir() / relative).string(); }

class EvalDataTest : public testing::TempDirTest {
 protected:
  CliRun nnfi(const std::vector<std::string>& args) {
    CliRun run;
    static_cast<testing::CliResult&>(run) = testing::run_nnfi(args, dir_);
    run.json = nlohmann::json::parse(run.out, nullptr, false);
    return run;
  }

  // Runs `nnfi eval MODEL args... --json` and checks it succeeded.
  CliRun eval_json(const std::string& model, std::vector<std::string> args) {
    args.insert(args.begin(), {"eval", model});
    args.push_back("--json");
    CliRun run = nnfi(args);
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_FALSE(run.json.is_discarded()) << run.out;
    return run;
  }

  static void expect_error(const CliRun& run, int code, const std::vector<std::string>& parts) {
    EXPECT_TRUE(testing::is_cli_error(run, code, parts));
  }

  // A folder of the first `count` GTSRB fixture images with the official CSV; the class of row i
  // becomes i % 10 so that mnist-8 (10 classes) can take them (the accuracy means nothing).
  std::filesystem::path gtsrb_copy(int count, const std::string& extra_rows = "") {
    const std::filesystem::path source = fixtures_dir() / "data/gtsrb_test_32x32";
    std::filesystem::create_directories(path("gtsrb/Images"));
    std::ifstream csv(source / "GT-final_test.csv");
    std::string line, text;
    for (int i = 0; i <= count && std::getline(csv, line); ++i) {
      if (i == 0) {
        text += line + "\n";
        continue;
      }
      text += line.substr(0, line.rfind(';') + 1) + std::to_string((i - 1) % 10) + "\n";
      const std::string name = line.substr(0, line.find(';'));
      std::filesystem::copy_file(source / "Images" / name, path("gtsrb/Images/" + name),
                                 std::filesystem::copy_options::overwrite_existing);
    }
    write_file("gtsrb/GT-final_test.csv", text + extra_rows);
    return path("gtsrb");
  }
};

// The model's importer is built in (Keras and TF importers land separately).
#define REQUIRE_LOADABLE(model)                                                  \
  do {                                                                           \
    Expected<std::shared_ptr<Graph>> loaded = load_model(model);                 \
    if (!loaded && loaded.status().code() == StatusCode::kUnsupported) {         \
      GTEST_SKIP() << "SKIPPED: " << model << ": " << loaded.status().message(); \
    }                                                                            \
    ASSERT_TRUE(loaded.has_value()) << loaded.status().message();                \
  } while (0)

TEST_F(EvalDataTest, GtsrbKerasCnnReachesReference) {
  NNFI_REQUIRE_FIXTURES();
  const std::string model = fixture("keras/gtsrb_cnn_keras2.11.h5");
  REQUIRE_LOADABLE(model);
  // Raw 0..255 pixels (--scale 1), bilinear half-pixel 32 -> 30 as tf.image.resize.
  CliRun run = eval_json(model, {"--data", "gtsrb:" + fixture("data/gtsrb_test_32x32"), "--resize",
                                 "30x30", "--scale", "1"});
  EXPECT_EQ(run.json["images"], 1000);
  EXPECT_EQ(run.json["correct"], 967);  // 96.7%, the README's reference
}

TEST_F(EvalDataTest, MobilenetTfPresetReachesReference) {
  NNFI_REQUIRE_FIXTURES();
  const std::string model = fixture("tf/mobilenet_v1_0.25_224_frozen.pb");
  REQUIRE_LOADABLE(model);
  CliRun run = eval_json(model, {"--data", "folder:" + fixture("data/imagenet_samples"), "--resize",
                                 "224", "--preset", "tf", "--label-offset", "1"});
  EXPECT_EQ(run.json["images"], 20);
  EXPECT_EQ(run.json["correct"], 16);                     // top-1 16/20
  EXPECT_DOUBLE_EQ(run.json["top5"].get<double>(), 1.0);  // top-5 20/20
}

TEST_F(EvalDataTest, MnistMlpsReachReference) {
  NNFI_REQUIRE_FIXTURES();
  const std::string data = "idx:" + fixture("data/mnist_test");
  const std::string keras = fixture("keras/injecttf2_mnist_mlp_keras2.2.4tf.h5");
  REQUIRE_LOADABLE(keras);
  // Large batches keep these 10,000-image runs short on a loaded machine.
  EXPECT_EQ(eval_json(keras, {"--data", data, "--batch", "1000"}).json["correct"],
            9776);  // 97.76%, [N, 28, 28]
  const std::string tf = fixture("tf/mnist_mlp_frozen_tf1.15.pb");
  REQUIRE_LOADABLE(tf);
  EXPECT_EQ(eval_json(tf, {"--data", data, "--fetch", "y", "--batch", "1000"}).json["correct"],
            9830);  // 98.30%, [N, 784]
}

TEST_F(EvalDataTest, FashionMnistCnnReachesReference) {
  NNFI_REQUIRE_FIXTURES();
  const std::string model = fixture("keras/fashion_mnist_cnn_keras3.10.h5");
  REQUIRE_LOADABLE(model);
  CliRun run =
      eval_json(model, {"--data", "idx:" + fixture("data/fashion_mnist_test"), "--batch", "1000"});
  EXPECT_EQ(run.json["images"], 10000);
  EXPECT_EQ(run.json["correct"], 8921);  // 89.21%
}

TEST_F(EvalDataTest, Cifar10ResnetWithMean) {
  NNFI_REQUIRE_FIXTURES();
  const std::string model = fixture("keras/cifar10_resnet20v1_keras2.2.5.h5");
  REQUIRE_LOADABLE(model);
  CliRun run = eval_json(model, {"--data", "folder:" + fixture("data/cifar10_samples"), "--mean",
                                 "0.4914,0.4822,0.4465"});
  EXPECT_EQ(run.json["correct"], 20);
}

TEST_F(EvalDataTest, SelectionFlagsPickTheExamples) {
  NNFI_REQUIRE_FIXTURES();
  const std::string mnist8 = fixture("onnx/mnist-8.onnx");
  const std::string data = "idx:" + fixture("data/mnist_test");
  CliRun window = eval_json(mnist8, {"--data", data, "--offset", "100", "--limit", "50"});
  EXPECT_EQ(window.json["images"], 50);
  CliRun sample = eval_json(mnist8, {"--data", data, "--sample", "40", "--seed", "7"});
  EXPECT_EQ(sample.json["images"], 40);
  EXPECT_EQ(eval_json(mnist8, {"--data", data, "--sample", "40", "--seed", "7"}).out, sample.out);
}

TEST_F(EvalDataTest, ColourImagesFeedAGrayModel) {
  NNFI_REQUIRE_FIXTURES();
  // GTSRB images into mnist-8 (1x28x28): converted to gray and resized.
  CliRun run = eval_json(fixture("onnx/mnist-8.onnx"),
                         {"--data", "gtsrb:" + gtsrb_copy(12).string(), "--resize", "28x28",
                          "--resize-method", "area", "--limit", "10"});
  EXPECT_EQ(run.json["images"], 10);
  EXPECT_EQ(run.json["skipped"], 0);
}

TEST_F(EvalDataTest, RejectsShapeMismatchNamingBothShapes) {
  NNFI_REQUIRE_FIXTURES();
  expect_error(
      nnfi({"eval", fixture("onnx/mnist-8.onnx"), "--data", "gtsrb:" + gtsrb_copy(2).string()}), 1,
      {"[32, 32]", "[1, 1, 28, 28]", "Input3", "--resize 28x28"});
}

TEST_F(EvalDataTest, CorruptImageFailsWithFileOrIsSkippedAndCounted) {
  NNFI_REQUIRE_FIXTURES();
  const auto dir = gtsrb_copy(6);
  const std::string broken = read_text(dir / "Images/00003.ppm");
  write_file("gtsrb/Images/00003.ppm", broken.substr(0, broken.size() / 3));
  const std::vector<std::string> args = {
      "eval", fixture("onnx/mnist-8.onnx"), "--data", "gtsrb:" + dir.string(), "--resize", "28"};
  expect_error(nnfi(args), 1, {"00003.ppm", "GT-final_test.csv line 5", "truncated"});
  std::vector<std::string> skip = args;
  skip.insert(skip.end(), {"--on-error", "skip", "--json"});
  CliRun run = nnfi(skip);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.json["selected"], 6);
  EXPECT_EQ(run.json["images"], 5);
  EXPECT_EQ(run.json["skipped"], 1);
  EXPECT_NE(run.err.find("nnfi: note: skipped"), std::string::npos) << run.err;
}

TEST_F(EvalDataTest, LabelOutOfRangeFailsWithLineOrIsSkipped) {
  NNFI_REQUIRE_FIXTURES();
  const std::vector<std::string> args = {
      "eval",     fixture("onnx/mnist-8.onnx"),
      "--data",   "gtsrb:" + gtsrb_copy(3, "00000.ppm;32;32;1;1;30;30;12\n").string(),
      "--resize", "28"};
  expect_error(nnfi(args), 1, {"GT-final_test.csv line 5", "label 12", "10 classes"});
  std::vector<std::string> skip = args;
  skip.insert(skip.end(), {"--on-error", "skip", "--json"});
  CliRun run = nnfi(skip);
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.json["images"], 3);
  EXPECT_EQ(run.json["skipped"], 1);
}

TEST_F(EvalDataTest, RejectsBadCsvRowAndMissingImage) {
  NNFI_REQUIRE_FIXTURES();
  expect_error(nnfi({"eval", fixture("onnx/mnist-8.onnx"), "--data",
                     "gtsrb:" + gtsrb_copy(2, "00002.ppm;1;2\n").string(), "--resize", "28"}),
               1, {"GT-final_test.csv line 4", "fields"});
  expect_error(
      nnfi({"eval", fixture("onnx/mnist-8.onnx"), "--data",
            "gtsrb:" + gtsrb_copy(2, "09999.ppm;32;32;1;1;30;30;1\n").string(), "--resize", "28"}),
      1, {"line 4", "09999.ppm", "no such image file"});
}

TEST_F(EvalDataTest, TextOutputNamesTheDataAndTiming) {
  NNFI_REQUIRE_FIXTURES();
  CliRun run = nnfi({"eval", fixture("onnx/mnist-8.onnx"), "--data",
                     "idx:" + fixture("data/mnist_test"), "--limit", "20"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("data: idx: 20 of 10000 images"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("reading "), std::string::npos) << run.out;
}

TEST_F(EvalDataTest, InspectSaysWhatEachInputExpects) {
  NNFI_REQUIRE_FIXTURES();
  CliRun text = nnfi({"inspect", fixture("onnx/mnist-8.onnx")});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("Input3 expects image 28x28, 1 channel (NCHW), batch fixed at 1"),
            std::string::npos)
      << text.out;
  CliRun json = nnfi({"inspect", fixture("onnx/mnist_mlp_tf2onnx.onnx"), "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  bool found = false;
  for (const auto& input : json.json["inputs"]) {
    if (input["name"] != "x:0") continue;
    EXPECT_EQ(input["expects"], "vector of 784 values (flattened image)");
    found = true;
  }
  EXPECT_TRUE(found) << json.out;
}

TEST_F(EvalDataTest, RejectsBadPreprocessingFlags) {
  const std::vector<std::string> base = {"eval", "m.onnx", "--data", "idx:a,b"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return nnfi(args);
  };
  expect_error(with({"--resize", "3y4"}), 2, {"--resize", "HxW"});
  expect_error(with({"--mean", "1,2"}), 2, {"--mean"});
  expect_error(with({"--scale", "1/0"}), 2, {"--scale"});
  expect_error(with({"--preset", "keras"}), 2, {"--preset", "tf|torch|caffe"});
  expect_error(with({"--on-error", "ignore"}), 2, {"--on-error"});
  expect_error(with({"--central-crop", "2"}), 2, {"--central-crop"});
  expect_error(nnfi({"eval", "m.onnx", "--data", "folder:"}), 2, {"--data"});
  NNFI_REQUIRE_FIXTURES();
  expect_error(nnfi({"eval", fixture("onnx/mnist-8.onnx"), "--data",
                     "idx:" + fixture("data/mnist_test"), "--preset", "tf", "--scale", "2"}),
               1, {"--preset tf", "--scale"});
}

}  // namespace
}  // namespace nnfi
