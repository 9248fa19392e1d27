// Fault models: validation, description and injection on the stored bits of
// float32, float16, bfloat16, int8, uint8 and int32 values.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include "inject/stored_format.h"
#include "nnfi/fault.h"

namespace nnfi {
namespace {

constexpr int kMaxWidth = 64;

std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// "[23..30]", "[0, 5, 31]", "[0..2, 7]": sorted, runs of three or more folded.
std::string bits_text(std::vector<int> bits) {
  std::sort(bits.begin(), bits.end());
  std::string text = "[";
  for (size_t i = 0; i < bits.size();) {
    size_t j = i;
    while (j + 1 < bits.size() && bits[j + 1] == bits[j] + 1) ++j;
    if (i > 0) text += ", ";
    if (j >= i + 2) {
      text += std::to_string(bits[i]) + ".." + std::to_string(bits[j]);
      i = j + 1;
    } else {
      text += std::to_string(bits[i]);
      ++i;
    }
  }
  return text + "]";
}

// The candidate bits as a mask: the given ones, or every bit of the width.
uint64_t candidate_mask(const std::vector<int>& bits, int width) {
  if (bits.empty()) return width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  uint64_t mask = 0;
  for (int bit : bits) mask |= uint64_t{1} << bit;
  return mask;
}

uint64_t window_mask(int start, int burst) {
  const uint64_t ones = burst >= 64 ? ~uint64_t{0} : (uint64_t{1} << burst) - 1;
  return ones << start;
}

// Start bits (ascending) of the windows of `burst` adjacent bits that lie
// wholly inside `candidates`; returns how many, writing up to 64 starts.
int burst_windows(uint64_t candidates, int width, int burst, int* starts) {
  int n = 0;
  for (int start = 0; start + burst <= width; ++start) {
    const uint64_t window = window_mask(start, burst);
    if ((candidates & window) == window) starts[n++] = start;
  }
  return n;
}

Status check_bits(const FaultModel& model, DType dtype, int width) {
  uint64_t seen = 0;
  for (int bit : model.bits) {
    if (bit < 0 || bit >= width) {
      return invalid_argument("bit " + std::to_string(bit) + " is outside " +
                              std::string(dtype_name(dtype)) + " (bits 0.." +
                              std::to_string(width - 1) + ")");
    }
    if (seen & (uint64_t{1} << bit)) {
      return invalid_argument("bit " + std::to_string(bit) + " is listed twice");
    }
    seen |= uint64_t{1} << bit;
  }
  return Status::ok();
}

Status check_bitflip(const FaultModel& model, int width) {
  const int candidates = model.bits.empty() ? width : static_cast<int>(model.bits.size());
  if (model.count < 1 || model.count > candidates) {
    return invalid_argument("count must be 1.." + std::to_string(candidates) +
                            " (distinct candidate bits), got " + std::to_string(model.count));
  }
  if (model.burst < 1 || model.burst > width) {
    return invalid_argument("burst must be 1.." + std::to_string(width) + ", got " +
                            std::to_string(model.burst));
  }
  if (model.burst > 1 && model.count > 1) {
    return invalid_argument("count and burst cannot both exceed 1 (got count " +
                            std::to_string(model.count) + ", burst " + std::to_string(model.burst) +
                            ")");
  }
  if (model.burst > 1) {
    int starts[kMaxWidth];
    if (burst_windows(candidate_mask(model.bits, width), width, model.burst, starts) == 0) {
      return invalid_argument("no " + std::to_string(model.burst) +
                              " adjacent bits among the candidate bits " + bits_text(model.bits));
    }
  }
  return Status::ok();
}

Status check_random_value(const FaultModel& model, const StoredFormat& format) {
  if (!std::isfinite(model.low) || !std::isfinite(model.high) || !(model.low < model.high)) {
    return invalid_argument("random_value needs finite low < high, got [" + number_text(model.low) +
                            ", " + number_text(model.high) + ")");
  }
  const double lowest = format.lowest(), highest = format.highest();
  const double upper = format.is_float ? highest : highest + 1;  // integers: exclusive bound
  if (model.low < lowest || model.high > upper) {
    return invalid_argument("random_value range [" + number_text(model.low) + ", " +
                            number_text(model.high) + ") is outside " +
                            std::string(dtype_name(format.dtype)) + " (" + number_text(lowest) +
                            " to " + number_text(highest) + ")");
  }
  if (!format.any_value_in(model.low, model.high)) {
    return invalid_argument("random_value range [" + number_text(model.low) + ", " +
                            number_text(model.high) + ") holds no " +
                            std::string(dtype_name(format.dtype)) + " value");
  }
  return Status::ok();
}

Status check_set(const FaultModel& model, const StoredFormat& format) {
  const std::string name(dtype_name(format.dtype));
  if (format.is_float) {
    if (std::isfinite(model.value) && std::isinf(format.decode(format.encode(model.value)))) {
      return invalid_argument("set value " + number_text(model.value) + " overflows " + name +
                              " (largest " + number_text(format.highest()) +
                              "); write inf for infinity");
    }
    return Status::ok();
  }
  if (!std::isfinite(model.value) || model.value != std::floor(model.value) ||
      model.value < format.lowest() || model.value > format.highest()) {
    return invalid_argument("set value " + number_text(model.value) + " is not an " + name +
                            " (integers " + number_text(format.lowest()) + " to " +
                            number_text(format.highest()) + ")");
  }
  return Status::ok();
}

// Fields a kind does not read must keep their defaults, so a misplaced option
// is an error instead of silently doing nothing.
Status check_unused(const FaultModel& model) {
  const std::string kind(fault_kind_name(model.kind));
  if (model.kind != FaultKind::kBitFlip) {
    if (model.count != 1) return invalid_argument("count applies to bitflip only, not " + kind);
    if (model.burst != 1) return invalid_argument("burst applies to bitflip only, not " + kind);
  }
  if (!model.bits.empty() && model.kind != FaultKind::kBitFlip &&
      model.kind != FaultKind::kStuckAt) {
    return invalid_argument("bits apply to bitflip and stuck_at only, not " + kind);
  }
  if (model.scope != FaultScope::kElements && model.elements != 1) {
    return invalid_argument("elements applies to scope 'elements' only, not '" +
                            std::string(fault_scope_name(model.scope)) + "'");
  }
  return Status::ok();
}

Status validate(const FaultModel& model, DType dtype) {
  const StoredFormat* format = stored_format(dtype);
  if (format == nullptr) {
    return unsupported("faults on " + std::string(dtype_name(dtype)) +
                       " values are not supported (float32, float16, bfloat16, int8, uint8, "
                       "int32 are)");
  }
  NNFI_RETURN_IF_ERROR(check_unused(model));
  if (model.scope == FaultScope::kElements && model.elements < 1) {
    return invalid_argument("elements must be >= 1, got " + std::to_string(model.elements));
  }
  switch (model.kind) {
    case FaultKind::kBitFlip:
      NNFI_RETURN_IF_ERROR(check_bits(model, dtype, format->width));
      return check_bitflip(model, format->width);
    case FaultKind::kStuckAt:
      if (model.stuck_value != 0 && model.stuck_value != 1) {
        return invalid_argument("stuck_at value must be 0 or 1, got " +
                                std::to_string(model.stuck_value));
      }
      return check_bits(model, dtype, format->width);
    case FaultKind::kZero: return Status::ok();
    case FaultKind::kRandomValue: return check_random_value(model, *format);
    case FaultKind::kSet: return check_set(model, *format);
  }
  return invalid_argument("unknown fault kind " + std::to_string(static_cast<int>(model.kind)));
}

// The value draws of one element (see the draw order in fault.h) and the
// stored bits they produce.
uint64_t corrupt(const FaultModel& model, const StoredFormat& format, uint64_t bits,
                 RandomStream& rng) {
  const int width = format.width;
  switch (model.kind) {
    case FaultKind::kBitFlip: {
      const uint64_t candidates = candidate_mask(model.bits, width);
      if (model.burst > 1) {
        int starts[kMaxWidth];
        const int windows = burst_windows(candidates, width, model.burst, starts);
        const int start = starts[rng.next_below(static_cast<uint64_t>(windows))];
        return bits ^ window_mask(start, model.burst);
      }
      // Partial Fisher-Yates over the candidates in ascending order.
      int list[kMaxWidth];
      int n = 0;
      for (int bit = 0; bit < width; ++bit) {
        if (candidates & (uint64_t{1} << bit)) list[n++] = bit;
      }
      for (int i = 0; i < model.count; ++i) {
        const int j = i + static_cast<int>(rng.next_below(static_cast<uint64_t>(n - i)));
        std::swap(list[i], list[j]);
        bits ^= uint64_t{1} << list[i];
      }
      return bits;
    }
    case FaultKind::kStuckAt: {
      const uint64_t mask = model.bits.empty()
                                ? uint64_t{1} << rng.next_below(static_cast<uint64_t>(width))
                                : candidate_mask(model.bits, width);
      return model.stuck_value ? bits | mask : bits & ~mask;
    }
    case FaultKind::kZero: return 0;
    case FaultKind::kRandomValue: return format.random_value(model.low, model.high, rng);
    case FaultKind::kSet: return format.encode(model.value);
  }
  return bits;
}

// Floyd's algorithm: k distinct indices of [0, n) with exactly k draws, sorted.
std::vector<int64_t> sample_elements(int64_t n, int64_t k, RandomStream& rng) {
  std::unordered_set<int64_t> chosen;
  chosen.reserve(static_cast<size_t>(k));
  for (int64_t j = n - k; j < n; ++j) {
    const auto t = static_cast<int64_t>(rng.next_below(static_cast<uint64_t>(j + 1)));
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  std::vector<int64_t> result(chosen.begin(), chosen.end());
  std::sort(result.begin(), result.end());
  return result;
}

}  // namespace

std::string_view fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kBitFlip: return "bitflip";
    case FaultKind::kStuckAt: return "stuck_at";
    case FaultKind::kZero: return "zero";
    case FaultKind::kRandomValue: return "random_value";
    case FaultKind::kSet: return "set";
  }
  return "unknown";
}

std::string_view fault_scope_name(FaultScope scope) {
  switch (scope) {
    case FaultScope::kElement: return "element";
    case FaultScope::kElements: return "elements";
    case FaultScope::kTensor: return "tensor";
  }
  return "unknown";
}

std::string fault_model_description(const FaultModel& model) {
  std::string text(fault_kind_name(model.kind));
  switch (model.kind) {
    case FaultKind::kBitFlip:
      text += " bits=" + (model.bits.empty() ? std::string("random") : bits_text(model.bits));
      text += " count=" + std::to_string(model.count);
      if (model.burst != 1) text += " burst=" + std::to_string(model.burst);
      break;
    case FaultKind::kStuckAt:
      text += " value=" + std::to_string(model.stuck_value);
      text += " bits=" + (model.bits.empty() ? std::string("random") : bits_text(model.bits));
      break;
    case FaultKind::kZero: break;
    case FaultKind::kRandomValue:
      text += " range=[" + number_text(model.low) + ", " + number_text(model.high) + ")";
      break;
    case FaultKind::kSet: text += " value=" + number_text(model.value); break;
  }
  if (model.scope == FaultScope::kElements) {
    text += " scope=elements elements=" + std::to_string(model.elements);
  } else if (model.scope == FaultScope::kTensor) {
    text += " scope=tensor";
  }
  return text;
}

int fault_bit_width(DType dtype) {
  const StoredFormat* format = stored_format(dtype);
  return format != nullptr ? format->width : 0;
}

Status validate_fault_model(const FaultModel& model, DType dtype) {
  return validate(model, dtype).with_context(fault_model_description(model));
}

uint64_t load_element_bits(TensorView view, int64_t index) {
  const StoredFormat* format = stored_format(view.dtype);
  if (format == nullptr || view.data == nullptr || index < 0 || index >= view.elements) return 0;
  return format->load(view.data, index);
}

std::vector<ElementFault> inject_fault(const FaultModel& model, TensorView view,
                                       RandomStream& rng) {
  const StoredFormat* format = stored_format(view.dtype);
  if (format == nullptr || view.data == nullptr || view.elements <= 0 ||
      !validate(model, view.dtype).is_ok()) {
    return {};
  }
  std::vector<ElementFault> faults;
  auto hit = [&](int64_t element) {
    ElementFault fault;
    fault.element = element;
    fault.before = format->load(view.data, element);
    fault.after = corrupt(model, *format, fault.before, rng);
    format->store(view.data, element, fault.after);
    faults.push_back(fault);
  };
  switch (model.scope) {
    case FaultScope::kElement:
      faults.reserve(1);
      hit(static_cast<int64_t>(rng.next_below(static_cast<uint64_t>(view.elements))));
      break;
    case FaultScope::kElements: {
      const std::vector<int64_t> elements =
          sample_elements(view.elements, std::min(model.elements, view.elements), rng);
      faults.reserve(elements.size());
      for (int64_t element : elements) hit(element);
      break;
    }
    case FaultScope::kTensor:
      faults.reserve(static_cast<size_t>(view.elements));
      for (int64_t element = 0; element < view.elements; ++element) hit(element);
      break;
  }
  return faults;
}

void apply_element_fault(TensorView view, const ElementFault& fault) {
  const StoredFormat* format = stored_format(view.dtype);
  if (format == nullptr || view.data == nullptr || fault.element < 0 ||
      fault.element >= view.elements) {
    return;
  }
  format->store(view.data, fault.element, fault.after);
}

}  // namespace nnfi
