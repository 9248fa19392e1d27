// NumPy .npy files: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#include "data/npy.h"

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <new>
#include <optional>
#include <vector>

#include "nnfi/data.h"

namespace nnfi {
namespace data {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the .npy reader assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// numpy itself refuses headers over 10 kB by default; this is only a guard
// against reading a huge "header" from a file that is not an .npy at all.
constexpr uint64_t kMaxHeaderSize = 1 << 20;
constexpr size_t kMaxRank = 32;

// How an .npy element type maps to a tensor.
struct NpyType {
  DType dtype;       // what the tensor holds
  size_t file_size;  // bytes per element in the file
};

std::optional<NpyType> npy_type(const std::string& descr) {
  // One-byte types have no byte order: numpy writes '|', accept '<' and '>' too.
  if (descr.size() == 3 && (descr[0] == '|' || descr[0] == '<' || descr[0] == '>')) {
    std::string_view kind = std::string_view(descr).substr(1);
    if (kind == "u1") return NpyType{DType::kUInt8, 1};
    if (kind == "i1") return NpyType{DType::kInt8, 1};
    if (kind == "b1") return NpyType{DType::kBool, 1};
  }
  if (descr == "<f4") return NpyType{DType::kFloat32, 4};
  if (descr == "<f8") return NpyType{DType::kFloat32, 8};
  if (descr == "<i4") return NpyType{DType::kInt32, 4};
  if (descr == "<i8") return NpyType{DType::kInt64, 8};
  return std::nullopt;
}

const char* npy_descr(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "<f4";
    case DType::kInt32: return "<i4";
    case DType::kInt64: return "<i8";
    case DType::kUInt8: return "|u1";
    case DType::kInt8: return "|i1";
    case DType::kBool: return "|b1";
    default: return nullptr;
  }
}

// A tiny recursive-descent parser for the dict literal numpy writes.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& where) : text_(text), where_(where) {}

  Expected<NpyHeader> parse() {
    NpyHeader header;
    bool has_descr = false, has_order = false, has_shape = false;
    skip_space();
    if (!consume('{')) return error("expected '{' at the start of the header dictionary");
    skip_space();
    while (!peek('}')) {
      NNFI_ASSIGN_OR_RETURN(std::string key, parse_string("a quoted key"));
      skip_space();
      if (!consume(':')) return error("expected ':' after key '" + key + "'");
      skip_space();
      if (key == "descr") {
        if (has_descr) return error("duplicate key 'descr'");
        NNFI_ASSIGN_OR_RETURN(header.descr, parse_string("a quoted dtype string for 'descr'"));
        has_descr = true;
      } else if (key == "fortran_order") {
        if (has_order) return error("duplicate key 'fortran_order'");
        NNFI_ASSIGN_OR_RETURN(header.fortran_order, parse_bool());
        has_order = true;
      } else if (key == "shape") {
        if (has_shape) return error("duplicate key 'shape'");
        NNFI_ASSIGN_OR_RETURN(header.shape, parse_shape());
        has_shape = true;
      } else {
        return error("unexpected key '" + key +
                     "' (expected only 'descr', 'fortran_order' and 'shape')");
      }
      skip_space();
      if (consume(',')) {
        skip_space();
      } else if (!peek('}')) {
        return error("expected ',' or '}' after the value of '" + key + "'");
      }
    }
    consume('}');
    skip_space();
    if (pos_ != text_.size()) return error("unexpected text after the header dictionary");
    if (!has_descr || !has_order || !has_shape) {
      std::string missing;
      if (!has_descr) missing += " 'descr'";
      if (!has_order) missing += " 'fortran_order'";
      if (!has_shape) missing += " 'shape'";
      return error("the header dictionary lacks the key(s)" + missing);
    }
    return header;
  }

 private:
  Status error(const std::string& message) const {
    return invalid_argument(where_ + ": malformed .npy header: " + message + " (at offset " +
                            std::to_string(pos_) + " of the header)");
  }
  bool peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool consume(char c) {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  Expected<std::string> parse_string(const std::string& what) {
    if (!peek('\'') && !peek('"')) return error("expected " + what);
    char quote = text_[pos_++];
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' || text_[pos_] == '\n')
        return error("unsupported character in " + what);
      ++pos_;
    }
    if (pos_ >= text_.size()) return error("unterminated string, expected " + what);
    std::string value(text_.substr(start, pos_ - start));
    ++pos_;
    return value;
  }

  Expected<bool> parse_bool() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    return error("expected True or False for 'fortran_order'");
  }

  Expected<int64_t> parse_dim() {
    size_t start = pos_;
    int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        return error("a dimension of 'shape' is too large");
      }
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == start) return error("expected a non-negative integer dimension in 'shape'");
    consume('L');  // Python 2 long literals, as old numpy wrote them
    return value;
  }

  Expected<Shape> parse_shape() {
    if (!consume('(')) return error("expected a tuple '(...)' for 'shape'");
    Shape shape;
    skip_space();
    while (!peek(')')) {
      if (shape.size() == kMaxRank) {
        return error("'shape' has more than " + std::to_string(kMaxRank) + " dimensions");
      }
      NNFI_ASSIGN_OR_RETURN(int64_t dim, parse_dim());
      shape.push_back(dim);
      skip_space();
      if (consume(',')) {
        skip_space();
      } else if (!peek(')')) {
        return error("expected ',' or ')' in 'shape'");
      }
    }
    consume(')');
    return shape;
  }

  std::string_view text_;
  const std::string& where_;
  size_t pos_ = 0;
};

Status file_error(const std::string& where, const std::string& message) {
  return invalid_argument(where + ": " + message);
}

uint64_t little_endian(const unsigned char* bytes, size_t count) {
  uint64_t value = 0;
  for (size_t i = 0; i < count; ++i) value |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  return value;
}

}  // namespace

Expected<NpyHeader> parse_npy_header(std::string_view text, const std::string& where) {
  return HeaderParser(text, where).parse();
}

Expected<std::string> format_npy_header(const Tensor& tensor) {
  const char* descr = npy_descr(tensor.dtype());
  if (descr == nullptr) {
    return unsupported("cannot write a " + std::string(dtype_name(tensor.dtype())) +
                       " tensor to .npy (supported: float32, int32, int64, uint8, int8, bool)");
  }
  std::string shape = "(";
  for (size_t i = 0; i < tensor.rank(); ++i) {
    if (i > 0) shape += ", ";
    shape += std::to_string(tensor.dim(i));
  }
  if (tensor.rank() == 1) shape += ",";
  shape += ")";
  return "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape +
         ", }";
}

}  // namespace data

Expected<Tensor> read_npy(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(where + ": no such file");
  if (std::filesystem::is_directory(path, ec)) return invalid_argument(where + ": is a directory");
  uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) return io_error(where + ": cannot read the file size: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(where + ": cannot open: " + std::strerror(errno));

  // Preamble: magic (6), version (2), header length (2 in v1, 4 in v2/v3).
  unsigned char preamble[12] = {};
  in.read(reinterpret_cast<char*>(preamble), 8);
  if (in.gcount() < 8 || std::memcmp(preamble, data::kMagic, data::kMagicSize) != 0) {
    return data::file_error(where,
                            "not a NumPy .npy file (expected the magic string "
                            "\\x93NUMPY at the start)");
  }
  const int major = preamble[6], minor = preamble[7];
  if (major < 1 || major > 3 || minor != 0) {
    return unsupported(where + ": .npy format version " + std::to_string(major) + "." +
                       std::to_string(minor) + " is not supported (expected 1.0, 2.0 or 3.0)");
  }
  const size_t length_bytes = major == 1 ? 2 : 4;
  in.read(reinterpret_cast<char*>(preamble + 8), static_cast<std::streamsize>(length_bytes));
  if (static_cast<size_t>(in.gcount()) < length_bytes) {
    return data::file_error(where, "truncated .npy preamble (expected a " +
                                       std::to_string(length_bytes) + "-byte header length)");
  }
  const uint64_t header_size = data::little_endian(preamble + 8, length_bytes);
  const uint64_t data_offset = 8 + length_bytes + header_size;
  if (header_size > data::kMaxHeaderSize) {
    return data::file_error(where, "the .npy header claims " + std::to_string(header_size) +
                                       " bytes, more than the " +
                                       std::to_string(data::kMaxHeaderSize) + " allowed");
  }
  if (data_offset > file_size) {
    return data::file_error(where, "truncated .npy header (expected " +
                                       std::to_string(header_size) +
                                       " header bytes, the file has " +
                                       std::to_string(file_size - 8 - length_bytes) + ")");
  }
  std::string header_text(header_size, '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_size));
  if (static_cast<uint64_t>(in.gcount()) != header_size) {
    return io_error(where + ": failed to read the .npy header");
  }
  NNFI_ASSIGN_OR_RETURN(data::NpyHeader header, data::parse_npy_header(header_text, where));

  std::optional<data::NpyType> type = data::npy_type(header.descr);
  if (!type) {
    const bool big_endian = !header.descr.empty() && header.descr[0] == '>';
    return unsupported(where + ": .npy dtype '" + header.descr + "' is not supported" +
                       (big_endian ? " (big-endian data)" : "") +
                       " (expected '<f4', '<f8', '<i4', '<i8', '|u1', '|i1' or '|b1')");
  }
  if (header.fortran_order) {
    return unsupported(where +
                       ": Fortran-order .npy arrays are not supported (expected "
                       "fortran_order False; save with np.ascontiguousarray)");
  }

  // Element count and byte size, checked against the real file size before
  // anything is allocated, so that a corrupt shape cannot exhaust memory.
  const uint64_t available = file_size - data_offset;
  uint64_t count = 1;
  for (int64_t dim : header.shape) {
    const auto d = static_cast<uint64_t>(dim);
    if (d != 0 && count > available / d) {
      // Even if a later dim is 0, such a shape is nonsense in a real file.
      return data::file_error(where, "truncated .npy data: shape " + shape_to_string(header.shape) +
                                         " needs more than the " + std::to_string(available) +
                                         " data bytes in the file");
    }
    count *= d;
  }
  const uint64_t data_bytes = count * type->file_size;
  if (data_bytes > available) {
    return data::file_error(where, "truncated .npy data (expected " + std::to_string(data_bytes) +
                                       " bytes for shape " + shape_to_string(header.shape) + " " +
                                       header.descr + ", the file has " +
                                       std::to_string(available) + ")");
  }
  if (data_bytes < available) {
    return data::file_error(where, "unexpected " + std::to_string(available - data_bytes) +
                                       " bytes after the .npy data (expected " +
                                       std::to_string(data_bytes) + " bytes for shape " +
                                       shape_to_string(header.shape) + " " + header.descr + ")");
  }

  try {
    Tensor tensor(type->dtype, header.shape);
    if (header.descr == "<f8") {
      std::vector<double> values(count);
      in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(data_bytes));
      if (static_cast<uint64_t>(in.gcount()) != data_bytes) {
        return io_error(where + ": failed to read the .npy data");
      }
      float* out = tensor.data<float>();
      for (uint64_t i = 0; i < count; ++i) out[i] = static_cast<float>(values[i]);
      return tensor;
    }
    in.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(data_bytes));
    if (static_cast<uint64_t>(in.gcount()) != data_bytes) {
      return io_error(where + ": failed to read the .npy data");
    }
    if (type->dtype == DType::kBool) {
      // A bool must hold 0 or 1; normalise any other byte.
      auto* bytes = static_cast<unsigned char*>(tensor.raw_data());
      for (uint64_t i = 0; i < count; ++i) bytes[i] = bytes[i] != 0 ? 1 : 0;
    }
    return tensor;
  } catch (const std::bad_alloc&) {
    return io_error(where + ": out of memory for " + std::to_string(data_bytes) + " bytes");
  }
}

Status write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  const std::string where = path.string();
  Expected<std::string> dict = data::format_npy_header(tensor);
  if (!dict) return dict.status().with_context(where);
  // Pad with spaces and end with '\n' so that the data starts 64-byte aligned.
  std::string header = *dict;
  size_t preamble = 10;
  size_t total = (preamble + header.size() + 1 + 63) / 64 * 64;
  int major = 1;
  if (total - preamble > 0xFFFF) {
    major = 2;
    preamble = 12;
    total = (preamble + header.size() + 1 + 63) / 64 * 64;
  }
  header.append(total - preamble - header.size() - 1, ' ');
  header.push_back('\n');

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return io_error(where + ": cannot open for writing: " + std::strerror(errno));
  out.write(data::kMagic, data::kMagicSize);
  const char version[2] = {static_cast<char>(major), 0};
  out.write(version, 2);
  const uint64_t length = header.size();
  for (size_t i = 0; i < preamble - 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xFF));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(tensor.raw_data()),
            static_cast<std::streamsize>(tensor.num_bytes()));
  out.close();
  if (!out) return io_error(where + ": write failed: " + std::strerror(errno));
  return Status::ok();
}

}  // namespace nnfi
