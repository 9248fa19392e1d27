// Window arithmetic (window_union, input_window, output_window) and the node
// checks that decide which Conv and pool nodes the window kernels cover. The
// attributes are read with the same helpers as the reference kernels
// (reference/conv.cc, reference/pool.cc), so the geometry is theirs.
#include <algorithm>
#include <string>
#include <vector>

#include "kernels/window/window_internal.h"
#include "kernels/window/window_kernels.h"

namespace nnfi::kernels::window {
namespace {

// Positions [*begin, *end) of the input read by outputs [o_begin, o_end) on
// one axis, padding excluded; empty when every tap is padding. A plain scan:
// with dilation the lowest position read is not monotonic in o, and windows
// are small next to the work of computing them.
void input_range(const WindowAxis& axis, int64_t o_begin, int64_t o_end, int64_t* begin,
                 int64_t* end) {
  int64_t low = axis.input;
  int64_t high = -1;
  for (int64_t o = std::max<int64_t>(o_begin, 0); o < std::min(o_end, axis.output); ++o) {
    int64_t lo = 0;
    int64_t hi = 0;
    internal::tap_range(axis, o, &lo, &hi);
    if (lo >= hi) continue;
    low = std::min(low, axis.window_start(o) + lo * axis.dilation);
    high = std::max(high, axis.window_start(o) + (hi - 1) * axis.dilation);
  }
  *begin = high >= low ? low : 0;
  *end = high >= low ? high + 1 : 0;
}

// Does output o read any input position in [begin, end)?
bool reads_any(const WindowAxis& axis, int64_t o, int64_t begin, int64_t end) {
  int64_t lo = 0;
  int64_t hi = 0;
  internal::tap_range(axis, o, &lo, &hi);
  for (int64_t k = lo; k < hi; ++k) {
    const int64_t i = axis.window_start(o) + k * axis.dilation;
    if (i >= begin && i < end) return true;
  }
  return false;
}

// Outputs [*begin, *end) reading any input position in [i_begin, i_end).
void output_range(const WindowAxis& axis, int64_t i_begin, int64_t i_end, int64_t* begin,
                  int64_t* end) {
  *begin = 0;
  *end = 0;
  i_begin = std::max<int64_t>(i_begin, 0);
  i_end = std::min(i_end, axis.input);
  if (i_end <= i_begin || axis.output <= 0) return;
  const int64_t extent = dilated_kernel(axis.kernel, axis.dilation);
  // Candidates: o * stride - pad_begin <= i_end - 1 and o * stride - pad_begin + extent - 1 >=
  // i_begin.
  auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  int64_t first = -floor_div(-(i_begin - extent + 1 + axis.pad_begin), axis.stride);  // ceil
  int64_t last = floor_div(i_end - 1 + axis.pad_begin, axis.stride);
  first = std::max<int64_t>(first, 0);
  last = std::min(last, axis.output - 1);
  // With dilation or stride an end candidate may fall between taps: shrink.
  while (first <= last && !reads_any(axis, first, i_begin, i_end)) ++first;
  while (last >= first && !reads_any(axis, last, i_begin, i_end)) --last;
  if (last >= first) {
    *begin = first;
    *end = last + 1;
  }
}

Window make_window(int64_t rb, int64_t re, int64_t cb, int64_t ce) {
  if (re <= rb || ce <= cb) return Window{};
  return Window{rb, re, cb, ce};
}

// channels_last 0 or 1; nullopt otherwise.
std::optional<bool> channels_last_of(const Node& node) {
  const int64_t value = node.attributes.get_int("channels_last", 0);
  if (value != 0 && value != 1) return std::nullopt;
  return value == 1;
}

bool is_float_rank4(const TensorInfo& info) {
  return info.dtype == DType::kFloat32 && info.shape.size() == 4;
}

}  // namespace

Window window_union(const Window& a, const Window& b) {
  if (a.empty()) return b.empty() ? Window{} : b;
  if (b.empty()) return a;
  return Window{std::min(a.row_begin, b.row_begin), std::max(a.row_end, b.row_end),
                std::min(a.col_begin, b.col_begin), std::max(a.col_end, b.col_end)};
}

Window input_window(const WindowAxis& rows, const WindowAxis& cols, const Window& out) {
  if (out.empty()) return Window{};
  int64_t rb = 0, re = 0, cb = 0, ce = 0;
  input_range(rows, out.row_begin, out.row_end, &rb, &re);
  input_range(cols, out.col_begin, out.col_end, &cb, &ce);
  return make_window(rb, re, cb, ce);
}

Window output_window(const WindowAxis& rows, const WindowAxis& cols, const Window& in) {
  if (in.empty()) return Window{};
  int64_t rb = 0, re = 0, cb = 0, ce = 0;
  output_range(rows, in.row_begin, in.row_end, &rb, &re);
  output_range(cols, in.col_begin, in.col_end, &cb, &ce);
  return make_window(rb, re, cb, ce);
}

std::optional<ConvGeometry> window_conv_geometry(const Node& node,
                                                 std::span<const TensorInfo> inputs,
                                                 std::span<const TensorInfo> outputs) {
  if (node.op != OpType::kConv) return std::nullopt;
  if (inputs.size() < 2 || inputs.size() > 3 || outputs.size() != 1) return std::nullopt;
  const TensorInfo& x = inputs[0];
  const TensorInfo& w = inputs[1];
  const TensorInfo* b = inputs.size() == 3 && inputs[2].present() ? &inputs[2] : nullptr;
  if (!is_float_rank4(x) || !is_float_rank4(w) || !is_float_rank4(outputs[0])) return std::nullopt;
  if (w.constant == nullptr) return std::nullopt;  // packed once, at plan time
  const std::optional<bool> last = channels_last_of(node);
  if (!last) return std::nullopt;
  ConvGeometry g;
  g.in_channels = *last ? x.shape[3] : x.shape[1];
  g.out_channels = w.shape[0];
  g.group = node.attributes.get_int("group", 1);
  if (g.group <= 0 || g.in_channels <= 0 || g.in_channels % g.group != 0) return std::nullopt;
  if (g.out_channels <= 0 || g.out_channels % g.group != 0) return std::nullopt;
  if (w.shape[1] != g.in_channels / g.group) return std::nullopt;
  if (b != nullptr) {
    if (b->dtype != DType::kFloat32 || b->shape != Shape{g.out_channels}) return std::nullopt;
    if (b->constant == nullptr) return std::nullopt;
  }
  if (const std::vector<int64_t>* given = find_ints_attribute(node.attributes, "kernel_shape")) {
    if (given->size() != 2 || (*given)[0] != w.shape[2] || (*given)[1] != w.shape[3]) {
      return std::nullopt;
    }
  }
  if (node.attributes.get_int("ceil_mode", 0) != 0) return std::nullopt;
  const int64_t in_rows = *last ? x.shape[1] : x.shape[2];
  const int64_t in_cols = *last ? x.shape[2] : x.shape[3];
  if (!window_axis_from_attributes(node.attributes, 2, 0, in_rows, w.shape[2], &g.rows).is_ok() ||
      !window_axis_from_attributes(node.attributes, 2, 1, in_cols, w.shape[3], &g.cols).is_ok()) {
    return std::nullopt;
  }
  const Shape expected = *last ? Shape{x.shape[0], g.rows.output, g.cols.output, g.out_channels}
                               : Shape{x.shape[0], g.out_channels, g.rows.output, g.cols.output};
  if (outputs[0].shape != expected || x.shape[0] <= 0) return std::nullopt;
  return g;
}

std::optional<PoolGeometry> window_pool_geometry(const Node& node,
                                                 std::span<const TensorInfo> inputs,
                                                 std::span<const TensorInfo> outputs) {
  if (node.op != OpType::kMaxPool && node.op != OpType::kAveragePool) return std::nullopt;
  if (inputs.size() != 1 || outputs.size() != 1) return std::nullopt;  // no MaxPool indices
  const TensorInfo& x = inputs[0];
  if (!is_float_rank4(x) || !is_float_rank4(outputs[0])) return std::nullopt;
  const std::optional<bool> last = channels_last_of(node);
  if (!last) return std::nullopt;
  if (node.op == OpType::kMaxPool && node.attributes.get_int("storage_order", 0) != 0) {
    return std::nullopt;
  }
  PoolGeometry g;
  if (node.op == OpType::kAveragePool) {
    const int64_t include = node.attributes.get_int("count_include_pad", 0);
    if (include != 0 && include != 1) return std::nullopt;
    g.count_include_pad = include == 1;
  }
  const std::vector<int64_t>* kernel = find_ints_attribute(node.attributes, "kernel_shape");
  if (kernel == nullptr || kernel->size() != 2) return std::nullopt;
  g.channels = *last ? x.shape[3] : x.shape[1];
  const int64_t in_rows = *last ? x.shape[1] : x.shape[2];
  const int64_t in_cols = *last ? x.shape[2] : x.shape[3];
  if (g.channels <= 0 || x.shape[0] <= 0) return std::nullopt;
  if (!window_axis_from_attributes(node.attributes, 2, 0, in_rows, (*kernel)[0], &g.rows).is_ok() ||
      !window_axis_from_attributes(node.attributes, 2, 1, in_cols, (*kernel)[1], &g.cols).is_ok()) {
    return std::nullopt;
  }
  // As the reference: a window lying wholly in the padding would have no taps.
  for (const WindowAxis* axis : {&g.rows, &g.cols}) {
    const int64_t extent = dilated_kernel(axis->kernel, axis->dilation);
    if (axis->pad_begin >= extent || axis->pad_end >= extent) return std::nullopt;
  }
  const Shape expected = *last ? Shape{x.shape[0], g.rows.output, g.cols.output, g.channels}
                               : Shape{x.shape[0], g.channels, g.rows.output, g.cols.output};
  if (outputs[0].shape != expected) return std::nullopt;
  return g;
}

}  // namespace nnfi::kernels::window
