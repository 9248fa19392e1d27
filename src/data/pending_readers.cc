// Readers still being written (issue 5): they say so instead of failing to link.
#include "data/image_dataset.h"

namespace nnfi::data {

Expected<std::unique_ptr<ImageSource>> open_gtsrb_source(const std::filesystem::path& location,
                                                         const DatasetOptions& options) {
  return unsupported(options.spec + ": the gtsrb: reader is not available yet");
}

Expected<std::unique_ptr<ImageSource>> open_folder_source(const std::filesystem::path& directory,
                                                          const DatasetOptions& options) {
  return unsupported(options.spec + ": the folder: reader is not available yet");
}

Expected<std::unique_ptr<Dataset>> open_npy_dataset(const std::vector<std::string>& parts,
                                                    const DatasetOptions& options,
                                                    const Shape& model_input) {
  return unsupported(options.spec + ": the npy: reader is not available yet");
}

}  // namespace nnfi::data
