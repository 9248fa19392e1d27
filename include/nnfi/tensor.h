// Shape and Tensor: a dense, row-major, 64-byte aligned buffer with a dtype.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nnfi/dtype.h"
#include "nnfi/status.h"

namespace nnfi {

// Dimensions, outermost first. In graph values a dimension of -1 is unknown
// until a plan fixes the input shapes (usually the batch).
using Shape = std::vector<int64_t>;

constexpr int64_t kUnknownDim = -1;

// Product of the dimensions; 1 for a scalar (empty shape). Unknown dims count
// as -1, so check shape_is_known() first where that matters.
int64_t shape_num_elements(const Shape& shape);
bool shape_is_known(const Shape& shape);
// "[1, 28, 28, 32]" with "?" for unknown dims.
std::string shape_to_string(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;  // undefined: no dtype, no storage
  // Allocates zero-initialised storage.
  Tensor(DType dtype, Shape shape);

  // A tensor over memory it does not own: the caller keeps `data` alive as
  // long as the tensor and its copies (scratch buffers handed to kernels,
  // without an allocation per call).
  static Tensor view(DType dtype, Shape shape, void* data);

  // Scalars and vectors built from values, for tests and importers.
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, Shape shape);
  template <typename T>
  static Tensor scalar(T value) {
    return from_vector<T>({value}, {});
  }

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t axis) const { return shape_[axis]; }
  size_t rank() const { return shape_.size(); }
  int64_t num_elements() const { return num_elements_; }
  size_t num_bytes() const { return static_cast<size_t>(num_elements_) * dtype_size(dtype_); }

  void* raw_data() { return data_.get(); }
  const void* raw_data() const { return data_.get(); }
  template <typename T>
  T* data() {
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(raw_data());
  }

  // Who owns the storage: alive while any tensor shares it (caches of
  // derived data, such as packed weights, key on it).
  std::weak_ptr<const std::byte> storage() const { return data_; }

  // Deep copy with its own storage.
  Tensor clone() const;
  // Same storage, another shape with the same element count.
  Expected<Tensor> reshaped(Shape shape) const;
  // Copies the values of `other` (same dtype and element count) into this.
  void copy_from(const Tensor& other);
  // Bit-for-bit equality of dtype, shape and bytes (NaN payloads included).
  bool bitwise_equal(const Tensor& other) const;

  // Element i converted to double / int64; convenient for shape arithmetic.
  double element_as_double(int64_t index) const;
  int64_t element_as_int64(int64_t index) const;

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  int64_t num_elements_ = 0;
  std::shared_ptr<std::byte> data_;
};

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape) {
  Tensor tensor(DTypeOf<T>::value, std::move(shape));
  T* out = tensor.data<T>();
  for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < tensor.num_elements(); ++i) {
    out[i] = values[i];
  }
  return tensor;
}

}  // namespace nnfi
