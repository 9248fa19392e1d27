// Shorthands for the fault-model tests: float bit casts and injecting into a
// std::vector with a stream made from a small key.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "nnfi/fault.h"

namespace nnfi::testing {

inline uint32_t bits_of(float value) { return std::bit_cast<uint32_t>(value); }
inline float float_of(uint32_t bits) { return std::bit_cast<float>(bits); }

template <typename T>
TensorView view_of(std::vector<T>& data, DType dtype) {
  return TensorView{data.data(), dtype, static_cast<int64_t>(data.size())};
}

// Injects `model` into `data` with the stream of RandomKey{seed, image}.
template <typename T>
std::vector<ElementFault> inject(const FaultModel& model, std::vector<T>& data, DType dtype,
                                 uint64_t seed = 0, uint64_t image = 0) {
  RandomStream rng(RandomKey{.seed = seed, .image = image});
  return inject_fault(model, view_of(data, dtype), rng);
}

inline std::vector<ElementFault> inject(const FaultModel& model, std::vector<float>& data,
                                        uint64_t seed = 0, uint64_t image = 0) {
  return inject(model, data, DType::kFloat32, seed, image);
}

inline FaultModel flip_bits(std::vector<int> bits, int count = 1, int burst = 1) {
  FaultModel model;
  model.bits = std::move(bits);
  model.count = count;
  model.burst = burst;
  return model;
}

}  // namespace nnfi::testing
