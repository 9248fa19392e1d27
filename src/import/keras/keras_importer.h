// The Keras importer (docs/keras.md): .h5 files written by Keras 2.x
// (standalone and tf.keras) and Keras 3, and Keras 3 .keras archives.
// nnfi::import_keras (include/nnfi/model.h) is the entry point.
#pragma once

#include <filesystem>

namespace nnfi::keras_import {

// An HDF5 file, or a zip archive holding config.json and model.weights.h5.
bool looks_like_keras(const std::filesystem::path& path);

}  // namespace nnfi::keras_import
