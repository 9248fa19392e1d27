// open_dataset on idx: data: streaming reads, the selection (offset, limit, seeded sample),
// stable ids, label checks, truncated files, fingerprints.
#include <gtest/gtest.h>

#include <set>

#include "data/data_files.h"
#include "data/image_dataset.h"
#include "nnfi/dataset.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::encode_idx;
using testing::gzip;

class IdxDatasetTest : public testing::TempDirTest {
 protected:
  // n images of 2x3 whose pixels all equal the image index; labels i % 10.
  std::string make(int n, bool compressed = false) {
    std::vector<uint8_t> pixels, labels;
    for (int i = 0; i < n; ++i) {
      pixels.insert(pixels.end(), 6, static_cast<uint8_t>(i));
      labels.push_back(static_cast<uint8_t>(i % 10));
    }
    std::string images = encode_idx({static_cast<uint32_t>(n), 2, 3}, pixels);
    std::string label_bytes = encode_idx({static_cast<uint32_t>(n)}, labels);
    if (compressed) {
      images = gzip(images);
      label_bytes = gzip(label_bytes);
    }
    const auto a = write_file(compressed ? "img.gz" : "img.idx", images);
    const auto b = write_file(compressed ? "lbl.gz" : "lbl.idx", label_bytes);
    return "idx:" + a.string() + "," + b.string();
  }

  static std::unique_ptr<Dataset> open(const DatasetOptions& options, const Shape& input) {
    auto dataset = open_dataset(options, input);
    EXPECT_TRUE(dataset.has_value()) << dataset.status().message();
    return dataset.has_value() ? std::move(dataset).value() : nullptr;
  }
};

TEST_F(IdxDatasetTest, ReadsBatchesPlainAndGzip) {
  for (bool compressed : {false, true}) {
    DatasetOptions options;
    options.spec = make(25, compressed);
    options.preprocessing.scale = 0.5;
    auto dataset = open(options, {-1, 2, 3});
    ASSERT_NE(dataset, nullptr);
    EXPECT_EQ(dataset->size(), 25);
    EXPECT_EQ(dataset->example_shape(), (Shape{2, 3}));
    auto batch = dataset->read(10, 7);
    ASSERT_TRUE(batch.has_value()) << batch.status().message();
    EXPECT_EQ(batch->inputs.shape(), (Shape{7, 2, 3}));
    EXPECT_EQ(batch->ids, (std::vector<int64_t>{10, 11, 12, 13, 14, 15, 16}));
    EXPECT_EQ(batch->labels[0], 0);
    EXPECT_EQ(batch->labels[6], 6);
    EXPECT_FLOAT_EQ(batch->inputs.data<float>()[0], 5.0f);      // 10 * 0.5
    EXPECT_FLOAT_EQ(batch->inputs.data<float>()[6 * 6], 8.0f);  // 16 * 0.5
    // Backwards after forwards (a gzip stream reopens).
    auto again = dataset->read(0, 2);
    ASSERT_TRUE(again.has_value());
    EXPECT_FLOAT_EQ(again->inputs.data<float>()[6], 0.5f);
    EXPECT_EQ(dataset->example_source(3).find("image 3"), dataset->example_source(3).find("image"));
  }
}

TEST_F(IdxDatasetTest, ShapesFollowTheModelInput) {
  DatasetOptions options;
  options.spec = make(3);
  EXPECT_EQ(open(options, {-1, 6})->example_shape(), (Shape{6}));
  EXPECT_EQ(open(options, {-1, 2, 3, 1})->example_shape(), (Shape{2, 3, 1}));
  // [1, 2, 3] could be 1x2 RGB or 2x3 gray: the guess says NHWC, the layout option decides.
  options.preprocessing.layout = DataLayout::kNCHW;
  EXPECT_EQ(open(options, {1, 1, 2, 3})->example_shape(), (Shape{1, 2, 3}));
  options.preprocessing.layout = DataLayout::kAuto;
  EXPECT_EQ(open(options, {-1, 2, 3, 3})->example_shape(), (Shape{2, 3, 3}));  // gray -> RGB
  options.preprocessing.resize_height = 4;
  options.preprocessing.resize_width = 6;
  EXPECT_EQ(open(options, {-1, 4, 6})->example_shape(), (Shape{4, 6}));
}

TEST_F(IdxDatasetTest, RejectsShapeMismatchNamingBothShapes) {
  DatasetOptions options;
  options.spec = make(3);
  auto dataset = open_dataset(options, {1, 1, 28, 28});
  ASSERT_FALSE(dataset.has_value());
  const std::string message = dataset.status().message();
  EXPECT_NE(message.find("[1, 2, 3]"), std::string::npos) << message;
  EXPECT_NE(message.find("[1, 1, 28, 28]"), std::string::npos) << message;
}

TEST_F(IdxDatasetTest, OffsetLimitAndIdsAreStable) {
  DatasetOptions options;
  options.spec = make(20);
  options.offset = 5;
  options.limit = 8;
  auto dataset = open(options, {-1, 6});
  ASSERT_EQ(dataset->size(), 8);
  auto all = dataset->read(0, 8);
  ASSERT_TRUE(all.has_value());
  EXPECT_FLOAT_EQ(all->inputs.data<float>()[0], 5.0f);
  EXPECT_EQ(all->ids.front(), 0);
  EXPECT_EQ(all->ids.back(), 7);
  // Batch size does not change what an id holds.
  for (int64_t first = 0; first < 8; first += 3) {
    auto part = dataset->read(first, std::min<int64_t>(3, 8 - first));
    ASSERT_TRUE(part.has_value());
    for (size_t i = 0; i < part->ids.size(); ++i) {
      EXPECT_EQ(part->inputs.data<float>()[i * 6], all->inputs.data<float>()[part->ids[i] * 6]);
    }
  }
}

TEST_F(IdxDatasetTest, SeededSampleIsReproducibleAndInSourceOrder) {
  DatasetOptions options;
  options.spec = make(100);
  options.sample = 10;
  options.sample_seed = 42;
  auto first = data::select_examples(100, options, "x");
  auto second = data::select_examples(100, options, "x");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(first->size(), 10u);
  EXPECT_TRUE(std::is_sorted(first->begin(), first->end()));
  EXPECT_EQ(std::set<int64_t>(first->begin(), first->end()).size(), 10u);
  options.sample_seed = 43;
  EXPECT_NE(*data::select_examples(100, options, "x"), *first);
  // Offset and limit come first: the sample is drawn from [50, 70).
  options.offset = 50;
  options.limit = 20;
  auto windowed = data::select_examples(100, options, "x");
  ASSERT_TRUE(windowed.has_value());
  for (int64_t index : *windowed) {
    EXPECT_GE(index, 50);
    EXPECT_LT(index, 70);
  }
  auto dataset = open(options, {-1, 6});
  auto batch = dataset->read(0, 10);
  ASSERT_TRUE(batch.has_value());
  EXPECT_FLOAT_EQ(batch->inputs.data<float>()[0], static_cast<float>((*windowed)[0]));
}

TEST_F(IdxDatasetTest, RejectsBadSelections) {
  DatasetOptions options;
  options.spec = make(10);
  options.offset = 10;
  EXPECT_FALSE(open_dataset(options, {-1, 6}).has_value());
  options.offset = 5;
  options.sample = 6;
  auto too_many = open_dataset(options, {-1, 6});
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.status().message().find("cannot sample 6"), std::string::npos);
  options.sample = 0;
  options.limit = -1;
  EXPECT_FALSE(open_dataset(options, {-1, 6}).has_value());
  options.limit = 0;
  auto dataset = open(options, {-1, 6});
  EXPECT_FALSE(dataset->read(3, 3).has_value());  // past the 5 selected
  EXPECT_FALSE(dataset->read(-1, 1).has_value());
}

TEST_F(IdxDatasetTest, RejectsLabelsOutOfRangeOrSkipsThem) {
  DatasetOptions options;
  options.spec = make(12);  // labels 0..9, 0, 1
  options.num_classes = 8;
  auto failed = open_dataset(options, {-1, 6});
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.status().message().find("image 8"), std::string::npos)
      << failed.status().message();
  EXPECT_NE(failed.status().message().find("label 8"), std::string::npos);
  EXPECT_NE(failed.status().message().find("8 classes"), std::string::npos);

  options.on_error = OnError::kSkip;
  auto dataset = open(options, {-1, 6});
  ASSERT_EQ(dataset->size(), 12);  // the denominator is the selection; skips are counted
  auto batch = dataset->read(0, 12);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->skipped, 2);
  EXPECT_EQ(batch->ids.size(), 10u);
  EXPECT_EQ(batch->inputs.dim(0), 10);
  EXPECT_EQ(std::count(batch->ids.begin(), batch->ids.end(), 8), 0);
  EXPECT_EQ(batch->ids[8], 10);  // ids keep their place after a skip
  EXPECT_EQ(batch->skip_reasons.size(), 2u);

  options.on_error = OnError::kFail;
  options.label_offset = 1;  // MobileNet style: 0..9 -> 1..10
  options.num_classes = 11;
  auto shifted = open(options, {-1, 6});
  auto labels = shifted->read(0, 3);
  ASSERT_TRUE(labels.has_value());
  EXPECT_EQ(labels->labels, (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(IdxDatasetTest, RejectsTruncatedIdxAtOpen) {
  std::vector<uint8_t> pixels(5 * 6, 1);
  const std::string images = encode_idx({5, 2, 3}, pixels);
  const auto labels = write_file("l.idx", encode_idx({5}, {0, 1, 2, 3, 4}));
  for (bool compressed : {false, true}) {
    std::string cut = images.substr(0, images.size() - 7);
    if (compressed) cut = gzip(cut);
    const auto file = write_file(compressed ? "cut.gz" : "cut.idx", cut);
    DatasetOptions options;
    options.spec = "idx:" + file.string() + "," + labels.string();
    auto dataset = open_dataset(options, {-1, 6});
    ASSERT_FALSE(dataset.has_value());
    const std::string message = dataset.status().message();
    EXPECT_NE(message.find(file.filename().string()), std::string::npos) << message;
    EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  }
  // A gzip stream cut short (not just short data).
  const std::string packed = gzip(images);
  const auto broken = write_file("broken.gz", packed.substr(0, packed.size() - 10));
  DatasetOptions options;
  options.spec = "idx:" + broken.string() + "," + labels.string();
  auto dataset = open_dataset(options, {-1, 6});
  ASSERT_FALSE(dataset.has_value());
  EXPECT_NE(dataset.status().message().find("broken.gz"), std::string::npos);
}

TEST_F(IdxDatasetTest, RejectsCountMismatchAndBadFiles) {
  const auto images = write_file("i.idx", encode_idx({2, 1, 1}, {1, 2}));
  const auto labels = write_file("l.idx", encode_idx({3}, {0, 1, 2}));
  DatasetOptions options;
  options.spec = "idx:" + images.string() + "," + labels.string();
  auto mismatch = open_dataset(options, {-1, 1});
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_NE(mismatch.status().message().find("2 images"), std::string::npos);
  options.spec = "idx:" + images.string() + "," + path("none.idx").string();
  auto missing = open_dataset(options, {-1, 1});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.status().message().find("none.idx"), std::string::npos);
  const auto text = write_file("t.idx", "not an idx file at all");
  options.spec = "idx:" + text.string() + "," + labels.string();
  EXPECT_FALSE(open_dataset(options, {-1, 1}).has_value());
}

TEST_F(IdxDatasetTest, RejectsAbsurdHeaders) {
  const auto labels = write_file("l.idx", encode_idx({2}, {0, 1}));
  for (const std::vector<uint32_t>& dims : std::vector<std::vector<uint32_t>>{
           {2, 0xFFFFFFFFu, 0xFFFFFFFFu}, {2, 0, 5}, {2, 4, 4, 2}, {0xFFFFFFFFu, 70000, 1}}) {
    const auto images = write_file("huge.idx", encode_idx(dims, std::vector<uint8_t>(32, 1)));
    DatasetOptions options;
    options.spec = "idx:" + images.string() + "," + labels.string();
    auto dataset = open_dataset(options, {-1, -1});
    ASSERT_FALSE(dataset.has_value());
    EXPECT_NE(dataset.status().message().find("huge.idx"), std::string::npos)
        << dataset.status().message();
  }
}

TEST_F(IdxDatasetTest, RejectsBadSpecs) {
  for (const char* spec : {"", "idx", "csv:a", "idx:a,b,c", "gtsrb:a,b", "npy:x.npy", "idx:,b"}) {
    DatasetOptions options;
    options.spec = spec;
    auto dataset = open_dataset(options, {-1, 6});
    ASSERT_FALSE(dataset.has_value()) << spec;
    EXPECT_NE(dataset.status().message().find("expected"), std::string::npos)
        << dataset.status().message();
  }
}

TEST_F(IdxDatasetTest, FingerprintFollowsOptionsAndFiles) {
  DatasetOptions options;
  options.spec = make(5);
  const std::string base = dataset_fingerprint(options);
  EXPECT_EQ(base.size(), 32u);
  EXPECT_EQ(dataset_fingerprint(options), base);
  DatasetOptions other = options;
  other.preprocessing.scale = 0.5;
  EXPECT_NE(dataset_fingerprint(other), base);
  other = options;
  other.sample_seed = 1;
  EXPECT_NE(dataset_fingerprint(other), base);
  make(6);  // rewrites the files with another size
  EXPECT_NE(dataset_fingerprint(options), base);
}

}  // namespace
}  // namespace nnfi
