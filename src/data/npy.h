// Internals of the .npy reader and writer, exposed for tests.
#pragma once

#include <string>
#include <string_view>

#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::data {

// The three keys of an .npy header dictionary.
struct NpyHeader {
  std::string descr;  // e.g. "<f4"
  bool fortran_order = false;
  Shape shape;
};

// Parses the Python dict literal of an .npy header, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// Errors say what was expected and are prefixed with `where` (the file).
Expected<NpyHeader> parse_npy_header(std::string_view text, const std::string& where);

// The header dict text (without padding) that write_npy uses for a tensor.
Expected<std::string> format_npy_header(const Tensor& tensor);

}  // namespace nnfi::data
