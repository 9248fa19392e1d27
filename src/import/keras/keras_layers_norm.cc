// Converters of BatchNormalization (inference: moving statistics) and
// LayerNormalization.
#include <algorithm>
#include <string>
#include <vector>

#include "import/keras/keras_builder.h"

namespace nnfi::keras_import {
namespace {

using nlohmann::json;

// `axis` as an int or a list of ints, each made non-negative for `rank`.
Expected<std::vector<int64_t>> read_axes(LayerBuilder& b, int rank, int64_t fallback) {
  std::vector<int64_t> axes;
  auto it = b.config().find("axis");
  if (it == b.config().end() || it->is_null()) {
    axes.push_back(fallback);
  } else if (it->is_number_integer()) {
    axes.push_back(it->get<int64_t>());
  } else if (it->is_array() && !it->empty()) {
    for (const json& item : *it) {
      if (!item.is_number_integer()) return b.error("axis " + it->dump() + " is not all ints");
      axes.push_back(item.get<int64_t>());
    }
  } else {
    return b.error("axis is neither an int nor a list of ints");
  }
  for (int64_t& axis : axes) {
    if (axis < -rank || axis >= rank) {
      return b.error("axis " + std::to_string(axis) + " is out of range for inputs of rank " +
                     std::to_string(rank));
    }
    if (axis < 0) axis += rank;
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

Tensor filled(const Shape& shape, float value) {
  Tensor tensor(DType::kFloat32, shape);
  for (int64_t i = 0; i < tensor.num_elements(); ++i) tensor.data<float>()[i] = value;
  return tensor;
}

}  // namespace

Status convert_batch_norm(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> axes, read_axes(b, b.rank(0), -1));
  if (axes.size() != 1) return b.unsupported("normalising over several axes is not supported");
  NNFI_ASSIGN_OR_RETURN(double epsilon, b.get_float("epsilon", 1e-3));
  const Tensor& mean = b.weight("moving_mean");
  if (mean.rank() != 1) {
    return b.error("weight 'moving_mean' has shape " + shape_to_string(mean.shape()) +
                   ", expected one value per channel");
  }
  const Shape channels = mean.shape();
  NNFI_RETURN_IF_ERROR(b.expect_weight_shape("moving_variance", channels));
  ValueId gamma, beta;
  if (b.has_weight("gamma")) {
    NNFI_RETURN_IF_ERROR(b.expect_weight_shape("gamma", channels));
    gamma = b.constant("gamma", b.weight("gamma"));
  } else {
    gamma = b.constant("gamma", filled(channels, 1.0f));  // scale=False
  }
  if (b.has_weight("beta")) {
    NNFI_RETURN_IF_ERROR(b.expect_weight_shape("beta", channels));
    beta = b.constant("beta", b.weight("beta"));
  } else {
    beta = b.constant("beta", filled(channels, 0.0f));  // center=False
  }
  Attributes attrs;
  attrs.set("axis", axes[0]);
  attrs.set("epsilon", epsilon);
  ValueId y = b.emit(OpType::kBatchNormalization, "batch_norm",
                     {b.input(0), gamma, beta, b.constant("moving_mean", mean),
                      b.constant("moving_variance", b.weight("moving_variance"))},
                     attrs);
  b.set_output(y, b.rank(0));
  return Status::ok();
}

Status convert_layer_norm(LayerBuilder& b) {
  NNFI_RETURN_IF_ERROR(b.expect_inputs(1, 1));
  const int rank = b.rank(0);
  NNFI_ASSIGN_OR_RETURN(std::vector<int64_t> axes, read_axes(b, rank, -1));
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] != rank - static_cast<int64_t>(axes.size() - i)) {
      return b.unsupported("normalising over axes that are not the last ones is not supported");
    }
  }
  NNFI_ASSIGN_OR_RETURN(bool rms, b.get_bool("rms_scaling", false));
  if (rms) return b.unsupported("rms_scaling=True is not supported");
  NNFI_ASSIGN_OR_RETURN(double epsilon, b.get_float("epsilon", 1e-3));
  // gamma and beta have the normalised dims' shape; without gamma a single 1
  // broadcasts.
  ValueId scale = b.has_weight("gamma") ? b.constant("gamma", b.weight("gamma"))
                                        : b.constant("gamma", filled({1}, 1.0f));
  std::vector<ValueId> inputs = {b.input(0), scale};
  if (b.has_weight("beta")) inputs.push_back(b.constant("beta", b.weight("beta")));
  Attributes attrs;
  attrs.set("axis", axes.front());
  attrs.set("epsilon", epsilon);
  b.set_output(b.emit(OpType::kLayerNormalization, "layer_norm", inputs, attrs), rank);
  return Status::ok();
}

}  // namespace nnfi::keras_import
