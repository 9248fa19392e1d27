#include "support/test_support.h"

#include <cmath>
#include <random>
#include <sstream>

namespace nnfi::testing {

std::filesystem::path fixtures_dir() { return NNFI_FIXTURES_DIR; }

bool fixtures_available() { return std::filesystem::exists(fixtures_dir() / "README.md"); }

Tensor random_tensor(Shape shape, uint32_t seed, float low, float high) {
  Tensor tensor(DType::kFloat32, std::move(shape));
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> dist(low, high);
  float* data = tensor.data<float>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) data[i] = dist(engine);
  return tensor;
}

::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double rtol,
                                         double atol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_to_string(actual.shape())
                                         << " != expected " << shape_to_string(expected.shape());
  }
  if (actual.dtype() != expected.dtype()) {
    return ::testing::AssertionFailure() << "dtype " << dtype_name(actual.dtype())
                                         << " != expected " << dtype_name(expected.dtype());
  }
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    double a = actual.element_as_double(i);
    double e = expected.element_as_double(i);
    bool ok;
    if (std::isnan(e)) {
      ok = std::isnan(a);
    } else if (std::isinf(e)) {
      ok = a == e;
    } else {
      ok = std::isfinite(a) && std::fabs(a - e) <= atol + rtol * std::fabs(e);
    }
    if (!ok) {
      return ::testing::AssertionFailure() << "element " << i << ": " << a << " != expected " << e
                                           << " (rtol " << rtol << ", atol " << atol << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace nnfi::testing
