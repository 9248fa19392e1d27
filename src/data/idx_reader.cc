// idx: data sets. The labels are read whole at open (one byte each); images are read one at a
// time from the (plain or gzip) image file, which open checks holds exactly its data.
#include <algorithm>

#include "data/byte_source.h"
#include "data/idx.h"
#include "data/image_dataset.h"
#include "nnfi/data.h"

namespace nnfi::data {
namespace {

// Larger images are refused before any arithmetic on their size (which could overflow).
constexpr int64_t kMaxSide = int64_t{1} << 20;

class IdxSource : public ImageSource {
 public:
  IdxSource(std::filesystem::path images, std::filesystem::path labels)
      : images_path_(std::move(images)), labels_path_(std::move(labels)) {}

  Status open() {
    const std::string where = images_path_.string();
    NNFI_ASSIGN_OR_RETURN(Tensor labels, read_idx(labels_path_));
    if (labels.rank() != 1) {
      return invalid_argument(labels_path_.string() +
                              ": IDX labels must have rank 1, found shape " +
                              shape_to_string(labels.shape()));
    }
    labels_.resize(static_cast<size_t>(labels.dim(0)));
    for (int64_t i = 0; i < labels.dim(0); ++i) labels_[i] = labels.element_as_int64(i);

    NNFI_ASSIGN_OR_RETURN(file_, open_file_source(images_path_));
    unsigned char magic[4];
    NNFI_RETURN_IF_ERROR(file_->read(magic, 4, "a 4-byte IDX magic number"));
    NNFI_ASSIGN_OR_RETURN(IdxHeader header, decode_idx_magic(magic, where));
    if (header.dtype != DType::kUInt8) {
      return unsupported(where + ": IDX images must be unsigned bytes (type 0x08)");
    }
    const size_t rank = header.shape.size();
    if (rank < 2 || rank > 4) {
      return invalid_argument(where +
                              ": IDX images must have rank 2 to 4 ([N, H, W] or "
                              "[N, H, W, C] or [N, values]), found rank " +
                              std::to_string(rank));
    }
    unsigned char dims[16];
    NNFI_RETURN_IF_ERROR(file_->read(dims, 4 * rank, std::to_string(rank) + " IDX dimensions"));
    for (size_t i = 0; i < rank; ++i) {
      header.shape[i] = (int64_t{dims[4 * i]} << 24) | (int64_t{dims[4 * i + 1]} << 16) |
                        (int64_t{dims[4 * i + 2]} << 8) | int64_t{dims[4 * i + 3]};
    }
    data_offset_ = 4 + 4 * rank;
    count_ = header.shape[0];
    if (rank == 2) {
      shape_ = {1, header.shape[1], 1};
    } else {
      shape_ = {header.shape[1], header.shape[2], rank == 4 ? header.shape[3] : 1};
    }
    if (shape_.channels != 1 && shape_.channels != 3) {
      return unsupported(where + ": IDX images of shape " + shape_to_string(header.shape) +
                         " have " + std::to_string(shape_.channels) +
                         " channels (expected 1 or 3)");
    }
    if (shape_.height > kMaxSide || shape_.width > kMaxSide || shape_.height == 0 ||
        shape_.width == 0) {
      return invalid_argument(where + ": IDX images of shape " + shape_to_string(header.shape) +
                              " are not valid (expected 1 to " + std::to_string(kMaxSide) +
                              " pixels a side)");
    }
    image_bytes_ = static_cast<uint64_t>(shape_.height * shape_.width * shape_.channels);
    if (count_ != static_cast<int64_t>(labels_.size())) {
      return invalid_argument(where + " holds " + std::to_string(count_) + " images but " +
                              labels_path_.string() + " holds " + std::to_string(labels_.size()) +
                              " labels (expected one per image)");
    }
    // The file must hold exactly the images its header announces (checked before any read, so
    // a truncated file is an error at open, not a short data set).
    NNFI_ASSIGN_OR_RETURN(uint64_t total, file_->size());
    // count <= 2^32 and image_bytes <= 3 * 2^40, so the product needs a guard, not a wider type.
    const uint64_t expected =
        static_cast<uint64_t>(count_) > (UINT64_MAX - data_offset_) / image_bytes_
            ? UINT64_MAX
            : data_offset_ + static_cast<uint64_t>(count_) * image_bytes_;
    if (total != expected) {
      return invalid_argument(
          where + ": " + (total < expected ? "truncated" : "unexpected bytes after the data in") +
          " IDX file: the header's shape " + shape_to_string(header.shape) + " needs " +
          std::to_string(expected) + " bytes, the file holds " + std::to_string(total) +
          (total < expected ? " (" +
                                  std::to_string((total - std::min(total, data_offset_)) /
                                                 std::max<uint64_t>(image_bytes_, 1)) +
                                  " complete images)"
                            : ""));
    }
    return Status::ok();
  }

  int64_t size() const override { return count_; }
  int64_t label(int64_t index) const override { return labels_[static_cast<size_t>(index)]; }

  Status load(int64_t index, Image& image, bool* fatal) override {
    *fatal = true;
    NNFI_RETURN_IF_ERROR(file_->seek(data_offset_ + static_cast<uint64_t>(index) * image_bytes_));
    image.height = shape_.height;
    image.width = shape_.width;
    image.channels = shape_.channels;
    image.pixels.resize(image_bytes_);
    return file_->read(image.pixels.data(), image_bytes_, "image " + std::to_string(index));
  }

  std::string where(int64_t index) const override {
    return images_path_.string() + " image " + std::to_string(index) + " (label in " +
           labels_path_.filename().string() + ")";
  }
  std::string kind() const override { return "idx"; }
  std::string location() const override { return images_path_.string(); }
  std::optional<SourceShape> known_shape() const override { return shape_; }
  std::vector<std::filesystem::path> files() const override { return {images_path_, labels_path_}; }

 private:
  std::filesystem::path images_path_, labels_path_;
  std::vector<int64_t> labels_;
  std::unique_ptr<ByteSource> file_;
  uint64_t data_offset_ = 0, image_bytes_ = 0;
  int64_t count_ = 0;
  SourceShape shape_;
};

}  // namespace

Expected<std::unique_ptr<ImageSource>> open_idx_source(const std::filesystem::path& images,
                                                       const std::filesystem::path& labels) {
  auto source = std::make_unique<IdxSource>(images, labels);
  NNFI_RETURN_IF_ERROR(source->open());
  return std::unique_ptr<ImageSource>(std::move(source));
}

}  // namespace nnfi::data
