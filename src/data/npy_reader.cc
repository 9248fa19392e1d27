// npy: data sets: already preprocessed arrays X [N, ...] and labels Y [N] (integers) or [N, K]
// (one-hot), as two .npy files or in one .npz. X is read a row at a time; Y is read at open.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "data/byte_source.h"
#include "data/image_dataset.h"
#include "data/npy.h"

namespace nnfi::data {
namespace {

struct ArrayFile {
  std::unique_ptr<ByteSource> source;
  std::string descr;  // e.g. "<f4"
  size_t item = 0;    // bytes per element
  Shape shape;
  uint64_t data_offset = 0;
};

size_t item_size(const std::string& descr) {
  if (descr == "|u1" || descr == "|i1" || descr == "|b1" || descr == "<u1" || descr == "<i1") {
    return 1;
  }
  if (descr == "<f4" || descr == "<i4") return 4;
  if (descr == "<f8" || descr == "<i8") return 8;
  return 0;
}

double element(const ArrayFile& array, const unsigned char* bytes) {
  const std::string& d = array.descr;
  if (d == "<f4") {
    float v;
    std::memcpy(&v, bytes, 4);
    return v;
  }
  if (d == "<f8") {
    double v;
    std::memcpy(&v, bytes, 8);
    return v;
  }
  if (d == "<i4") {
    int32_t v;
    std::memcpy(&v, bytes, 4);
    return v;
  }
  if (d == "<i8") {
    int64_t v;
    std::memcpy(&v, bytes, 8);
    return static_cast<double>(v);
  }
  if (d[2] == 'i') return static_cast<int8_t>(bytes[0]);
  return bytes[0];  // u1, b1
}

Expected<ArrayFile> open_array(std::unique_ptr<ByteSource> source) {
  ArrayFile array;
  const std::string where = source->name();
  unsigned char preamble[12];
  NNFI_RETURN_IF_ERROR(source->read(preamble, 8, "the .npy magic and version"));
  if (std::memcmp(preamble, "\x93NUMPY", 6) != 0) {
    return invalid_argument(where + ": not a NumPy .npy file (expected \\x93NUMPY at the start)");
  }
  const int major = preamble[6];
  if (major < 1 || major > 3 || preamble[7] != 0) {
    return unsupported(where + ": .npy format version " + std::to_string(major) + "." +
                       std::to_string(preamble[7]) + " (expected 1.0, 2.0 or 3.0)");
  }
  const size_t length_bytes = major == 1 ? 2 : 4;
  NNFI_RETURN_IF_ERROR(source->read(preamble + 8, length_bytes, "the header length"));
  uint64_t length = 0;
  for (size_t i = 0; i < length_bytes; ++i) length |= uint64_t{preamble[8 + i]} << (8 * i);
  if (length > (1u << 20)) return invalid_argument(where + ": .npy header too long");
  std::string text(length, '\0');
  NNFI_RETURN_IF_ERROR(source->read(text.data(), length, "the .npy header"));
  NNFI_ASSIGN_OR_RETURN(NpyHeader header, parse_npy_header(text, where));
  if (header.fortran_order) {
    return unsupported(where + ": Fortran-ordered arrays are not supported (save C order)");
  }
  array.item = item_size(header.descr);
  if (array.item == 0) {
    return unsupported(where + ": element type '" + header.descr +
                       "' is not supported (expected <f4, <f8, <i4, <i8, |u1, |i1 or |b1)");
  }
  array.descr = header.descr;
  array.shape = header.shape;
  array.data_offset = source->position();
  if (array.shape.empty()) return invalid_argument(where + ": a scalar, expected [N, ...]");
  NNFI_ASSIGN_OR_RETURN(uint64_t total, source->size());
  uint64_t expected = array.item;
  for (int64_t d : array.shape) {
    if (d != 0 && expected > (uint64_t{1} << 62) / static_cast<uint64_t>(d)) {
      return invalid_argument(where + ": shape " + shape_to_string(array.shape) + " is too large");
    }
    expected *= static_cast<uint64_t>(d);
  }
  if (total != array.data_offset + expected) {
    return invalid_argument(
        where + ": " +
        (total < array.data_offset + expected ? "truncated"
                                              : "unexpected bytes after the data in") +
        " .npy file: shape " + shape_to_string(array.shape) + " of " + header.descr + " needs " +
        std::to_string(expected) + " data bytes, found " +
        std::to_string(total > array.data_offset ? total - array.data_offset : 0));
  }
  array.source = std::move(source);
  return array;
}

class NpyDataset : public Dataset {
 public:
  explicit NpyDataset(const DatasetOptions& options) : options_(options) {}

  Status open(ArrayFile x, ArrayFile y, const Shape& model_input) {
    x_ = std::move(x);
    const std::string xname = x_.source->name(), yname = y.source->name();
    if (x_.shape.size() < 2) {
      return invalid_argument(xname + ": shape " + shape_to_string(x_.shape) +
                              " has no example axis (expected [N, ...])");
    }
    const int64_t count = x_.shape[0];
    if (y.shape[0] != count || y.shape.size() > 2) {
      return invalid_argument(yname + ": labels of shape " + shape_to_string(y.shape) +
                              " do not fit " + std::to_string(count) + " examples of " + xname +
                              " (expected [" + std::to_string(count) + "] or [" +
                              std::to_string(count) + ", classes] one-hot)");
    }
    // Labels: integers, or the position of the largest value of a one-hot row.
    const int64_t width = y.shape.size() == 2 ? y.shape[1] : 1;
    std::vector<unsigned char> row(static_cast<size_t>(width) * y.item);
    labels_.resize(static_cast<size_t>(count));
    errors_.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      NNFI_RETURN_IF_ERROR(
          y.source->read(row.data(), row.size(), "labels row " + std::to_string(i)));
      double best = element(y, row.data());
      int64_t label = 0;
      for (int64_t k = 1; k < width; ++k) {
        const double v = element(y, row.data() + k * y.item);
        if (v > best) best = v, label = k;
      }
      if (width == 1) {
        label = static_cast<int64_t>(best);
        if (!(std::isfinite(best) && best == std::floor(best))) {
          errors_[i] = yname + " row " + std::to_string(i) + ": label " + std::to_string(best) +
                       " is not an integer";
        }
      } else if (!(best > 0)) {
        errors_[i] = yname + " row " + std::to_string(i) + ": not one-hot (no positive value)";
      }
      labels_[i] = label;
    }
    NNFI_ASSIGN_OR_RETURN(selection_, select_examples(count, options_, options_.spec));
    for (size_t s = 0; s < selection_.size(); ++s) {
      const auto i = static_cast<size_t>(selection_[s]);
      const int64_t label = labels_[i] + options_.label_offset;
      if (errors_[i].empty() && options_.num_classes > 0 &&
          (label < 0 || label >= options_.num_classes)) {
        errors_[i] = yname + " row " + std::to_string(i) + ": label " + std::to_string(label) +
                     " is outside the model's " + std::to_string(options_.num_classes) +
                     " classes (expected 0 to " + std::to_string(options_.num_classes - 1) + ")";
      }
      if (!errors_[i].empty() && options_.on_error == OnError::kFail) {
        return invalid_argument(errors_[i]);
      }
    }
    NNFI_ASSIGN_OR_RETURN(example_, example_shape_for(model_input));
    return Status::ok();
  }

  int64_t size() const override { return static_cast<int64_t>(selection_.size()); }
  const Shape& example_shape() const override { return example_; }

  Expected<DataBatch> read(int64_t first, int64_t count) override {
    if (first < 0 || count < 0 || first > size() - count) {
      return invalid_argument(options_.spec + ": cannot read examples [" + std::to_string(first) +
                              ", " + std::to_string(first + count) + ") of " +
                              std::to_string(size()));
    }
    const int64_t elements = shape_num_elements(example_);
    std::vector<unsigned char> row(static_cast<size_t>(elements) * x_.item);
    std::vector<float> values;
    DataBatch batch;
    for (int64_t id = first; id < first + count; ++id) {
      const int64_t index = selection_[static_cast<size_t>(id)];
      if (!errors_[static_cast<size_t>(index)].empty()) {
        ++batch.skipped;
        batch.skip_reasons.push_back(errors_[static_cast<size_t>(index)]);
        continue;
      }
      NNFI_RETURN_IF_ERROR(
          x_.source->seek(x_.data_offset + static_cast<uint64_t>(index) * row.size()));
      NNFI_RETURN_IF_ERROR(x_.source->read(row.data(), row.size(), "row " + std::to_string(index)));
      for (int64_t e = 0; e < elements; ++e) {
        values.push_back(static_cast<float>(element(x_, row.data() + e * x_.item)));
      }
      batch.ids.push_back(id);
      batch.labels.push_back(labels_[static_cast<size_t>(index)] + options_.label_offset);
    }
    Shape shape = example_;
    shape.insert(shape.begin(), static_cast<int64_t>(batch.ids.size()));
    batch.inputs = Tensor(DType::kFloat32, shape);
    if (!values.empty())
      std::memcpy(batch.inputs.raw_data(), values.data(), batch.inputs.num_bytes());
    return batch;
  }

  std::string description() const override {
    return "npy: " + std::to_string(size()) + " of " + std::to_string(x_.shape[0]) +
           " examples from " + x_.source->name() + ", fed as " + shape_to_string(example_);
  }
  std::string example_source(int64_t id) const override {
    if (id < 0 || id >= size()) return options_.spec + ": no example " + std::to_string(id);
    return x_.source->name() + " row " + std::to_string(selection_[static_cast<size_t>(id)]);
  }

 private:
  // X's row shape, or the model's when only the arrangement differs (same element count).
  Expected<Shape> example_shape_for(const Shape& model_input) const {
    if (model_input.empty()) return unsupported("the model input is a scalar");
    const Shape data(x_.shape.begin() + 1, x_.shape.end());
    const Shape model(model_input.begin() + 1, model_input.end());
    if (data.size() == model.size()) {
      bool same = true;
      for (size_t i = 0; i < data.size(); ++i) same = same && (model[i] < 0 || model[i] == data[i]);
      if (same) return data;
    }
    const int64_t elements = shape_num_elements(data);
    int64_t known = 1, unknown = 0;
    for (int64_t d : model) {
      if (d < 0) {
        ++unknown;
      } else {
        known *= d;
      }
    }
    Shape result = model;
    if (unknown <= 1 && known > 0 && elements % known == 0 && (unknown == 1 || known == elements)) {
      for (int64_t& d : result) d = d < 0 ? elements / known : d;
      return result;
    }
    return invalid_argument(options_.spec + " gives examples of shape " + shape_to_string(data) +
                            " but the model input has shape " + shape_to_string(model_input) +
                            " (npy data are fed as stored: the values per example must agree)");
  }

  DatasetOptions options_;
  ArrayFile x_;
  std::vector<int64_t> labels_;
  std::vector<std::string> errors_;  // per source row: why it is bad, or ""
  std::vector<int64_t> selection_;
  Shape example_;
};

Status check_no_preprocessing(const Preprocessing& p, const std::string& spec) {
  const Preprocessing none;
  std::string field;
  if (p.resize_height != 0 || p.resize_width != 0)
    field = "resize";
  else if (p.central_crop != none.central_crop && p.central_crop != 1.0)
    field = "central crop";
  else if (p.scale != 1.0)
    field = "scale";
  else if (!p.mean.empty())
    field = "mean";
  else if (!p.std.empty())
    field = "std";
  else if (p.bgr)
    field = "bgr";
  else if (p.grayscale)
    field = "grayscale";
  else if (!p.preset.empty())
    field = "preset";
  else if (p.layout != DataLayout::kAuto)
    field = "layout";
  if (field.empty()) return Status::ok();
  return invalid_argument(spec + ": npy data are fed as stored (already preprocessed); the " +
                          field + " option does not apply");
}

}  // namespace

Expected<std::unique_ptr<Dataset>> open_npy_dataset(const std::vector<std::string>& parts,
                                                    const DatasetOptions& options,
                                                    const Shape& model_input) {
  NNFI_RETURN_IF_ERROR(check_no_preprocessing(options.preprocessing, options.spec));
  std::unique_ptr<ByteSource> x_source, y_source;
  if (parts.size() == 2) {
    NNFI_ASSIGN_OR_RETURN(x_source, open_file_source(parts[0]));
    NNFI_ASSIGN_OR_RETURN(y_source, open_file_source(parts[1]));
  } else {
    std::string x_name, y_name;
    if (parts.size() == 3) {
      x_name = parts[1], y_name = parts[2];
    } else {
      NNFI_ASSIGN_OR_RETURN(std::vector<std::string> entries, zip_entry_names(parts[0]));
      auto has = [&](const std::string& name) {
        return std::find(entries.begin(), entries.end(), name + ".npy") != entries.end();
      };
      for (auto [x, y] : {std::pair{"x", "y"},
                          {"x_test", "y_test"},
                          {"images", "labels"},
                          {"X", "Y"},
                          {"arr_0", "arr_1"}}) {
        if (has(x) && has(y)) {
          x_name = x, y_name = y;
          break;
        }
      }
      auto npy = [](const std::string& name) {
        return name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0;
      };
      if (x_name.empty() && entries.size() == 2 && npy(entries[0]) && npy(entries[1])) {
        x_name = entries[0].substr(0, entries[0].size() - 4);
        y_name = entries[1].substr(0, entries[1].size() - 4);
      }
      if (x_name.empty()) {
        return invalid_argument(parts[0] +
                                ": cannot tell the examples from the labels (expected "
                                "arrays x and y, x_test and y_test, images and labels, or just "
                                "two arrays); name them: npy:FILE.npz,XNAME,YNAME");
      }
    }
    NNFI_ASSIGN_OR_RETURN(x_source, open_zip_entry_source(parts[0], x_name + ".npy"));
    NNFI_ASSIGN_OR_RETURN(y_source, open_zip_entry_source(parts[0], y_name + ".npy"));
  }
  NNFI_ASSIGN_OR_RETURN(ArrayFile x, open_array(std::move(x_source)));
  NNFI_ASSIGN_OR_RETURN(ArrayFile y, open_array(std::move(y_source)));
  auto dataset = std::make_unique<NpyDataset>(options);
  NNFI_RETURN_IF_ERROR(dataset->open(std::move(x), std::move(y), model_input));
  return std::unique_ptr<Dataset>(std::move(dataset));
}

}  // namespace nnfi::data
