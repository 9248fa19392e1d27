// Faults on the stored bits of float16 (15 sign, 14..10 exponent, 9..0
// mantissa), bfloat16 (15 sign, 14..7 exponent, 6..0 mantissa) and the
// two's complement integers int8, uint8, int32.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <set>

#include "inject/fault_test_support.h"
#include "inject/stored_format.h"
#include "nnfi/fault.h"

namespace nnfi {
namespace {

using testing::flip_bits;
using testing::inject;

FaultModel set_to(double value) {
  FaultModel model;
  model.kind = FaultKind::kSet;
  model.value = value;
  return model;
}

// The stored bits after `model` acts on one element holding `bits`.
template <typename T>
uint64_t after(const FaultModel& model, DType dtype, T bits) {
  std::vector<T> data = {bits};
  auto faults = inject(model, data, dtype);
  if (faults.size() != 1) {
    ADD_FAILURE() << faults.size() << " faults for " << fault_model_description(model);
    return ~uint64_t{0};
  }
  EXPECT_EQ(load_element_bits(testing::view_of(data, dtype), 0), faults[0].after);
  return faults[0].after;
}

TEST(Float16, FlipsIeeeHalfBits) {
  constexpr uint16_t kOne = 0x3c00;
  EXPECT_EQ(after(flip_bits({15}), DType::kFloat16, kOne), 0xbc00u);  // -1
  EXPECT_EQ(after(flip_bits({14}), DType::kFloat16, kOne), 0x7c00u);  // +inf
  EXPECT_EQ(after(flip_bits({10}), DType::kFloat16, kOne), 0x3800u);  // 0.5
  EXPECT_EQ(after(flip_bits({9}), DType::kFloat16, kOne), 0x3e00u);   // 1.5
  std::set<int> seen;
  for (uint64_t image = 0; image < 500; ++image) {
    std::vector<uint16_t> data = {kOne};
    auto faults = inject(FaultModel{}, data, DType::kFloat16, 1, image);
    const uint64_t mask = faults.at(0).before ^ faults[0].after;
    ASSERT_EQ(std::popcount(mask), 1);
    seen.insert(std::countr_zero(mask));
  }
  EXPECT_EQ(seen.size(), 16u);
}

TEST(Float16, SetRoundsToNearestEven) {
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    double value;
    uint16_t bits;
  };
  for (const Case& c :
       {Case{65504, 0x7bff}, Case{65519, 0x7bff}, Case{std::nan(""), 0x7e00}, Case{inf, 0x7c00},
        Case{-inf, 0xfc00}, Case{1.0 / 3, 0x3555}, Case{std::ldexp(1, -24), 0x0001},
        Case{std::ldexp(1, -25), 0x0000}, Case{3 * std::ldexp(1, -25), 0x0002},
        Case{std::ldexp(1, -14) - std::ldexp(1, -25), 0x0400}, Case{-2.0, 0xc000}}) {
    EXPECT_EQ(after(set_to(c.value), DType::kFloat16, uint16_t{0}), c.bits) << c.value;
  }
  // 65520 is halfway to 65536 and rounds (to even) to infinity: refused.
  EXPECT_FALSE(validate_fault_model(set_to(65520), DType::kFloat16).is_ok());
}

TEST(Float16, RandomValueStaysInRange) {
  FaultModel random;
  random.kind = FaultKind::kRandomValue;
  random.low = 0.0;
  random.high = 1.0;
  const StoredFormat& half = *stored_format(DType::kFloat16);
  std::set<uint16_t> distinct;
  for (uint64_t image = 0; image < 2000; ++image) {
    std::vector<uint16_t> data = {0};
    inject(random, data, DType::kFloat16, 2, image);
    const double value = half.decode(data[0]);
    ASSERT_GE(value, 0.0);
    ASSERT_LT(value, 1.0);
    distinct.insert(data[0]);
  }
  EXPECT_GT(distinct.size(), 500u);
}

TEST(BFloat16, FlipsBrainFloatBits) {
  constexpr uint16_t kOne = 0x3f80;
  EXPECT_EQ(after(flip_bits({15}), DType::kBFloat16, kOne), 0xbf80u);
  EXPECT_EQ(after(flip_bits({14}), DType::kBFloat16, kOne), 0x7f80u);  // +inf
  EXPECT_EQ(after(flip_bits({7}), DType::kBFloat16, kOne), 0x3f00u);   // 0.5
  FaultModel exponent = flip_bits({7, 8, 9, 10, 11, 12, 13, 14});
  for (uint64_t image = 0; image < 200; ++image) {
    std::vector<uint16_t> data = {kOne};
    auto faults = inject(exponent, data, DType::kBFloat16, 3, image);
    ASSERT_EQ((faults.at(0).before ^ faults[0].after) & ~uint64_t{0x7f80}, 0u);
  }
}

TEST(BFloat16, SetRoundsToNearestEven) {
  EXPECT_EQ(after(set_to(1.0 / 3), DType::kBFloat16, uint16_t{0}), 0x3eabu);
  EXPECT_EQ(after(set_to(1 + std::ldexp(1, -8)), DType::kBFloat16, uint16_t{0}), 0x3f80u);
  EXPECT_EQ(after(set_to(1 + 3 * std::ldexp(1, -8)), DType::kBFloat16, uint16_t{0}), 0x3f82u);
  EXPECT_EQ(after(set_to(std::nan("")), DType::kBFloat16, uint16_t{0}), 0x7fc0u);
  EXPECT_EQ(after(set_to(-std::numeric_limits<double>::infinity()), DType::kBFloat16, uint16_t{0}),
            0xff80u);
}

// bfloat16 is the upper half of float32: rounding a float32 to it matches
// the usual round-to-nearest-even on the dropped 16 bits.
TEST(BFloat16, MatchesFloat32UpperHalfRounding) {
  RandomStream rng(RandomKey{.seed = 4});
  for (int i = 0; i < 2000; ++i) {
    const auto bits = static_cast<uint32_t>(rng.next_u64()) & 0x7f7fffffu;  // finite
    const float value = std::bit_cast<float>(bits);
    const uint32_t rounded = bits + 0x7fff + ((bits >> 16) & 1);
    const uint64_t expected = rounded >> 16;
    if ((expected & 0x7f80) == 0x7f80) continue;  // rounds to inf: refused by set
    EXPECT_EQ(after(set_to(value), DType::kBFloat16, uint16_t{0}), expected) << value;
  }
}

TEST(Int8, FlipsTwosComplementBits) {
  EXPECT_EQ(static_cast<int8_t>(after(flip_bits({7}), DType::kInt8, int8_t{1})), -127);
  EXPECT_EQ(static_cast<int8_t>(after(flip_bits({0}), DType::kInt8, int8_t{1})), 0);
  EXPECT_EQ(static_cast<int8_t>(after(set_to(-128), DType::kInt8, int8_t{5})), -128);
  FaultModel stuck;
  stuck.kind = FaultKind::kStuckAt;
  stuck.stuck_value = 1;
  stuck.bits = {7};
  EXPECT_EQ(static_cast<int8_t>(after(stuck, DType::kInt8, int8_t{5})), -123);
  // Stored bits are zero-extended in the record: -1 is 0xff.
  std::vector<int8_t> data = {-1};
  auto faults = inject(flip_bits({0}), data, DType::kInt8);
  EXPECT_EQ(faults.at(0).before, 0xffu);
  EXPECT_EQ(faults[0].after, 0xfeu);
}

TEST(Int8, RandomValueDrawsIntegersInRange) {
  FaultModel random;
  random.kind = FaultKind::kRandomValue;
  random.low = -3;
  random.high = 3;
  std::set<int> seen;
  for (uint64_t image = 0; image < 300; ++image) {
    std::vector<int8_t> data = {0};
    inject(random, data, DType::kInt8, 5, image);
    seen.insert(data[0]);
  }
  EXPECT_EQ(seen, (std::set<int>{-3, -2, -1, 0, 1, 2}));
  // A fractional range holds the integers inside it: [-1.5, 1.5) -> -1, 0, 1.
  random.low = -1.5;
  random.high = 1.5;
  seen.clear();
  for (uint64_t image = 0; image < 200; ++image) {
    std::vector<int8_t> data = {0};
    inject(random, data, DType::kInt8, 6, image);
    seen.insert(data[0]);
  }
  EXPECT_EQ(seen, (std::set<int>{-1, 0, 1}));
}

TEST(Int8, TensorScopeStaysInsideTheView) {
  std::vector<int8_t> buffer = {9, 1, 2, 3, 4, 9};
  FaultModel zero;
  zero.kind = FaultKind::kZero;
  zero.scope = FaultScope::kTensor;
  RandomStream rng(RandomKey{});
  auto faults = inject_fault(zero, TensorView{buffer.data() + 1, DType::kInt8, 4}, rng);
  EXPECT_EQ(faults.size(), 4u);
  EXPECT_EQ(buffer, (std::vector<int8_t>{9, 0, 0, 0, 0, 9}));
}

TEST(UInt8, FlipsAndSets) {
  EXPECT_EQ(after(flip_bits({7}), DType::kUInt8, uint8_t{0}), 128u);
  EXPECT_EQ(after(set_to(255), DType::kUInt8, uint8_t{0}), 255u);
}

TEST(Int32, FlipsAndSets) {
  EXPECT_EQ(static_cast<int32_t>(after(flip_bits({31}), DType::kInt32, int32_t{1})),
            std::numeric_limits<int32_t>::min() + 1);
  EXPECT_EQ(after(set_to(-1), DType::kInt32, int32_t{7}), 0xffffffffu);
  FaultModel random;
  random.kind = FaultKind::kRandomValue;
  random.low = -5;
  random.high = 5;
  for (uint64_t image = 0; image < 200; ++image) {
    std::vector<int32_t> data = {100};
    inject(random, data, DType::kInt32, 7, image);
    ASSERT_GE(data[0], -5);
    ASSERT_LT(data[0], 5);
  }
  // The whole int32 range.
  random.low = -2147483648.0;
  random.high = 2147483648.0;
  ASSERT_TRUE(validate_fault_model(random, DType::kInt32).is_ok());
  std::vector<int32_t> data = {0};
  EXPECT_EQ(inject(random, data, DType::kInt32).size(), 1u);
}

TEST(StoredFormat, DecodesWhatItEncodes) {
  for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
    const StoredFormat& format = *stored_format(dtype);
    RandomStream rng(RandomKey{.seed = 8});
    for (int i = 0; i < 3000; ++i) {
      const uint64_t bits = rng.next_u64() & ((uint64_t{1} << format.width) - 1);
      const double value = format.decode(bits);
      if (std::isnan(value)) continue;  // NaN payloads are not kept
      ASSERT_EQ(format.encode(value), bits) << dtype_name(dtype) << " " << value;
    }
  }
}

}  // namespace
}  // namespace nnfi
