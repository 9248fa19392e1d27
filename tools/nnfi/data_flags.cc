// The data set flags of nnfi eval and nnfi run.
#include "data_flags.h"

#include <charconv>
#include <cmath>
#include <vector>

#include "common.h"

namespace nnfi::cli {
namespace {

bool parse_double(std::string_view text, double* value) {
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, *value);
  return !text.empty() && error == std::errc() && ptr == end && std::isfinite(*value);
}

// "a,b,c" or "a" -> numbers; false on any malformed part.
bool parse_numbers(const std::string& text, std::vector<double>* values) {
  values->clear();
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    double value = 0;
    if (!parse_double(std::string_view(text).substr(start, comma - start), &value)) return false;
    values->push_back(value);
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

CLI::Validator one_of(std::vector<std::string> choices) {
  std::string names;
  for (const std::string& choice : choices) names += (names.empty() ? "" : "|") + choice;
  return CLI::Validator(
      [choices, names](std::string& text) -> std::string {
        for (const std::string& choice : choices) {
          if (text == choice) return std::string();
        }
        return "expected one of " + names + ", got '" + text + "'";
      },
      names, "one_of");
}

CLI::Validator checked(const std::string& what, bool (*check)(const std::string&)) {
  return CLI::Validator(
      [what, check](std::string& text) -> std::string {
        return check(text) ? std::string() : "expected " + what + ", got '" + text + "'";
      },
      "", "checked");
}

bool is_resize(const std::string& text) { return parse_resize(text).has_value(); }
bool is_scale(const std::string& text) {
  double value = 0;
  return parse_scale(text, &value);
}
bool is_numbers(const std::string& text) {
  std::vector<double> values;
  return parse_numbers(text, &values) && (values.size() == 1 || values.size() == 3);
}

}  // namespace

bool parse_scale(const std::string& text, double* value) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return parse_double(text, value);
  double numerator = 0, denominator = 0;
  if (!parse_double(std::string_view(text).substr(0, slash), &numerator) ||
      !parse_double(std::string_view(text).substr(slash + 1), &denominator) || denominator == 0) {
    return false;
  }
  *value = numerator / denominator;
  return true;
}

void add_data_flags(CLI::App* command, DataFlags& flags) {
  command
      ->add_option("--data", flags.data,
                   "Data set: gtsrb:DIR, folder:DIR, idx:IMAGES,LABELS (or idx:DIR), "
                   "npy:X.npy,Y.npy or npy:ARRAYS.npz")
      ->check(CLI::Validator(
          [](std::string& spec) {
            Status status = check_dataset_spec(spec);
            return status.is_ok() ? std::string() : status.message();
          },
          "SPEC", "data_spec"));
  command->add_option("--resize", flags.resize, "Resize images to HxW (or N for NxN)")
      ->check(checked("HxW with positive sizes, e.g. 224x224", is_resize));
  command->add_option("--resize-method", flags.resize_method, "bilinear, nearest or area")
      ->capture_default_str()
      ->check(one_of({"bilinear", "nearest", "area"}));
  command
      ->add_option("--central-crop", flags.central_crop,
                   "Keep this central fraction of each image before resizing (0: none)")
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option("--scale", flags.scale,
                   "Value = pixel * scale (e.g. 1/255, 1); default 1/255 for images unless a "
                   "--preset is given, 1 for npy:")
      ->check(checked("a number or a fraction like 1/255", is_scale));
  command->add_option("--mean", flags.mean, "Subtracted after scaling: one value or a,b,c")
      ->check(checked("one number or three, comma-separated", is_numbers));
  command->add_option("--std", flags.std, "Divided by after the mean: one value or a,b,c")
      ->check(checked("one number or three, comma-separated", is_numbers));
  command
      ->add_option("--preset", flags.preset,
                   "Keras preprocess_input mode: tf (x/127.5-1), torch (/255, ImageNet "
                   "mean/std), caffe (BGR minus ImageNet means)")
      ->check(one_of({"tf", "torch", "caffe"}));
  command->add_flag("--bgr", flags.bgr, "Feed channels in BGR order");
  command->add_flag("--grayscale", flags.grayscale, "Convert images to one gray channel");
  command->add_option("--layout", flags.layout, "auto (from the model input), nhwc or nchw")
      ->capture_default_str()
      ->check(one_of({"auto", "nhwc", "nchw"}));
  command->add_option("--limit", flags.limit, "Use at most N examples (0: all)")
      ->check(integer_at_least(0));
  command->add_option("--offset", flags.offset, "Skip the first N examples")
      ->check(integer_at_least(0));
  command
      ->add_option("--sample", flags.sample,
                   "A seeded random sample of N of the (offset/limit) examples")
      ->check(integer_at_least(0));
  command->add_option("--seed", flags.seed, "Seed of --sample")->capture_default_str();
  command->add_option("--label-offset", flags.label_offset,
                      "Added to every label (e.g. 1 for 1001-class ImageNet models)");
  command->add_flag("--roi-crop", flags.roi_crop, "gtsrb: crop each image to its CSV ROI");
  command
      ->add_option("--on-error", flags.on_error,
                   "fail: stop at a bad example; skip: leave it out and count it")
      ->capture_default_str()
      ->check(one_of({"fail", "skip"}));
  command
      ->add_option("--label-from", flags.label_from,
                   "folder: auto, subfolder, list or suffix (the file name's last _N)")
      ->capture_default_str()
      ->check(one_of({"auto", "subfolder", "list", "suffix"}));
  command->add_option("--list", flags.list_file, "folder: a CSV/TXT of file,label lines");
  command->add_option("--labels", flags.labels_file,
                      "Class names, one per line (or N:name): maps folder names and text labels");
}

Expected<DatasetOptions> dataset_options_from_flags(const DataFlags& flags) {
  if (flags.data.empty()) return invalid_argument("no data set given (--data SPEC)");
  DatasetOptions options;
  options.spec = flags.data;
  Preprocessing& p = options.preprocessing;
  if (!flags.resize.empty()) {
    NNFI_ASSIGN_OR_RETURN(auto size, parse_resize(flags.resize));
    p.resize_height = size.first;
    p.resize_width = size.second;
  }
  p.resize_method = flags.resize_method == "nearest" ? ResizeMethod::kNearest
                    : flags.resize_method == "area"  ? ResizeMethod::kArea
                                                     : ResizeMethod::kBilinear;
  p.central_crop = flags.central_crop;
  const bool npy = flags.data.rfind("npy:", 0) == 0;
  if (!flags.scale.empty()) {
    if (!parse_scale(flags.scale, &p.scale)) {
      return invalid_argument("--scale '" + flags.scale + "': expected a number or a fraction");
    }
  } else if (flags.preset.empty() && !npy) {
    p.scale = 1.0 / 255.0;
  }
  if (!flags.mean.empty() && !parse_numbers(flags.mean, &p.mean)) {
    return invalid_argument("--mean '" + flags.mean + "': expected a or a,b,c");
  }
  if (!flags.std.empty() && !parse_numbers(flags.std, &p.std)) {
    return invalid_argument("--std '" + flags.std + "': expected a or a,b,c");
  }
  p.preset = flags.preset;
  p.bgr = flags.bgr;
  p.grayscale = flags.grayscale;
  p.layout = flags.layout == "nhwc"   ? DataLayout::kNHWC
             : flags.layout == "nchw" ? DataLayout::kNCHW
                                      : DataLayout::kAuto;
  options.limit = flags.limit;
  options.offset = flags.offset;
  options.sample = flags.sample;
  options.sample_seed = flags.seed;
  options.label_offset = flags.label_offset;
  options.roi_crop = flags.roi_crop;
  options.on_error = flags.on_error == "skip" ? OnError::kSkip : OnError::kFail;
  options.label_from = flags.label_from == "subfolder" ? LabelSource::kSubfolder
                       : flags.label_from == "list"    ? LabelSource::kListFile
                       : flags.label_from == "suffix"  ? LabelSource::kFilenameSuffix
                                                       : LabelSource::kAuto;
  options.list_file = flags.list_file;
  options.labels_file = flags.labels_file;
  // Presets and their fields together are refused here too, with the flag names.
  if (!p.preset.empty() && (!flags.scale.empty() || !p.mean.empty() || !p.std.empty() || p.bgr)) {
    return invalid_argument("--preset " + p.preset +
                            " sets the scale, mean, std and channel order; drop --scale, --mean, "
                            "--std and --bgr, or the preset");
  }
  return options;
}

}  // namespace nnfi::cli
