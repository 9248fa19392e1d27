// Reference kernels: Transpose, Concat, Pad. Any dtype: elements move as raw
// bits (see shape_ops.cc).
#include <algorithm>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "kernels/kernel.h"
#include "kernels/reference/shape_ops_util.h"

namespace nnfi::kernels {
namespace {

// Transpose's perm: the attribute, or the reversed axes. Writes `rank` values.
void read_perm(const Node& node, size_t rank, int64_t* perm) {
  const auto& all = node.attributes.all();
  auto it = all.find("perm");
  const auto* values = it == all.end() ? nullptr : std::get_if<std::vector<int64_t>>(&it->second);
  for (size_t d = 0; d < rank; ++d) {
    perm[d] = values != nullptr ? (*values)[d] : static_cast<int64_t>(rank - 1 - d);
  }
}

// Where an output index `i - pad_begin` reads along an axis of size n: an
// input index, or -1 for the constant.
enum class PadMode { kConstant, kReflect, kEdge };

int64_t pad_source(int64_t i, int64_t n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return i < 0 ? 0 : n - 1;
    case PadMode::kReflect: {
      // Reflections repeat with period 2 (n - 1), as numpy's (and ONNX's) reflect.
      const int64_t period = 2 * (n - 1);
      if (period == 0) return 0;
      int64_t r = i % period;
      if (r < 0) r += period;
      return r < n ? r : period - r;
    }
  }
  return -1;
}

bool parse_pad_mode(const std::string& text, PadMode* mode) {
  if (text == "constant")
    *mode = PadMode::kConstant;
  else if (text == "reflect")
    *mode = PadMode::kReflect;
  else if (text == "edge")
    *mode = PadMode::kEdge;
  else
    return false;
  return true;
}

// Begin and end pads per axis from the pads input (or attribute) and the
// optional axes input (opset 18); unlisted axes get 0. `pads_tensor` and
// `axes_tensor` may be null (attribute form / all axes).
Status pad_amounts(const Node& node, const Tensor* pads_tensor, const Tensor* axes_tensor,
                   size_t rank, int64_t* begin, int64_t* end) {
  const auto r = static_cast<int64_t>(rank);
  const int64_t count = axes_tensor != nullptr ? axes_tensor->num_elements() : r;
  const std::vector<int64_t>* attribute = nullptr;
  if (pads_tensor == nullptr) {
    auto it = node.attributes.all().find("pads");
    if (it != node.attributes.all().end()) {
      attribute = std::get_if<std::vector<int64_t>>(&it->second);
    }
  }
  const int64_t given = pads_tensor != nullptr ? pads_tensor->num_elements()
                        : attribute != nullptr ? static_cast<int64_t>(attribute->size())
                                               : 0;
  if (given != 2 * count) {
    return invalid_argument("pads has " + std::to_string(given) + " values, expected " +
                            std::to_string(2 * count) + " (begin and end for " +
                            std::to_string(count) + " axes)");
  }
  std::fill(begin, begin + rank, 0);
  std::fill(end, end + rank, 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t axis = axes_tensor != nullptr ? axes_tensor->element_as_int64(i) : i;
    if (axis < -r || axis >= r) {
      return invalid_argument("Pad axis " + std::to_string(axis) + " is out of range for rank " +
                              std::to_string(rank));
    }
    if (axis < 0) axis += r;
    auto pad = [&](int64_t k) {
      return pads_tensor != nullptr ? pads_tensor->element_as_int64(k) : (*attribute)[k];
    };
    begin[axis] = pad(i);
    end[axis] = pad(count + i);
  }
  return Status::ok();
}

// The pad value's bits in dtype `dtype` from the `value` attribute (opset < 11).
uint64_t pad_value_bits(const Node& node, DType dtype) {
  const double value = node.attributes.get_float("value", 0.0);
  uint64_t bits = 0;
  auto store = [&](auto typed) { std::memcpy(&bits, &typed, sizeof(typed)); };
  switch (dtype) {
    case DType::kFloat32: store(static_cast<float>(value)); break;
    case DType::kInt8: store(static_cast<int8_t>(value)); break;
    case DType::kUInt8: store(static_cast<uint8_t>(value)); break;
    case DType::kInt32: store(static_cast<int32_t>(value)); break;
    case DType::kInt64: store(static_cast<int64_t>(value)); break;
    case DType::kBool: store(static_cast<uint8_t>(value != 0.0)); break;
    default: break;  // float16/bfloat16: prepare allows only 0
  }
  return bits;
}

template <typename T>
void pad_rows(const Tensor& in, Tensor& out, const int64_t* begin, PadMode mode, T value) {
  const size_t rank = in.rank();
  const T* src = static_cast<const T*>(in.raw_data());
  T* dst = static_cast<T*>(out.raw_data());
  if (rank == 0) {
    dst[0] = src[0];
    return;
  }
  int64_t in_strides[kMaxMoveRank];
  row_major_strides(in.shape(), in_strides);
  const int64_t width = out.dim(rank - 1);
  const int64_t in_width = in.dim(rank - 1);
  const int64_t rows = width == 0 ? 0 : out.num_elements() / width;
  int64_t index[kMaxMoveRank] = {};
  for (int64_t row = 0; row < rows; ++row) {
    T* dst_row = dst + row * width;
    // Source row, or -1 when some outer axis lies in the constant padding.
    int64_t offset = 0;
    for (size_t d = 0; d + 1 < rank && offset >= 0; ++d) {
      const int64_t i = pad_source(index[d] - begin[d], in.dim(d), mode);
      offset = i < 0 ? -1 : offset + i * in_strides[d];
    }
    if (offset < 0) {
      std::fill(dst_row, dst_row + width, value);
    } else {
      const T* src_row = src + offset;
      for (int64_t j = 0; j < width; ++j) {
        const int64_t i = pad_source(j - begin[rank - 1], in_width, mode);
        dst_row[j] = i < 0 ? value : src_row[i];
      }
    }
    for (size_t d = rank - 1; d-- > 0;) {  // next row: odometer over the outer axes
      if (++index[d] < out.dim(d)) break;
      index[d] = 0;
    }
  }
}

}  // namespace

Status prepare_Transpose(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 1));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  const Shape& in = ctx.inputs[0].shape;
  if (in.size() > kMaxMoveRank) {
    return unsupported("Transpose of rank " + std::to_string(in.size()) +
                       " is not supported, expected rank <= " + std::to_string(kMaxMoveRank));
  }
  if (ctx.node.attributes.has("perm")) {
    std::vector<int64_t> perm = ctx.node.attributes.get_ints("perm");
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    bool valid = perm.size() == in.size();
    for (size_t d = 0; valid && d < sorted.size(); ++d)
      valid = sorted[d] == static_cast<int64_t>(d);
    if (!valid) {
      return ctx.error("perm " + shape_to_string(perm) + " is not a permutation of the " +
                       std::to_string(in.size()) + " axes of X " + shape_to_string(in));
    }
  }
  int64_t perm[kMaxMoveRank];
  read_perm(ctx.node, in.size(), perm);
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) out[d] = in[perm[d]];
  ctx.outputs[0] = {ctx.inputs[0].dtype, out, nullptr};
  return Status::ok();
}

Status reference_Transpose(EvalContext& ctx) {
  const Tensor& in = *ctx.inputs[0];
  Tensor& out = *ctx.outputs[0];
  const size_t rank = in.rank();
  if (out.num_elements() == 0) return Status::ok();
  if (rank == 0) {
    out.copy_from(in);
    return Status::ok();
  }
  int64_t perm[kMaxMoveRank];
  int64_t in_strides[kMaxMoveRank];
  int64_t step[kMaxMoveRank];  // input stride of each output axis
  read_perm(ctx.node, rank, perm);
  row_major_strides(in.shape(), in_strides);
  for (size_t d = 0; d < rank; ++d) step[d] = in_strides[perm[d]];
  dispatch_by_size(in.dtype(), [&]<typename T>() {
    const T* src = static_cast<const T*>(in.raw_data());
    T* dst = static_cast<T*>(out.raw_data());
    const int64_t width = out.dim(rank - 1);
    const int64_t inner_step = step[rank - 1];
    int64_t index[kMaxMoveRank] = {};
    int64_t offset = 0;
    for (int64_t i = 0; i < out.num_elements(); i += width) {
      for (int64_t j = 0; j < width; ++j) dst[i + j] = src[offset + j * inner_step];
      for (size_t d = rank - 1; d-- > 0;) {
        offset += step[d];
        if (++index[d] < out.dim(d)) break;
        offset -= step[d] * out.dim(d);
        index[d] = 0;
      }
    }
  });
  return Status::ok();
}

Status prepare_Concat(PrepareContext& ctx) {
  if (ctx.inputs.empty()) return ctx.error("expected at least 1 input, got 0");
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(ctx.inputs.size(), ctx.inputs.size()));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  if (!ctx.node.attributes.has("axis")) return ctx.error("attribute axis is missing");
  const Shape& first = ctx.inputs[0].shape;
  const auto rank = static_cast<int64_t>(first.size());
  int64_t axis = ctx.node.attributes.get_int("axis", 0);
  if (axis < -rank || axis >= rank) {
    return ctx.error("axis " + std::to_string(axis) + " for inputs of rank " +
                     std::to_string(rank) + ", expected in [" + std::to_string(-rank) + ", " +
                     std::to_string(rank - 1) + "]");
  }
  if (axis < 0) axis += rank;
  Shape out = first;
  out[axis] = 0;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const TensorInfo& input = ctx.inputs[i];
    NNFI_RETURN_IF_ERROR(ctx.expect_dtype(i, ctx.inputs[0].dtype));
    bool same = input.shape.size() == first.size();
    for (int64_t d = 0; same && d < rank; ++d) same = d == axis || input.shape[d] == first[d];
    if (!same) {
      return ctx.error("input " + std::to_string(i) + " has shape " + shape_to_string(input.shape) +
                       ", expected " + shape_to_string(first) + " except along axis " +
                       std::to_string(axis));
    }
    out[axis] += input.shape[axis];
  }
  ctx.outputs[0] = {ctx.inputs[0].dtype, out, nullptr};
  return Status::ok();
}

Status reference_Concat(EvalContext& ctx) {
  Tensor& out = *ctx.outputs[0];
  const auto rank = static_cast<int64_t>(out.rank());
  int64_t axis = ctx.node.attributes.get_int("axis", 0);
  if (axis < 0) axis += rank;
  int64_t outer = 1;
  int64_t inner = 1;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis) outer *= out.dim(d);
    if (d > axis) inner *= out.dim(d);
  }
  const size_t element = dtype_size(out.dtype());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor* input : ctx.inputs) {
      const size_t bytes = static_cast<size_t>(input->dim(axis) * inner) * element;
      if (bytes == 0) continue;
      std::memcpy(dst, static_cast<const std::byte*>(input->raw_data()) + o * bytes, bytes);
      dst += bytes;
    }
  }
  return Status::ok();
}

Status prepare_Pad(PrepareContext& ctx) {
  NNFI_RETURN_IF_ERROR(ctx.expect_input_count(1, 4));
  NNFI_RETURN_IF_ERROR(expect_outputs(ctx, 1));
  const Shape& in = ctx.inputs[0].shape;
  const DType dtype = ctx.inputs[0].dtype;
  if (in.size() > kMaxMoveRank) {
    return unsupported("Pad of rank " + std::to_string(in.size()) +
                       " is not supported, expected rank <= " + std::to_string(kMaxMoveRank));
  }
  const std::string mode_name = ctx.node.attributes.get_string("mode", "constant");
  PadMode mode;
  if (!parse_pad_mode(mode_name, &mode)) {
    return ctx.error("mode '" + mode_name + "', expected constant, reflect or edge");
  }
  // The pads and axes inputs fix the output shape, so they must be constants.
  std::vector<int64_t> unused;
  const bool has_pads = ctx.inputs.size() > 1 && ctx.inputs[1].present();
  const bool has_axes = ctx.inputs.size() > 3 && ctx.inputs[3].present();
  if (has_pads) NNFI_RETURN_IF_ERROR(read_constant_ints(ctx, 1, "pads", &unused));
  if (has_axes) NNFI_RETURN_IF_ERROR(read_constant_ints(ctx, 3, "axes", &unused));
  int64_t begin[kMaxMoveRank];
  int64_t end[kMaxMoveRank];
  Status status = pad_amounts(ctx.node, has_pads ? ctx.inputs[1].constant : nullptr,
                              has_axes ? ctx.inputs[3].constant : nullptr, in.size(), begin, end);
  if (!status.is_ok()) return ctx.error(status.message());
  if (ctx.inputs.size() > 2 && ctx.inputs[2].present()) {
    NNFI_RETURN_IF_ERROR(ctx.expect_dtype(2, dtype));
    if (shape_num_elements(ctx.inputs[2].shape) != 1) {
      return ctx.error("constant_value has shape " + shape_to_string(ctx.inputs[2].shape) +
                       ", expected one element");
    }
  } else if ((dtype == DType::kFloat16 || dtype == DType::kBFloat16) &&
             ctx.node.attributes.get_float("value", 0.0) != 0.0) {
    return unsupported("a non-zero Pad value attribute for " + std::string(dtype_name(dtype)) +
                       " data is not supported, expected a constant_value input");
  }
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    out[d] = in[d] + begin[d] + end[d];
    const std::string where = " on axis " + std::to_string(d) + " of data " + shape_to_string(in);
    if (out[d] < 0) {
      return ctx.error("pads " + std::to_string(begin[d]) + ", " + std::to_string(end[d]) + where +
                       " give a negative size");
    }
    if (mode != PadMode::kConstant && in[d] == 0 && out[d] > 0) {
      return ctx.error(mode_name + " pads" + where + " have no values to repeat");
    }
  }
  ctx.outputs[0] = {dtype, out, nullptr};
  return Status::ok();
}

Status reference_Pad(EvalContext& ctx) {
  const Tensor& in = *ctx.inputs[0];
  Tensor& out = *ctx.outputs[0];
  if (out.num_elements() == 0) return Status::ok();
  const Tensor* pads = ctx.inputs.size() > 1 ? ctx.inputs[1] : nullptr;
  const Tensor* value = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
  const Tensor* axes = ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
  PadMode mode = PadMode::kConstant;
  parse_pad_mode(ctx.node.attributes.get_string("mode", "constant"), &mode);
  int64_t begin[kMaxMoveRank];
  int64_t end[kMaxMoveRank];
  NNFI_RETURN_IF_ERROR(pad_amounts(ctx.node, pads, axes, in.rank(), begin, end));
  uint64_t bits = 0;
  if (value != nullptr) {
    std::memcpy(&bits, value->raw_data(), dtype_size(value->dtype()));
  } else {
    bits = pad_value_bits(ctx.node, in.dtype());
  }
  dispatch_by_size(in.dtype(), [&]<typename T>() {
    T typed;
    std::memcpy(&typed, &bits, sizeof(T));
    pad_rows<T>(in, out, begin, mode, typed);
  });
  return Status::ok();
}

}  // namespace nnfi::kernels
