// Reference kernel: Resize (ONNX opset 11-18 inputs X, roi?, scales?, sizes?;
// modes nearest, linear, cubic; every coordinate_transformation_mode).
//
// Any axis may be resized, so channels-last data needs no layout attribute:
// NHWC takes scales (1, sh, sw, 1). Each axis contributes up to four taps
// (index, weight), computed as ONNX's reference does (coordinates in double,
// edge indices clamped, exclude_outside renormalising); an output element is
// the sum over the product of its axes' taps, accumulated in double in a
// fixed order and rounded once, so it never depends on the batch. Taps of
// weight 0 are skipped: a NaN the interpolation does not use stays out.
// The output shape must be known at plan time: scales or sizes constant.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "kernels/kernel.h"

namespace nnfi::kernels {
namespace {

constexpr size_t kMaxResizeRank = 8;

enum class Mode { kNearest, kLinear, kCubic };
enum class Transform {
  kHalfPixel,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize
};
enum class Rounding { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct ResizeParams {
  Mode mode = Mode::kNearest;
  Transform transform = Transform::kHalfPixel;
  Rounding rounding = Rounding::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  float extrapolation = 0.0f;
};

// A string attribute compared in place (eval allocates nothing).
bool string_attribute_is(const Node& node, const char* name, const char* fallback,
                         const char* candidate) {
  const auto& all = node.attributes.all();
  auto it = all.find(name);
  if (it == all.end()) return std::string_view(fallback) == candidate;
  const auto* text = std::get_if<std::string>(&it->second);
  return text != nullptr && *text == candidate;
}

template <typename Enum, size_t N>
bool parse_choice(const Node& node, const char* name, const char* fallback,
                  const char* const (&names)[N], Enum* out) {
  for (size_t i = 0; i < N; ++i) {
    if (string_attribute_is(node, name, fallback, names[i])) {
      *out = static_cast<Enum>(i);
      return true;
    }
  }
  return false;
}

constexpr const char* kModeNames[] = {"nearest", "linear", "cubic"};
constexpr const char* kTransformNames[] = {"half_pixel",           "pytorch_half_pixel",
                                           "align_corners",        "asymmetric",
                                           "tf_half_pixel_for_nn", "tf_crop_and_resize"};
constexpr const char* kRoundingNames[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                          "ceil"};

// Empty string when the attributes are valid, else what is wrong.
std::string read_params(const Node& node, ResizeParams* params) {
  if (!parse_choice(node, "mode", "nearest", kModeNames, &params->mode)) {
    return "mode must be nearest, linear or cubic";
  }
  if (!parse_choice(node, "coordinate_transformation_mode", "half_pixel", kTransformNames,
                    &params->transform)) {
    return "coordinate_transformation_mode must be half_pixel, pytorch_half_pixel, "
           "align_corners, asymmetric, tf_half_pixel_for_nn or tf_crop_and_resize";
  }
  if (!parse_choice(node, "nearest_mode", "round_prefer_floor", kRoundingNames,
                    &params->rounding)) {
    return "nearest_mode must be round_prefer_floor, round_prefer_ceil, floor or ceil";
  }
  params->cubic_a = node.attributes.get_float("cubic_coeff_a", -0.75);
  params->exclude_outside = node.attributes.get_int("exclude_outside", 0) != 0;
  params->extrapolation = static_cast<float>(node.attributes.get_float("extrapolation_value", 0));
  if (node.attributes.has("antialias") && node.attributes.get_int("antialias", 0) != 0) {
    return "antialias=1 is not supported";
  }
  if (node.attributes.has("axes")) return "the axes attribute (opset 18) is not supported";
  if (node.attributes.has("keep_aspect_ratio_policy") &&
      !string_attribute_is(node, "keep_aspect_ratio_policy", "stretch", "stretch")) {
    return "keep_aspect_ratio_policy other than stretch is not supported";
  }
  return "";
}

bool input_present(std::span<const TensorInfo> inputs, size_t index) {
  return inputs.size() > index && inputs[index].present() &&
         shape_num_elements(inputs[index].shape) > 0;
}

// Per axis: the scale used in the coordinate formulas and the output length.
struct AxisPlan {
  double scale = 1.0;
  double resized = 1.0;  // input length * scale, unrounded (ONNX's reference uses it)
  int64_t out = 0;
  double roi_start = 0.0;
  double roi_end = 1.0;
};

// Taps of one axis for one output coordinate. `outside` means the
// extrapolation value (tf_crop_and_resize past the input).
struct Taps {
  int64_t index[4];
  double weight[4];
  int count = 0;
  bool outside = false;
};

double source_coordinate(const ResizeParams& p, const AxisPlan& axis, int64_t in_len, int64_t x) {
  const auto xf = static_cast<double>(x);
  switch (p.transform) {
    case Transform::kHalfPixel: return (xf + 0.5) / axis.scale - 0.5;
    case Transform::kPytorchHalfPixel: return axis.out > 1 ? (xf + 0.5) / axis.scale - 0.5 : 0.0;
    case Transform::kAlignCorners:
      return axis.resized == 1.0 ? 0.0
                                 : xf * static_cast<double>(in_len - 1) / (axis.resized - 1.0);
    case Transform::kAsymmetric: return xf / axis.scale;
    case Transform::kTfHalfPixelForNn: return (xf + 0.5) / axis.scale;
    case Transform::kTfCropAndResize: {
      const double span = axis.roi_end - axis.roi_start;
      const auto last = static_cast<double>(in_len - 1);
      const double start = axis.roi_start * last;
      return axis.resized == 1.0 ? start + span * last / 2.0
                                 : start + xf * span * last / (axis.resized - 1.0);
    }
  }
  return 0.0;
}

void cubic_weights(double t, double a, double* w) {
  const double t1 = t + 1.0, u = 1.0 - t, u1 = u + 1.0;
  w[0] = ((a * t1 - 5.0 * a) * t1 + 8.0 * a) * t1 - 4.0 * a;
  w[1] = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
  w[2] = ((a + 2.0) * u - (a + 3.0)) * u * u + 1.0;
  w[3] = ((a * u1 - 5.0 * a) * u1 + 8.0 * a) * u1 - 4.0 * a;
}

int64_t clamp_index(int64_t i, int64_t len) { return i < 0 ? 0 : (i >= len ? len - 1 : i); }

void axis_taps(const ResizeParams& p, const AxisPlan& axis, int64_t in_len, int64_t x, Taps* taps) {
  taps->count = 0;
  taps->outside = false;
  const double source = source_coordinate(p, axis, in_len, x);
  if (p.transform == Transform::kTfCropAndResize &&
      (source < 0.0 || source > static_cast<double>(in_len - 1))) {
    taps->outside = true;
    return;
  }
  const double floor_value = std::floor(source);
  const auto base = static_cast<int64_t>(floor_value);
  const double frac = source - floor_value;
  auto add = [&](int64_t index, double weight) {
    taps->index[taps->count] = index;
    taps->weight[taps->count] = weight;
    ++taps->count;
  };
  switch (p.mode) {
    case Mode::kNearest: {
      int64_t index = base;
      switch (p.rounding) {
        case Rounding::kRoundPreferFloor: index = frac > 0.5 ? base + 1 : base; break;
        case Rounding::kRoundPreferCeil: index = frac >= 0.5 ? base + 1 : base; break;
        case Rounding::kFloor: index = base; break;
        case Rounding::kCeil: index = frac > 0.0 ? base + 1 : base; break;
      }
      add(clamp_index(index, in_len), 1.0);
      return;
    }
    case Mode::kLinear: {
      double w[2] = {1.0 - frac, frac};
      int64_t idx[2] = {base, base + 1};
      double total = 0.0;
      for (int k = 0; k < 2; ++k) {
        if (p.exclude_outside && (idx[k] < 0 || idx[k] >= in_len)) w[k] = 0.0;
        total += w[k];
      }
      for (int k = 0; k < 2; ++k) {
        const double weight = p.exclude_outside && total != 0.0 ? w[k] / total : w[k];
        if (weight != 0.0) add(clamp_index(idx[k], in_len), weight);
      }
      if (taps->count == 0) add(clamp_index(base, in_len), 0.0);  // every weight excluded
      return;
    }
    case Mode::kCubic: {
      double w[4];
      cubic_weights(frac, p.cubic_a, w);
      double total = 0.0;
      for (int k = 0; k < 4; ++k) {
        const int64_t index = base - 1 + k;
        if (p.exclude_outside && (index < 0 || index >= in_len)) w[k] = 0.0;
        total += w[k];
      }
      for (int k = 0; k < 4; ++k) {
        const double weight = p.exclude_outside && total != 0.0 ? w[k] / total : w[k];
        if (weight != 0.0) add(clamp_index(base - 1 + k, in_len), weight);
      }
      if (taps->count == 0) add(clamp_index(base, in_len), 0.0);  // every weight excluded
      return;
    }
  }
}

// Fills one AxisPlan per axis from constant scales/sizes (prepare) or the
// eval tensors; roi only matters for tf_crop_and_resize.
struct ResizeInputs {
  const Tensor* roi = nullptr;
  const Tensor* scales = nullptr;
  const Tensor* sizes = nullptr;
};

void plan_axes(const ResizeParams& p, const Shape& in, const ResizeInputs& given, AxisPlan* axes) {
  const size_t rank = in.size();
  for (size_t d = 0; d < rank; ++d) {
    AxisPlan& axis = axes[d];
    if (p.transform == Transform::kTfCropAndResize && given.roi != nullptr) {
      axis.roi_start = given.roi->element_as_double(static_cast<int64_t>(d));
      axis.roi_end = given.roi->element_as_double(static_cast<int64_t>(d + rank));
    }
    const auto in_len = static_cast<double>(in[d]);
    if (given.sizes != nullptr) {
      axis.out = given.sizes->element_as_int64(static_cast<int64_t>(d));
      axis.scale = in[d] == 0 ? 1.0 : static_cast<double>(axis.out) / in_len;
      axis.resized = static_cast<double>(axis.out);
    } else {
      axis.scale = given.scales->element_as_double(static_cast<int64_t>(d));
      double length = in_len * axis.scale;
      if (p.transform == Transform::kTfCropAndResize) {
        length *= axis.roi_end - axis.roi_start;
      }
      axis.resized = in_len * axis.scale;
      axis.out = static_cast<int64_t>(std::floor(length));
    }
  }
}

}  // namespace

Status prepare_Resize(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 4));
  if (ctx.outputs.size() != 1) {
    return ctx.error("expected 1 output, got " + std::to_string(ctx.outputs.size()));
  }
  NNFI_RETURN_IF_ERROR(ctx.expect_dtype(0, DType::kFloat32));
  ResizeParams params;
  const std::string bad = read_params(ctx.node, &params);
  if (!bad.empty()) return ctx.error(bad);
  const Shape& in = ctx.inputs[0].shape;
  const size_t rank = in.size();
  if (rank == 0 || rank > kMaxResizeRank) {
    return ctx.error("X has rank " + std::to_string(rank) + ", expected 1 to " +
                     std::to_string(kMaxResizeRank));
  }
  const bool has_scales = input_present(ctx.inputs, 2);
  const bool has_sizes = input_present(ctx.inputs, 3);
  if (has_scales == has_sizes) {
    return ctx.error("expected exactly one of scales (input 2) and sizes (input 3), got " +
                     std::string(has_scales ? "both" : "neither"));
  }
  const size_t given_index = has_scales ? 2 : 3;
  const TensorInfo& given = ctx.inputs[given_index];
  const char* given_name = has_scales ? "scales" : "sizes";
  const DType want = has_scales ? DType::kFloat32 : DType::kInt64;
  if (given.dtype != want) {
    return ctx.error(std::string(given_name) + " has dtype " +
                     std::string(dtype_name(given.dtype)) + ", expected " +
                     std::string(dtype_name(want)));
  }
  if (given.constant == nullptr) {
    return ctx.error(std::string(given_name) +
                     " is computed at run time, expected a constant known at plan time");
  }
  if (given.shape.size() != 1 || given.shape[0] != static_cast<int64_t>(rank)) {
    return ctx.error(std::string(given_name) + " has shape " + shape_to_string(given.shape) +
                     ", expected [" + std::to_string(rank) + "] (one value per axis of X)");
  }
  ResizeInputs inputs;
  (has_scales ? inputs.scales : inputs.sizes) = given.constant;
  for (int64_t d = 0; d < static_cast<int64_t>(rank); ++d) {
    if (has_scales) {
      const double scale = given.constant->element_as_double(d);
      if (!(scale > 0.0) || !std::isfinite(scale)) {
        return ctx.error("scales[" + std::to_string(d) + "] is " + std::to_string(scale) +
                         ", expected a finite value > 0");
      }
    } else if (given.constant->element_as_int64(d) < 0) {
      return ctx.error("sizes[" + std::to_string(d) + "] is negative");
    }
  }
  if (params.transform == Transform::kTfCropAndResize) {
    if (!input_present(ctx.inputs, 1)) {
      return ctx.error("tf_crop_and_resize needs roi (input 1)");
    }
    const TensorInfo& roi = ctx.inputs[1];
    if (roi.dtype != DType::kFloat32 ||
        shape_num_elements(roi.shape) != 2 * static_cast<int64_t>(rank)) {
      return ctx.error("roi has dtype " + std::string(dtype_name(roi.dtype)) + " and shape " +
                       shape_to_string(roi.shape) + ", expected float32 with " +
                       std::to_string(2 * rank) + " values (starts, then ends)");
    }
    if (has_scales && roi.constant == nullptr) {
      return ctx.error(
          "roi is computed at run time, expected a constant known at plan time "
          "(it sets the output shape with scales)");
    }
    inputs.roi = roi.constant;
  }
  AxisPlan axes[kMaxResizeRank];
  plan_axes(params, in, inputs, axes);
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (in[d] == 0 && axes[d].out > 0) {
      return ctx.error("X has shape " + shape_to_string(in) + ": an empty axis cannot grow");
    }
    out[d] = axes[d].out;
  }
  ctx.outputs[0] = {DType::kFloat32, out, nullptr};
  return Status::ok();
}

Status reference_Resize(EvalContext& ctx) {
  const Tensor& x = *ctx.inputs[0];
  Tensor& y = *ctx.outputs[0];
  if (y.num_elements() == 0) return Status::ok();
  ResizeParams params;
  read_params(ctx.node, &params);
  auto present = [&](size_t i) {
    return ctx.inputs.size() > i && ctx.inputs[i] != nullptr && ctx.inputs[i]->num_elements() > 0
               ? ctx.inputs[i]
               : nullptr;
  };
  ResizeInputs inputs{present(1), present(2), present(3)};
  if (inputs.sizes != nullptr) inputs.scales = nullptr;
  const Shape& in = x.shape();
  const size_t rank = in.size();
  AxisPlan axes[kMaxResizeRank];
  plan_axes(params, in, inputs, axes);
  int64_t in_strides[kMaxResizeRank];
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    in_strides[d] = stride;
    stride *= in[d];
  }
  const float* px = x.data<float>();
  float* py = y.data<float>();
  int64_t position[kMaxResizeRank] = {};
  Taps taps[kMaxResizeRank];
  for (size_t d = 0; d < rank; ++d) axis_taps(params, axes[d], in[d], 0, &taps[d]);
  const int64_t total = y.num_elements();
  for (int64_t e = 0; e < total; ++e) {
    bool outside = false;
    for (size_t d = 0; d < rank; ++d) outside = outside || taps[d].outside;
    if (outside) {
      py[e] = params.extrapolation;
    } else {
      // Sum over every combination of the axes' taps, last axis fastest.
      int tap[kMaxResizeRank] = {};
      double sum = 0.0;
      while (true) {
        double weight = 1.0;
        int64_t offset = 0;
        for (size_t d = 0; d < rank; ++d) {
          weight *= taps[d].weight[tap[d]];
          offset += taps[d].index[tap[d]] * in_strides[d];
        }
        sum += weight * static_cast<double>(px[offset]);
        size_t d = rank;
        while (d-- > 0) {
          if (++tap[d] < taps[d].count) break;
          tap[d] = 0;
        }
        if (d == static_cast<size_t>(-1)) break;
      }
      py[e] = static_cast<float>(sum);
    }
    // Next output position; recompute the taps of the axes that moved.
    for (size_t d = rank; d-- > 0;) {
      if (++position[d] < axes[d].out) {
        axis_taps(params, axes[d], in[d], position[d], &taps[d]);
        break;
      }
      position[d] = 0;
      axis_taps(params, axes[d], in[d], 0, &taps[d]);
    }
  }
  return Status::ok();
}

}  // namespace nnfi::kernels
