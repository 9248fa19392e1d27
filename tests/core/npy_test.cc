// .npy reader and writer: round trips, the header variants numpy writes, and
// rejection of every kind of malformed file.
#include "data/npy.h"

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/temp_files.h"
#include "nnfi/data.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

using testing::TempDirTest;

// An .npy file: magic, version, header length, the dict padded to 64 bytes
// with '\n' at the end (as numpy writes it), then `payload`.
std::string make_npy(const std::string& dict, const std::string& payload, int major = 1) {
  const size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  const size_t total = (preamble + header.size() + 1 + 63) / 64 * 64;
  header.append(total - preamble - header.size() - 1, ' ');
  header.push_back('\n');
  std::string bytes = "\x93NUMPY";
  bytes.push_back(static_cast<char>(major));
  bytes.push_back(0);
  for (size_t i = 0; i < preamble - 8; ++i) {
    bytes.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xFF));
  }
  return bytes + header + payload;
}

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

std::string float_payload(size_t count) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = 0.5f * static_cast<float>(i);
  return raw_bytes(values);
}

class NpyTest : public TempDirTest {
 protected:
  // Reads a crafted file that must be rejected; returns the error.
  Status read_error(const std::string& bytes) {
    Expected<Tensor> result = read_npy(write_file("bad.npy", bytes));
    EXPECT_FALSE(result.has_value());
    if (result.has_value()) return Status::ok();
    // Every error names the file.
    EXPECT_NE(result.status().message().find("bad.npy"), std::string::npos)
        << result.status().message();
    return result.status();
  }
};

TEST_F(NpyTest, RoundTripsEveryDtype) {
  std::vector<Tensor> tensors = {
      testing::random_tensor({2, 3}, 1),
      Tensor::from_vector<int32_t>({-7, 0, 2147483647, -2147483647 - 1}, {4}),
      Tensor::from_vector<int64_t>({-1, 1LL << 40, 3, 4}, {2, 2}),
      Tensor::from_vector<uint8_t>({0, 1, 2, 253, 254, 255}, {3, 1, 2}),
      Tensor::from_vector<int8_t>({-128, -1, 0, 1, 127}, {5}),
      Tensor::from_vector<bool>({true, false, true}, {3}),
  };
  for (const Tensor& tensor : tensors) {
    SCOPED_TRACE(std::string(dtype_name(tensor.dtype())));
    auto file = path("t.npy");
    ASSERT_TRUE(write_npy(file, tensor).is_ok());
    Expected<Tensor> back = read_npy(file);
    ASSERT_TRUE(back.has_value()) << back.status().message();
    EXPECT_TRUE(back->bitwise_equal(tensor));
  }
}

TEST_F(NpyTest, RoundTripsScalarAndEmptyAndNonFinite) {
  Tensor scalar = Tensor::scalar<float>(3.25f);
  Tensor empty(DType::kFloat32, {0, 3});
  Tensor special = Tensor::from_vector<float>(
      {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -0.0f},
      {3});
  for (const Tensor& tensor : {scalar, empty, special}) {
    auto file = path("t.npy");
    ASSERT_TRUE(write_npy(file, tensor).is_ok());
    Expected<Tensor> back = read_npy(file);
    ASSERT_TRUE(back.has_value()) << back.status().message();
    EXPECT_TRUE(back->bitwise_equal(tensor)) << shape_to_string(tensor.shape());
  }
}

TEST_F(NpyTest, WritesTheHeaderNumpyWrites) {
  auto file = path("t.npy");
  ASSERT_TRUE(write_npy(file, testing::random_tensor({16, 10}, 2)).is_ok());
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 64u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_size = static_cast<unsigned char>(bytes[8]) |
                             (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  EXPECT_EQ((10 + header_size) % 64, 0u);  // data 64-byte aligned
  EXPECT_EQ(bytes[10 + header_size - 1], '\n');
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (16, 10), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes.size(), 10 + header_size + 16 * 10 * 4);
}

TEST_F(NpyTest, FormatsOneDimensionalShapeAsPythonTuple) {
  Expected<std::string> dict = data::format_npy_header(Tensor(DType::kUInt8, {7}));
  ASSERT_TRUE(dict.has_value());
  EXPECT_EQ(*dict, "{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }");
}

TEST_F(NpyTest, ReadsFloat64AsFloat32) {
  std::vector<double> values = {1.5, -2.25, 1e-3, 1e300};
  auto file = write_file("f8.npy", make_npy("{'descr': '<f8', 'fortran_order': False, "
                                            "'shape': (2, 2), }",
                                            raw_bytes(values)));
  Expected<Tensor> tensor = read_npy(file);
  ASSERT_TRUE(tensor.has_value()) << tensor.status().message();
  EXPECT_EQ(tensor->dtype(), DType::kFloat32);
  EXPECT_EQ(tensor->shape(), (Shape{2, 2}));
  EXPECT_EQ(tensor->data<float>()[0], 1.5f);
  EXPECT_EQ(tensor->data<float>()[1], -2.25f);
  EXPECT_EQ(tensor->data<float>()[2], 1e-3f);
  EXPECT_TRUE(std::isinf(tensor->data<float>()[3]));  // out of float range
}

TEST_F(NpyTest, ReadsVersion2And3Headers) {
  for (int major : {2, 3}) {
    auto file = write_file("v.npy", make_npy("{'descr': '<f4', 'fortran_order': False, "
                                             "'shape': (3,), }",
                                             float_payload(3), major));
    Expected<Tensor> tensor = read_npy(file);
    ASSERT_TRUE(tensor.has_value()) << tensor.status().message();
    EXPECT_EQ(tensor->shape(), (Shape{3}));
    EXPECT_EQ(tensor->data<float>()[2], 1.0f);
  }
}

TEST_F(NpyTest, ReadsHeaderVariants) {
  // Keys in any order, double quotes, no trailing comma, Python 2 longs, '<u1'.
  auto file = write_file("h.npy", make_npy("{\"shape\": (2L, 1L), \"descr\": \"<u1\", "
                                           "\"fortran_order\": False}",
                                           std::string("\x05\x06", 2)));
  Expected<Tensor> tensor = read_npy(file);
  ASSERT_TRUE(tensor.has_value()) << tensor.status().message();
  EXPECT_EQ(tensor->dtype(), DType::kUInt8);
  EXPECT_EQ(tensor->shape(), (Shape{2, 1}));
  EXPECT_EQ(tensor->data<uint8_t>()[1], 6);
}

TEST_F(NpyTest, NormalisesBoolBytes) {
  auto file = write_file("b.npy", make_npy("{'descr': '|b1', 'fortran_order': False, "
                                           "'shape': (3,), }",
                                           std::string("\x00\x01\x07", 3)));
  Expected<Tensor> tensor = read_npy(file);
  ASSERT_TRUE(tensor.has_value()) << tensor.status().message();
  const auto* bytes = static_cast<const unsigned char*>(tensor->raw_data());
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[1], 1);
  EXPECT_EQ(bytes[2], 1);
}

TEST_F(NpyTest, ReadsFixtureGoldenInput) {
  NNFI_REQUIRE_FIXTURES();
  Expected<Tensor> tensor = read_npy(testing::fixtures_dir() / "golden/mnist-8/input.npy");
  ASSERT_TRUE(tensor.has_value()) << tensor.status().message();
  EXPECT_EQ(tensor->dtype(), DType::kFloat32);
  EXPECT_EQ(tensor->shape(), (Shape{16, 1, 1, 28, 28}));
}

TEST_F(NpyTest, RejectsMissingFile) {
  Expected<Tensor> result = read_npy(path("absent.npy"));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_NE(result.status().message().find("absent.npy"), std::string::npos);
}

TEST_F(NpyTest, RejectsDirectory) {
  Expected<Tensor> result = read_npy(dir_);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.status().message().find("directory"), std::string::npos);
}

TEST_F(NpyTest, RejectsEmptyFile) {
  Status status = read_error("");
  EXPECT_NE(status.message().find("not a NumPy .npy file"), std::string::npos);
}

TEST_F(NpyTest, RejectsBadMagic) {
  Status status = read_error("PK\x03\x04 this is a zip, not an npy file at all");
  EXPECT_NE(status.message().find("magic"), std::string::npos) << status.message();
}

TEST_F(NpyTest, RejectsUnsupportedVersion) {
  std::string bytes =
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", float_payload(1));
  bytes[6] = 4;
  Status status = read_error(bytes);
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_NE(status.message().find("version 4.0"), std::string::npos) << status.message();
}

TEST_F(NpyTest, RejectsTruncatedPreamble) {
  Status status = read_error(std::string("\x93NUMPY\x01\x00\x76", 9));
  EXPECT_NE(status.message().find("truncated .npy preamble"), std::string::npos)
      << status.message();
}

TEST_F(NpyTest, RejectsTruncatedHeader) {
  std::string bytes = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "");
  Status status = read_error(bytes.substr(0, 40));
  EXPECT_NE(status.message().find("truncated .npy header"), std::string::npos) << status.message();
}

TEST_F(NpyTest, RejectsFortranOrder) {
  Status status = read_error(
      make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", float_payload(4)));
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_NE(status.message().find("Fortran"), std::string::npos) << status.message();
}

TEST_F(NpyTest, RejectsBigEndian) {
  Status status = read_error(
      make_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", float_payload(1)));
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_NE(status.message().find("big-endian"), std::string::npos) << status.message();
}

TEST_F(NpyTest, RejectsUnsupportedDtype) {
  Status status = read_error(
      make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", float_payload(2)));
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_NE(status.message().find("'<c8'"), std::string::npos) << status.message();
}

TEST_F(NpyTest, RejectsMalformedHeaders) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected '{'"},
      {"{'descr': '<f4', 'fortran_order': False}", "lacks the key(s) 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "duplicate"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, x)}", "integer dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "integer dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", "after the header"},
      {"{'descr': '<f4 , 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr: '<f4'", "expected ':'"},
      {"{'descr' '<f4'}", "expected ':'"},
      {"{'descr': <f4, 'fortran_order': False, 'shape': (1,)}", "dtype string"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "too large"},
  };
  for (const auto& [dict, expected] : cases) {
    SCOPED_TRACE(dict);
    Status status = read_error(make_npy(dict, float_payload(1)));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find(expected), std::string::npos) << status.message();
  }
}

TEST_F(NpyTest, RejectsTooManyDimensions) {
  std::string shape = "(";
  for (int i = 0; i < 40; ++i) shape += "1, ";
  Status status = read_error(make_npy(
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "), }", float_payload(1)));
  EXPECT_NE(status.message().find("more than 32 dimensions"), std::string::npos)
      << status.message();
}

TEST_F(NpyTest, RejectsTruncatedData) {
  Status status = read_error(
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }", float_payload(15)));
  EXPECT_NE(status.message().find("truncated .npy data (expected 64 bytes"), std::string::npos)
      << status.message();
}

TEST_F(NpyTest, RejectsTrailingBytes) {
  Status status = read_error(
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", float_payload(3)));
  EXPECT_NE(status.message().find("unexpected 4 bytes after"), std::string::npos)
      << status.message();
}

TEST_F(NpyTest, RejectsHugeShapeWithoutAllocating) {
  Status status =
      read_error(make_npy("{'descr': '<f8', 'fortran_order': False, "
                          "'shape': (4000000000, 4000000000, 4000000000), }",
                          float_payload(4)));
  EXPECT_NE(status.message().find("truncated .npy data"), std::string::npos) << status.message();
}

TEST_F(NpyTest, RejectsHugeHeaderLength) {
  std::string bytes("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}", 14);
  Status status = read_error(bytes);
  EXPECT_NE(status.message().find("header claims"), std::string::npos) << status.message();
}

TEST_F(NpyTest, WriteRejectsUnsupportedDtype) {
  Status status = write_npy(path("half.npy"), Tensor(DType::kFloat16, {2}));
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_NE(status.message().find("float16"), std::string::npos) << status.message();
}

TEST_F(NpyTest, WriteRejectsUnwritablePath) {
  Status status = write_npy(path("no/such/dir/t.npy"), Tensor(DType::kFloat32, {2}));
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("no/such/dir/t.npy"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace nnfi
