// AveragePool and GlobalAveragePool on oneDNN: one primitive for one image,
// configured for one thread, run over the batch by parallel_units() (see
// onednn_common.h). Activations stay in the IR layout. MaxPool is not here:
// oneDNN's skips NaN (see max_pool.cc).
#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "kernels/fast/fast_kernels.h"
#include "kernels/fast/onednn_common.h"
#include "kernels/reference/conv_geometry.h"

namespace nnfi::kernels {
namespace {

using dnnl::memory;
using Tag = dnnl::memory::format_tag;

class OnednnPool : public FastKernel {
 public:
  Status eval(EvalContext& context) override;

  const char* op_name = "Pool";
  dnnl::pooling_v2_forward primitive;
  memory::desc src_desc;
  memory::desc dst_desc;
  memory::desc scratchpad_desc;
  int64_t batch = 0;
  int64_t src_image = 0;  // elements per image
  int64_t dst_image = 0;
};

Status OnednnPool::eval(EvalContext& context) {
  const float* x = context.inputs[0]->data<float>();
  float* y = context.outputs[0]->data<float>();
  return onednn::parallel_units(batch, op_name, [&](int64_t begin, int64_t end) {
    const dnnl::engine& engine = onednn::cpu_engine();
    memory src(src_desc, engine, const_cast<float*>(x));
    memory dst(dst_desc, engine, y);
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src},
        {DNNL_ARG_DST, dst},
        {DNNL_ARG_SCRATCHPAD, onednn::scratchpad_memory(scratchpad_desc)}};
    dnnl::stream& stream = onednn::thread_stream();
    for (int64_t i = begin; i < end; ++i) {
      src.set_data_handle(const_cast<float*>(x + i * src_image));
      dst.set_data_handle(y + i * dst_image);
      primitive.execute(stream, args);
    }
    stream.wait();
  });
}

enum class PoolKind { kAverage, kGlobalAverage };

// nhwc: a channels-first 2-D node whose tensors are stored NHWC (a fused
// plan's internal layout).
std::unique_ptr<FastKernel> build_pool(PoolKind kind, const Node& node,
                                       std::span<const TensorInfo> inputs,
                                       std::span<const TensorInfo> outputs, bool nhwc) {
  std::optional<PoolShape> shape = covered_pool_shape(node, inputs, outputs);
  if (!shape) return nullptr;
  if (nhwc && (shape->channels_last || shape->input_spatial.size() != 2)) return nullptr;
  const bool last = shape->channels_last;
  const int64_t batch = shape->batch;
  const int64_t channels = shape->channels;
  const std::vector<int64_t>& input_spatial = shape->input_spatial;
  const size_t spatial_rank = input_spatial.size();

  dnnl::algorithm algorithm = dnnl::algorithm::pooling_avg_exclude_padding;
  std::vector<WindowAxis> axes;
  if (kind == PoolKind::kGlobalAverage) {
    for (int64_t size : input_spatial) axes.push_back(WindowAxis{size, size, 1, 1, 0, 0, 1});
  } else {
    WindowParams params;
    params.kernel = node.attributes.get_ints("kernel_shape");
    if (!read_window_attributes(node.attributes, spatial_rank, &params).is_ok()) return nullptr;
    if (!compute_window_geometry(params, input_spatial, &axes).is_ok()) return nullptr;
    const int64_t include_pad = node.attributes.get_int("count_include_pad", 0);
    if (include_pad != 0 && include_pad != 1) return nullptr;
    if (include_pad == 1) algorithm = dnnl::algorithm::pooling_avg_include_padding;
    for (const WindowAxis& axis : axes) {
      if (axis.dilation != 1) return nullptr;  // not an AveragePool attribute in the IR
      // oneDNN would count ceil_mode's extra cells beyond the pads; ONNX does not.
      if (include_pad == 1 && axis.reached_pad_end() > axis.pad_end) return nullptr;
    }
  }

  memory::dims src_dims = {1, channels};
  memory::dims dst_dims = {1, channels};
  memory::dims strides;
  memory::dims kernel_dims;
  memory::dims dilations;  // oneDNN counts the gaps: dilation - 1
  memory::dims pad_begin;
  memory::dims pad_end;
  for (size_t i = 0; i < spatial_rank; ++i) {
    const WindowAxis& axis = axes[i];
    if (outputs[0].shape[(last ? 1 : 2) + i] != axis.output) return nullptr;
    src_dims.push_back(axis.input);
    dst_dims.push_back(axis.output);
    strides.push_back(axis.stride);
    kernel_dims.push_back(axis.kernel);
    dilations.push_back(axis.dilation - 1);
    pad_begin.push_back(axis.pad_begin);
    // oneDNN sizes the output by floor division; in ceil_mode the last window
    // reaches past the explicit end pad, so give it the pad it really reaches.
    pad_end.push_back(std::max(axis.pad_end, axis.reached_pad_end()));
    const int64_t extent = dilated_kernel(axis.kernel, axis.dilation);
    if ((axis.input + axis.pad_begin + pad_end.back() - extent) / axis.stride + 1 != axis.output) {
      return nullptr;
    }
  }

  auto kernel = std::make_unique<OnednnPool>();
  kernel->op_name = kind == PoolKind::kAverage ? "AveragePool" : "GlobalAveragePool";
  try {
    onednn::SingleThreadScope single;  // configure for one thread, whatever the thread count
    const Tag tag =
        spatial_rank == 1 ? (last ? Tag::nwc : Tag::ncw) : (last || nhwc ? Tag::nhwc : Tag::nchw);
    kernel->src_desc = memory::desc(src_dims, memory::data_type::f32, tag);
    kernel->dst_desc = memory::desc(dst_dims, memory::data_type::f32, tag);
    dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm,
                                        kernel->src_desc, kernel->dst_desc, strides, kernel_dims,
                                        dilations, pad_begin, pad_end);
    dnnl::pooling_v2_forward::primitive_desc primitive_desc(desc, onednn::default_attr(),
                                                            onednn::cpu_engine());
    kernel->primitive = dnnl::pooling_v2_forward(primitive_desc);
    kernel->scratchpad_desc = primitive_desc.scratchpad_desc();
  } catch (const dnnl::error&) {
    return nullptr;  // oneDNN does not cover this case: the reference kernel runs
  }
  kernel->batch = batch;
  kernel->src_image = shape_num_elements(inputs[0].shape) / batch;
  kernel->dst_image = shape_num_elements(outputs[0].shape) / batch;
  return kernel;
}

}  // namespace

std::unique_ptr<FastKernel> create_onednn_average_pool(const Node& node,
                                                       std::span<const TensorInfo> inputs,
                                                       std::span<const TensorInfo> outputs) {
  return build_pool(PoolKind::kAverage, node, inputs, outputs, false);
}

std::unique_ptr<FastKernel> create_onednn_global_average_pool(const Node& node,
                                                              std::span<const TensorInfo> inputs,
                                                              std::span<const TensorInfo> outputs) {
  return build_pool(PoolKind::kGlobalAverage, node, inputs, outputs, false);
}

std::unique_ptr<FastKernel> create_onednn_global_average_pool_nhwc(
    const Node& node, std::span<const TensorInfo> inputs, std::span<const TensorInfo> outputs) {
  return build_pool(PoolKind::kGlobalAverage, node, inputs, outputs, true);
}

}  // namespace nnfi::kernels
