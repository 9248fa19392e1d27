// Output size and padding arithmetic of sliding-window ops (Conv, MaxPool,
// AveragePool) with ONNX semantics, shared by the reference and fast kernels
// so both read the attributes the same way. Pure functions, header only.
//
// On one spatial axis, output position o reads the input positions
//   o * stride - pad_begin + k * dilation,  k in [0, kernel);
// positions outside [0, input) are padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nnfi/graph.h"
#include "nnfi/status.h"

namespace nnfi::kernels {

enum class AutoPad { kNotSet, kValid, kSameUpper, kSameLower };

// "NOTSET" (or empty), "VALID", "SAME_UPPER", "SAME_LOWER"; nullopt otherwise.
// TensorFlow's SAME is SAME_UPPER (importers map it).
inline std::optional<AutoPad> parse_auto_pad(std::string_view text) {
  if (text.empty() || text == "NOTSET") return AutoPad::kNotSet;
  if (text == "VALID") return AutoPad::kValid;
  if (text == "SAME_UPPER") return AutoPad::kSameUpper;
  if (text == "SAME_LOWER") return AutoPad::kSameLower;
  return std::nullopt;
}

// Extent of a dilated kernel: the distance from its first to its last tap, plus one.
inline int64_t dilated_kernel(int64_t kernel, int64_t dilation) {
  return (kernel - 1) * dilation + 1;
}

// One spatial axis of a sliding window, after compute_window_axis().
struct WindowAxis {
  int64_t input = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t dilation = 1;
  int64_t pad_begin = 0;
  int64_t pad_end = 0;  // padding after the input: explicit, or chosen by auto_pad
  int64_t output = 0;

  // First input position (maybe negative: padding) read by output position o.
  int64_t window_start(int64_t o) const { return o * stride - pad_begin; }
  // Padding after the input that the last window really reaches: more than
  // pad_end in ceil_mode, less where floor division leaves input unread
  // (oneDNN's padding_r for the same output size).
  int64_t reached_pad_end() const {
    return (output - 1) * stride + dilated_kernel(kernel, dilation) - input - pad_begin;
  }
};

// Fills axis.output and, for auto_pad SAME_*/VALID, axis.pad_begin/pad_end,
// from input, kernel, stride, dilation and (for NOTSET) the given pads.
// ceil_mode applies to NOTSET only, as in ONNX; windows that would start in
// the end padding are dropped (ONNX, PyTorch). `axis_index` names the spatial
// axis in messages.
inline Status compute_window_axis(WindowAxis& axis, AutoPad auto_pad, bool ceil_mode,
                                  size_t axis_index) {
  // Messages are built only on failure: eval paths call this too.
  auto bad = [&](const char* what, int64_t value, const char* expected) {
    return invalid_argument(std::string(what) + " " + std::to_string(value) + " on spatial axis " +
                            std::to_string(axis_index) + ", expected " + expected);
  };
  if (axis.input <= 0) return bad("input size", axis.input, "> 0");
  if (axis.kernel <= 0) return bad("kernel size", axis.kernel, "> 0");
  if (axis.stride <= 0) return bad("stride", axis.stride, "> 0");
  if (axis.dilation <= 0) return bad("dilation", axis.dilation, "> 0");
  const int64_t extent = dilated_kernel(axis.kernel, axis.dilation);
  switch (auto_pad) {
    case AutoPad::kSameUpper:
    case AutoPad::kSameLower: {
      axis.output = (axis.input + axis.stride - 1) / axis.stride;
      int64_t total = (axis.output - 1) * axis.stride + extent - axis.input;
      if (total < 0) total = 0;
      // SAME_UPPER puts the odd pad at the end (TensorFlow's SAME), SAME_LOWER at the start.
      axis.pad_begin = auto_pad == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      axis.pad_end = total - axis.pad_begin;
      return Status::ok();
    }
    case AutoPad::kValid:
      axis.pad_begin = 0;
      axis.pad_end = 0;
      break;
    case AutoPad::kNotSet:
      if (axis.pad_begin < 0) return bad("begin pad", axis.pad_begin, ">= 0");
      if (axis.pad_end < 0) return bad("end pad", axis.pad_end, ">= 0");
      break;
  }
  const int64_t padded = axis.input + axis.pad_begin + axis.pad_end;
  if (extent > padded) {
    return invalid_argument(
        "kernel " + std::to_string(axis.kernel) + " (dilated extent " + std::to_string(extent) +
        ") is larger than the padded input " + std::to_string(padded) + " (" +
        std::to_string(axis.input) + " + pads " + std::to_string(axis.pad_begin) + " + " +
        std::to_string(axis.pad_end) + ") on spatial axis " + std::to_string(axis_index));
  }
  const int64_t span = padded - extent;
  if (ceil_mode && auto_pad == AutoPad::kNotSet) {
    axis.output = (span + axis.stride - 1) / axis.stride + 1;
    if ((axis.output - 1) * axis.stride >= axis.input + axis.pad_begin) --axis.output;
  } else {
    axis.output = span / axis.stride + 1;
  }
  return Status::ok();
}

// The window attributes of Conv and the pools, read and checked.
struct WindowParams {
  std::vector<int64_t> kernel;     // per spatial axis
  std::vector<int64_t> strides;    // default 1
  std::vector<int64_t> dilations;  // default 1
  std::vector<int64_t> pads;       // begin..., end...; default 0
  AutoPad auto_pad = AutoPad::kNotSet;
  bool ceil_mode = false;
};

// Reads strides, dilations, pads, auto_pad and ceil_mode for `spatial_rank`
// axes; params->kernel must be set by the caller (from W or kernel_shape).
// Checks lengths and values; auto_pad other than NOTSET with non-zero pads is
// rejected, as ONNX does.
inline Status read_window_attributes(const Attributes& attributes, size_t spatial_rank,
                                     WindowParams* params) {
  auto read = [&](const char* name, size_t count, int64_t fallback, int64_t min_value,
                  std::vector<int64_t>* out) -> Status {
    *out = attributes.get_ints(name, std::vector<int64_t>(count, fallback));
    if (out->size() != count) {
      return invalid_argument(std::string(name) + " has " + std::to_string(out->size()) +
                              " values, expected " + std::to_string(count));
    }
    for (int64_t value : *out) {
      if (value < min_value) {
        return invalid_argument(std::string(name) + " contains " + std::to_string(value) +
                                ", expected >= " + std::to_string(min_value));
      }
    }
    return Status::ok();
  };
  if (params->kernel.size() != spatial_rank) {
    return invalid_argument("kernel has " + std::to_string(params->kernel.size()) +
                            " spatial dims, expected " + std::to_string(spatial_rank));
  }
  NNFI_RETURN_IF_ERROR(read("strides", spatial_rank, 1, 1, &params->strides));
  NNFI_RETURN_IF_ERROR(read("dilations", spatial_rank, 1, 1, &params->dilations));
  NNFI_RETURN_IF_ERROR(read("pads", 2 * spatial_rank, 0, 0, &params->pads));
  const std::string auto_pad = attributes.get_string("auto_pad", "NOTSET");
  std::optional<AutoPad> parsed = parse_auto_pad(auto_pad);
  if (!parsed) {
    return invalid_argument("auto_pad '" + auto_pad +
                            "', expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  }
  params->auto_pad = *parsed;
  if (params->auto_pad != AutoPad::kNotSet) {
    for (int64_t pad : params->pads) {
      if (pad != 0) {
        return invalid_argument("pads are given together with auto_pad '" + auto_pad +
                                "', expected one or the other");
      }
    }
  }
  const int64_t ceil_mode = attributes.get_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) {
    return invalid_argument("ceil_mode " + std::to_string(ceil_mode) + ", expected 0 or 1");
  }
  params->ceil_mode = ceil_mode == 1;
  return Status::ok();
}

// One WindowAxis per spatial axis for the given input spatial sizes.
inline Status compute_window_geometry(const WindowParams& params,
                                      std::span<const int64_t> input_spatial,
                                      std::vector<WindowAxis>* axes) {
  const size_t rank = input_spatial.size();
  if (params.kernel.size() != rank || params.strides.size() != rank ||
      params.dilations.size() != rank || params.pads.size() != 2 * rank) {
    return invalid_argument("window attributes do not match " + std::to_string(rank) +
                            " spatial dims");
  }
  axes->assign(rank, WindowAxis{});
  for (size_t i = 0; i < rank; ++i) {
    WindowAxis& axis = (*axes)[i];
    axis.input = input_spatial[i];
    axis.kernel = params.kernel[i];
    axis.stride = params.strides[i];
    axis.dilation = params.dilations[i];
    axis.pad_begin = params.pads[i];
    axis.pad_end = params.pads[rank + i];
    NNFI_RETURN_IF_ERROR(compute_window_axis(axis, params.auto_pad, params.ceil_mode, i));
  }
  return Status::ok();
}

// Attribute lookups that do not copy (for eval paths, which allocate nothing).
inline const std::vector<int64_t>* find_ints_attribute(const Attributes& attributes,
                                                       const std::string& name) {
  auto it = attributes.all().find(name);
  if (it == attributes.all().end()) return nullptr;
  return std::get_if<std::vector<int64_t>>(&it->second);
}

// Axis `index` of `spatial_rank` from the attributes strides, dilations, pads,
// auto_pad and ceil_mode (all optional), for the given input and kernel size:
// the same checks and results as read_window_attributes() followed by
// compute_window_geometry(), without allocating on success.
inline Status window_axis_from_attributes(const Attributes& attributes, size_t spatial_rank,
                                          size_t index, int64_t input, int64_t kernel,
                                          WindowAxis* axis) {
  auto list = [&](const char* name, size_t count, size_t at, int64_t fallback,
                  int64_t* value) -> Status {
    *value = fallback;
    if (!attributes.has(name)) return Status::ok();
    const std::vector<int64_t>* values = find_ints_attribute(attributes, name);
    if (values != nullptr && values->size() == count) {
      *value = (*values)[at];
      return Status::ok();
    }
    if (values == nullptr && count == 1) {  // a single int, as Attributes::get_ints allows
      *value = attributes.get_int(name, fallback);
      return Status::ok();
    }
    return invalid_argument(std::string(name) + " has " +
                            std::to_string(values == nullptr ? 1 : values->size()) +
                            " values, expected " + std::to_string(count));
  };
  *axis = WindowAxis{};
  axis->input = input;
  axis->kernel = kernel;
  NNFI_RETURN_IF_ERROR(list("strides", spatial_rank, index, 1, &axis->stride));
  NNFI_RETURN_IF_ERROR(list("dilations", spatial_rank, index, 1, &axis->dilation));
  NNFI_RETURN_IF_ERROR(list("pads", 2 * spatial_rank, index, 0, &axis->pad_begin));
  NNFI_RETURN_IF_ERROR(list("pads", 2 * spatial_rank, spatial_rank + index, 0, &axis->pad_end));
  AutoPad auto_pad = AutoPad::kNotSet;
  auto it = attributes.all().find("auto_pad");
  if (it != attributes.all().end()) {
    const std::string* text = std::get_if<std::string>(&it->second);
    std::optional<AutoPad> parsed =
        text != nullptr ? parse_auto_pad(*text) : std::optional<AutoPad>();
    if (!parsed) {
      return invalid_argument("auto_pad '" + (text != nullptr ? *text : std::string("?")) +
                              "', expected NOTSET, VALID, SAME_UPPER or SAME_LOWER");
    }
    auto_pad = *parsed;
  }
  if (auto_pad != AutoPad::kNotSet && (axis->pad_begin != 0 || axis->pad_end != 0)) {
    return invalid_argument("pads are given together with auto_pad, expected one or the other");
  }
  const int64_t ceil_mode = attributes.get_int("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) {
    return invalid_argument("ceil_mode " + std::to_string(ceil_mode) + ", expected 0 or 1");
  }
  return compute_window_axis(*axis, auto_pad, ceil_mode == 1, index);
}

}  // namespace nnfi::kernels
