// Every fault model on float32, bit by bit (IEEE-754: bit 31 sign, 30..23
// exponent, 22..0 mantissa), the scopes, the documented draw order, replay.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <set>

#include "inject/fault_test_support.h"
#include "nnfi/fault.h"

namespace nnfi {
namespace {

using testing::bits_of;
using testing::flip_bits;
using testing::float_of;
using testing::inject;
using testing::view_of;

constexpr uint32_t kOne = 0x3f800000;  // 1.0f

uint32_t changed_mask(const ElementFault& fault) {
  return static_cast<uint32_t>(fault.before ^ fault.after);
}

TEST(BitFlip, GivenBitsOfOneAreExact) {
  struct Case {
    int bit;
    uint32_t after;
    float value;
  };
  const float inf = std::numeric_limits<float>::infinity();
  for (const Case& c : {Case{31, 0xbf800000, -1.0f}, Case{30, 0x7f800000, inf},
                        Case{23, 0x3f000000, 0.5f}, Case{24, 0x3e800000, 0.25f},
                        Case{22, 0x3fc00000, 1.5f}, Case{0, 0x3f800001, 1.00000012f}}) {
    std::vector<float> data = {1.0f};
    auto faults = inject(flip_bits({c.bit}), data);
    ASSERT_EQ(faults.size(), 1u) << "bit " << c.bit;
    EXPECT_EQ(faults[0].element, 0);
    EXPECT_EQ(faults[0].before, kOne);
    EXPECT_EQ(faults[0].after, c.after) << "bit " << c.bit;
    EXPECT_EQ(bits_of(data[0]), c.after) << "bit " << c.bit;
    EXPECT_EQ(data[0], c.value) << "bit " << c.bit;
  }
}

TEST(BitFlip, RandomBitIsOneOfAllThirtyTwo) {
  std::set<int> seen;
  for (uint64_t image = 0; image < 2000; ++image) {
    std::vector<float> data = {1.0f};
    auto faults = inject(FaultModel{}, data, 1, image);
    ASSERT_EQ(faults.size(), 1u);
    const uint32_t mask = changed_mask(faults[0]);
    ASSERT_EQ(std::popcount(mask), 1);
    seen.insert(std::countr_zero(mask));
  }
  EXPECT_EQ(seen.size(), 32u);
}

TEST(BitFlip, RangeStaysInTheExponent) {
  std::set<int> seen;
  for (uint64_t image = 0; image < 500; ++image) {
    std::vector<float> data = {3.0f};
    auto faults = inject(flip_bits({23, 24, 25, 26, 27, 28, 29, 30}), data, 2, image);
    const uint32_t mask = changed_mask(faults.at(0));
    ASSERT_EQ(std::popcount(mask), 1);
    ASSERT_EQ(mask & ~0x7f800000u, 0u);
    seen.insert(std::countr_zero(mask));
  }
  EXPECT_EQ(seen, (std::set<int>{23, 24, 25, 26, 27, 28, 29, 30}));
}

TEST(BitFlip, CountFlipsDistinctCandidateBits) {
  for (uint64_t image = 0; image < 300; ++image) {
    std::vector<float> data = {-2.5f};
    auto faults = inject(flip_bits({0, 3, 7, 20, 31}, 3), data, 3, image);
    const uint32_t mask = changed_mask(faults.at(0));
    ASSERT_EQ(std::popcount(mask), 3) << std::hex << mask;
    ASSERT_EQ(mask & ~((1u << 0) | (1u << 3) | (1u << 7) | (1u << 20) | (1u << 31)), 0u);
  }
  // Every bit: the value's complement.
  std::vector<float> data = {1.0f};
  FaultModel all = flip_bits({}, 32);
  auto faults = inject(all, data);
  EXPECT_EQ(faults.at(0).after, ~kOne);
}

TEST(BitFlip, BurstFlipsAdjacentBitsInsideTheCandidates) {
  std::set<int> starts;
  for (uint64_t image = 0; image < 1000; ++image) {
    std::vector<float> data = {1.0f};
    auto faults = inject(flip_bits({}, 1, 3), data, 4, image);
    const uint32_t mask = changed_mask(faults.at(0));
    const int start = std::countr_zero(mask);
    ASSERT_EQ(mask, 7u << start) << std::hex << mask;
    starts.insert(start);
  }
  // Never clipped, never wrapped: starts 0..29, all of them.
  EXPECT_EQ(starts.size(), 30u);
  EXPECT_EQ(*starts.rbegin(), 29);
  // In the exponent only: bursts of 2 start at 23..29 and never touch the sign.
  std::set<int> exponent_starts;
  for (uint64_t image = 0; image < 500; ++image) {
    std::vector<float> data = {1.0f};
    auto faults = inject(flip_bits({23, 24, 25, 26, 27, 28, 29, 30}, 1, 2), data, 5, image);
    const uint32_t mask = changed_mask(faults.at(0));
    ASSERT_EQ(mask & ~0x7f800000u, 0u);
    exponent_starts.insert(std::countr_zero(mask));
  }
  EXPECT_EQ(exponent_starts, (std::set<int>{23, 24, 25, 26, 27, 28, 29}));
}

TEST(StuckAt, OneAndZeroOnGivenBits) {
  FaultModel stuck;
  stuck.kind = FaultKind::kStuckAt;
  stuck.stuck_value = 1;
  stuck.bits = {30};
  std::vector<float> data = {1.0f};
  auto faults = inject(stuck, data);
  EXPECT_EQ(faults.at(0).after, 0x7f800000u);  // +inf
  EXPECT_TRUE(std::isinf(data[0]));
  // Already 1: unchanged, still reported.
  stuck.bits = {29};
  data = {1.0f};
  faults = inject(stuck, data);
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].before, kOne);
  EXPECT_EQ(faults[0].after, kOne);
  // Stuck at 0 on bits 29 and 31 of -1.0f (0xbf800000).
  stuck.stuck_value = 0;
  stuck.bits = {29, 31};
  data = {-1.0f};
  faults = inject(stuck, data);
  EXPECT_EQ(faults.at(0).after, 0x1f800000u);
}

TEST(StuckAt, WithoutBitsOneBitIsDrawn) {
  FaultModel stuck;
  stuck.kind = FaultKind::kStuckAt;
  stuck.stuck_value = 1;
  std::set<int> seen;
  for (uint64_t image = 0; image < 1000; ++image) {
    std::vector<float> data = {0.0f};
    auto faults = inject(stuck, data, 6, image);
    const uint32_t after = static_cast<uint32_t>(faults.at(0).after);
    ASSERT_EQ(std::popcount(after), 1);
    seen.insert(std::countr_zero(after));
  }
  EXPECT_EQ(seen.size(), 32u);
}

TEST(Zero, WritesPositiveZero) {
  FaultModel zero;
  zero.kind = FaultKind::kZero;
  for (float value : {3.5f, -1.0f, -0.0f, std::numeric_limits<float>::quiet_NaN()}) {
    std::vector<float> data = {value};
    auto faults = inject(zero, data);
    EXPECT_EQ(faults.at(0).before, bits_of(value));
    EXPECT_EQ(faults[0].after, 0u);
    EXPECT_EQ(bits_of(data[0]), 0u);
  }
  // A zero stays zero and is still reported.
  std::vector<float> data = {0.0f};
  auto faults = inject(zero, data);
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].before, faults[0].after);
}

TEST(RandomValue, StaysInTheRange) {
  FaultModel random;
  random.kind = FaultKind::kRandomValue;
  random.low = 2.0;
  random.high = 2.5;
  double sum = 0;
  std::set<float> distinct;
  for (uint64_t image = 0; image < 2000; ++image) {
    std::vector<float> data = {0.0f};
    inject(random, data, 7, image);
    ASSERT_GE(data[0], 2.0f);
    ASSERT_LT(data[0], 2.5f);
    sum += data[0];
    distinct.insert(data[0]);
  }
  EXPECT_NEAR(sum / 2000, 2.25, 0.01);
  EXPECT_GT(distinct.size(), 1900u);
  // A range one float wide holds exactly that float.
  random.low = 1.0;
  random.high = std::nextafter(1.0f, 2.0f);
  for (uint64_t image = 0; image < 50; ++image) {
    std::vector<float> data = {0.0f};
    inject(random, data, 8, image);
    ASSERT_EQ(data[0], 1.0f);
  }
}

TEST(RandomValue, NeverRoundsUpToHigh) {
  // [0, 2^-30): doubles near the top round to 2^-30 in float32; they must
  // come back below it.
  FaultModel random;
  random.kind = FaultKind::kRandomValue;
  random.low = 0.0;
  random.high = std::ldexp(1.0, -30);
  for (uint64_t image = 0; image < 3000; ++image) {
    std::vector<float> data = {0.0f};
    inject(random, data, 9, image);
    ASSERT_LT(data[0], std::ldexp(1.0f, -30));
    ASSERT_GE(data[0], 0.0f);
  }
}

TEST(Set, WritesConstantsNanAndInfinities) {
  struct Case {
    double value;
    uint32_t bits;
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (const Case& c :
       {Case{std::numeric_limits<double>::quiet_NaN(), 0x7fc00000}, Case{inf, 0x7f800000},
        Case{-inf, 0xff800000}, Case{0.1, bits_of(0.1f)}, Case{-0.0, 0x80000000},
        Case{3.4028234663852886e38, 0x7f7fffff}, Case{1e-45, 0x00000001}}) {
    FaultModel set;
    set.kind = FaultKind::kSet;
    set.value = c.value;
    std::vector<float> data = {1.0f, 2.0f};
    auto faults = inject(set, data);
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].after, c.bits) << c.value;
    EXPECT_EQ(bits_of(data[faults[0].element]), c.bits) << c.value;
  }
}

// The set encoder rounds like the hardware double -> float conversion.
TEST(Set, RoundsLikeFloatConversion) {
  RandomStream rng(RandomKey{.seed = 10});
  for (int i = 0; i < 2000; ++i) {
    const double value =
        std::ldexp(rng.next_uniform() - 0.5, static_cast<int>(rng.next_below(300)) - 160);
    if (std::fabs(value) > 3.4e38) continue;
    FaultModel set;
    set.kind = FaultKind::kSet;
    set.value = value;
    std::vector<float> data = {0.0f};
    inject(set, data);
    ASSERT_EQ(bits_of(data[0]), bits_of(static_cast<float>(value))) << value;
  }
}

TEST(Scope, ElementIsUniformOverTheView) {
  std::set<int64_t> seen;
  for (uint64_t image = 0; image < 400; ++image) {
    std::vector<float> data(8, 1.0f);
    auto faults = inject(flip_bits({31}), data, 11, image);
    ASSERT_EQ(faults.size(), 1u);
    for (int64_t i = 0; i < 8; ++i) ASSERT_EQ(data[i], i == faults[0].element ? -1.0f : 1.0f);
    seen.insert(faults[0].element);
  }
  EXPECT_EQ(seen.size(), 8u);
}

TEST(Scope, ElementsAreDistinctAndAscending) {
  FaultModel model = flip_bits({31});
  model.scope = FaultScope::kElements;
  model.elements = 5;
  std::set<int64_t> seen;
  for (uint64_t image = 0; image < 200; ++image) {
    std::vector<float> data(12, 1.0f);
    auto faults = inject(model, data, 12, image);
    ASSERT_EQ(faults.size(), 5u);
    for (size_t f = 1; f < faults.size(); ++f) ASSERT_LT(faults[f - 1].element, faults[f].element);
    int negative = 0;
    for (float value : data) negative += value < 0;
    ASSERT_EQ(negative, 5);
    for (const ElementFault& fault : faults) seen.insert(fault.element);
  }
  EXPECT_EQ(seen.size(), 12u);
  // More elements than the view holds: every element, once.
  model.elements = 50;
  std::vector<float> data(4, 1.0f);
  auto faults = inject(model, data);
  ASSERT_EQ(faults.size(), 4u);
  for (float value : data) EXPECT_EQ(value, -1.0f);
}

TEST(Scope, TensorCorruptsEveryElementWithItsOwnBits) {
  FaultModel zero;
  zero.kind = FaultKind::kZero;
  zero.scope = FaultScope::kTensor;
  std::vector<float> data = {1, 2, 3, 4, 5};
  auto faults = inject(zero, data);
  ASSERT_EQ(faults.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(faults[i].element, i);
    EXPECT_EQ(data[i], 0.0f);
  }
  FaultModel flip;
  flip.scope = FaultScope::kTensor;
  std::vector<float> ones(64, 1.0f);
  faults = inject(flip, ones);
  ASSERT_EQ(faults.size(), 64u);
  std::set<uint32_t> masks;
  for (const ElementFault& fault : faults) {
    ASSERT_EQ(std::popcount(changed_mask(fault)), 1);
    masks.insert(changed_mask(fault));
  }
  EXPECT_GT(masks.size(), 10u);  // bits drawn per element, not once
}

// The documented draw order: element first, then the value's bits.
TEST(DrawOrder, ElementThenBits) {
  const RandomKey key{.seed = 13, .site = 2};
  std::vector<float> data(100, 1.0f);
  RandomStream rng(key);
  auto faults = inject_fault(flip_bits({}, 2), view_of(data, DType::kFloat32), rng);
  RandomStream replay(key);
  const auto element = static_cast<int64_t>(replay.next_below(100));
  int candidates[32];
  for (int b = 0; b < 32; ++b) candidates[b] = b;
  uint32_t mask = 0;
  for (int i = 0; i < 2; ++i) {
    const int j = i + static_cast<int>(replay.next_below(32 - i));
    std::swap(candidates[i], candidates[j]);
    mask |= 1u << candidates[i];
  }
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].element, element);
  EXPECT_EQ(changed_mask(faults[0]), mask);
  EXPECT_EQ(rng.draws(), replay.draws());
}

TEST(DrawOrder, ElementsByFloydThenValuesInAscendingOrder) {
  const RandomKey key{.seed = 14};
  FaultModel model;
  model.kind = FaultKind::kRandomValue;
  model.scope = FaultScope::kElements;
  model.elements = 3;
  std::vector<float> data(10, 0.0f);
  RandomStream rng(key);
  auto faults = inject_fault(model, view_of(data, DType::kFloat32), rng);
  RandomStream replay(key);
  std::set<int64_t> chosen;
  for (int64_t j = 7; j < 10; ++j) {
    const auto t = static_cast<int64_t>(replay.next_below(j + 1));
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  ASSERT_EQ(faults.size(), 3u);
  size_t f = 0;
  for (int64_t element : chosen) {
    EXPECT_EQ(faults[f].element, element);
    const double value = -1.0 + 2.0 * replay.next_uniform();
    EXPECT_EQ(faults[f].after, bits_of(static_cast<float>(value)));
    ++f;
  }
  EXPECT_EQ(rng.draws(), replay.draws());
}

TEST(Replay, SameKeySameFaults) {
  FaultModel model = flip_bits({}, 2);
  model.scope = FaultScope::kElements;
  model.elements = 4;
  std::vector<float> a(50, 0.5f), b(50, 0.5f);
  auto first = inject(model, a, 15, 3);
  auto second = inject(model, b, 15, 3);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].element, second[i].element);
    EXPECT_EQ(first[i].after, second[i].after);
  }
  EXPECT_EQ(a, b);
  // Another image: other faults.
  std::vector<float> c(50, 0.5f);
  inject(model, c, 15, 4);
  EXPECT_NE(a, c);
}

TEST(Replay, ApplyElementFaultRoundTrips) {
  FaultModel model = flip_bits({});
  model.scope = FaultScope::kElements;
  model.elements = 6;
  std::vector<float> original(30);
  for (int i = 0; i < 30; ++i) original[i] = 0.25f * static_cast<float>(i) - 3.0f;
  std::vector<float> faulty = original;
  auto faults = inject(model, faulty, 16);
  ASSERT_EQ(faults.size(), 6u);
  std::vector<float> replayed = original;
  for (const ElementFault& fault : faults) {
    EXPECT_EQ(fault.before, bits_of(original[fault.element]));
    EXPECT_EQ(load_element_bits(view_of(replayed, DType::kFloat32), fault.element), fault.before);
    apply_element_fault(view_of(replayed, DType::kFloat32), fault);
  }
  for (int i = 0; i < 30; ++i) EXPECT_EQ(bits_of(replayed[i]), bits_of(faulty[i])) << i;
  // Undo: write `before` back.
  for (const ElementFault& fault : faults) {
    apply_element_fault(view_of(replayed, DType::kFloat32),
                        ElementFault{fault.element, fault.after, fault.before});
  }
  EXPECT_EQ(replayed, original);
}

TEST(Replay, ApplyIgnoresElementsOutsideTheView) {
  std::vector<float> data = {1.0f, 2.0f};
  apply_element_fault(view_of(data, DType::kFloat32), ElementFault{2, 0, 0});
  apply_element_fault(view_of(data, DType::kFloat32), ElementFault{-1, 0, 0});
  apply_element_fault(TensorView{nullptr, DType::kFloat32, 2}, ElementFault{0, 0, 0});
  apply_element_fault(TensorView{data.data(), DType::kInt64, 2}, ElementFault{0, 0, 0});
  EXPECT_EQ(data, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(load_element_bits(view_of(data, DType::kFloat32), 5), 0u);
}

TEST(Inject, InvalidModelOrEmptyViewChangesNothing) {
  std::vector<float> data = {1.0f, 2.0f};
  auto faults = inject(flip_bits({32}), data);
  EXPECT_TRUE(faults.empty());
  EXPECT_EQ(data, (std::vector<float>{1.0f, 2.0f}));
  RandomStream rng(RandomKey{});
  EXPECT_TRUE(inject_fault(FaultModel{}, TensorView{nullptr, DType::kFloat32, 4}, rng).empty());
  EXPECT_TRUE(inject_fault(FaultModel{}, TensorView{data.data(), DType::kFloat32, 0}, rng).empty());
  EXPECT_TRUE(inject_fault(FaultModel{}, TensorView{data.data(), DType::kInt64, 1}, rng).empty());
  EXPECT_EQ(rng.draws(), 0u);
}

TEST(Description, NamesTheModel) {
  EXPECT_EQ(fault_model_description(FaultModel{}), "bitflip bits=random count=1");
  EXPECT_EQ(fault_model_description(flip_bits({30, 23, 24, 25, 26, 27, 28, 29})),
            "bitflip bits=[23..30] count=1");
  EXPECT_EQ(fault_model_description(flip_bits({0, 1, 2, 7, 31}, 2)),
            "bitflip bits=[0..2, 7, 31] count=2");
  EXPECT_EQ(fault_model_description(flip_bits({}, 1, 4)), "bitflip bits=random count=1 burst=4");
  FaultModel model;
  model.kind = FaultKind::kStuckAt;
  model.stuck_value = 1;
  model.bits = {30};
  EXPECT_EQ(fault_model_description(model), "stuck_at value=1 bits=[30]");
  model = FaultModel{};
  model.kind = FaultKind::kRandomValue;
  model.low = -0.5;
  model.high = 2;
  model.scope = FaultScope::kTensor;
  EXPECT_EQ(fault_model_description(model), "random_value range=[-0.5, 2) scope=tensor");
  model = FaultModel{};
  model.kind = FaultKind::kSet;
  model.value = -std::numeric_limits<double>::infinity();
  model.scope = FaultScope::kElements;
  model.elements = 3;
  EXPECT_EQ(fault_model_description(model), "set value=-inf scope=elements elements=3");
  model.value = std::nan("");
  model.scope = FaultScope::kElement;
  model.elements = 1;
  EXPECT_EQ(fault_model_description(model), "set value=nan");
  model.kind = FaultKind::kZero;
  EXPECT_EQ(fault_model_description(model), "zero");
}

}  // namespace
}  // namespace nnfi
