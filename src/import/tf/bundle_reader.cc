// TensorFlow V2 checkpoints (tensorflow/core/util/tensor_bundle): the .index
// file is a LevelDB-style SSTable (tensorflow/core/lib/io/table_format.txt)
// mapping tensor names to BundleEntryProto; the empty key holds the
// BundleHeaderProto. Data blocks are prefix-compressed key/value entries
// followed by restart offsets; each block carries a type byte (0: no
// compression, what BundleWriter writes) and a masked crc32c of contents +
// type, which TensorFlow always verifies, as we do. The footer (last 48
// bytes) holds the metaindex and index block handles and the magic number.
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "import/tf/tf_importer.h"

namespace nnfi::tf_import {
namespace {

constexpr uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr size_t kFooterSize = 48;
constexpr size_t kBlockTrailerSize = 5;  // type byte + masked crc32c
constexpr int kSupportedBundleVersion = 1;

std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0u);
    table[i] = crc;
  }
  return table;
}

uint32_t read_fixed32(const char* p) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(p[i]);
  return value;
}

uint64_t read_fixed64(const char* p) {
  return static_cast<uint64_t>(read_fixed32(p)) |
         (static_cast<uint64_t>(read_fixed32(p + 4)) << 32);
}

// A varint at *p (< end); advances *p. False when malformed or past the end.
bool read_varint(const char** p, const char* end, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && *p < end; shift += 7) {
    const auto byte = static_cast<uint8_t>(**p);
    ++*p;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;
};

bool read_handle(const char** p, const char* end, BlockHandle* handle) {
  return read_varint(p, end, &handle->offset) && read_varint(p, end, &handle->size);
}

Status corrupt(const std::string& what) {
  return invalid_argument("the checkpoint index is corrupt: " + what);
}

// The contents of the block at `handle` in `file`, checksum verified.
Expected<std::string> read_block(const std::string& file, const BlockHandle& handle,
                                 const char* what) {
  if (handle.offset > file.size() || handle.size > file.size() - handle.offset ||
      file.size() - handle.offset - handle.size < kBlockTrailerSize) {
    return corrupt(std::string("the ") + what + " block lies outside the file");
  }
  const char* start = file.data() + handle.offset;
  const char* trailer = start + handle.size;
  const uint32_t expected = crc32c_unmask(read_fixed32(trailer + 1));
  const uint32_t actual = crc32c(start, handle.size + 1);  // contents + type byte
  if (actual != expected) return corrupt(std::string("the ") + what + " block checksum mismatch");
  if (trailer[0] != 0) {
    return unsupported("the checkpoint index uses block compression type " +
                       std::to_string(static_cast<int>(trailer[0])) +
                       "; nnfi reads uncompressed index blocks (what TensorFlow writes)");
  }
  return std::string(start, handle.size);
}

// Calls add(key, value) for every entry of a block.
template <typename AddFn>
Status parse_block(const std::string& block, const char* what, AddFn&& add) {
  if (block.size() < 4) return corrupt(std::string("the ") + what + " block is too short");
  const uint32_t restarts = read_fixed32(block.data() + block.size() - 4);
  if (restarts > (block.size() - 4) / 4) {
    return corrupt(std::string("the ") + what + " block has a bad restart count");
  }
  const char* p = block.data();
  const char* end = block.data() + block.size() - 4 - 4 * static_cast<size_t>(restarts);
  std::string key;
  while (p < end) {
    uint64_t shared = 0, non_shared = 0, value_size = 0;
    if (!read_varint(&p, end, &shared) || !read_varint(&p, end, &non_shared) ||
        !read_varint(&p, end, &value_size) || shared > key.size() ||
        non_shared > static_cast<uint64_t>(end - p) ||
        value_size > static_cast<uint64_t>(end - p) - non_shared) {
      return corrupt(std::string("a ") + what + " block entry is malformed");
    }
    key.resize(shared);
    key.append(p, non_shared);
    p += non_shared;
    NNFI_RETURN_IF_ERROR(add(key, std::string(p, value_size)));
    p += value_size;
  }
  return Status::ok();
}

std::string shard_path(const std::filesystem::path& prefix, int32_t shard, int32_t shards) {
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), ".data-%05d-of-%05d", shard, shards);
  return prefix.string() + suffix;
}

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t size) {
  static const std::array<uint32_t, 256> kTable = make_crc32c_table();
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

Expected<std::unique_ptr<BundleReader>> BundleReader::open(const std::filesystem::path& prefix) {
  const std::string index_path = prefix.string() + ".index";
  Expected<std::string> file = read_file(index_path);
  if (!file) return file.status().with_context(index_path);
  auto in_index = [&](Status status) { return status.with_context(index_path); };
  if (file->size() < kFooterSize) return in_index(corrupt("shorter than its 48-byte footer"));
  const char* footer = file->data() + file->size() - kFooterSize;
  if (read_fixed64(footer + kFooterSize - 8) != kTableMagic) {
    return in_index(invalid_argument(
        "not a TensorFlow V2 checkpoint index (no table magic number at its end)"));
  }
  const char* p = footer;
  BlockHandle metaindex, index;
  if (!read_handle(&p, footer + kFooterSize - 8, &metaindex) ||
      !read_handle(&p, footer + kFooterSize - 8, &index)) {
    return in_index(corrupt("the footer's block handles are malformed"));
  }
  Expected<std::string> index_block = read_block(*file, index, "index");
  if (!index_block) return in_index(index_block.status());

  std::unique_ptr<BundleReader> reader(new BundleReader());
  reader->prefix_ = prefix;
  bool have_header = false;
  tf::BundleHeaderProto header;
  Status status = parse_block(
      *index_block, "index", [&](const std::string&, const std::string& value) -> Status {
        BlockHandle handle;
        const char* q = value.data();
        if (!read_handle(&q, value.data() + value.size(), &handle)) {
          return corrupt("an index entry holds no block handle");
        }
        Expected<std::string> block = read_block(*file, handle, "data");
        if (!block) return block.status();
        return parse_block(*block, "data",
                           [&](const std::string& key, const std::string& entry) -> Status {
                             if (key.empty()) {
                               if (!header.ParseFromString(entry))
                                 return corrupt("the header does not parse");
                               have_header = true;
                               return Status::ok();
                             }
                             tf::BundleEntryProto parsed;
                             if (!parsed.ParseFromString(entry))
                               return corrupt("the entry of '" + key + "' does not parse");
                             reader->entries_[key] = std::move(parsed);
                             return Status::ok();
                           });
      });
  if (!status.is_ok()) return in_index(status);
  if (!have_header) return in_index(corrupt("it has no header entry"));
  if (header.endianness() != tf::BundleHeaderProto::LITTLE) {
    return in_index(unsupported("big-endian checkpoints are not supported"));
  }
  if (header.version().min_consumer() > kSupportedBundleVersion) {
    return in_index(unsupported("the checkpoint needs a reader of bundle version " +
                                std::to_string(header.version().min_consumer()) +
                                "; nnfi reads version " + std::to_string(kSupportedBundleVersion)));
  }
  if (header.num_shards() < 1) {
    return in_index(corrupt("the header says " + std::to_string(header.num_shards()) + " shards"));
  }
  reader->num_shards_ = header.num_shards();
  return reader;
}

std::vector<std::string> BundleReader::keys() const {
  std::vector<std::string> keys;
  for (const auto& [key, entry] : entries_) keys.push_back(key);
  return keys;
}

Expected<Tensor> BundleReader::read(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return not_found("the checkpoint " + prefix_.string() + " has no tensor '" + key + "'");
  }
  const tf::BundleEntryProto& entry = it->second;
  const std::string where = "checkpoint tensor '" + key + "'";
  if (entry.slices_size() > 0) {
    return unsupported(where + " is a partitioned variable (saved in slices), not supported");
  }
  Expected<DType> dtype = dtype_from_tf(entry.dtype());
  if (!dtype) return dtype.status().with_context(where);
  Expected<Shape> shape = shape_from_tf(entry.shape());
  if (!shape) return shape.status().with_context(where);
  Expected<int64_t> elements = checked_num_elements(*shape);
  if (!elements) return elements.status().with_context(where);
  const int64_t count = *elements;
  const auto element_size = static_cast<int64_t>(dtype_size(*dtype));
  if (count > (int64_t{1} << 40) / element_size || entry.size() != count * element_size) {
    return invalid_argument(where + " has " + std::to_string(entry.size()) + " bytes, expected " +
                            std::to_string(count * element_size) + " for shape " +
                            shape_to_string(*shape) + " of " + std::string(dtype_name(*dtype)));
  }
  if (entry.shard_id() < 0 || entry.shard_id() >= num_shards_) {
    return invalid_argument(where + " is in shard " + std::to_string(entry.shard_id()) +
                            ", but the checkpoint has " + std::to_string(num_shards_));
  }
  const std::string path = shard_path(prefix_, entry.shard_id(), num_shards_);
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(where + ": data file " + path + " cannot be opened");
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  if (entry.offset() < 0 || file_size < 0 || entry.offset() > file_size ||
      entry.size() > file_size - entry.offset()) {
    return invalid_argument(where + ": bytes [" + std::to_string(entry.offset()) + ", " +
                            std::to_string(entry.offset() + entry.size()) + ") lie outside " +
                            path + " (" + std::to_string(file_size) + " bytes)");
  }
  Tensor tensor(*dtype, *shape);
  in.seekg(entry.offset(), std::ios::beg);
  if (entry.size() > 0 && !in.read(static_cast<char*>(tensor.raw_data()), entry.size())) {
    return io_error(where + ": reading " + path + " failed");
  }
  const uint32_t actual = crc32c(tensor.raw_data(), static_cast<size_t>(entry.size()));
  if (actual != crc32c_unmask(entry.crc32c())) {
    return invalid_argument(where + ": checksum mismatch in " + path + " (corrupt data)");
  }
  if (*dtype == DType::kBool) {
    auto* data = static_cast<uint8_t*>(tensor.raw_data());
    for (int64_t i = 0; i < count; ++i) data[i] = data[i] != 0 ? 1 : 0;
  }
  return tensor;
}

}  // namespace nnfi::tf_import
