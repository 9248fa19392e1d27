#include "nnfi/tensor.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace nnfi {
namespace {

// 64-byte alignment lets vector kernels and oneDNN use aligned loads.
constexpr size_t kAlignment = 64;

// From this size on, buffers come straight from the kernel: page aligned and
// zero until first written, so a buffer nobody writes (most values of a
// trial executor that only runs the end of a network) takes no memory.
constexpr size_t kMappedFrom = size_t{1} << 20;
constexpr size_t kHugeFrom = size_t{4} << 20;

std::shared_ptr<std::byte> allocate_zeroed(size_t bytes) {
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  if (rounded >= kMappedFrom) {
    void* memory = mmap(nullptr, rounded, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    // Huge pages: one fault per 2 MiB instead of per 4 KiB. A campaign's
    // golden executor (VGG16, batch 32: 3.6 GB of values) otherwise spent
    // most of its first batch in the page-fault handler. Advice only: where
    // the kernel has none to give, small pages serve.
    if (rounded >= kHugeFrom) madvise(memory, rounded, MADV_HUGEPAGE);
    return std::shared_ptr<std::byte>(static_cast<std::byte*>(memory),
                                      [rounded](std::byte* p) { munmap(p, rounded); });
  }
  void* memory = std::aligned_alloc(kAlignment, rounded);
  if (memory == nullptr) throw std::bad_alloc();
  std::memset(memory, 0, rounded);
  return std::shared_ptr<std::byte>(static_cast<std::byte*>(memory),
                                    [](std::byte* p) { std::free(p); });
}

}  // namespace

int64_t shape_num_elements(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) return -1;
    count *= dim;
  }
  return count;
}

bool shape_is_known(const Shape& shape) {
  for (int64_t dim : shape) {
    if (dim < 0) return false;
  }
  return true;
}

std::string shape_to_string(const Shape& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return text + "]";
}

Tensor::Tensor(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), num_elements_(shape_num_elements(shape_)) {
  if (num_elements_ < 0) num_elements_ = 0;
  data_ = allocate_zeroed(num_bytes());
}

Tensor Tensor::view(DType dtype, Shape shape, void* data) {
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.shape_ = std::move(shape);
  tensor.num_elements_ = std::max<int64_t>(0, shape_num_elements(tensor.shape_));
  // Aliasing constructor with no owner: nothing is freed, and storage() is
  // expired from the start (no cache keys on a view).
  tensor.data_ =
      std::shared_ptr<std::byte>(std::shared_ptr<std::byte>(), static_cast<std::byte*>(data));
  return tensor;
}

Tensor Tensor::clone() const {
  Tensor copy;
  copy.dtype_ = dtype_;
  copy.shape_ = shape_;
  copy.num_elements_ = num_elements_;
  if (defined()) {
    copy.data_ = allocate_zeroed(num_bytes());
    std::memcpy(copy.data_.get(), data_.get(), num_bytes());
  }
  return copy;
}

Expected<Tensor> Tensor::reshaped(Shape shape) const {
  if (shape_num_elements(shape) != num_elements_) {
    return invalid_argument("cannot reshape " + shape_to_string(shape_) + " to " +
                            shape_to_string(shape));
  }
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

void Tensor::copy_from(const Tensor& other) {
  std::memcpy(raw_data(), other.raw_data(), num_bytes());
}

bool Tensor::bitwise_equal(const Tensor& other) const {
  return dtype_ == other.dtype_ && shape_ == other.shape_ &&
         std::memcmp(raw_data(), other.raw_data(), num_bytes()) == 0;
}

double Tensor::element_as_double(int64_t index) const {
  switch (dtype_) {
    case DType::kFloat32: return data<float>()[index];
    case DType::kInt8: return data<int8_t>()[index];
    case DType::kUInt8: return data<uint8_t>()[index];
    case DType::kInt32: return data<int32_t>()[index];
    case DType::kInt64: return static_cast<double>(data<int64_t>()[index]);
    case DType::kBool: return data<bool>()[index] ? 1.0 : 0.0;
    default: return 0.0;
  }
}

int64_t Tensor::element_as_int64(int64_t index) const {
  switch (dtype_) {
    case DType::kInt64: return data<int64_t>()[index];
    case DType::kInt32: return data<int32_t>()[index];
    default: return static_cast<int64_t>(element_as_double(index));
  }
}

}  // namespace nnfi
