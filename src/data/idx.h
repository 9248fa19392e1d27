// Internals of the IDX reader, exposed for tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::data {

// What the first bytes of an IDX file say.
struct IdxHeader {
  DType dtype = DType::kUndefined;
  Shape shape;
};

// Decodes the 4-byte magic (0x00 0x00 type rank). Errors name `where`.
Expected<IdxHeader> decode_idx_magic(const unsigned char magic[4], const std::string& where);

}  // namespace nnfi::data
