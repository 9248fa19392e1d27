// Philox4x32-10 against Random123's published answers, and the RandomStream
// contracts: a pure function of (key, draw), uniform, unbiased bounds.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <set>
#include <vector>

#include "nnfi/fault.h"

namespace nnfi {
namespace {

// First draws of RandomKey{} and of {seed 1, image 2, site 3}, computed once
// with this implementation and checked against an independent Python one.
constexpr uint64_t kPinnedZero0 = 0x308671fa6273a9b5ull;
constexpr uint64_t kPinnedZero1 = 0x421ac22bdc318422ull;
constexpr uint64_t kPinnedOther0 = 0x7239645e4de0c500ull;

// Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter,
// key, expected output.
TEST(Philox, MatchesRandom123KnownAnswers) {
  struct Case {
    std::array<uint32_t, 4> counter;
    std::array<uint32_t, 2> key;
    std::array<uint32_t, 4> expected;
  };
  const Case cases[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Case& c : cases) EXPECT_EQ(philox4x32_10(c.counter, c.key), c.expected);
}

TEST(RandomStream, SameKeyGivesSameNumbers) {
  const RandomKey key{
      .seed = 7, .experiment = 1, .setting = 2, .repetition = 3, .image = 4, .site = 5};
  RandomStream a(key), b(key);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next_u64(), b.next_u64()) << "draw " << i;
  EXPECT_EQ(a.draws(), 1000u);
}

// Pins the key hash and counter layout: recorded faults regenerate from
// their keys only while these numbers stay the same (docs/fault-model.md).
TEST(RandomStream, FirstDrawsArePinned) {
  RandomStream zero(RandomKey{});
  EXPECT_EQ(zero.next_u64(), kPinnedZero0);
  EXPECT_EQ(zero.next_u64(), kPinnedZero1);
  RandomStream other(RandomKey{.seed = 1, .image = 2, .site = 3});
  EXPECT_EQ(other.next_u64(), kPinnedOther0);
}

TEST(RandomStream, StartsAtAnyDraw) {
  const RandomKey key{.seed = 11, .image = 9};
  RandomStream full(key);
  std::vector<uint64_t> draws;
  for (int i = 0; i < 9; ++i) draws.push_back(full.next_u64());
  for (uint64_t first = 0; first < 9; ++first) {
    RandomStream resumed(key, first);
    EXPECT_EQ(resumed.draws(), first);
    EXPECT_EQ(resumed.next_u64(), draws[first]) << "from draw " << first;
  }
  // Continuing from draws() gives what the stream would have given next.
  RandomStream part(key);
  part.next_below(6);
  part.next_uniform();
  RandomStream rest(key, part.draws());
  EXPECT_EQ(rest.next_u64(), part.next_u64());
}

TEST(RandomStream, EveryKeyFieldChangesTheStream) {
  const RandomKey base{
      .seed = 1, .experiment = 2, .setting = 3, .repetition = 4, .image = 5, .site = 6};
  std::vector<RandomKey> keys = {base};
  for (int field = 0; field < 6; ++field) {
    RandomKey key = base;
    uint64_t* fields[] = {&key.seed,       &key.experiment, &key.setting,
                          &key.repetition, &key.image,      &key.site};
    *fields[field] += 1;
    keys.push_back(key);
  }
  // Swapped fields must differ too (the hash is not symmetric).
  keys.push_back(
      RandomKey{.seed = 2, .experiment = 1, .setting = 3, .repetition = 4, .image = 5, .site = 6});
  keys.push_back(
      RandomKey{.seed = 1, .experiment = 2, .setting = 3, .repetition = 4, .image = 6, .site = 5});
  std::set<uint64_t> first_draws;
  for (const RandomKey& key : keys) {
    RandomStream stream(key);
    first_draws.insert(stream.next_u64());
  }
  EXPECT_EQ(first_draws.size(), keys.size());
}

TEST(RandomStream, NeighbouringImagesAreUncorrelated) {
  // Over many images, the first draw's bits are set about half the time.
  std::array<int, 64> ones{};
  const int kImages = 20000;
  for (int image = 0; image < kImages; ++image) {
    RandomStream stream(RandomKey{.seed = 3, .image = static_cast<uint64_t>(image)});
    const uint64_t x = stream.next_u64();
    for (int bit = 0; bit < 64; ++bit) ones[bit] += (x >> bit) & 1;
  }
  // 6 sigma of Binomial(20000, 1/2) is 424: fixed keys, so never flaky.
  for (int bit = 0; bit < 64; ++bit) EXPECT_NEAR(ones[bit], kImages / 2, 424) << "bit " << bit;
}

TEST(RandomStream, NextBelowIsUniform) {
  // Chi-square over 10 buckets, 9 degrees of freedom; 99.99% quantile 33.7.
  RandomStream stream(RandomKey{.seed = 2024});
  const int kDraws = 100000;
  std::array<int, 10> counts{};
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t x = stream.next_below(10);
    ASSERT_LT(x, 10u);
    ++counts[x];
  }
  double chi2 = 0;
  for (int count : counts) chi2 += std::pow(count - kDraws / 10.0, 2) / (kDraws / 10.0);
  EXPECT_LT(chi2, 33.7);
}

TEST(RandomStream, NextUniformIsInUnitIntervalAndUniform) {
  RandomStream stream(RandomKey{.seed = 5});
  const int kDraws = 100000;
  std::array<int, 16> counts{};
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double u = stream.next_uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    ++counts[static_cast<int>(u * 16)];
  }
  EXPECT_NEAR(sum / kDraws, 0.5, 0.005);
  double chi2 = 0;
  for (int count : counts) chi2 += std::pow(count - kDraws / 16.0, 2) / (kDraws / 16.0);
  EXPECT_LT(chi2, 44.3);  // 15 degrees of freedom, 99.99%
}

TEST(RandomStream, NextBelowHasNoModuloBias) {
  // bound = 3 * 2^62: x % bound would land in the first third twice as often
  // as in each of the others (1/2, 1/4, 1/4). Unbiased: a third each.
  const uint64_t third = uint64_t{1} << 62;
  RandomStream stream(RandomKey{.seed = 9});
  std::array<int, 3> counts{};
  const int kDraws = 30000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t x = stream.next_below(3 * third);
    ASSERT_LT(x, 3 * third);
    ++counts[x / third];
  }
  for (int count : counts) EXPECT_NEAR(count, kDraws / 3, 600);  // > 6 sigma
}

TEST(RandomStream, NextBelowStaysInBoundsAndRejectsWhenItMust) {
  RandomStream stream(RandomKey{.seed = 1});
  for (uint64_t bound : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{7}, uint64_t{1000},
                         uint64_t{1} << 32, ~uint64_t{0}}) {
    for (int i = 0; i < 200; ++i) ASSERT_LT(stream.next_below(bound), bound) << bound;
  }
  // bound 2^63 + 1 rejects almost half of the draws: more draws than calls.
  const uint64_t bound = (uint64_t{1} << 63) + 1;
  RandomStream rejecting(RandomKey{.seed = 2});
  for (int i = 0; i < 1000; ++i) ASSERT_LT(rejecting.next_below(bound), bound);
  EXPECT_GT(rejecting.draws(), 1500u);
  EXPECT_LT(rejecting.draws(), 2500u);
  // Bound 1 is always 0 and still takes one draw (the draw count is part of
  // the contract).
  RandomStream one(RandomKey{});
  EXPECT_EQ(one.next_below(1), 0u);
  EXPECT_EQ(one.draws(), 1u);
}

TEST(RandomStream, NextBelowZeroDrawsNothing) {
  RandomStream stream(RandomKey{});
  EXPECT_EQ(stream.next_below(0), 0u);
  EXPECT_EQ(stream.draws(), 0u);
}

}  // namespace
}  // namespace nnfi
