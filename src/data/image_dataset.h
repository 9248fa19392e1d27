// The pieces every reader shares: the example selection, a source of labelled raw images, and
// the Dataset that turns such a source into preprocessed batches.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/preprocess.h"
#include "nnfi/dataset.h"

namespace nnfi::data {

// The source indices selected by offset, limit and sample (see DatasetOptions), ascending.
// Errors: an offset past the end, a sample larger than what is left, an empty selection.
Expected<std::vector<int64_t>> select_examples(int64_t available, const DatasetOptions& options,
                                               const std::string& data_name);

// Labelled images in source order, 0 .. size() - 1, decoded on demand.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual int64_t size() const = 0;
  // The label as the source gives it (label_offset not applied); any value for a bad entry.
  virtual int64_t label(int64_t index) const = 0;
  // Why entry `index` is bad, known from listing alone (a bad CSV row, a missing file), or "".
  virtual std::string entry_error(int64_t index) const { return std::string(); }
  // Decodes entry `index`. *fatal: the error concerns the whole source (an I/O error on an IDX
  // file), not one example, so it cannot be skipped.
  virtual Status load(int64_t index, Image& image, bool* fatal) = 0;
  // Where entry `index` comes from, e.g. "DIR/GT-final_test.csv line 3 (DIR/Images/00001.ppm)".
  virtual std::string where(int64_t index) const = 0;
  // "gtsrb", "folder", "idx"; and where from, e.g. the directory.
  virtual std::string kind() const = 0;
  virtual std::string location() const = 0;
  // The size of every image, where the source knows it without decoding (IDX).
  virtual std::optional<SourceShape> known_shape() const { return std::nullopt; }
  // Every file the source reads: metadata first, then the images (for fingerprints).
  virtual std::vector<std::filesystem::path> files() const = 0;
};

// A Dataset over `source`: selection, label checks, geometry from the model input (the first
// selected image's size where the source does not know it), decoding and preprocessing per
// read. `preprocessing` must be resolved (no preset). `data_name` is the spec, for errors.
Expected<std::unique_ptr<Dataset>> make_image_dataset(std::unique_ptr<ImageSource> source,
                                                      const DatasetOptions& options,
                                                      const Preprocessing& preprocessing,
                                                      const Shape& model_input);

// The readers' sources.
Expected<std::unique_ptr<ImageSource>> open_idx_source(const std::filesystem::path& images,
                                                       const std::filesystem::path& labels);
Expected<std::unique_ptr<ImageSource>> open_gtsrb_source(const std::filesystem::path& location,
                                                         const DatasetOptions& options);
Expected<std::unique_ptr<ImageSource>> open_folder_source(const std::filesystem::path& directory,
                                                          const DatasetOptions& options);

// npy:/npz: data sets (already preprocessed arrays, fed as stored).
Expected<std::unique_ptr<Dataset>> open_npy_dataset(const std::vector<std::string>& parts,
                                                    const DatasetOptions& options,
                                                    const Shape& model_input);

// The files a data set reads, for dataset_fingerprint(); errors become part of the digest.
Expected<std::vector<std::filesystem::path>> dataset_files(const DatasetOptions& options);

// Splits "kind:rest" and the comma-separated parts of rest; checks the kind and part count.
struct DataSpec {
  std::string kind;                // gtsrb, folder, idx, npy
  std::vector<std::string> parts;  // paths (and npz array names)
};
Expected<DataSpec> parse_data_spec(const std::string& spec);

}  // namespace nnfi::data
