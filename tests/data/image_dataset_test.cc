// gtsrb: and folder: data sets built in a scratch folder: layouts, labels, ROI crop, and named
// tests of bad rows, missing and corrupt images (fail, or skip and count).
#include <gtest/gtest.h>

#include <filesystem>

#include "data/data_files.h"
#include "nnfi/dataset.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::encode_bmp24;
using testing::encode_jpeg;
using testing::encode_png;
using testing::encode_ppm;
using testing::pattern_image;

class ImageDatasetTest : public testing::TempDirTest {
 protected:
  // GTSRB official layout: DIR/GT-final_test.csv and DIR/Images/0000i.ppm (8x8, seed i).
  std::string make_gtsrb(int n, const std::string& extra_rows = "") {
    std::filesystem::create_directories(path("gtsrb/Images"));
    std::string csv = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n";
    for (int i = 0; i < n; ++i) {
      const std::string name = "0000" + std::to_string(i) + ".ppm";
      write_file("gtsrb/Images/" + name, encode_ppm(pattern_image(8, 8, 3, i)));
      // The original image was 16x16 with the sign in (4,4)-(11,11): (2,2)-(5,5) at 8x8.
      csv += name + ";16;16;4;4;11;11;" + std::to_string(i % 43) + "\n";
    }
    write_file("gtsrb/Images/GT-final_test.csv", csv + extra_rows);
    return "gtsrb:" + path("gtsrb").string();
  }

  static Expected<std::unique_ptr<Dataset>> open(const std::string& spec, const Shape& input,
                                                 OnError on_error = OnError::kFail) {
    DatasetOptions options;
    options.spec = spec;
    options.on_error = on_error;
    return open_dataset(options, input);
  }
};

void expect_error(const Status& status, const std::vector<std::string>& parts) {
  ASSERT_FALSE(status.is_ok());
  for (const std::string& part : parts) {
    EXPECT_NE(status.message().find(part), std::string::npos)
        << "'" << part << "' not in: " << status.message();
  }
}

TEST_F(ImageDatasetTest, GtsrbOfficialLayout) {
  auto dataset = open(make_gtsrb(3), {-1, 8, 8, 3});
  ASSERT_TRUE(dataset.has_value()) << dataset.status().message();
  EXPECT_EQ((*dataset)->size(), 3);
  auto batch = (*dataset)->read(0, 3);
  ASSERT_TRUE(batch.has_value()) << batch.status().message();
  EXPECT_EQ(batch->labels, (std::vector<int64_t>{0, 1, 2}));
  const auto image = pattern_image(8, 8, 3, 2);
  EXPECT_FLOAT_EQ(batch->inputs.data<float>()[2 * 192 + 5], image.pixels[5]);
  EXPECT_NE((*dataset)->example_source(1).find("GT-final_test.csv line 3"), std::string::npos)
      << (*dataset)->example_source(1);
  EXPECT_NE((*dataset)->description().find("gtsrb: 3 images"), std::string::npos);
}

TEST_F(ImageDatasetTest, GtsrbRoiCropScalesToTheImage) {
  DatasetOptions options;
  options.spec = make_gtsrb(1);
  options.roi_crop = true;
  auto dataset = open_dataset(options, {-1, 4, 4, 3});
  ASSERT_TRUE(dataset.has_value()) << dataset.status().message();
  auto batch = (*dataset)->read(0, 1);
  ASSERT_TRUE(batch.has_value());
  const auto image = pattern_image(8, 8, 3, 0);
  EXPECT_FLOAT_EQ(batch->inputs.data<float>()[0], image.at(2, 2, 0));
  EXPECT_FLOAT_EQ(batch->inputs.data<float>()[4 * 4 * 3 - 1], image.at(5, 5, 2));
}

TEST_F(ImageDatasetTest, GtsrbKaggleLayoutWithPng) {
  std::filesystem::create_directories(path("kaggle/Test"));
  write_file("kaggle/Test/00000.png", encode_png(pattern_image(6, 6, 3, 1)));
  write_file("kaggle/Test/00001.png", encode_png(pattern_image(6, 6, 3, 2)));
  write_file("kaggle/Test.csv",
             "Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path\n"
             "6,6,0,0,5,5,16,Test/00000.png\n6,6,1,1,4,4,1,Test/00001.png\n");
  auto dataset = open("gtsrb:" + path("kaggle").string(), {-1, 3, 3, 3});
  ASSERT_FALSE(dataset.has_value());  // 6x6 images, 3x3 input, no resize
  expect_error(dataset.status(), {"[6, 6, 3]", "[?, 3, 3, 3]", "--resize 3x3"});
  DatasetOptions options;
  options.spec = "gtsrb:" + path("kaggle").string();
  options.preprocessing.resize_height = options.preprocessing.resize_width = 3;
  auto resized = open_dataset(options, {-1, 3, 3, 3});
  ASSERT_TRUE(resized.has_value()) << resized.status().message();
  auto batch = (*resized)->read(0, 2);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->labels, (std::vector<int64_t>{16, 1}));
}

TEST_F(ImageDatasetTest, GtsrbRejectsBadRowNamingLine) {
  const std::string spec = make_gtsrb(2, "00009.ppm;16;16;4;4;11;eleven\n");
  auto dataset = open(spec, {-1, 8, 8, 3});
  expect_error(dataset.status(), {"GT-final_test.csv line 4", "fields"});
  // Skipped: still in the selection, reported as skipped when read.
  auto skipping = open(spec, {-1, 8, 8, 3}, OnError::kSkip);
  ASSERT_TRUE(skipping.has_value()) << skipping.status().message();
  EXPECT_EQ((*skipping)->size(), 3);
  auto batch = (*skipping)->read(0, 3);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->skipped, 1);
  EXPECT_EQ(batch->ids, (std::vector<int64_t>{0, 1}));
  EXPECT_NE(batch->skip_reasons[0].find("line 4"), std::string::npos);
}

TEST_F(ImageDatasetTest, GtsrbRejectsBadClassIdAndMissingImage) {
  expect_error(open(make_gtsrb(1, "00005.ppm;16;16;4;4;11;11;x\n"), {-1, 8, 8, 3}).status(),
               {"line 3", "ClassId 'x'"});
  expect_error(open(make_gtsrb(1, "00007.ppm;16;16;4;4;11;11;3\n"), {-1, 8, 8, 3}).status(),
               {"line 3", "00007.ppm", "no such image file"});
  write_file("gtsrb/Images/GT-final_test.csv", "Name;Class\nx.ppm;1\n");
  expect_error(open("gtsrb:" + path("gtsrb").string(), {-1, 8, 8, 3}).status(),
               {"Filename", "ClassId"});
  expect_error(open("gtsrb:" + path("nowhere").string(), {-1, 8, 8, 3}).status(),
               {"nowhere", "no such directory"});
}

TEST_F(ImageDatasetTest, CorruptImageFailsOrIsSkippedAndCounted) {
  const std::string spec = make_gtsrb(4);
  const std::string bytes = encode_ppm(pattern_image(8, 8, 3, 2));
  write_file("gtsrb/Images/00002.ppm", bytes.substr(0, bytes.size() / 2));
  auto dataset = open(spec, {-1, 8, 8, 3});
  ASSERT_TRUE(dataset.has_value()) << dataset.status().message();  // found when read
  auto failed = (*dataset)->read(0, 4);
  expect_error(failed.status(), {"00002.ppm", "line 4", "truncated"});
  auto skipping = open(spec, {-1, 8, 8, 3}, OnError::kSkip);
  ASSERT_TRUE(skipping.has_value());
  auto batch = (*skipping)->read(0, 4);
  ASSERT_TRUE(batch.has_value()) << batch.status().message();
  EXPECT_EQ(batch->skipped, 1);
  EXPECT_EQ(batch->ids, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(batch->inputs.dim(0), 3);
  EXPECT_EQ(batch->labels, (std::vector<int64_t>{0, 1, 3}));
}

TEST_F(ImageDatasetTest, FolderClassSubfolders) {
  for (const char* cls : {"cat", "dog"})
    std::filesystem::create_directories(path(std::string("f/") + cls));
  write_file("f/cat/a.png", encode_png(pattern_image(4, 4, 3, 1)));
  write_file("f/cat/b.bmp", encode_bmp24(pattern_image(4, 4, 3, 2)));
  write_file("f/dog/c.jpg", encode_jpeg(pattern_image(4, 4, 3, 3)));
  write_file("f/dog/notes.md", "not an image");
  auto dataset = open("folder:" + path("f").string(), {-1, 4, 4, 3});
  ASSERT_TRUE(dataset.has_value()) << dataset.status().message();
  ASSERT_EQ((*dataset)->size(), 3);
  auto batch = (*dataset)->read(0, 3);
  ASSERT_TRUE(batch.has_value()) << batch.status().message();
  EXPECT_EQ(batch->labels, (std::vector<int64_t>{0, 0, 1}));  // sorted class names
  // A labels file maps the folder names instead.
  write_file("names.txt", "0:bird\n1:dog\n2:cat\n");
  DatasetOptions options;
  options.spec = "folder:" + path("f").string();
  options.labels_file = path("names.txt").string();
  auto named = open_dataset(options, {-1, 4, 4, 3});
  ASSERT_TRUE(named.has_value()) << named.status().message();
  EXPECT_EQ((*named)->read(0, 3)->labels, (std::vector<int64_t>{2, 2, 1}));
}

TEST_F(ImageDatasetTest, FolderListFileWithHeaderAndNames) {
  std::filesystem::create_directories(path("flat"));
  write_file("flat/x.ppm", encode_ppm(pattern_image(2, 2, 3, 1)));
  write_file("flat/y.ppm", encode_ppm(pattern_image(2, 2, 3, 2)));
  write_file("flat/labels.csv", "file,label\nx.ppm,7\ny.ppm,tench\n");
  write_file("classes.txt", "background\ngoldfish\ntench, Tinca tinca\n");
  DatasetOptions options;
  options.spec = "folder:" + path("flat").string();
  options.labels_file = path("classes.txt").string();
  auto dataset = open_dataset(options, {-1, 2, 2, 3});
  ASSERT_TRUE(dataset.has_value()) << dataset.status().message();
  EXPECT_EQ((*dataset)->read(0, 2)->labels, (std::vector<int64_t>{7, 2}));
  // Without the names, "tench" is a bad label on line 3.
  options.labels_file.clear();
  expect_error(open_dataset(options, {-1, 2, 2, 3}).status(), {"labels.csv line 3", "tench"});
}

TEST_F(ImageDatasetTest, FolderLabelsFromFileNameSuffix) {
  std::filesystem::create_directories(path("s"));
  write_file("s/img_00_3.png", encode_png(pattern_image(2, 2, 3)));
  write_file("s/img_01_12.png", encode_png(pattern_image(2, 2, 3)));
  auto dataset = open("folder:" + path("s").string(), {-1, 2, 2, 3});
  ASSERT_TRUE(dataset.has_value()) << dataset.status().message();
  EXPECT_EQ((*dataset)->read(0, 2)->labels, (std::vector<int64_t>{3, 12}));
  write_file("s/nolabel.png", encode_png(pattern_image(2, 2, 3)));
  expect_error(open("folder:" + path("s").string(), {-1, 2, 2, 3}).status(),
               {"nolabel.png", "label suffix"});
}

TEST_F(ImageDatasetTest, FolderRejectsEmptyOrMissing) {
  std::filesystem::create_directories(path("empty"));
  expect_error(open("folder:" + path("empty").string(), {-1, 2, 2, 3}).status(),
               {"empty", "no images"});
  expect_error(open("folder:" + path("gone").string(), {-1, 2, 2, 3}).status(),
               {"gone", "no such directory"});
}

TEST_F(ImageDatasetTest, FolderImagesOfDifferentSizesNeedAResize) {
  std::filesystem::create_directories(path("m"));
  write_file("m/a_0.png", encode_png(pattern_image(4, 4, 3)));
  write_file("m/b_1.png", encode_png(pattern_image(6, 5, 3)));
  auto dataset = open("folder:" + path("m").string(), {-1, -1, -1, 3});
  ASSERT_TRUE(dataset.has_value()) << dataset.status().message();
  EXPECT_EQ((*dataset)->example_shape(), (Shape{4, 4, 3}));  // the first image's size
  expect_error((*dataset)->read(0, 2).status(), {"b_1.png", "6x5", "--resize"});
  DatasetOptions options;
  options.spec = "folder:" + path("m").string();
  options.preprocessing.resize_height = options.preprocessing.resize_width = 5;
  options.preprocessing.resize_method = ResizeMethod::kArea;
  auto resized = open_dataset(options, {-1, -1, -1, 3});
  ASSERT_TRUE(resized.has_value());
  auto batch = (*resized)->read(0, 2);
  ASSERT_TRUE(batch.has_value()) << batch.status().message();
  EXPECT_EQ(batch->inputs.shape(), (Shape{2, 5, 5, 3}));
}

TEST_F(ImageDatasetTest, FingerprintChangesWhenAnImageChanges) {
  DatasetOptions options;
  options.spec = make_gtsrb(2);
  const std::string before = dataset_fingerprint(options);
  write_file("gtsrb/Images/00001.ppm", encode_ppm(pattern_image(9, 8, 3)));
  EXPECT_NE(dataset_fingerprint(options), before);
}

}  // namespace
}  // namespace nnfi
