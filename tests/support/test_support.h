// Helpers shared by the test programs.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "nnfi/tensor.h"

namespace nnfi::testing {

// ../shared/fixtures; tests that need it call NNFI_REQUIRE_FIXTURES() first.
std::filesystem::path fixtures_dir();
bool fixtures_available();

// A tensor of uniform random floats in [low, high) from a fixed seed.
Tensor random_tensor(Shape shape, uint32_t seed, float low = -1.0f, float high = 1.0f);

// Compares float tensors elementwise: |a-b| <= atol + rtol*|b|; NaN must meet
// NaN and Inf the same Inf. Returns a failure naming the first bad index.
::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected,
                                         double rtol = 1e-5, double atol = 1e-6);

}  // namespace nnfi::testing

// Skips the test, loudly, where ../shared/fixtures is missing (a fresh clone).
#define NNFI_REQUIRE_FIXTURES()                                                      \
  do {                                                                               \
    if (!::nnfi::testing::fixtures_available()) {                                    \
      GTEST_SKIP() << "SKIPPED: fixtures folder " << ::nnfi::testing::fixtures_dir() \
                   << " is missing";                                                 \
    }                                                                                \
  } while (0)
