// The data set and preprocessing flags shared by `nnfi eval` and `nnfi run`:
//   --data SPEC [--resize HxW] [--resize-method M] [--central-crop F] [--scale S] [--mean a,b,c]
//   [--std a,b,c] [--preset tf|torch|caffe] [--bgr] [--grayscale] [--layout L] [--limit N]
//   [--offset N] [--sample N] [--seed N] [--label-offset N] [--roi-crop] [--on-error fail|skip]
//   [--label-from M] [--list FILE] [--labels FILE]
// docs/data.md describes them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "nnfi/dataset.h"
#include "nnfi/status.h"

namespace nnfi::cli {

struct DataFlags {
  std::string data;  // the spec; empty when not given (a config file may carry it)
  std::string resize;
  std::string resize_method = "bilinear";
  double central_crop = 0.0;
  // Empty: 1/255 for images (gtsrb, folder, idx) unless a preset is given, 1 for npy.
  std::string scale;
  std::string mean, std;  // "a,b,c" or "a"
  std::string preset;
  bool bgr = false, grayscale = false;
  std::string layout = "auto";
  int64_t limit = 0, offset = 0, sample = 0;
  uint64_t seed = 0;
  int64_t label_offset = 0;
  bool roi_crop = false;
  std::string on_error = "fail";
  std::string label_from = "auto";
  std::string list_file, labels_file;
};

// Registers the flags on `command`, storing into `flags` (which must outlive parsing). --data is
// not required here; a command that needs it marks it: command->get_option("--data")->required().
// Malformed values (e.g. --resize 3y4, --mean a,b) are usage errors at parse time.
void add_data_flags(CLI::App* command, DataFlags& flags);

// The DatasetOptions the flags ask for. Errors: a missing --data, or values that only make sense
// together (e.g. --preset with --scale).
Expected<DatasetOptions> dataset_options_from_flags(const DataFlags& flags);

// "1/255", "0.5", "2" -> the number; false when the text is none of those forms.
bool parse_scale(const std::string& text, double* value);

}  // namespace nnfi::cli
