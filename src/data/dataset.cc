// open_dataset(): the spec string, presets, and the reader for each kind; fingerprints.
#include "nnfi/dataset.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "data/image_dataset.h"
#include "data/preprocess.h"

namespace nnfi {
namespace data {
namespace {

constexpr char kSpecForms[] =
    "gtsrb:DIR, folder:DIR, idx:IMAGES,LABELS, npy:X.npy,Y.npy or npy:ARRAYS.npz";

// idx:DIR: the test set's files in DIR (t10k-images-idx3-ubyte[.gz] and its labels).
std::vector<std::string> idx_files_in(const std::string& directory) {
  for (const char* suffix : {".gz", ""}) {
    const std::filesystem::path images =
        std::filesystem::path(directory) / (std::string("t10k-images-idx3-ubyte") + suffix);
    const std::filesystem::path labels =
        std::filesystem::path(directory) / (std::string("t10k-labels-idx1-ubyte") + suffix);
    std::error_code ec;
    if (std::filesystem::exists(images, ec) && std::filesystem::exists(labels, ec)) {
      return {images.string(), labels.string()};
    }
  }
  return {directory};
}

// 64-bit FNV-1a, twice with different offsets, as 32 hex digits.
class Digest {
 public:
  void add(const std::string& text) {
    for (unsigned char c : text) {
      a_ = (a_ ^ c) * 0x100000001B3ull;
      b_ = (b_ ^ c) * 0x100000001B3ull;
    }
    a_ = (a_ ^ 0xFF) * 0x100000001B3ull;  // separator: "ab" + "c" != "a" + "bc"
    b_ = (b_ ^ 0xFE) * 0x100000001B3ull;
  }
  std::string hex() const {
    char text[33];
    std::snprintf(text, sizeof(text), "%016llx%016llx", static_cast<unsigned long long>(a_),
                  static_cast<unsigned long long>(b_));
    return text;
  }

 private:
  uint64_t a_ = 0xCBF29CE484222325ull;
  uint64_t b_ = 0x84222325CBF29CE4ull;
};

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

std::string join_numbers(const std::vector<double>& values) {
  std::string text;
  for (double value : values) text.append(number(value)).append(",");
  return text;
}

}  // namespace

Expected<DataSpec> parse_data_spec(const std::string& spec) {
  const size_t colon = spec.find(':');
  DataSpec parsed;
  if (colon != std::string::npos) parsed.kind = spec.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  auto bad = [&](const std::string& expected) {
    return invalid_argument("data set '" + spec + "': expected " + expected);
  };
  if (parsed.kind != "gtsrb" && parsed.kind != "folder" && parsed.kind != "idx" &&
      parsed.kind != "npy") {
    return bad(kSpecForms);
  }
  size_t start = 0;
  while (true) {
    const size_t comma = rest.find(',', start);
    parsed.parts.push_back(rest.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const std::string& part : parsed.parts) {
    if (part.empty()) return bad(std::string("no empty paths: ") + kSpecForms);
  }
  if ((parsed.kind == "gtsrb" || parsed.kind == "folder") && parsed.parts.size() != 1) {
    return bad(parsed.kind + ":DIR (one directory)");
  }
  if (parsed.kind == "idx") {
    if (parsed.parts.size() == 1) parsed.parts = idx_files_in(parsed.parts[0]);
    if (parsed.parts.size() != 2) {
      return bad(
          "idx:IMAGES,LABELS (two IDX files), or idx:DIR holding t10k-images-idx3-ubyte"
          "[.gz] and t10k-labels-idx1-ubyte[.gz]");
    }
  }
  if (parsed.kind == "npy") {
    const bool npz = parsed.parts[0].size() > 4 &&
                     parsed.parts[0].compare(parsed.parts[0].size() - 4, 4, ".npz") == 0;
    if (npz ? parsed.parts.size() != 1 && parsed.parts.size() != 3 : parsed.parts.size() != 2) {
      return bad("npy:X.npy,Y.npy, npy:ARRAYS.npz or npy:ARRAYS.npz,XNAME,YNAME");
    }
  }
  return parsed;
}

Expected<std::vector<std::filesystem::path>> dataset_files(const DatasetOptions& options) {
  NNFI_ASSIGN_OR_RETURN(DataSpec spec, parse_data_spec(options.spec));
  std::vector<std::filesystem::path> files;
  if (spec.kind == "idx" || spec.kind == "npy") {
    files.emplace_back(spec.parts[0]);
    if (spec.kind == "idx" || spec.parts.size() == 2) files.emplace_back(spec.parts[1]);
    return files;
  }
  std::unique_ptr<ImageSource> source;
  if (spec.kind == "gtsrb") {
    NNFI_ASSIGN_OR_RETURN(source, open_gtsrb_source(spec.parts[0], options));
  } else {
    NNFI_ASSIGN_OR_RETURN(source, open_folder_source(spec.parts[0], options));
  }
  return source->files();
}

}  // namespace data

Status check_dataset_spec(const std::string& spec) { return data::parse_data_spec(spec).status(); }

Expected<Preprocessing> resolve_preset(const Preprocessing& preprocessing) {
  Preprocessing p = preprocessing;
  if (p.preset.empty()) return p;
  if (p.scale != 1.0 || !p.mean.empty() || !p.std.empty() || p.bgr) {
    return invalid_argument("preset '" + p.preset +
                            "' sets scale, mean, std and the channel order; give either the "
                            "preset or those values, not both");
  }
  if (p.preset == "tf") {  // x / 127.5 - 1
    p.scale = 1.0 / 127.5;
    p.mean = {1.0};
  } else if (p.preset == "torch") {  // x / 255, then ImageNet mean and std (RGB)
    p.scale = 1.0 / 255.0;
    p.mean = {0.485, 0.456, 0.406};
    p.std = {0.229, 0.224, 0.225};
  } else if (p.preset == "caffe") {  // BGR, minus the ImageNet means (BGR order), no scaling
    p.bgr = true;
    p.mean = {103.939, 116.779, 123.68};
  } else {
    return invalid_argument("unknown preprocessing preset '" + p.preset +
                            "' (expected tf, torch or caffe)");
  }
  p.preset.clear();
  return p;
}

Expected<std::pair<int64_t, int64_t>> parse_resize(const std::string& text) {
  auto parse = [](std::string_view part, int64_t* value) {
    const char* end = part.data() + part.size();
    auto [ptr, error] = std::from_chars(part.data(), end, *value);
    return error == std::errc() && ptr == end && *value > 0;
  };
  const size_t x = text.find_first_of("xX");
  int64_t height = 0, width = 0;
  const std::string_view view(text);
  const bool ok = x == std::string::npos
                      ? parse(view, &height) && (width = height) > 0
                      : parse(view.substr(0, x), &height) && parse(view.substr(x + 1), &width);
  if (!ok) {
    return invalid_argument("resize '" + text + "': expected HxW (e.g. 224x224) or N for NxN");
  }
  return std::make_pair(height, width);
}

Expected<std::unique_ptr<Dataset>> open_dataset(const DatasetOptions& options,
                                                const Shape& model_input) {
  NNFI_ASSIGN_OR_RETURN(data::DataSpec spec, data::parse_data_spec(options.spec));
  NNFI_ASSIGN_OR_RETURN(Preprocessing preprocessing, resolve_preset(options.preprocessing));
  NNFI_RETURN_IF_ERROR(data::validate_preprocessing(preprocessing));
  if (spec.kind == "npy") return data::open_npy_dataset(spec.parts, options, model_input);
  std::unique_ptr<data::ImageSource> source;
  if (spec.kind == "idx") {
    NNFI_ASSIGN_OR_RETURN(source, data::open_idx_source(spec.parts[0], spec.parts[1]));
  } else if (spec.kind == "gtsrb") {
    NNFI_ASSIGN_OR_RETURN(source, data::open_gtsrb_source(spec.parts[0], options));
  } else {
    NNFI_ASSIGN_OR_RETURN(source, data::open_folder_source(spec.parts[0], options));
  }
  if (options.roi_crop && spec.kind != "gtsrb") {
    return invalid_argument(options.spec + ": the ROI crop applies to gtsrb: data sets only");
  }
  return data::make_image_dataset(std::move(source), options, preprocessing, model_input);
}

std::string dataset_fingerprint(const DatasetOptions& options) {
  data::Digest digest;
  const Preprocessing& p = options.preprocessing;
  digest.add("nnfi-dataset-1");
  digest.add(options.spec);
  // Every option that changes what is fed, one digest field each.
  for (double value :
       {static_cast<double>(p.resize_height), static_cast<double>(p.resize_width),
        static_cast<double>(p.resize_method), p.central_crop, p.scale, static_cast<double>(p.bgr),
        static_cast<double>(p.grayscale), static_cast<double>(p.layout),
        static_cast<double>(options.offset), static_cast<double>(options.limit),
        static_cast<double>(options.sample), static_cast<double>(options.sample_seed),
        static_cast<double>(options.label_offset), static_cast<double>(options.num_classes),
        static_cast<double>(options.roi_crop), static_cast<double>(options.on_error),
        static_cast<double>(options.label_from)}) {
    digest.add(data::number(value));
  }
  digest.add(std::to_string(options.sample_seed));  // exact, beyond a double's 53 bits
  digest.add(p.preset);
  digest.add(data::join_numbers(p.mean));
  digest.add(data::join_numbers(p.std));
  digest.add(options.list_file);
  digest.add(options.labels_file);
  Expected<std::vector<std::filesystem::path>> files = data::dataset_files(options);
  if (!files) {
    digest.add("error: " + files.status().message());
    return digest.hex();
  }
  if (!options.list_file.empty()) files->emplace_back(options.list_file);
  if (!options.labels_file.empty()) files->emplace_back(options.labels_file);
  for (const std::filesystem::path& file : *files) {
    struct stat info;
    digest.add(file.string());
    if (::stat(file.c_str(), &info) != 0) {
      digest.add("missing");
      continue;
    }
    digest.add(std::to_string(info.st_size) + " " + std::to_string(info.st_mtim.tv_sec) + "." +
               std::to_string(info.st_mtim.tv_nsec));
  }
  return digest.hex();
}

std::string describe_model_input(const Shape& model_input) {
  if (model_input.empty()) return "a scalar (not a batch of examples)";
  const Shape example(model_input.begin() + 1, model_input.end());
  const std::string batch =
      model_input[0] > 0 ? ", batch fixed at " + std::to_string(model_input[0]) : "";
  auto dim = [](int64_t d) { return d >= 0 ? std::to_string(d) : std::string("?"); };
  if (example.size() == 3) {
    Expected<bool> channels_first =
        data::channels_first_for(example, DataLayout::kAuto, model_input);
    if (!channels_first)
      return "tensor " + shape_to_string(model_input) + " (channel axis unclear)";
    const bool first = *channels_first;
    const int64_t c = first ? example[0] : example[2];
    return "image " + dim(first ? example[1] : example[0]) + "x" +
           dim(first ? example[2] : example[1]) + ", " + dim(c) +
           (c == 1 ? " channel" : " channels") + (first ? " (NCHW)" : " (NHWC)") + batch;
  }
  if (example.size() == 2) {
    return "image " + dim(example[0]) + "x" + dim(example[1]) + ", 1 channel (no channel axis)" +
           batch;
  }
  if (example.size() == 1)
    return "vector of " + dim(example[0]) + " values (flattened image)" + batch;
  return "tensor " + shape_to_string(model_input) + " (not an image batch)";
}

}  // namespace nnfi
