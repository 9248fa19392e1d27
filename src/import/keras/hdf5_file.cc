#include "import/keras/hdf5_file.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "import/keras/hdf5_guard.h"

namespace nnfi::keras_import {
namespace {

// Weights beyond this many elements are treated as a corrupt header rather
// than allocated (a real Keras weight is far smaller).
constexpr int64_t kMaxDatasetElements = int64_t{1} << 31;

// Splits "a/b/c" into its non-empty components.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The strings of an attribute or dataset of string type `file_type` with
// `count` elements; `read` fills a buffer in a given memory type.
template <typename ReadFn>
Expected<std::vector<std::string>> read_strings(hid_t file_type, hid_t space, int64_t count,
                                                ReadFn read) {
  std::vector<std::string> strings;
  if (count == 0) return strings;
  const htri_t variable = h5_guarded<H5Tis_variable_str>(file_type);
  if (variable < 0) return invalid_argument("unreadable string type");
  if (variable > 0) {
    H5Id memory_type(h5_guarded<H5Tcopy>(H5T_C_S1), &H5Tclose);
    if (!memory_type.valid() || h5_guarded<H5Tset_size>(memory_type.get(), H5T_VARIABLE) < 0 ||
        h5_guarded<H5Tset_cset>(memory_type.get(), h5_guarded<H5Tget_cset>(file_type)) < 0) {
      return invalid_argument("cannot build a variable-length string type");
    }
    std::vector<char*> pointers(static_cast<size_t>(count), nullptr);
    if (read(memory_type.get(), pointers.data()) < 0) {
      return invalid_argument("cannot read variable-length strings");
    }
    for (char* text : pointers) strings.emplace_back(text != nullptr ? text : "");
    h5_guarded<H5Dvlen_reclaim>(memory_type.get(), space, H5P_DEFAULT, pointers.data());
    return strings;
  }
  const size_t size = h5_guarded<H5Tget_size>(file_type);
  if (size == 0 || size > (size_t{1} << 30)) return invalid_argument("bad string size");
  H5Id memory_type(h5_guarded<H5Tcopy>(file_type), &H5Tclose);
  if (!memory_type.valid()) return invalid_argument("cannot copy the string type");
  std::vector<char> buffer(size * static_cast<size_t>(count), '\0');
  if (read(memory_type.get(), buffer.data()) < 0) {
    return invalid_argument("cannot read fixed-length strings");
  }
  for (int64_t i = 0; i < count; ++i) {
    const char* text = buffer.data() + static_cast<size_t>(i) * size;
    // numpy's 'S' strings are NUL-padded, without a terminator when full.
    strings.emplace_back(text, strnlen(text, size));
  }
  return strings;
}

// Reads `length` bytes at `offset` of the file or image; false past the end.
using ByteReader = std::function<bool(uint64_t offset, size_t length, char* out)>;

uint64_t little_endian(const char* bytes, size_t count) {
  uint64_t value = 0;
  for (size_t i = count; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// libhdf5 1.10 trusts the object sizes inside a global heap collection (where
// variable-length strings such as Keras's model_config live) and crashes in
// H5HG_read on a corrupt one. So before HDF5 reads any, every collection
// ("GCOL", version 1) is walked the way H5HG's deserializer walks it and the
// file is refused if an object runs past its collection or the collection
// past the file. Returns "" when all are consistent.
std::string check_global_heaps(uint64_t file_size, const ByteReader& read) {
  char superblock[16];
  if (!read(0, sizeof(superblock), superblock)) return "";
  const int version = static_cast<unsigned char>(superblock[8]);
  const int length_size = static_cast<unsigned char>(superblock[version >= 2 ? 10 : 14]);
  if (length_size != 8) return "";  // h5py writes 8; other layouts are not checked
  constexpr size_t kChunk = size_t{1} << 20;
  constexpr size_t kHeader = 16;  // signature, version, reserved, collection size
  std::string buffer(kChunk + kHeader, '\0');
  for (uint64_t base = 0; base < file_size; base += kChunk) {
    const size_t length =
        static_cast<size_t>(std::min<uint64_t>(kChunk + kHeader, file_size - base));
    if (!read(base, length, buffer.data())) return "";
    for (size_t i = 0; i + 5 <= length && i < kChunk; ++i) {
      if (std::memcmp(buffer.data() + i, "GCOL\x01", 5) != 0) continue;
      const uint64_t start = base + i;
      char header[kHeader];
      if (!read(start, kHeader, header)) return "a global heap header past the end of the file";
      const uint64_t size = little_endian(header + 8, 8);
      if (size < 4096 || size > file_size - start) {
        return "a global heap at byte " + std::to_string(start) + " has an impossible size";
      }
      std::string heap(static_cast<size_t>(size), '\0');
      if (!read(start, heap.size(), heap.data())) return "a global heap past the end of the file";
      size_t p = kHeader;
      while (p < heap.size()) {
        if (p + 16 > heap.size()) break;  // a tail too small for an object: free space
        const uint64_t index = little_endian(heap.data() + p, 2);
        const uint64_t object = little_endian(heap.data() + p + 8, 8);
        const uint64_t need = index > 0 ? 16 + ((object + 7) & ~uint64_t{7}) : object;
        if (need == 0 || object > heap.size() || need > heap.size() - p) {
          return "object " + std::to_string(index) + " of the global heap at byte " +
                 std::to_string(start) + " runs past its collection";
        }
        p += static_cast<size_t>(need);
      }
    }
  }
  return "";
}

}  // namespace

H5Quiet::H5Quiet() {
  H5Eget_auto2(H5E_DEFAULT, &saved_func_, &saved_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

H5Quiet::~H5Quiet() { H5Eset_auto2(H5E_DEFAULT, saved_func_, saved_data_); }

Status Hdf5File::error(const std::string& where, const std::string& what) const {
  return invalid_argument(name_ + ": " + (where.empty() ? "" : where + ": ") + what);
}

Expected<Hdf5File> Hdf5File::open(const std::filesystem::path& path) {
  H5Quiet quiet;
  const std::string name = path.string();
  const htri_t is_hdf5 = h5_guarded<H5Fis_hdf5>(name.c_str());
  if (is_hdf5 <= 0) {
    return invalid_argument(name + ": not an HDF5 file (no HDF5 signature)");
  }
  H5Id file(h5_guarded<H5Fopen>(name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), &H5Fclose);
  if (!file.valid()) {
    return invalid_argument(name + ": cannot open the HDF5 file (truncated or corrupt?)");
  }
  std::ifstream in(path, std::ios::binary);
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(path, error);
  const std::string corrupt =
      error ? "" : check_global_heaps(size, [&](uint64_t offset, size_t length, char* out) {
        in.clear();
        in.seekg(static_cast<std::streamoff>(offset));
        return static_cast<bool>(in.read(out, static_cast<std::streamsize>(length)));
      });
  if (!corrupt.empty()) return invalid_argument(name + ": corrupt HDF5 file: " + corrupt);
  return Hdf5File(std::move(file), name);
}

Expected<Hdf5File> Hdf5File::open_image(const std::string& bytes, std::string display_name) {
  H5Quiet quiet;
  // The core driver with no backing store reads the image from memory: no
  // temporary file to create, name, clean up or race on (see docs/keras.md).
  H5Id access(h5_guarded<H5Pcreate>(H5P_FILE_ACCESS), &H5Pclose);
  if (!access.valid() || h5_guarded<H5Pset_fapl_core>(access.get(), 1 << 16, 0) < 0 ||
      h5_guarded<H5Pset_file_image>(access.get(), const_cast<char*>(bytes.data()), bytes.size()) <
          0) {
    return invalid_argument(display_name + ": cannot set up an in-memory HDF5 image");
  }
  // Each image gets its own name: HDF5 tracks open files by name.
  static std::atomic<int> counter{0};
  const std::string label = display_name + "#" + std::to_string(counter++);
  H5Id file(h5_guarded<H5Fopen>(label.c_str(), H5F_ACC_RDONLY, access.get()), &H5Fclose);
  if (!file.valid()) {
    return invalid_argument(display_name + ": not a readable HDF5 file (truncated or corrupt?)");
  }
  const std::string corrupt =
      check_global_heaps(bytes.size(), [&](uint64_t offset, size_t length, char* out) {
        if (offset > bytes.size() || length > bytes.size() - offset) return false;
        std::memcpy(out, bytes.data() + offset, length);
        return true;
      });
  if (!corrupt.empty()) return invalid_argument(display_name + ": corrupt HDF5 file: " + corrupt);
  return Hdf5File(std::move(file), std::move(display_name));
}

bool Hdf5File::exists(hid_t location, const std::string& path) const {
  H5Quiet quiet;
  std::string prefix;
  for (const std::string& part : split_path(path)) {
    prefix += (prefix.empty() ? "" : "/") + part;
    if (h5_guarded<H5Lexists>(location, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return !prefix.empty();
}

bool Hdf5File::is_group(hid_t location, const std::string& path) const {
  if (!exists(location, path)) return false;
  H5Quiet quiet;
  H5Id object(h5_guarded<H5Oopen>(location, path.c_str(), H5P_DEFAULT), &H5Oclose);
  return object.valid() && h5_guarded<H5Iget_type>(object.get()) == H5I_GROUP;
}

Expected<H5Id> Hdf5File::open_group(hid_t location, const std::string& path) const {
  if (!is_group(location, path)) return error("", "no group '" + path + "'");
  H5Quiet quiet;
  H5Id group(h5_guarded<H5Gopen2>(location, path.c_str(), H5P_DEFAULT), &H5Gclose);
  if (!group.valid()) return error("", "cannot open group '" + path + "'");
  return group;
}

Expected<std::vector<std::string>> Hdf5File::children(hid_t group, const std::string& where) const {
  H5Quiet quiet;
  H5G_info_t info;
  if (h5_guarded<H5Gget_info>(group, &info) < 0) return error(where, "cannot list the group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length = h5_guarded<H5Lget_name_by_idx>(group, ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                                          nullptr, 0, H5P_DEFAULT);
    if (length < 0) return error(where, "cannot read the name of child " + std::to_string(i));
    std::string name(static_cast<size_t>(length) + 1, '\0');
    h5_guarded<H5Lget_name_by_idx>(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                                   name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(length));
    names.push_back(std::move(name));
  }
  return names;
}

bool Hdf5File::has_attribute(hid_t object, const std::string& attribute) const {
  H5Quiet quiet;
  return h5_guarded<H5Aexists>(object, attribute.c_str()) > 0;
}

Expected<std::vector<std::string>> Hdf5File::string_list_attribute(hid_t object,
                                                                   const std::string& attribute,
                                                                   const std::string& where) const {
  H5Quiet quiet;
  const std::string what = "attribute '" + attribute + "'";
  if (h5_guarded<H5Aexists>(object, attribute.c_str()) <= 0)
    return error(where, what + " is missing");
  H5Id handle(h5_guarded<H5Aopen>(object, attribute.c_str(), H5P_DEFAULT), &H5Aclose);
  if (!handle.valid()) return error(where, "cannot open " + what);
  H5Id space(h5_guarded<H5Aget_space>(handle.get()), &H5Sclose);
  const hssize_t count = space.valid() ? h5_guarded<H5Sget_simple_extent_npoints>(space.get()) : -1;
  if (count < 0) return error(where, "cannot read the size of " + what);
  if (count == 0) return std::vector<std::string>{};  // h5py stores [] as any type
  H5Id type(h5_guarded<H5Aget_type>(handle.get()), &H5Tclose);
  if (!type.valid() || h5_guarded<H5Tget_class>(type.get()) != H5T_STRING) {
    return error(where, what + " is not a string attribute");
  }
  auto strings = read_strings(type.get(), space.get(), count, [&](hid_t memory, void* buffer) {
    return h5_guarded<H5Aread>(handle.get(), memory, buffer);
  });
  if (!strings) return error(where, what + ": " + strings.status().message());
  return strings;
}

Expected<std::string> Hdf5File::string_attribute(hid_t object, const std::string& attribute,
                                                 const std::string& where) const {
  NNFI_ASSIGN_OR_RETURN(std::vector<std::string> strings,
                        string_list_attribute(object, attribute, where));
  if (strings.size() != 1) {
    return error(where, "attribute '" + attribute + "' holds " + std::to_string(strings.size()) +
                            " strings, expected 1");
  }
  return std::move(strings.front());
}

Expected<Tensor> Hdf5File::float_dataset(hid_t location, const std::string& path) const {
  const std::string where = "dataset '" + path + "'";
  if (!exists(location, path)) return error("", where + " is missing");
  H5Quiet quiet;
  H5Id dataset(h5_guarded<H5Dopen2>(location, path.c_str(), H5P_DEFAULT), &H5Dclose);
  if (!dataset.valid()) return error("", "cannot open " + where + " (not a dataset?)");
  H5Id type(h5_guarded<H5Dget_type>(dataset.get()), &H5Tclose);
  const H5T_class_t type_class = type.valid() ? h5_guarded<H5Tget_class>(type.get()) : H5T_NO_CLASS;
  if (type_class != H5T_FLOAT && type_class != H5T_INTEGER) {
    return error("", where + " is not numeric");
  }
  H5Id space(h5_guarded<H5Dget_space>(dataset.get()), &H5Sclose);
  const int rank = space.valid() ? h5_guarded<H5Sget_simple_extent_ndims>(space.get()) : -1;
  if (rank < 0 || rank > 32) return error("", "cannot read the shape of " + where);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && h5_guarded<H5Sget_simple_extent_dims>(space.get(), dims.data(), nullptr) < 0) {
    return error("", "cannot read the shape of " + where);
  }
  Shape shape;
  int64_t count = 1;
  for (hsize_t dim : dims) {
    if (dim > static_cast<hsize_t>(kMaxDatasetElements) ||
        (dim > 0 && count > kMaxDatasetElements / static_cast<int64_t>(dim))) {
      return error("", where + " is implausibly large (corrupt header?)");
    }
    shape.push_back(static_cast<int64_t>(dim));
    count *= static_cast<int64_t>(dim);
  }
  Tensor tensor(DType::kFloat32, shape);
  if (count > 0 && h5_guarded<H5Dread>(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                       H5P_DEFAULT, tensor.raw_data()) < 0) {
    return error("", "cannot read " + where + " (truncated or corrupt file?)");
  }
  return tensor;
}

}  // namespace nnfi::keras_import
