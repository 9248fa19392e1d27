// IDX files (http://yann.lecun.com/exdb/mnist/), read through zlib so that
// .gz and plain files take the same path (gzread passes plain data through).
#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

#include "nnfi/data.h"

namespace nnfi {
namespace data {
namespace {

constexpr int kMaxRank = 8;
// deflate never compresses better than about 1032:1, so a gzip file of S
// bytes holds at most this many times S bytes; a header that claims more is
// corrupt and must not make us allocate it.
constexpr uint64_t kMaxDeflateRatio = 1100;

// RAII for a zlib gzFile.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : file_(gzopen(path.c_str(), "rb")) {}
  ~GzFile() {
    if (file_ != nullptr) gzclose(file_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;
  gzFile get() const { return file_; }

  // Reads up to `size` bytes; returns how many were read, or -1 on an error.
  int64_t read(void* buffer, uint64_t size) {
    uint64_t done = 0;
    auto* out = static_cast<unsigned char*>(buffer);
    while (done < size) {
      const uint64_t chunk = std::min<uint64_t>(size - done, 1u << 30);
      int got = gzread(file_, out + done, static_cast<unsigned>(chunk));
      if (got < 0) return -1;
      if (got == 0) break;
      done += static_cast<uint64_t>(got);
    }
    return static_cast<int64_t>(done);
  }
  std::string error_text() const {
    int code = 0;
    const char* text = gzerror(file_, &code);
    return text != nullptr && code != Z_OK ? std::string(text) : std::string();
  }

 private:
  gzFile file_;
};

std::string type_name(unsigned char code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
  }
}

}  // namespace

Expected<IdxHeader> decode_idx_magic(const unsigned char magic[4], const std::string& where) {
  if (magic[0] != 0 || magic[1] != 0) {
    return invalid_argument(where +
                            ": not an IDX file (expected the magic bytes 0x00 0x00 "
                            "<type> <rank> at the start)");
  }
  IdxHeader header;
  if (magic[2] == 0x08) {
    header.dtype = DType::kUInt8;
  } else if (magic[2] == 0x09) {
    header.dtype = DType::kInt8;
  } else {
    char code[8];
    std::snprintf(code, sizeof(code), "0x%02X", magic[2]);
    return unsupported(where + ": IDX element type " + code + " (" + type_name(magic[2]) +
                       ") is not supported (expected 0x08 unsigned byte or 0x09 signed byte)");
  }
  if (magic[3] == 0 || magic[3] > kMaxRank) {
    return invalid_argument(where + ": IDX rank " + std::to_string(magic[3]) +
                            " is not valid (expected 1 to " + std::to_string(kMaxRank) + ")");
  }
  header.shape.resize(magic[3]);
  return header;
}

}  // namespace data

Expected<Tensor> read_idx(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(where + ": no such file");
  if (std::filesystem::is_directory(path, ec)) return invalid_argument(where + ": is a directory");
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) return io_error(where + ": cannot read the file size: " + ec.message());
  data::GzFile file(where);
  if (file.get() == nullptr) return io_error(where + ": cannot open: " + std::strerror(errno));

  auto truncated = [&](const std::string& expected) {
    std::string detail = file.error_text();
    return invalid_argument(where + ": truncated or corrupt IDX file (expected " + expected + ")" +
                            (detail.empty() ? "" : ": " + detail));
  };

  unsigned char magic[4];
  if (file.read(magic, 4) != 4) return truncated("a 4-byte magic number");
  NNFI_ASSIGN_OR_RETURN(data::IdxHeader header, data::decode_idx_magic(magic, where));
  const size_t rank = header.shape.size();
  unsigned char dims[4 * data::kMaxRank];
  if (file.read(dims, 4 * rank) != static_cast<int64_t>(4 * rank)) {
    return truncated(std::to_string(rank) + " big-endian uint32 dimensions");
  }
  for (size_t i = 0; i < rank; ++i) {
    header.shape[i] = (int64_t{dims[4 * i]} << 24) | (int64_t{dims[4 * i + 1]} << 16) |
                      (int64_t{dims[4 * i + 2]} << 8) | int64_t{dims[4 * i + 3]};
  }
  // Bound the claimed size by what the file can hold, before allocating.
  const bool plain = gzdirect(file.get()) == 1;
  const uint64_t header_bytes = 4 + 4 * rank;
  const uint64_t capacity =
      plain ? (file_size > header_bytes ? file_size - header_bytes : 0)
            : (file_size > std::numeric_limits<uint64_t>::max() / data::kMaxDeflateRatio
                   ? std::numeric_limits<uint64_t>::max()
                   : file_size * data::kMaxDeflateRatio);
  uint64_t count = 1;
  bool fits = true;
  for (int64_t dim : header.shape) {
    const auto d = static_cast<uint64_t>(dim);
    if (d != 0 && count > capacity / d) fits = false;
    if (!fits) break;
    count *= d;
  }
  if (!fits || count > capacity) {
    return invalid_argument(where + ": truncated or corrupt IDX file: the header's shape " +
                            shape_to_string(header.shape) + " needs more data than the " +
                            std::to_string(file_size) + "-byte file can hold");
  }

  try {
    Tensor tensor(header.dtype, header.shape);
    const int64_t got = file.read(tensor.raw_data(), count);
    if (got < 0 || static_cast<uint64_t>(got) != count) {
      return truncated(std::to_string(count) + " data bytes for shape " +
                       shape_to_string(header.shape) + ", found " +
                       std::to_string(got < 0 ? 0 : got));
    }
    unsigned char extra;
    if (file.read(&extra, 1) != 0) {
      return invalid_argument(where + ": unexpected bytes after the IDX data (expected exactly " +
                              std::to_string(count) + " data bytes for shape " +
                              shape_to_string(header.shape) + ")");
    }
    return tensor;
  } catch (const std::bad_alloc&) {
    return io_error(where + ": out of memory for " + std::to_string(count) + " bytes");
  }
}

Expected<LabelledImages> read_idx_dataset(const std::filesystem::path& images_path,
                                          const std::filesystem::path& labels_path) {
  NNFI_ASSIGN_OR_RETURN(Tensor images, read_idx(images_path));
  NNFI_ASSIGN_OR_RETURN(Tensor labels, read_idx(labels_path));
  if (labels.rank() != 1) {
    return invalid_argument(labels_path.string() + ": IDX labels must have rank 1, found shape " +
                            shape_to_string(labels.shape()));
  }
  if (images.rank() < 2) {
    return invalid_argument(images_path.string() +
                            ": IDX images must have rank 2 or more ([N, ...]), found shape " +
                            shape_to_string(images.shape()));
  }
  if (images.dim(0) != labels.dim(0)) {
    return invalid_argument(images_path.string() + " holds " + std::to_string(images.dim(0)) +
                            " images but " + labels_path.string() + " holds " +
                            std::to_string(labels.dim(0)) + " labels (expected one per image)");
  }
  return LabelledImages{std::move(images), std::move(labels)};
}

}  // namespace nnfi
