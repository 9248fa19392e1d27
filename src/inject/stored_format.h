// The stored formats that faults act on: how many bits, how to read and write
// them, and how a number becomes those bits (IEEE-754 binary formats with
// round-to-nearest-even, two's complement integers).
#pragma once

#include <cstdint>

#include "nnfi/dtype.h"
#include "nnfi/fault.h"

namespace nnfi {

struct StoredFormat {
  DType dtype = DType::kUndefined;
  int width = 0;  // bits
  bool is_float = false;
  int exponent_bits = 0;   // floats
  int mantissa_bits = 0;   // floats: explicit fraction bits
  bool is_signed = false;  // integers

  uint64_t load(const void* data, int64_t index) const;
  void store(void* data, int64_t index, uint64_t bits) const;

  // The nearest value (floats: round to nearest even, overflow to +-inf, NaN
  // to a quiet NaN of the same sign); integers: `value` must be in range.
  uint64_t encode(double value) const;
  double decode(uint64_t bits) const;
  // Largest and smallest finite values.
  double highest() const;
  double lowest() const;
  // Whether [low, high) holds a value of this format.
  bool any_value_in(double low, double high) const;
  // A value uniform in [low, high) rounded to the format and kept inside the
  // range; one draw. [low, high) must hold a value of the format.
  uint64_t random_value(double low, double high, RandomStream& rng) const;

  // Floats: the neighbouring finite value above / below (no NaN, no inf in).
  uint64_t next_up(uint64_t bits) const;
  uint64_t next_down(uint64_t bits) const;
};

// nullptr for dtypes faults do not support (int64, bool, undefined).
const StoredFormat* stored_format(DType dtype);

}  // namespace nnfi
