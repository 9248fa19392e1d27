// Labelled data sets for evaluation and fault campaigns: readers for the layouts users have
// (GTSRB, image folders, MNIST IDX, NumPy arrays) and the preprocessing their models were
// trained with (resize, crop, scale, mean/std, channel order, layout). docs/data.md is the
// user's guide to the spec strings and options below.
//
// Data sets stream: open_dataset() reads only metadata (CSV files, directory listings, file
// headers and the labels); read() decodes and preprocesses just the requested examples.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi {

// How images are resized, as tf.image.resize (TF2, antialias off) does it:
//   kBilinear: half-pixel centres, src = (dst + 0.5) * in/out - 0.5, clamped at the border.
//   kNearest: half-pixel centres, src = floor((dst + 0.5) * in/out).
//   kArea: each output pixel averages the input box it covers, with fractional edge weights.
// Values are computed in double and rounded once to float32 (TF computes in float; the two
// differ by at most a few float32 ulps).
enum class ResizeMethod { kBilinear, kNearest, kArea };

// kAuto: from the model input shape ([.., H, W, C] with C in {1, 3} is NHWC, [.., C, H, W]
// with C in {1, 3} and W not is NCHW, NHWC when both or neither fit).
enum class DataLayout { kAuto, kNHWC, kNCHW };

// Per-example preprocessing of images (gtsrb:, folder:, idx:), in this order:
//   decode (uint8) -> ROI crop (gtsrb, roi_crop) -> central crop -> resize -> channels
//   (grayscale: ITU-R 601 luma as tf.image.rgb_to_grayscale; gray images are repeated to 3
//   channels when the model wants 3) -> RGB/BGR -> y = (x * scale - mean[c]) / std[c] -> layout.
// mean and std are given in the output channel order (BGR for bgr = true).
// npy: data are already preprocessed; they are fed as stored and every field must keep its
// default (an error says which one does not).
struct Preprocessing {
  int64_t resize_height = 0, resize_width = 0;  // 0: no resize
  ResizeMethod resize_method = ResizeMethod::kBilinear;
  double central_crop = 0.0;      // fraction of height and width kept (0 or 1: none)
  double scale = 1.0;             // x * scale, then (x - mean[c]) / std[c]
  std::vector<double> mean, std;  // one value per channel, or one for all; empty = 0 / 1
  bool bgr = false, grayscale = false;
  DataLayout layout = DataLayout::kAuto;
  // "tf" (x / 127.5 - 1), "torch" (x / 255, then ImageNet mean/std), "caffe" (BGR, minus the
  // ImageNet BGR means) as Keras' preprocess_input modes, or empty. A preset sets scale, mean,
  // std and bgr; setting any of those as well is an error.
  std::string preset;
};

enum class OnError {
  kFail,  // the first bad example (corrupt or missing image, bad CSV row, label out of range)
          // fails open_dataset() or read() with an error naming the file and line
  kSkip,  // bad examples are left out of read()'s batch and counted in DataBatch::skipped
};

// Where folder: data sets take their labels from.
enum class LabelSource {
  kAuto,            // class subfolders if there are any, else list_file or a file named
                    // labels.csv / labels.txt in DIR, else the file name's last "_N"
  kSubfolder,       // DIR/<class>/<image>: classes are the subfolders, sorted by name
  kListFile,        // a CSV/TXT of "file,label" lines (list_file, or DIR/labels.csv|txt)
  kFilenameSuffix,  // "cifar10_03_0.png" has label 0: the digits after the last '_'
};

struct DatasetOptions {
  // "gtsrb:DIR", "folder:DIR", "idx:IMAGES,LABELS", "npy:X.npy,Y.npy" or "npy:ARRAYS.npz"
  // (arrays x/y, x_test/y_test or images/labels, or the only two; "npy:F.npz,XNAME,YNAME").
  std::string spec;
  Preprocessing preprocessing;
  // The selection: examples [offset, offset + limit) of the source (limit 0: to the end), then,
  // when sample > 0, a seeded random subset of `sample` of those, kept in source order. The
  // same (offset, limit, sample, sample_seed) always selects the same examples.
  int64_t offset = 0, limit = 0;
  int64_t sample = 0;
  uint64_t sample_seed = 0;
  int64_t label_offset = 0;  // added to every label (MobileNet: class = ImageNet index + 1)
  // > 0: labels (after label_offset) outside [0, num_classes) are bad examples (see on_error).
  int64_t num_classes = 0;
  // gtsrb: crop to the CSV's Roi.X1..X2/Y1..Y2 (inclusive) first. The ROI is given for the
  // CSV's Width x Height; images of another size get it scaled to theirs.
  bool roi_crop = false;
  OnError on_error = OnError::kFail;
  // folder: only.
  LabelSource label_from = LabelSource::kAuto;
  std::string list_file;  // "file,label" lines (or "file label"); relative paths from DIR
  // Class names, one per line: "name", "N:name" or "N name" (line number or N = its label).
  // Subfolder names and non-numeric labels in a list file are looked up in it.
  std::string labels_file;
};

struct DataBatch {
  Tensor inputs;                // float32 [n, example_shape...], ready to feed
  std::vector<int64_t> labels;  // n labels (label_offset applied)
  // n stable example indices: positions in the selection, 0 .. size() - 1. They do not depend
  // on the batch size or on skipped examples (a skipped example's index is simply absent).
  std::vector<int64_t> ids;
  int64_t skipped = 0;                    // examples of the requested range left out (kSkip)
  std::vector<std::string> skip_reasons;  // one line per skipped example, naming its file
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  // Examples selected (skipped ones included: they count until read() finds them bad).
  virtual int64_t size() const = 0;
  // The shape of one fed example, e.g. [30, 30, 3], [1, 28, 28] or [784]; every dim known.
  virtual const Shape& example_shape() const = 0;
  // Reads and preprocesses examples [first, first + count) of the selection. Thread-compatible:
  // one Dataset per thread (open_dataset again) reads concurrently.
  virtual Expected<DataBatch> read(int64_t first, int64_t count) = 0;
  // One line, e.g. "gtsrb: 1000 images from DIR".
  virtual std::string description() const = 0;
  // Where example `id` of the selection comes from, e.g. "DIR/GT-final_test.csv line 3
  // (00001.ppm)" or "t10k-images-idx3-ubyte.gz image 17".
  virtual std::string example_source(int64_t id) const = 0;
};

// Opens a data set for a model input of shape `model_input` (batch axis first, possibly -1,
// e.g. [-1, 30, 30, 3], [1, 1, 28, 28] or [-1, 784]): layout, channel count and flattening
// follow it. A mismatch (after resize) is an error naming both shapes.
Expected<std::unique_ptr<Dataset>> open_dataset(const DatasetOptions& options,
                                                const Shape& model_input);

// A stable hex digest of the data set for result stores to notice a changed one: the spec,
// every option, and the size and modification time of each file the data set reads (the CSV or
// list, each image, the IDX/NPY files). Contents are not hashed: touching a file changes the
// digest, rewriting it with the same size and mtime does not. A missing file hashes as missing.
std::string dataset_fingerprint(const DatasetOptions& options);

// Checks the form of a spec string (kind and number of paths) without reading any file; the
// error says which forms are accepted.
Status check_dataset_spec(const std::string& spec);

// Fills scale, mean, std and bgr from preprocessing.preset (and clears preset). Errors: an
// unknown preset, or a preset together with an explicit scale/mean/std/bgr.
Expected<Preprocessing> resolve_preset(const Preprocessing& preprocessing);

// "HxW" (or a single "N" for NxN) -> {H, W}.
Expected<std::pair<int64_t, int64_t>> parse_resize(const std::string& text);

// What a model input of this shape expects from images, for `nnfi inspect`, e.g.
// "image 30x30, 3 channels (NHWC)", "image 28x28, 1 channel (NCHW), batch fixed at 1",
// "vector of 784 values (flattened image)".
std::string describe_model_input(const Shape& model_input);

}  // namespace nnfi
