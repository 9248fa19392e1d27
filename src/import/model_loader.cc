// nnfi::load_model: picks the importer by extension, else by content.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "import/keras/keras_importer.h"
#include "import/onnx/onnx_importer.h"
#include "import/tf/tf_importer.h"
#include "nnfi/model.h"

namespace nnfi {
namespace {

using LoadFn = Expected<std::shared_ptr<Graph>> (*)(const std::filesystem::path&,
                                                    const LoadOptions&);
using SniffFn = bool (*)(const std::filesystem::path&);

struct ModelFormat {
  std::string_view name;
  std::vector<std::string_view> extensions;  // lower case, with the dot
  SniffFn sniff;                             // is this the format's content?
  LoadFn load;
};

Expected<std::shared_ptr<Graph>> load_onnx(const std::filesystem::path& path, const LoadOptions&) {
  return import_onnx(path);
}

Expected<std::shared_ptr<Graph>> load_keras(const std::filesystem::path& path, const LoadOptions&) {
  return import_keras(path);
}

// A folder TensorFlow wrote: a SavedModel or a checkpoint folder.
bool is_tensorflow_folder(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::exists(path / "saved_model.pb", error) ||
         std::filesystem::exists(path / "checkpoint", error);
}

// One line per format. Content sniffing tries them in this order, so formats
// with a cheap magic number go before those that need a full parse.
const std::vector<ModelFormat>& model_formats() {
  static const std::vector<ModelFormat> formats = {
      {"ONNX", {".onnx"}, &onnx_import::looks_like_onnx, &load_onnx},
      {"Keras", {".h5", ".hdf5", ".keras"}, &keras_import::looks_like_keras, &load_keras},
      {"TensorFlow",
       {".pb", ".meta", ".index"},
       &tf_import::looks_like_tensorflow,
       &import_tensorflow},
  };
  return formats;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string supported_formats_text() {
  std::string text;
  for (const ModelFormat& format : model_formats()) {
    if (!text.empty()) text += ", ";
    text += std::string(format.name) + " (";
    for (size_t i = 0; i < format.extensions.size(); ++i) {
      text += (i > 0 ? ", " : "") + std::string(format.extensions[i]);
    }
    text += ")";
  }
  return text;
}

}  // namespace

Expected<std::shared_ptr<Graph>> load_model(const std::filesystem::path& path,
                                            const LoadOptions& options) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return not_found(path.string() + ": no such model file");
  }
  if (std::filesystem::is_directory(path, error)) {
    if (is_tensorflow_folder(path)) return import_tensorflow(path, options);
    return invalid_argument(path.string() +
                            ": is a directory, not a model file (nor a TensorFlow SavedModel or "
                            "checkpoint folder); nnfi reads " +
                            supported_formats_text());
  }
  const std::string extension = lower(path.extension().string());
  for (const ModelFormat& format : model_formats()) {
    if (std::find(format.extensions.begin(), format.extensions.end(), extension) !=
        format.extensions.end()) {
      return format.load(path, options);
    }
  }
  for (const ModelFormat& format : model_formats()) {
    if (format.sniff(path)) return format.load(path, options);
  }
  return invalid_argument(path.string() + ": unrecognised model format; nnfi reads " +
                          supported_formats_text());
}

}  // namespace nnfi
