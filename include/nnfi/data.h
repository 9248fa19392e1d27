// Reading and writing data sets and arrays: NumPy .npy files and IDX files
// (MNIST, Fashion-MNIST). Every error names the file and says what was
// expected; malformed or truncated input never crashes.
#pragma once

#include <filesystem>

#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi {

// Reads a NumPy .npy file (format versions 1.0, 2.0 and 3.0, C order only).
// Supported element types and the tensor dtype they become:
//   '<f4' float32, '<f8' float32 (converted, rounded to nearest),
//   '<i4' int32, '<i8' int64, '|u1' uint8, '|i1' int8, '|b1' bool.
// Big-endian data, Fortran order and other types are refused (kUnsupported);
// a malformed header, truncated data or trailing bytes are kInvalidArgument.
Expected<Tensor> read_npy(const std::filesystem::path& path);

// Writes `tensor` as a version 1.0 .npy file (2.0 when the header is too long
// for 1.0). Supported dtypes: float32, int32, int64, uint8, int8, bool.
Status write_npy(const std::filesystem::path& path, const Tensor& tensor);

// Reads an IDX file (the MNIST format: magic 0x0000 <type> <rank>, big-endian
// uint32 dims, then the data), gzip-compressed or plain; the compression is
// detected from the content. Element types: 0x08 (unsigned byte) -> uint8 and
// 0x09 (signed byte) -> int8. Images come out as [N, rows, cols], labels [N].
Expected<Tensor> read_idx(const std::filesystem::path& path);

// A labelled image set: images[i] has label labels[i].
struct LabelledImages {
  Tensor images;  // uint8 [N, ...]
  Tensor labels;  // uint8 [N]
};

// Reads an IDX image file and its IDX label file and checks that they agree
// (labels of rank 1, one label per image).
Expected<LabelledImages> read_idx_dataset(const std::filesystem::path& images_path,
                                          const std::filesystem::path& labels_path);

}  // namespace nnfi
