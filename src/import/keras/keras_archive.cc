#include "import/keras/keras_archive.h"

#include <zip.h>

#include <fstream>
#include <memory>
#include <string>

namespace nnfi::keras_import {
namespace {

// A member bigger than this is a corrupt header, not a model.
constexpr zip_uint64_t kMaxMemberBytes = zip_uint64_t{4} << 30;

struct ZipCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }  // read-only: nothing to write
};
struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipCloser>;
using ZipMember = std::unique_ptr<zip_file_t, ZipFileCloser>;

// Reads member `name`; *found is false (and the result empty) when absent.
Expected<std::string> read_member(zip_t* archive, const std::string& name, const std::string& where,
                                  bool* found) {
  *found = false;
  const zip_int64_t index = zip_name_locate(archive, name.c_str(), 0);
  if (index < 0) return std::string();
  *found = true;
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive, static_cast<zip_uint64_t>(index), 0, &stat) != 0 ||
      (stat.valid & ZIP_STAT_SIZE) == 0) {
    return invalid_argument(where + ": cannot read the size of " + name);
  }
  if (stat.size > kMaxMemberBytes) {
    return invalid_argument(where + ": " + name + " is implausibly large (corrupt archive?)");
  }
  ZipMember member(zip_fopen_index(archive, static_cast<zip_uint64_t>(index), 0));
  if (member == nullptr) {
    return invalid_argument(where + ": cannot open " + name +
                            " in the archive: " + zip_strerror(archive));
  }
  std::string bytes(static_cast<size_t>(stat.size), '\0');
  zip_uint64_t done = 0;
  while (done < stat.size) {
    const zip_int64_t got = zip_fread(member.get(), bytes.data() + done, stat.size - done);
    if (got <= 0) {
      return invalid_argument(where + ": " + name + " is truncated or corrupt in the archive");
    }
    done += static_cast<zip_uint64_t>(got);
  }
  return bytes;
}

}  // namespace

bool has_zip_signature(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

Expected<KerasArchive> read_keras_archive(const std::filesystem::path& path) {
  const std::string where = path.string();
  int error_code = 0;
  ZipArchive archive(zip_open(where.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error_code));
  if (archive == nullptr) {
    zip_error_t error;
    zip_error_init_with_code(&error, error_code);
    const std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    return invalid_argument(where + ": not a readable .keras (zip) archive: " + reason);
  }
  KerasArchive result;
  bool found = false;
  NNFI_ASSIGN_OR_RETURN(result.config_json,
                        read_member(archive.get(), "config.json", where, &found));
  if (!found) return invalid_argument(where + ": the .keras archive has no config.json");
  NNFI_ASSIGN_OR_RETURN(result.weights_h5,
                        read_member(archive.get(), "model.weights.h5", where, &found));
  if (!found) return invalid_argument(where + ": the .keras archive has no model.weights.h5");
  NNFI_ASSIGN_OR_RETURN(result.metadata_json,
                        read_member(archive.get(), "metadata.json", where, &found));
  return result;
}

}  // namespace nnfi::keras_import
