#include "inject/stored_format.h"

#include <cmath>
#include <cstring>

namespace nnfi {
namespace {

constexpr StoredFormat kFormats[] = {
    {DType::kFloat32, 32, true, 8, 23, true}, {DType::kFloat16, 16, true, 5, 10, true},
    {DType::kBFloat16, 16, true, 8, 7, true}, {DType::kInt8, 8, false, 0, 0, true},
    {DType::kUInt8, 8, false, 0, 0, false},   {DType::kInt32, 32, false, 0, 0, true},
};

template <typename Word>
uint64_t load_word(const void* data, int64_t index) {
  Word word;
  std::memcpy(&word, static_cast<const Word*>(data) + index, sizeof(Word));
  return word;
}

template <typename Word>
void store_word(void* data, int64_t index, uint64_t bits) {
  const auto word = static_cast<Word>(bits);
  std::memcpy(static_cast<Word*>(data) + index, &word, sizeof(Word));
}

}  // namespace

const StoredFormat* stored_format(DType dtype) {
  for (const StoredFormat& format : kFormats) {
    if (format.dtype == dtype) return &format;
  }
  return nullptr;
}

uint64_t StoredFormat::load(const void* data, int64_t index) const {
  switch (width) {
    case 8: return load_word<uint8_t>(data, index);
    case 16: return load_word<uint16_t>(data, index);
    default: return load_word<uint32_t>(data, index);
  }
}

void StoredFormat::store(void* data, int64_t index, uint64_t bits) const {
  switch (width) {
    case 8: store_word<uint8_t>(data, index, bits); break;
    case 16: store_word<uint16_t>(data, index, bits); break;
    default: store_word<uint32_t>(data, index, bits); break;
  }
}

uint64_t StoredFormat::encode(double value) const {
  const uint64_t mask = (uint64_t{1} << width) - 1;
  if (!is_float) return static_cast<uint64_t>(static_cast<int64_t>(value)) & mask;
  const int e_bits = exponent_bits, m_bits = mantissa_bits;
  const uint64_t sign = std::signbit(value) ? uint64_t{1} << (e_bits + m_bits) : 0;
  const uint64_t exponent_ones = (uint64_t{1} << e_bits) - 1;
  if (std::isnan(value)) return sign | exponent_ones << m_bits | uint64_t{1} << (m_bits - 1);
  const double magnitude = std::fabs(value);
  if (std::isinf(magnitude)) return sign | exponent_ones << m_bits;
  if (magnitude == 0) return sign;
  const int bias = (1 << (e_bits - 1)) - 1;
  const int min_exponent = 1 - bias;
  int frexp_exponent = 0;
  std::frexp(magnitude, &frexp_exponent);
  int exponent = frexp_exponent - 1;  // magnitude in [2^exponent, 2^(exponent+1))
  // Scaling by a power of two is exact, so nearbyint (round to nearest even)
  // is the only rounding.
  if (exponent < min_exponent) {
    // Subnormal; a round-up to 2^m_bits carries into the smallest normal.
    const auto units =
        static_cast<uint64_t>(std::nearbyint(std::ldexp(magnitude, m_bits - min_exponent)));
    return sign | units;
  }
  auto units = static_cast<uint64_t>(std::nearbyint(std::ldexp(magnitude, m_bits - exponent)));
  if (units == uint64_t{1} << (m_bits + 1)) {
    units >>= 1;
    ++exponent;
  }
  const int64_t biased = static_cast<int64_t>(exponent) + bias;
  if (biased >= static_cast<int64_t>(exponent_ones)) return sign | exponent_ones << m_bits;
  return sign | static_cast<uint64_t>(biased) << m_bits | (units - (uint64_t{1} << m_bits));
}

double StoredFormat::decode(uint64_t bits) const {
  const uint64_t mask = (uint64_t{1} << width) - 1;
  bits &= mask;
  if (!is_float) {
    if (is_signed && (bits >> (width - 1))) return static_cast<double>(bits) - std::ldexp(1, width);
    return static_cast<double>(bits);
  }
  const int e_bits = exponent_bits, m_bits = mantissa_bits;
  const bool negative = (bits >> (e_bits + m_bits)) & 1;
  const uint64_t exponent = (bits >> m_bits) & ((uint64_t{1} << e_bits) - 1);
  const uint64_t fraction = bits & ((uint64_t{1} << m_bits) - 1);
  const int bias = (1 << (e_bits - 1)) - 1;
  double magnitude;
  if (exponent == (uint64_t{1} << e_bits) - 1) {
    magnitude = fraction != 0 ? std::nan("") : HUGE_VAL;
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<double>(fraction), 1 - bias - m_bits);
  } else {
    magnitude = std::ldexp(static_cast<double>(fraction | uint64_t{1} << m_bits),
                           static_cast<int>(exponent) - bias - m_bits);
  }
  return negative ? -magnitude : magnitude;
}

double StoredFormat::highest() const {
  if (is_float) {
    const int bias = (1 << (exponent_bits - 1)) - 1;
    return std::ldexp(2.0 - std::ldexp(1.0, -mantissa_bits), bias);
  }
  return is_signed ? std::ldexp(1, width - 1) - 1 : std::ldexp(1, width) - 1;
}

double StoredFormat::lowest() const {
  if (is_float) return -highest();
  return is_signed ? -std::ldexp(1, width - 1) : 0.0;
}

uint64_t StoredFormat::next_up(uint64_t bits) const {
  const uint64_t sign = uint64_t{1} << (width - 1);
  if (bits & sign) return (bits & ~sign) == 0 ? 1 : bits - 1;  // negative: toward zero
  return bits + 1;
}

uint64_t StoredFormat::next_down(uint64_t bits) const {
  const uint64_t sign = uint64_t{1} << (width - 1);
  return next_up(bits ^ sign) ^ sign;
}

bool StoredFormat::any_value_in(double low, double high) const {
  if (!is_float) return std::ceil(low) < high;
  uint64_t bits = encode(low);
  if (decode(bits) < low) bits = next_up(bits);
  const double value = decode(bits);
  return std::isfinite(value) && value < high;
}

uint64_t StoredFormat::random_value(double low, double high, RandomStream& rng) const {
  if (!is_float) {
    const double first = std::ceil(low);
    const auto count = static_cast<uint64_t>(std::ceil(high) - first);
    return encode(first + static_cast<double>(rng.next_below(count)));
  }
  uint64_t bits = encode(low + (high - low) * rng.next_uniform());
  if (decode(bits) >= high) bits = next_down(bits);
  if (decode(bits) < low) bits = next_up(bits);
  return bits;
}

}  // namespace nnfi
