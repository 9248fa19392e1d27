// npy: data sets: .npy pairs and .npz archives (stored and deflated), integer and one-hot
// labels, reshaping to the model input, and named tests of what is rejected.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "data/data_files.h"
#include "nnfi/data.h"
#include "nnfi/dataset.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

class NpyDatasetTest : public testing::TempDirTest {
 protected:
  // x: [n, 2, 2] float32 with x[i] = i + j / 10; y: labels i % 3 as int64.
  void make_arrays(int n) {
    x_ = Tensor(DType::kFloat32, {n, 2, 2});
    y_ = Tensor(DType::kInt64, {n});
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < 4; ++j) x_.data<float>()[i * 4 + j] = static_cast<float>(i) + j / 10.0f;
      y_.data<int64_t>()[i] = i % 3;
    }
  }
  std::string npy_pair(int n) {
    make_arrays(n);
    EXPECT_TRUE(write_npy(path("x.npy"), x_).is_ok());
    EXPECT_TRUE(write_npy(path("y.npy"), y_).is_ok());
    return "npy:" + path("x.npy").string() + "," + path("y.npy").string();
  }
  std::string bytes_of(const Tensor& tensor) {
    EXPECT_TRUE(write_npy(path("tmp.npy"), tensor).is_ok());
    std::ifstream in(path("tmp.npy"), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  Tensor x_, y_;
};

Expected<DataBatch> read_all(const DatasetOptions& options, const Shape& input) {
  auto dataset = open_dataset(options, input);
  if (!dataset) return dataset.status();
  return (*dataset)->read(0, (*dataset)->size());
}

TEST_F(NpyDatasetTest, ReadsPairAsStored) {
  DatasetOptions options;
  options.spec = npy_pair(5);
  options.offset = 1;
  auto batch = read_all(options, {-1, 2, 2});
  ASSERT_TRUE(batch.has_value()) << batch.status().message();
  EXPECT_EQ(batch->inputs.shape(), (Shape{4, 2, 2}));
  EXPECT_FLOAT_EQ(batch->inputs.data<float>()[1], 1.1f);
  EXPECT_EQ(batch->labels, (std::vector<int64_t>{1, 2, 0, 1}));
  EXPECT_EQ(batch->ids, (std::vector<int64_t>{0, 1, 2, 3}));
  // Same element count, other arrangement: reshaped to the model's.
  auto flat = read_all(options, {-1, 4});
  ASSERT_TRUE(flat.has_value()) << flat.status().message();
  EXPECT_EQ(flat->inputs.shape(), (Shape{4, 4}));
}

TEST_F(NpyDatasetTest, ReadsNpzStoredAndDeflatedWithOneHotLabels) {
  make_arrays(6);
  Tensor one_hot(DType::kFloat32, {6, 3});
  for (int i = 0; i < 6; ++i) one_hot.data<float>()[i * 3 + (2 - i % 3)] = 1.0f;
  for (bool deflate : {false, true}) {
    const auto file = path(deflate ? "d.npz" : "s.npz");
    testing::write_zip(file, {{"x_test.npy", bytes_of(x_)}, {"y_test.npy", bytes_of(one_hot)}},
                       deflate);
    DatasetOptions options;
    options.spec = "npy:" + file.string();
    auto dataset = open_dataset(options, {-1, 2, 2});
    ASSERT_TRUE(dataset.has_value()) << dataset.status().message();
    // Backwards reads re-open a deflated entry.
    auto late = (*dataset)->read(4, 2);
    auto early = (*dataset)->read(0, 2);
    ASSERT_TRUE(late.has_value()) << late.status().message();
    ASSERT_TRUE(early.has_value()) << early.status().message();
    EXPECT_FLOAT_EQ(late->inputs.data<float>()[0], 4.0f);
    EXPECT_FLOAT_EQ(early->inputs.data<float>()[3], 0.3f);
    EXPECT_EQ(early->labels, (std::vector<int64_t>{2, 1}));
  }
  // Named arrays.
  testing::write_zip(path("n.npz"),
                     {{"a.npy", bytes_of(x_)}, {"b.npy", bytes_of(y_)}, {"c.npy", bytes_of(y_)}},
                     false);
  DatasetOptions options;
  options.spec = "npy:" + path("n.npz").string();
  auto unclear = open_dataset(options, {-1, 2, 2});
  ASSERT_FALSE(unclear.has_value());
  EXPECT_NE(unclear.status().message().find("XNAME,YNAME"), std::string::npos);
  options.spec += ",a,c";
  auto named = read_all(options, {-1, 2, 2});
  ASSERT_TRUE(named.has_value()) << named.status().message();
  EXPECT_EQ(named->labels.size(), 6u);
}

TEST_F(NpyDatasetTest, RejectsPreprocessingOptions) {
  DatasetOptions options;
  options.spec = npy_pair(2);
  options.preprocessing.resize_height = options.preprocessing.resize_width = 4;
  auto dataset = open_dataset(options, {-1, 4, 4});
  ASSERT_FALSE(dataset.has_value());
  EXPECT_NE(dataset.status().message().find("resize"), std::string::npos);
  options.preprocessing = {};
  options.preprocessing.preset = "tf";
  EXPECT_FALSE(open_dataset(options, {-1, 2, 2}).has_value());
}

TEST_F(NpyDatasetTest, RejectsShapeMismatchNamingBothShapes) {
  DatasetOptions options;
  options.spec = npy_pair(2);
  auto dataset = open_dataset(options, {-1, 3, 3});
  ASSERT_FALSE(dataset.has_value());
  EXPECT_NE(dataset.status().message().find("[2, 2]"), std::string::npos);
  EXPECT_NE(dataset.status().message().find("[?, 3, 3]"), std::string::npos);
}

TEST_F(NpyDatasetTest, RejectsLabelProblems) {
  make_arrays(3);
  ASSERT_TRUE(write_npy(path("x.npy"), x_).is_ok());
  ASSERT_TRUE(write_npy(path("y2.npy"), Tensor::from_vector<int64_t>({0, 1}, {2})).is_ok());
  DatasetOptions options;
  options.spec = "npy:" + path("x.npy").string() + "," + path("y2.npy").string();
  auto count = open_dataset(options, {-1, 2, 2});
  ASSERT_FALSE(count.has_value());
  EXPECT_NE(count.status().message().find("y2.npy"), std::string::npos);

  ASSERT_TRUE(write_npy(path("yf.npy"), Tensor::from_vector<float>({0, 1.5f, 2}, {3})).is_ok());
  options.spec = "npy:" + path("x.npy").string() + "," + path("yf.npy").string();
  auto fraction = open_dataset(options, {-1, 2, 2});
  ASSERT_FALSE(fraction.has_value());
  EXPECT_NE(fraction.status().message().find("yf.npy row 1"), std::string::npos)
      << fraction.status().message();
  options.on_error = OnError::kSkip;
  auto skipped = read_all(options, {-1, 2, 2});
  ASSERT_TRUE(skipped.has_value());
  EXPECT_EQ(skipped->skipped, 1);
  EXPECT_EQ(skipped->ids, (std::vector<int64_t>{0, 2}));

  options.on_error = OnError::kFail;
  options.spec = npy_pair(4);
  options.num_classes = 2;  // labels 0, 1, 2, 0
  auto range = open_dataset(options, {-1, 2, 2});
  ASSERT_FALSE(range.has_value());
  EXPECT_NE(range.status().message().find("row 2: label 2"), std::string::npos)
      << range.status().message();
}

TEST_F(NpyDatasetTest, RejectsTruncatedAndUnsupportedArrays) {
  DatasetOptions options;
  options.spec = npy_pair(4);
  std::string x = bytes_of(x_);
  write_file("x.npy", x.substr(0, x.size() - 5));
  auto truncated = open_dataset(options, {-1, 2, 2});
  ASSERT_FALSE(truncated.has_value());
  EXPECT_NE(truncated.status().message().find("x.npy"), std::string::npos);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);
  write_file("x.npy", "not numpy");
  EXPECT_FALSE(open_dataset(options, {-1, 2, 2}).has_value());
  const std::string dict = "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n";
  write_file("x.npy",
             std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(dict.size()) + '\0' + dict);
  auto complex = open_dataset(options, {-1, 2, 2});
  ASSERT_FALSE(complex.has_value());
  EXPECT_NE(complex.status().message().find("<c8"), std::string::npos)
      << complex.status().message();
}

}  // namespace
}  // namespace nnfi
