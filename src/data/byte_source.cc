// Plain/gzip files through zlib (gzread passes plain data through, gzseek on a plain file is a
// real seek) and zip entries through libzip.
#include "data/byte_source.h"

#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace nnfi::data {
namespace {

constexpr unsigned kGzBufferSize = 1 << 17;
constexpr uint64_t kChunk = 1 << 20;  // bytes per read call, well under INT_MAX

Status short_read(const std::string& name, const std::string& what, uint64_t position,
                  uint64_t wanted, uint64_t got, const std::string& detail) {
  return invalid_argument(name + ": truncated or corrupt file: expected " + what + " (" +
                          std::to_string(wanted) + " bytes at offset " + std::to_string(position) +
                          "), found " + std::to_string(got) +
                          (detail.empty() ? "" : " (" + detail + ")"));
}

class GzSource : public ByteSource {
 public:
  GzSource(std::string name, gzFile file) : ByteSource(std::move(name)), file_(file) {
    gzbuffer(file_, kGzBufferSize);
  }
  ~GzSource() override { gzclose(file_); }
  GzSource(const GzSource&) = delete;
  GzSource& operator=(const GzSource&) = delete;

  Status read(void* out, uint64_t size, const std::string& what) override {
    auto* bytes = static_cast<unsigned char*>(out);
    uint64_t done = 0;
    while (done < size) {
      const auto chunk = static_cast<unsigned>(std::min(size - done, kChunk));
      const int got = gzread(file_, bytes + done, chunk);
      if (got <= 0) {
        const uint64_t start = position_;
        position_ += done;
        return short_read(name_, what, start, size, done, error_text());
      }
      done += static_cast<uint64_t>(got);
    }
    position_ += size;
    return Status::ok();
  }

  Status seek(uint64_t position) override {
    if (position == position_) return Status::ok();
    if (gzseek(file_, static_cast<z_off_t>(position), SEEK_SET) < 0) {
      return invalid_argument(name_ + ": cannot seek to offset " + std::to_string(position) +
                              (error_text().empty() ? "" : ": " + error_text()));
    }
    position_ = position;
    return Status::ok();
  }

  Expected<uint64_t> size() override {
    if (gzdirect(file_) == 1) {
      std::error_code ec;
      const uint64_t bytes = std::filesystem::file_size(name_, ec);
      if (ec) return io_error(name_ + ": cannot read the file size: " + ec.message());
      return bytes;
    }
    // Decompress to the end once; zlib checks the CRC and length at the end of each member.
    const uint64_t saved = position_;
    NNFI_RETURN_IF_ERROR(seek(0));
    std::vector<unsigned char> buffer(kGzBufferSize);
    uint64_t total = 0;
    for (;;) {
      const int got = gzread(file_, buffer.data(), static_cast<unsigned>(buffer.size()));
      if (got < 0) {
        return invalid_argument(name_ + ": truncated or corrupt gzip data after " +
                                std::to_string(total) + " bytes: " + error_text());
      }
      if (got == 0) break;
      total += static_cast<uint64_t>(got);
    }
    int code = Z_OK;
    gzerror(file_, &code);
    if (code != Z_OK) {
      return invalid_argument(name_ + ": truncated or corrupt gzip data after " +
                              std::to_string(total) + " bytes: " + error_text());
    }
    gzclearerr(file_);
    if (gzrewind(file_) != 0) return io_error(name_ + ": cannot rewind");
    position_ = 0;
    NNFI_RETURN_IF_ERROR(seek(saved));
    return total;
  }

 private:
  std::string error_text() const {
    int code = Z_OK;
    const char* text = gzerror(file_, &code);
    if (code == Z_OK || text == nullptr) return std::string();
    // zlib reports a cut-off stream as "unexpected end of file".
    return std::string(text);
  }

  gzFile file_;
};

// RAII for a zip archive and one open entry.
class ZipSource : public ByteSource {
 public:
  ZipSource(std::string name, zip_t* archive, zip_uint64_t index, uint64_t size, bool stored)
      : ByteSource(std::move(name)),
        archive_(archive),
        index_(index),
        size_(size),
        stored_(stored) {}
  ~ZipSource() override {
    if (file_ != nullptr) zip_fclose(file_);
    zip_discard(archive_);
  }
  ZipSource(const ZipSource&) = delete;
  ZipSource& operator=(const ZipSource&) = delete;

  Status open_entry() {
    if (file_ != nullptr) zip_fclose(file_);
    file_ = zip_fopen_index(archive_, index_, 0);
    position_ = 0;
    if (file_ == nullptr) {
      return invalid_argument(name_ + ": cannot open the zip entry: " + zip_strerror(archive_));
    }
    return Status::ok();
  }

  Status read(void* out, uint64_t size, const std::string& what) override {
    auto* bytes = static_cast<unsigned char*>(out);
    uint64_t done = 0;
    while (done < size) {
      const zip_int64_t got = zip_fread(file_, bytes + done, std::min(size - done, kChunk));
      if (got <= 0) {
        const uint64_t start = position_;
        position_ += done;
        return short_read(name_, what, start, size, done, got < 0 ? zip_file_strerror(file_) : "");
      }
      done += static_cast<uint64_t>(got);
    }
    position_ += size;
    return Status::ok();
  }

  Status seek(uint64_t position) override {
    if (position == position_) return Status::ok();
    if (position > size_) {
      return invalid_argument(name_ + ": cannot seek to offset " + std::to_string(position) +
                              " of a " + std::to_string(size_) + "-byte entry");
    }
    // Stored entries seek directly; deflated ones are read forward from the start.
    if (stored_ && zip_fseek(file_, static_cast<zip_int64_t>(position), SEEK_SET) == 0) {
      position_ = position;
      return Status::ok();
    }
    if (position < position_) NNFI_RETURN_IF_ERROR(open_entry());
    std::vector<unsigned char> skip(static_cast<size_t>(std::min(position - position_, kChunk)));
    while (position_ < position) {
      const uint64_t step = std::min<uint64_t>(position - position_, skip.size());
      NNFI_RETURN_IF_ERROR(
          read(skip.data(), step, "data before offset " + std::to_string(position)));
    }
    return Status::ok();
  }

  Expected<uint64_t> size() override { return size_; }

 private:
  zip_t* archive_;
  zip_uint64_t index_;
  uint64_t size_;
  bool stored_;  // zip_fseek works on stored entries only (and poisons deflated ones)
  zip_file_t* file_ = nullptr;
};

Expected<zip_t*> open_archive(const std::filesystem::path& archive) {
  const std::string where = archive.string();
  std::error_code ec;
  if (!std::filesystem::exists(archive, ec)) return not_found(where + ": no such file");
  int error = 0;
  zip_t* zip = zip_open(where.c_str(), ZIP_RDONLY, &error);
  if (zip == nullptr) {
    zip_error_t details;
    zip_error_init_with_code(&details, error);
    std::string text = zip_error_strerror(&details);
    zip_error_fini(&details);
    return invalid_argument(where + ": not a readable zip archive (.npz): " + text);
  }
  return zip;
}

}  // namespace

Expected<std::unique_ptr<ByteSource>> open_file_source(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(where + ": no such file");
  if (std::filesystem::is_directory(path, ec)) return invalid_argument(where + ": is a directory");
  gzFile file = gzopen(where.c_str(), "rb");
  if (file == nullptr) return io_error(where + ": cannot open: " + std::strerror(errno));
  return std::unique_ptr<ByteSource>(new GzSource(where, file));
}

Expected<std::unique_ptr<ByteSource>> open_zip_entry_source(const std::filesystem::path& archive,
                                                            const std::string& entry) {
  NNFI_ASSIGN_OR_RETURN(zip_t * zip, open_archive(archive));
  const zip_int64_t index = zip_name_locate(zip, entry.c_str(), 0);
  zip_stat_t stat;
  if (index < 0 || zip_stat_index(zip, static_cast<zip_uint64_t>(index), 0, &stat) != 0 ||
      (stat.valid & ZIP_STAT_SIZE) == 0) {
    zip_discard(zip);
    return not_found(archive.string() + ": no entry named '" + entry + "'");
  }
  auto source = std::make_unique<ZipSource>(
      archive.string() + ":" + entry, zip, static_cast<zip_uint64_t>(index), stat.size,
      (stat.valid & ZIP_STAT_COMP_METHOD) != 0 && stat.comp_method == ZIP_CM_STORE);
  NNFI_RETURN_IF_ERROR(source->open_entry());
  return std::unique_ptr<ByteSource>(std::move(source));
}

Expected<std::vector<std::string>> zip_entry_names(const std::filesystem::path& archive) {
  NNFI_ASSIGN_OR_RETURN(zip_t * zip, open_archive(archive));
  std::vector<std::string> names;
  const zip_int64_t count = zip_get_num_entries(zip, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* name = zip_get_name(zip, static_cast<zip_uint64_t>(i), 0);
    if (name != nullptr) names.emplace_back(name);
  }
  zip_discard(zip);
  return names;
}

}  // namespace nnfi::data
