// Streaming byte sources for the array readers (IDX, NPY): a plain or gzip file, or an entry
// of a zip archive (.npz). They read forward cheaply and seek anywhere (backwards by reopening
// compressed streams), so a reader holds only what it is asked for.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nnfi/status.h"

namespace nnfi::data {

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // The file (and entry) name used in error messages.
  const std::string& name() const { return name_; }
  uint64_t position() const { return position_; }

  // Reads exactly `size` bytes at the current position. Errors name the file, say what was
  // being read (`what`) and where the data ended.
  virtual Status read(void* out, uint64_t size, const std::string& what) = 0;
  virtual Status seek(uint64_t position) = 0;
  // The total (uncompressed) size. For gzip files this decompresses the whole file once, which
  // also checks its CRC: a truncated or corrupt .gz is an error here.
  virtual Expected<uint64_t> size() = 0;

 protected:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}
  std::string name_;
  uint64_t position_ = 0;
};

// A plain or gzip-compressed file (told apart by content).
Expected<std::unique_ptr<ByteSource>> open_file_source(const std::filesystem::path& path);

// An entry of a zip archive, stored or deflated.
Expected<std::unique_ptr<ByteSource>> open_zip_entry_source(const std::filesystem::path& archive,
                                                            const std::string& entry);

// The names of the entries of a zip archive, in archive order.
Expected<std::vector<std::string>> zip_entry_names(const std::filesystem::path& archive);

}  // namespace nnfi::data
