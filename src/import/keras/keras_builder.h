// Turning one call of one Keras layer into IR nodes.
//
// A LayerBuilder holds what a converter needs: the layer's config with typed
// getters that accept Keras's variants (an int or a list, null for default),
// its weights by name, its inputs (value ids and ranks), and emit functions
// that add nodes named "<layer>/<suffix>" whose Node::source_op is the Keras
// class. The last node emitted is the layer's output, as in Keras (Conv2D
// with relu = conv, bias, relu; the output is after relu).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "import/keras/keras_config.h"
#include "nnfi/graph.h"
#include "nnfi/status.h"

namespace nnfi::keras_import {

// Facts about the file that change layer semantics.
struct KerasFileInfo {
  std::string file;     // for messages
  int keras_major = 2;  // Keras 3 changed hard_sigmoid and a few defaults
};

class LayerBuilder {
 public:
  // `constants` caches the layer's constants by name across its calls, so a
  // layer used twice shares its weights (a weight fault hits both calls).
  LayerBuilder(Graph& graph, const KerasFileInfo& file, const KerasLayer& layer,
               std::string ir_name, std::vector<ValueId> inputs, std::vector<int> ranks,
               const std::map<std::string, Tensor>& weights,
               std::map<std::string, ValueId>& constants)
      : graph_(graph),
        file_(file),
        layer_(layer),
        ir_name_(std::move(ir_name)),
        inputs_(std::move(inputs)),
        ranks_(std::move(ranks)),
        weights_(weights),
        constants_(constants) {}

  const KerasLayer& layer() const { return layer_; }
  const KerasFileInfo& file() const { return file_; }
  const nlohmann::json& config() const { return layer_.config; }

  // ---- errors naming the file, layer and class ----
  Status error(const std::string& what) const;        // invalid_argument
  Status unsupported(const std::string& what) const;  // unsupported

  // ---- config values (absent or null: the fallback) ----
  Expected<int64_t> get_int(const std::string& key, int64_t fallback) const;
  Expected<double> get_float(const std::string& key, double fallback) const;
  Expected<bool> get_bool(const std::string& key, bool fallback) const;
  Expected<std::string> get_string(const std::string& key, const std::string& fallback) const;
  // An int or a list of `count` ints (kernel_size, strides, ...).
  Expected<std::vector<int64_t>> get_ints(const std::string& key, size_t count,
                                          const std::vector<int64_t>& fallback) const;
  // true for channels_first, false for channels_last (the default).
  Expected<bool> channels_first() const;
  // The activation named by `key` ("linear" when absent or null).
  Expected<std::string> get_activation(const std::string& key) const;

  // ---- inputs ----
  size_t input_count() const { return inputs_.size(); }
  ValueId input(size_t i) const { return inputs_[i]; }
  int rank(size_t i) const { return ranks_[i]; }
  Status expect_inputs(size_t min_count, size_t max_count) const;

  // ---- weights ----
  bool has_weight(const std::string& name) const { return weights_.count(name) != 0; }
  const Tensor& weight(const std::string& name) const { return weights_.at(name); }
  // Checks the weight's shape; -1 in `expected` matches any dim.
  Status expect_weight_shape(const std::string& name, const Shape& expected) const;

  // ---- emitting ----
  // Adds a node "<layer>/<suffix>" with one output and returns that output.
  ValueId emit(OpType op, const std::string& suffix, std::vector<ValueId> inputs,
               Attributes attributes = {});
  // A constant "<layer>/<name>" (weights keep their Keras names), made once
  // per Keras layer.
  ValueId constant(const std::string& name, Tensor tensor);
  ValueId int64_constant(const std::string& name, const std::vector<int64_t>& values);
  ValueId float_constant(const std::string& name, float value);
  // Appends the nodes of a Keras activation ("relu", "softmax", ...) after x;
  // "linear" adds nothing.
  Expected<ValueId> activation(ValueId x, const std::string& name);

  // ---- result ----
  void set_output(ValueId value, int rank) {
    output_ = value;
    output_rank_ = rank;
  }
  ValueId output() const { return output_; }
  int output_rank() const { return output_rank_; }
  const std::vector<NodeId>& nodes() const { return nodes_; }
  const std::string& ir_name() const { return ir_name_; }

 private:
  const nlohmann::json* find(const std::string& key) const;
  std::string where() const;

  Graph& graph_;
  const KerasFileInfo& file_;
  const KerasLayer& layer_;
  std::string ir_name_;
  std::vector<ValueId> inputs_;
  std::vector<int> ranks_;
  const std::map<std::string, Tensor>& weights_;
  std::map<std::string, ValueId>& constants_;
  std::vector<NodeId> nodes_;
  ValueId output_ = kNoValue;
  int output_rank_ = 0;
};

// The weights a layer of this class and config stores, in the order Keras
// writes them (trainable first). Names ending in '?' may be absent at the end
// (Normalization's count in Keras 2). nullopt for an unsupported class.
std::optional<std::vector<std::string>> expected_weights(const KerasLayer& layer);

// Builds the nodes of one call; fills the builder's output.
Status convert_layer(LayerBuilder& builder);

// "Conv2D, Dense, ..." for messages.
std::string supported_layer_classes();

// The converters, by family (keras_layers_*.cc); each returns the output.
using Converter = Status (*)(LayerBuilder&);
Status convert_dense(LayerBuilder& b);
Status convert_activation_layer(LayerBuilder& b);
Status convert_relu(LayerBuilder& b);
Status convert_leaky_relu(LayerBuilder& b);
Status convert_prelu(LayerBuilder& b);
Status convert_elu(LayerBuilder& b);
Status convert_softmax(LayerBuilder& b);
Status convert_thresholded_relu(LayerBuilder& b);
Status convert_identity(LayerBuilder& b);
Status convert_flatten(LayerBuilder& b);
Status convert_reshape(LayerBuilder& b);
Status convert_permute(LayerBuilder& b);
Status convert_merge(LayerBuilder& b);
Status convert_concatenate(LayerBuilder& b);
Status convert_conv(LayerBuilder& b);
Status convert_depthwise_conv(LayerBuilder& b);
Status convert_separable_conv(LayerBuilder& b);
Status convert_pool(LayerBuilder& b);
Status convert_global_pool(LayerBuilder& b);
Status convert_zero_padding(LayerBuilder& b);
Status convert_cropping(LayerBuilder& b);
Status convert_upsampling(LayerBuilder& b);
Status convert_batch_norm(LayerBuilder& b);
Status convert_layer_norm(LayerBuilder& b);
Status convert_rescaling(LayerBuilder& b);
Status convert_normalization(LayerBuilder& b);

// Reorders a float tensor's dims: out dim d = in dim perm[d].
Tensor permute_tensor(const Tensor& in, const std::vector<int64_t>& perm);

}  // namespace nnfi::keras_import
