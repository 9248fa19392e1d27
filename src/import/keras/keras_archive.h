// The .keras format (Keras 3): a zip archive of config.json (the model
// config), model.weights.h5 (the weights, layers/<name>/vars/<i>) and
// metadata.json (keras_version), read with libzip.
#pragma once

#include <filesystem>
#include <string>

#include "nnfi/status.h"

namespace nnfi::keras_import {

struct KerasArchive {
  std::string config_json;
  std::string weights_h5;     // the HDF5 file's bytes, opened from memory
  std::string metadata_json;  // "" when absent
};

// True when the file starts with a zip local-file header.
bool has_zip_signature(const std::filesystem::path& path);

Expected<KerasArchive> read_keras_archive(const std::filesystem::path& path);

}  // namespace nnfi::keras_import
