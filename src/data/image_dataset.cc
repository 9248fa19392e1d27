// The selection (offset, limit, seeded sample) and the Dataset over an ImageSource.
#include "data/image_dataset.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <numeric>
#include <unordered_map>

namespace nnfi::data {
namespace {

// splitmix64: a small generator whose output is the same on every platform (the standard
// library's distributions are not), so a seeded sample is reproducible anywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound), without modulo bias.
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t value = next();
    while (value >= limit) value = next();
    return value % bound;
  }

 private:
  uint64_t state_;
};

class ImageDataset : public Dataset {
 public:
  ImageDataset(std::unique_ptr<ImageSource> source, const DatasetOptions& options,
               const Preprocessing& preprocessing)
      : source_(std::move(source)), options_(options), preprocessing_(preprocessing) {}

  Status open(const Shape& model_input) {
    NNFI_ASSIGN_OR_RETURN(selection_, select_examples(source_->size(), options_, options_.spec));
    const auto selected = static_cast<int64_t>(selection_.size());
    for (int64_t id = 0; id < selected; ++id) {
      const int64_t index = selection_[static_cast<size_t>(id)];
      std::string error = source_->entry_error(index);
      if (error.empty() && options_.num_classes > 0) {
        const int64_t label = source_->label(index) + options_.label_offset;
        if (label < 0 || label >= options_.num_classes) {
          error = source_->where(index) + ": label " + std::to_string(label) +
                  (options_.label_offset != 0
                       ? " (" + std::to_string(source_->label(index)) + " + label offset " +
                             std::to_string(options_.label_offset) + ")"
                       : "") +
                  " is outside the model's " + std::to_string(options_.num_classes) +
                  " classes (expected 0 to " + std::to_string(options_.num_classes - 1) + ")";
        }
      }
      if (error.empty()) continue;
      if (options_.on_error == OnError::kFail) return invalid_argument(error);
      bad_.emplace(id, std::move(error));
    }
    SourceShape shape;
    if (auto known = source_->known_shape()) {
      shape = *known;
    } else {
      // The first readable image of the selection sets the size.
      bool found = false;
      for (int64_t id = 0; id < selected && !found; ++id) {
        if (bad_.count(id) != 0) continue;
        Image image;
        bool fatal = false;
        Status status = source_->load(selection_[static_cast<size_t>(id)], image, &fatal);
        if (!status.is_ok()) {
          if (fatal || options_.on_error == OnError::kFail) return status;
          bad_.emplace(id, status.message());
          continue;
        }
        shape = {image.height, image.width, image.channels};
        found = true;
      }
      if (!found) {
        return invalid_argument(options_.spec + ": none of the " + std::to_string(selected) +
                                " selected images can be read (first: " + bad_.begin()->second +
                                ")");
      }
    }
    NNFI_ASSIGN_OR_RETURN(geometry_,
                          resolve_geometry(model_input, preprocessing_, shape, options_.spec));
    return Status::ok();
  }

  int64_t size() const override { return static_cast<int64_t>(selection_.size()); }
  const Shape& example_shape() const override { return geometry_.example_shape; }

  Expected<DataBatch> read(int64_t first, int64_t count) override {
    if (first < 0 || count < 0 || first > size() - count) {
      return invalid_argument(options_.spec + ": cannot read examples [" + std::to_string(first) +
                              ", " + std::to_string(first + count) + ") of " +
                              std::to_string(size()));
    }
    const int64_t elements = shape_num_elements(geometry_.example_shape);
    DataBatch batch;
    Shape shape = geometry_.example_shape;
    shape.insert(shape.begin(), count);
    try {
      batch.inputs = Tensor(DType::kFloat32, shape);
    } catch (const std::bad_alloc&) {
      return io_error(options_.spec + ": out of memory for a batch of " + std::to_string(count) +
                      " examples of shape " + shape_to_string(geometry_.example_shape));
    }
    float* out = batch.inputs.data<float>();
    Image image;
    for (int64_t id = first; id < first + count; ++id) {
      auto bad = bad_.find(id);
      Status status;
      const int64_t index = selection_[static_cast<size_t>(id)];
      if (bad != bad_.end()) {
        status = invalid_argument(bad->second);
      } else {
        bool fatal = false;
        status = source_->load(index, image, &fatal);
        if (!status.is_ok() && fatal) return status;
        if (status.is_ok()) {
          const auto row = static_cast<int64_t>(batch.ids.size());
          status = preprocess_image(image, preprocessing_, geometry_, out + row * elements,
                                    source_->where(index));
        }
      }
      if (!status.is_ok()) {
        if (options_.on_error == OnError::kFail) return status;
        ++batch.skipped;
        batch.skip_reasons.push_back(status.message());
        continue;
      }
      batch.ids.push_back(id);
      batch.labels.push_back(source_->label(index) + options_.label_offset);
    }
    const auto kept = static_cast<int64_t>(batch.ids.size());
    if (kept < count) {
      shape[0] = kept;
      Tensor rows(DType::kFloat32, shape);
      if (kept > 0) std::memcpy(rows.raw_data(), batch.inputs.raw_data(), rows.num_bytes());
      batch.inputs = std::move(rows);
    }
    return batch;
  }

  std::string description() const override {
    std::string text = source_->kind() + ": " + std::to_string(size());
    if (size() != source_->size()) text += " of " + std::to_string(source_->size());
    return text + " images from " + source_->location() + ", fed as " +
           shape_to_string(geometry_.example_shape);
  }

  std::string example_source(int64_t id) const override {
    if (id < 0 || id >= size()) return options_.spec + ": no example " + std::to_string(id);
    return source_->where(selection_[static_cast<size_t>(id)]);
  }

 private:
  std::unique_ptr<ImageSource> source_;
  DatasetOptions options_;
  Preprocessing preprocessing_;
  std::vector<int64_t> selection_;                // source index of each selected example
  std::unordered_map<int64_t, std::string> bad_;  // selected examples known bad (kSkip)
  Geometry geometry_;
};

}  // namespace

Expected<std::vector<int64_t>> select_examples(int64_t available, const DatasetOptions& options,
                                               const std::string& data_name) {
  if (options.offset < 0 || options.limit < 0 || options.sample < 0) {
    return invalid_argument(data_name + ": offset, limit and sample must be >= 0");
  }
  if (available == 0) return invalid_argument(data_name + " holds no examples");
  if (options.offset >= available) {
    return invalid_argument(data_name + ": offset " + std::to_string(options.offset) +
                            " is past the end (" + std::to_string(available) + " examples)");
  }
  int64_t count = available - options.offset;
  if (options.limit > 0) count = std::min(count, options.limit);
  std::vector<int64_t> indices(static_cast<size_t>(count));
  std::iota(indices.begin(), indices.end(), options.offset);
  if (options.sample > 0) {
    if (options.sample > count) {
      return invalid_argument(data_name + ": cannot sample " + std::to_string(options.sample) +
                              " of the " + std::to_string(count) + " examples selected");
    }
    // A partial Fisher-Yates shuffle picks the sample; source order is then restored.
    SplitMix64 random(options.sample_seed);
    for (int64_t i = 0; i < options.sample; ++i) {
      const auto j = i + static_cast<int64_t>(random.below(static_cast<uint64_t>(count - i)));
      std::swap(indices[static_cast<size_t>(i)], indices[static_cast<size_t>(j)]);
    }
    indices.resize(static_cast<size_t>(options.sample));
    std::sort(indices.begin(), indices.end());
  }
  return indices;
}

Expected<std::unique_ptr<Dataset>> make_image_dataset(std::unique_ptr<ImageSource> source,
                                                      const DatasetOptions& options,
                                                      const Preprocessing& preprocessing,
                                                      const Shape& model_input) {
  auto dataset = std::make_unique<ImageDataset>(std::move(source), options, preprocessing);
  NNFI_RETURN_IF_ERROR(dataset->open(model_input));
  return std::unique_ptr<Dataset>(std::move(dataset));
}

}  // namespace nnfi::data
