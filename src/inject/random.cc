// Philox4x32-10 and the keyed RandomStream built on it. The hash of the key
// and the counter layout are part of the regeneration contract
// (docs/fault-model.md, "Randomness"): change them and recorded faults no
// longer regenerate.
#include <cstdint>

#include "nnfi/fault.h"

namespace nnfi {
namespace {

// Random123's constants: the multipliers and the Weyl key increments.
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

// The two hash lanes start from the fractional parts of sqrt(2) and sqrt(3).
constexpr uint64_t kLaneAStart = 0x6A09E667F3BCC908ull;
constexpr uint64_t kLaneBStart = 0xBB67AE8584CAA73Bull;
constexpr uint64_t kLaneBMultiplier = 0x9E3779B97F4A7C15ull;  // odd: a bijection

inline void mul_hi_lo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t product = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(product >> 32);
  lo = static_cast<uint32_t>(product);
}

// Stafford's "Mix13" 64-bit finaliser (as in SplitMix64): a bijection.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mul_hi_lo(kPhiloxM0, ctr[0], hi0, lo0);
    mul_hi_lo(kPhiloxM1, ctr[2], hi1, lo1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
  }
  return ctr;
}

RandomStream::RandomStream(const RandomKey& key, uint64_t first_draw) : next_draw_(first_draw) {
  // Two lanes absorb the fields in order, each step a bijection of the field,
  // so keys that differ in one field never collide in either lane; the lanes
  // use different algebra (xor vs. multiply-add) so they do not collide
  // together. Lane A keys Philox, lane B fills the counter's upper half.
  const uint64_t fields[] = {key.seed,       key.experiment, key.setting,
                             key.repetition, key.image,      key.site};
  uint64_t lane_a = kLaneAStart;
  uint64_t lane_b = kLaneBStart;
  for (uint64_t field : fields) {
    lane_a = mix64(lane_a ^ field);
    lane_b = mix64(lane_b + field * kLaneBMultiplier);
  }
  key_ = {static_cast<uint32_t>(lane_a), static_cast<uint32_t>(lane_a >> 32)};
  stream_lo_ = static_cast<uint32_t>(lane_b);
  stream_hi_ = static_cast<uint32_t>(lane_b >> 32);
}

void RandomStream::fill_block(uint64_t block) {
  block_ = philox4x32_10(
      {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), stream_lo_, stream_hi_},
      key_);
  cached_block_ = block;
  block_valid_ = true;
}

uint64_t RandomStream::next_u64() {
  const uint64_t block = next_draw_ >> 1;
  if (!block_valid_ || cached_block_ != block) fill_block(block);
  const int half = static_cast<int>(next_draw_ & 1) * 2;
  ++next_draw_;
  return (static_cast<uint64_t>(block_[half + 1]) << 32) | block_[half];
}

double RandomStream::next_uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

uint64_t RandomStream::next_below(uint64_t bound) {
  if (bound == 0) return 0;
  // Lemire, "Fast random integer generation in an interval" (2019).
  __extension__ using Wide = unsigned __int128;
  Wide product = static_cast<Wide>(next_u64()) * bound;
  auto low = static_cast<uint64_t>(product);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    while (low < threshold) {
      product = static_cast<Wide>(next_u64()) * bound;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

}  // namespace nnfi
