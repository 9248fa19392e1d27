// Conv on oneDNN: one primitive for one image (mini-batch 1, one thread),
// run over the batch by parallel_units(), so that results do not depend on
// the batch size or thread count (see onednn_common.h). Weights are reordered
// once, at plan time, into the layout the primitive prefers. Channels-last
// activations are used as they are; for channels-first (nchw / ncw) oneDNN 2.6
// only has a slow im2col+GEMM path, so the primitive takes its preferred
// (blocked) layout and each image is reordered into and out of it in
// per-thread scratch. Reorders are exact copies done per image, so results
// still do not depend on the batch or thread count.
//
// Fused plans (PlanOptions::fuse_for_inference, create_onednn_conv_fused):
// the primitive of a channels-first 2-D conv always runs in NHWC (what oneDNN
// picks here anyway), tensors may already be stored NHWC (then no reorder),
// a residual Add becomes a sum post-op (the image's residual is copied into
// the destination first) and an activation an eltwise post-op.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/fast/fast_kernels.h"
#include "kernels/fast/onednn_common.h"
#include "kernels/reference/conv_geometry.h"

namespace nnfi::kernels {
namespace {

using dnnl::memory;
using Tag = dnnl::memory::format_tag;

// Channels-first convs with at least this many input channels per group run
// in oneDNN's preferred layout (measured: a 3-channel stem is slower that way).
constexpr int64_t kMinFreeLayoutChannels = 8;

class OnednnConv : public FastKernel {
 public:
  Status eval(EvalContext& context) override;

  dnnl::convolution_forward primitive;
  memory::desc src_desc;  // the IR layout
  memory::desc dst_desc;
  // Set when the primitive's layout differs from the IR layout.
  std::optional<dnnl::reorder> src_reorder;
  std::optional<dnnl::reorder> dst_reorder;
  memory::desc primitive_src_desc;
  memory::desc primitive_dst_desc;
  memory::desc src_reorder_scratchpad_desc;
  memory::desc dst_reorder_scratchpad_desc;
  // Fused residual: copied (memcpy) or reordered into the primitive's dst.
  bool has_residual = false;
  std::optional<dnnl::reorder> residual_reorder;
  memory::desc residual_desc;
  memory::desc residual_reorder_scratchpad_desc;
  memory::desc bias_desc;
  memory::desc scratchpad_desc;
  std::shared_ptr<const memory> weights;  // reordered at plan time, shared between plans
  memory bias;                            // own copy of a constant bias; empty otherwise
  bool has_bias = false;
  int64_t batch = 0;
  int64_t src_image = 0;  // elements per image
  int64_t dst_image = 0;
};

Status OnednnConv::eval(EvalContext& context) {
  const float* x = context.inputs[0]->data<float>();
  const Tensor* runtime_bias = has_bias && !bias ? context.inputs[2] : nullptr;
  const float* r = has_residual ? context.inputs[3]->data<float>() : nullptr;
  float* y = context.outputs[0]->data<float>();
  return onednn::parallel_units(batch, "Conv", [&](int64_t begin, int64_t end) {
    const dnnl::engine& engine = onednn::cpu_engine();
    memory src(src_desc, engine, const_cast<float*>(x));
    memory dst(dst_desc, engine, y);
    // One scratchpad buffer serves the conv and both reorders: they run in turn.
    const size_t pad_bytes = std::max(
        {scratchpad_desc.get_size(), src_reorder_scratchpad_desc.get_size(),
         dst_reorder_scratchpad_desc.get_size(), residual_reorder_scratchpad_desc.get_size()});
    void* pad = onednn::thread_scratch(onednn::ScratchSlot::kPrimitive, pad_bytes);
    memory src_reorder_pad =
        src_reorder ? memory(src_reorder_scratchpad_desc, engine, pad) : memory();
    memory dst_reorder_pad =
        dst_reorder ? memory(dst_reorder_scratchpad_desc, engine, pad) : memory();
    // The primitive's own src/dst: the user buffers, or per-thread scratch.
    memory primitive_src = src_reorder
                               ? memory(primitive_src_desc, engine,
                                        onednn::thread_scratch(onednn::ScratchSlot::kSource,
                                                               primitive_src_desc.get_size()))
                               : src;
    memory primitive_dst = dst_reorder
                               ? memory(primitive_dst_desc, engine,
                                        onednn::thread_scratch(onednn::ScratchSlot::kDestination,
                                                               primitive_dst_desc.get_size()))
                               : dst;
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, primitive_src},
        {DNNL_ARG_WEIGHTS, onednn::alias(*weights)},
        {DNNL_ARG_DST, primitive_dst},
        {DNNL_ARG_SCRATCHPAD, memory(scratchpad_desc, engine, pad)}};
    if (has_bias) {
      args[DNNL_ARG_BIAS] =
          bias ? onednn::alias(bias)
               : memory(bias_desc, engine, const_cast<float*>(runtime_bias->data<float>()));
    }
    memory residual =
        has_residual ? memory(residual_desc, engine, const_cast<float*>(r)) : memory();
    memory residual_reorder_pad =
        residual_reorder ? memory(residual_reorder_scratchpad_desc, engine, pad) : memory();
    dnnl::stream& stream = onednn::thread_stream();
    for (int64_t n = begin; n < end; ++n) {
      src.set_data_handle(const_cast<float*>(x + n * src_image));
      dst.set_data_handle(y + n * dst_image);
      if (residual_reorder) {  // the sum post-op adds what the destination holds
        residual.set_data_handle(const_cast<float*>(r + n * dst_image));
        residual_reorder->execute(stream, {{DNNL_ARG_FROM, residual},
                                           {DNNL_ARG_TO, primitive_dst},
                                           {DNNL_ARG_SCRATCHPAD, residual_reorder_pad}});
      } else if (has_residual) {
        std::memcpy(y + n * dst_image, r + n * dst_image, dst_image * sizeof(float));
      }
      if (src_reorder) {
        src_reorder->execute(stream, {{DNNL_ARG_FROM, src},
                                      {DNNL_ARG_TO, primitive_src},
                                      {DNNL_ARG_SCRATCHPAD, src_reorder_pad}});
      }
      primitive.execute(stream, args);
      if (dst_reorder) {
        dst_reorder->execute(stream, {{DNNL_ARG_FROM, primitive_dst},
                                      {DNNL_ARG_TO, dst},
                                      {DNNL_ARG_SCRATCHPAD, dst_reorder_pad}});
      }
    }
    stream.wait();
  });
}

// Plain activation layout of a rank-3/4 tensor.
Tag activation_tag(size_t rank, bool channels_last) {
  if (rank == 3) return channels_last ? Tag::nwc : Tag::ncw;
  return channels_last ? Tag::nhwc : Tag::nchw;
}

// fusion: nullptr for the plain node (see the top).
std::unique_ptr<FastKernel> build_conv(const Node& node, std::span<const TensorInfo> inputs,
                                       std::span<const TensorInfo> outputs,
                                       const ConvFusion* fusion) {
  const size_t max_inputs = fusion != nullptr && fusion->residual ? 4 : 3;
  if (inputs.size() < 2 || inputs.size() > max_inputs || outputs.size() != 1) return nullptr;
  const TensorInfo& x = inputs[0];
  const TensorInfo& w = inputs[1];
  const TensorInfo* b = inputs.size() >= 3 && inputs[2].present() ? &inputs[2] : nullptr;
  const TensorInfo& y = outputs[0];
  if (fusion != nullptr && fusion->residual &&
      (inputs.size() != 4 || inputs[3].dtype != DType::kFloat32 || inputs[3].shape != y.shape)) {
    return nullptr;
  }
  if (x.dtype != DType::kFloat32 || w.dtype != DType::kFloat32 || y.dtype != DType::kFloat32) {
    return nullptr;
  }
  if (w.constant == nullptr) return nullptr;  // weights must be reordered at plan time
  const size_t rank = x.shape.size();
  if ((rank != 3 && rank != 4) || w.shape.size() != rank || y.shape.size() != rank) {
    return nullptr;
  }
  const int64_t channels_last = node.attributes.get_int("channels_last", 0);
  if (channels_last != 0 && channels_last != 1) return nullptr;
  const bool last = channels_last == 1;
  // Fused channels-first 2-D convs run in NHWC; other nodes keep their IR layout.
  const bool nhwc_primitive = fusion != nullptr && !last && rank == 4;
  if (fusion != nullptr && !nhwc_primitive &&
      (fusion->src_nhwc || fusion->dst_nhwc || fusion->residual_nhwc)) {
    return nullptr;
  }
  const int64_t group = node.attributes.get_int("group", 1);
  const int64_t batch = x.shape[0];
  const int64_t in_channels = last ? x.shape[rank - 1] : x.shape[1];
  const int64_t out_channels = w.shape[0];
  if (group <= 0 || in_channels % group != 0 || out_channels % group != 0 ||
      w.shape[1] != in_channels / group || batch <= 0) {
    return nullptr;
  }
  if (b != nullptr && (b->dtype != DType::kFloat32 || b->shape != Shape{out_channels})) {
    return nullptr;
  }

  const size_t spatial_rank = rank - 2;
  WindowParams params;
  params.kernel.assign(w.shape.begin() + 2, w.shape.end());
  if (!read_window_attributes(node.attributes, spatial_rank, &params).is_ok()) return nullptr;
  std::vector<int64_t> input_spatial;
  for (size_t i = 0; i < spatial_rank; ++i) input_spatial.push_back(x.shape[(last ? 1 : 2) + i]);
  std::vector<WindowAxis> axes;
  if (!compute_window_geometry(params, input_spatial, &axes).is_ok()) return nullptr;

  // Logical dims (N, C, spatial...) for oneDNN; the tag gives the layout.
  memory::dims src_dims = {1, in_channels};
  memory::dims dst_dims = {1, out_channels};
  memory::dims strides;
  memory::dims dilations;  // oneDNN counts the gaps: dilation - 1
  memory::dims pad_begin;
  memory::dims pad_end;
  for (size_t i = 0; i < spatial_rank; ++i) {
    const WindowAxis& axis = axes[i];
    if (y.shape[(last ? 1 : 2) + i] != axis.output) return nullptr;
    // Where a pad is at least the kernel extent (outputs that see only
    // padding), oneDNN 2.6's brgconv skips a sum post-op there and crashes on
    // sum + eltwise: leave such convs unfused.
    const int64_t extent = dilated_kernel(axis.kernel, axis.dilation);
    if (fusion != nullptr &&
        (fusion->residual || fusion->activation.kind != FusedActivation::Kind::kNone) &&
        (axis.pad_begin >= extent || axis.pad_end >= extent)) {
      return nullptr;
    }
    src_dims.push_back(axis.input);
    dst_dims.push_back(axis.output);
    strides.push_back(axis.stride);
    dilations.push_back(axis.dilation - 1);
    pad_begin.push_back(axis.pad_begin);
    pad_end.push_back(axis.pad_end);
  }
  if (y.shape[0] != batch || y.shape[last ? rank - 1 : 1] != out_channels) return nullptr;

  // W (O, I/g, k...) is (g, O/g, I/g, k...) in memory for grouped convs.
  memory::dims weight_dims = onednn::to_dims(w.shape);
  Tag weight_tag = rank == 3 ? Tag::oiw : Tag::oihw;
  if (group > 1) {
    weight_dims[0] = out_channels / group;
    weight_dims.insert(weight_dims.begin(), group);
    weight_tag = rank == 3 ? Tag::goiw : Tag::goihw;
  }

  auto kernel = std::make_unique<OnednnConv>();
  try {
    onednn::SingleThreadScope single;  // configure for one thread, whatever the thread count
    const dnnl::engine& engine = onednn::cpu_engine();
    const Tag act = activation_tag(rank, last);
    const auto stored = [&](bool nhwc) { return nhwc ? Tag::nhwc : act; };
    const bool src_nhwc = fusion != nullptr && fusion->src_nhwc;
    const bool dst_nhwc = fusion != nullptr && fusion->dst_nhwc;
    kernel->src_desc = memory::desc(src_dims, memory::data_type::f32, stored(src_nhwc));
    kernel->dst_desc = memory::desc(dst_dims, memory::data_type::f32, stored(dst_nhwc));
    memory::desc weights_any(weight_dims, memory::data_type::f32, Tag::any);
    memory::desc bias_desc;
    if (b != nullptr) bias_desc = memory::desc({out_channels}, memory::data_type::f32, Tag::x);
    // Channels-first: let oneDNN pick the activation layout (see the top),
    // except for few input channels (an RGB stem), where the plain GEMM path
    // is as fast and the reorders would only add time.
    const bool free_layout =
        nhwc_primitive || (!last && in_channels / group >= kMinFreeLayoutChannels);
    const Tag free_tag = nhwc_primitive ? Tag::nhwc : Tag::any;
    const memory::desc primitive_src =
        free_layout ? memory::desc(src_dims, memory::data_type::f32, free_tag) : kernel->src_desc;
    const memory::desc primitive_dst =
        free_layout ? memory::desc(dst_dims, memory::data_type::f32, free_tag) : kernel->dst_desc;
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, primitive_src,
        weights_any, bias_desc, primitive_dst, strides, dilations, pad_begin, pad_end);
    dnnl::primitive_attr attr = onednn::default_attr();
    if (fusion != nullptr) {
      dnnl::post_ops post_ops;
      if (fusion->residual) post_ops.append_sum(1.0f);  // adds what the destination holds
      onednn::append_activation(fusion->activation, &post_ops);
      attr.set_post_ops(post_ops);
    }
    dnnl::convolution_forward::primitive_desc primitive_desc(desc, attr, engine);
    // A fused plan replaces several kernels by this one: never by a slow reference.
    if (fusion != nullptr && std::string(primitive_desc.impl_info_str()).rfind("ref", 0) == 0) {
      return nullptr;
    }
    kernel->primitive_src_desc = primitive_desc.src_desc();
    kernel->primitive_dst_desc = primitive_desc.dst_desc();
    if (kernel->primitive_src_desc != kernel->src_desc) {
      // Otherwise the IR layout must be taken as is (no hidden reorders).
      if (!free_layout) return nullptr;
      dnnl::reorder::primitive_desc reorder_desc(
          engine, kernel->src_desc, engine, kernel->primitive_src_desc, onednn::default_attr());
      kernel->src_reorder = dnnl::reorder(reorder_desc);
      kernel->src_reorder_scratchpad_desc = reorder_desc.scratchpad_desc();
    }
    if (kernel->primitive_dst_desc != kernel->dst_desc) {
      if (!free_layout) return nullptr;
      dnnl::reorder::primitive_desc reorder_desc(engine, kernel->primitive_dst_desc, engine,
                                                 kernel->dst_desc, onednn::default_attr());
      kernel->dst_reorder = dnnl::reorder(reorder_desc);
      kernel->dst_reorder_scratchpad_desc = reorder_desc.scratchpad_desc();
    }
    if (fusion != nullptr && fusion->residual) {
      kernel->has_residual = true;
      kernel->residual_desc =
          memory::desc(dst_dims, memory::data_type::f32, stored(fusion->residual_nhwc));
      if (kernel->residual_desc != kernel->primitive_dst_desc || kernel->dst_reorder) {
        dnnl::reorder::primitive_desc reorder_desc(engine, kernel->residual_desc, engine,
                                                   kernel->primitive_dst_desc,
                                                   onednn::default_attr());
        kernel->residual_reorder = dnnl::reorder(reorder_desc);
        kernel->residual_reorder_scratchpad_desc = reorder_desc.scratchpad_desc();
      }
    }
    kernel->primitive = dnnl::convolution_forward(primitive_desc);
    kernel->scratchpad_desc = primitive_desc.scratchpad_desc();
    kernel->weights = onednn::shared_packed_constant(
        *w.constant, memory::desc(weight_dims, memory::data_type::f32, weight_tag),
        primitive_desc.weights_desc());
    if (b != nullptr) {
      kernel->has_bias = true;
      kernel->bias_desc = bias_desc;
      if (b->constant != nullptr) {
        kernel->bias = onednn::reorder_constant(b->constant->raw_data(), bias_desc, bias_desc);
      }
    }
  } catch (const dnnl::error&) {
    return nullptr;  // oneDNN does not cover this case: the reference kernel runs
  }
  kernel->batch = batch;
  kernel->src_image = shape_num_elements(x.shape) / batch;
  kernel->dst_image = shape_num_elements(y.shape) / batch;
  return kernel;
}

}  // namespace

std::unique_ptr<FastKernel> create_onednn_conv(const Node& node, std::span<const TensorInfo> inputs,
                                               std::span<const TensorInfo> outputs) {
  return build_conv(node, inputs, outputs, nullptr);
}

std::unique_ptr<FastKernel> create_onednn_conv_fused(const Node& node,
                                                     std::span<const TensorInfo> inputs,
                                                     std::span<const TensorInfo> outputs,
                                                     const ConvFusion& fusion) {
  return build_conv(node, inputs, outputs, &fusion);
}

}  // namespace nnfi::kernels
