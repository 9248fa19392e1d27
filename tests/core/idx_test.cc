// IDX reader: plain and gzip files, the MNIST fixture, and rejection of
// malformed, truncated and oversized files.
#include "data/idx.h"

#include <zlib.h>

#include <string>
#include <vector>

#include "core/temp_files.h"
#include "nnfi/data.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::TempDirTest;

// IDX bytes: magic 0 0 type rank, big-endian dims, then `payload`.
std::string make_idx(unsigned char type, const std::vector<uint32_t>& dims,
                     const std::string& payload) {
  std::string bytes = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(dim >> shift));
  }
  return bytes + payload;
}

std::string counting_bytes(size_t count) {
  std::string bytes(count, '\0');
  for (size_t i = 0; i < count; ++i) bytes[i] = static_cast<char>(i * 7 % 256);
  return bytes;
}

class IdxTest : public TempDirTest {
 protected:
  std::filesystem::path write_gzip(const std::string& name, const std::string& bytes) {
    std::filesystem::path file = path(name);
    gzFile gz = gzopen(file.c_str(), "wb");
    EXPECT_NE(gz, nullptr);
    EXPECT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    gzclose(gz);
    return file;
  }
  std::string read_bytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // Reads a file that must be rejected; returns the error.
  Status read_error(const std::filesystem::path& file) {
    Expected<Tensor> result = read_idx(file);
    EXPECT_FALSE(result.has_value());
    if (result.has_value()) return Status::ok();
    EXPECT_NE(result.status().message().find(file.filename().string()), std::string::npos)
        << result.status().message();
    return result.status();
  }
};

TEST_F(IdxTest, ReadsPlainUnsignedBytes) {
  const std::string payload = counting_bytes(12);
  Expected<Tensor> tensor = read_idx(write_file("a.idx", make_idx(0x08, {2, 3, 2}, payload)));
  ASSERT_TRUE(tensor.has_value()) << tensor.status().message();
  EXPECT_EQ(tensor->dtype(), DType::kUInt8);
  EXPECT_EQ(tensor->shape(), (Shape{2, 3, 2}));
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(tensor->data<uint8_t>()[i], static_cast<uint8_t>(payload[i]));
  }
}

TEST_F(IdxTest, ReadsGzipLikePlain) {
  const std::string bytes = make_idx(0x08, {300, 5}, counting_bytes(1500));
  Expected<Tensor> plain = read_idx(write_file("p.idx", bytes));
  Expected<Tensor> gzip = read_idx(write_gzip("p.idx.gz", bytes));
  ASSERT_TRUE(plain.has_value()) << plain.status().message();
  ASSERT_TRUE(gzip.has_value()) << gzip.status().message();
  EXPECT_TRUE(gzip->bitwise_equal(*plain));
}

TEST_F(IdxTest, ReadsSignedBytes) {
  Expected<Tensor> tensor = read_idx(write_file("s.idx", make_idx(0x09, {2}, "\xff\x05")));
  ASSERT_TRUE(tensor.has_value()) << tensor.status().message();
  EXPECT_EQ(tensor->dtype(), DType::kInt8);
  EXPECT_EQ(tensor->data<int8_t>()[0], -1);
  EXPECT_EQ(tensor->data<int8_t>()[1], 5);
}

TEST_F(IdxTest, ReadsEmptyDataSet) {
  Expected<Tensor> tensor = read_idx(write_file("e.idx", make_idx(0x08, {0, 28, 28}, "")));
  ASSERT_TRUE(tensor.has_value()) << tensor.status().message();
  EXPECT_EQ(tensor->shape(), (Shape{0, 28, 28}));
}

TEST_F(IdxTest, ReadsFixtureMnist) {
  NNFI_REQUIRE_FIXTURES();
  const auto folder = testing::fixtures_dir() / "data/mnist_test";
  Expected<LabelledImages> data =
      read_idx_dataset(folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(data.has_value()) << data.status().message();
  EXPECT_EQ(data->images.shape(), (Shape{10000, 28, 28}));
  EXPECT_EQ(data->labels.shape(), (Shape{10000}));
  EXPECT_EQ(data->labels.data<uint8_t>()[0], 7);  // the first MNIST test digit is a 7
  int counts[10] = {};
  for (int i = 0; i < 10000; ++i) {
    ASSERT_LT(data->labels.data<uint8_t>()[i], 10);
    ++counts[data->labels.data<uint8_t>()[i]];
  }
  EXPECT_EQ(counts[0], 980);  // the official test set's class sizes
  EXPECT_EQ(counts[1], 1135);
}

TEST_F(IdxTest, ReadsDataSetPair) {
  auto images = write_file("i.idx", make_idx(0x08, {3, 2, 2}, counting_bytes(12)));
  auto labels = write_gzip("l.idx.gz", make_idx(0x08, {3}, "\x01\x02\x03"));
  Expected<LabelledImages> data = read_idx_dataset(images, labels);
  ASSERT_TRUE(data.has_value()) << data.status().message();
  EXPECT_EQ(data->images.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(data->labels.data<uint8_t>()[2], 3);
}

TEST_F(IdxTest, RejectsMissingFile) {
  Expected<Tensor> result = read_idx(path("absent.gz"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_NE(result.status().message().find("absent.gz"), std::string::npos);
}

TEST_F(IdxTest, RejectsBadMagic) {
  Status status =
      read_error(write_file("bad.idx", std::string("\x01\x00\x08\x01\x00\x00\x00\x01x", 9)));
  EXPECT_NE(status.message().find("not an IDX file"), std::string::npos) << status.message();
  status = read_error(write_gzip("bad.gz", "hello, this is text"));
  EXPECT_NE(status.message().find("not an IDX file"), std::string::npos) << status.message();
}

TEST_F(IdxTest, RejectsUnsupportedType) {
  Status status = read_error(write_file("f.idx", make_idx(0x0D, {1}, "\0\0\0\0")));
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_NE(status.message().find("0x0D (float32)"), std::string::npos) << status.message();
}

TEST_F(IdxTest, RejectsBadRank) {
  Status status = read_error(write_file("r0.idx", make_idx(0x08, {}, "x")));
  EXPECT_NE(status.message().find("rank 0"), std::string::npos) << status.message();
  status = read_error(write_file("r9.idx", std::string("\0\0\x08\x09", 4)));
  EXPECT_NE(status.message().find("rank 9"), std::string::npos) << status.message();
}

TEST_F(IdxTest, RejectsTruncatedMagic) {
  Status status = read_error(write_file("m.idx", std::string("\0\0", 2)));
  EXPECT_NE(status.message().find("4-byte magic"), std::string::npos) << status.message();
}

TEST_F(IdxTest, RejectsTruncatedDimensions) {
  std::string bytes = make_idx(0x08, {10, 28, 28}, "");
  Status status = read_error(write_file("d.idx", bytes.substr(0, 10)));
  EXPECT_NE(status.message().find("3 big-endian uint32 dimensions"), std::string::npos)
      << status.message();
}

TEST_F(IdxTest, RejectsTruncatedPlainData) {
  Status status = read_error(write_file("t.idx", make_idx(0x08, {10, 4}, counting_bytes(39))));
  EXPECT_NE(status.message().find("truncated or corrupt IDX file"), std::string::npos)
      << status.message();
}

TEST_F(IdxTest, RejectsTruncatedGzip) {
  std::string compressed =
      read_bytes(write_gzip("full.gz", make_idx(0x08, {100, 100}, counting_bytes(10000))));
  Status status = read_error(write_file("cut.gz", compressed.substr(0, compressed.size() / 2)));
  EXPECT_NE(status.message().find("truncated or corrupt IDX file"), std::string::npos)
      << status.message();
}

TEST_F(IdxTest, RejectsCorruptGzip) {
  std::string compressed =
      read_bytes(write_gzip("full.gz", make_idx(0x08, {100, 100}, counting_bytes(10000))));
  for (size_t i = 20; i < compressed.size() - 8; i += 3) compressed[i] = static_cast<char>(0xA5);
  Status status = read_error(write_file("corrupt.gz", compressed));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.message();
}

TEST_F(IdxTest, RejectsTrailingBytes) {
  Status status = read_error(write_file("x.idx", make_idx(0x08, {4}, counting_bytes(5))));
  EXPECT_NE(status.message().find("unexpected bytes after the IDX data"), std::string::npos)
      << status.message();
}

TEST_F(IdxTest, RejectsHugeDimensionsWithoutAllocating) {
  Status status = read_error(
      write_gzip("h.gz", make_idx(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, counting_bytes(64))));
  EXPECT_NE(status.message().find("more data than the"), std::string::npos) << status.message();
  status = read_error(write_file("h.idx", make_idx(0x08, {60000, 28, 28}, counting_bytes(64))));
  EXPECT_NE(status.message().find("more data than the"), std::string::npos) << status.message();
}

TEST_F(IdxTest, RejectsDataSetCountMismatch) {
  auto images = write_file("i.idx", make_idx(0x08, {3, 2, 2}, counting_bytes(12)));
  auto labels = write_file("l.idx", make_idx(0x08, {2}, "\x01\x02"));
  Expected<LabelledImages> data = read_idx_dataset(images, labels);
  ASSERT_FALSE(data.has_value());
  EXPECT_NE(data.status().message().find("holds 3 images but"), std::string::npos)
      << data.status().message();
}

TEST_F(IdxTest, RejectsDataSetLabelsNotRankOne) {
  auto images = write_file("i.idx", make_idx(0x08, {2, 2, 2}, counting_bytes(8)));
  auto labels = write_file("l.idx", make_idx(0x08, {2, 1}, "\x01\x02"));
  Expected<LabelledImages> data = read_idx_dataset(images, labels);
  ASSERT_FALSE(data.has_value());
  EXPECT_NE(data.status().message().find("labels must have rank 1"), std::string::npos)
      << data.status().message();
}

}  // namespace
}  // namespace nnfi
