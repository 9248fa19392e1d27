// InjectTF's and InjectTF2's own configuration files, run as they are: each
// is converted to a CampaignSpec with their semantics (docs/injecttf-configs.md
// documents both formats side by side with ours and says where they differ).
//
//   InjectTF  (TF 1, operation-wise):  Seed, ScalarFaultType, TensorFaultType,
//             Ops: {OP_TYPE: p, ...}
//   InjectTF2 (TF 2, layer-wise):      inject_layer: {layer_name, fault_type,
//             bit_flip_type, bit_number, probability}
//
// Neither names a model or a data set: those come from the command line, so the
// CampaignSpec returned has an empty model and data_given false. Its `text` is
// the equivalent nnfi campaign in our format (canonical, as parse_campaign
// writes it, and read back by replay), so resume and changed-config checks
// work as for our own files.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "nnfi/campaign.h"
#include "nnfi/graph.h"
#include "nnfi/status.h"

namespace nnfi {

enum class InjectTFFormat {
  kNone,       // not an InjectTF config (ours, or something else)
  kInjectTF,   // a top-level key Seed, ScalarFaultType, TensorFaultType or Ops
  kInjectTF2,  // a top-level key inject_layer
};

// Which format a parsed YAML document is, by its top-level keys (ours are all
// lower case and none of theirs). A document with keys of both is reported as
// kInjectTF; the loader then names the key that does not belong.
InjectTFFormat injecttf_format(const YAML::Node& document);
bool looks_like_injecttf_config(const YAML::Node& document);
// The same for a file; false when it cannot be read or is not valid YAML (the
// campaign loader then reports why).
bool looks_like_injecttf_config_file(const std::filesystem::path& path);

// What the command line adds: InjectTF and InjectTF2 take these as arguments
// of their Python scripts, not from the config file.
struct InjectTFRunOptions {
  int64_t repetitions = 1;  // passes over the data set (their configs have none)
  int64_t batch = 32;       // images per batch (InjectTF: one fault draw per op per batch)
};

// Reads and converts a config; errors name the file, the line, the key and
// what is allowed (or, for a value they accept that nnfi cannot express, why).
// InjectTF op types are kept as written until resolve_injecttf_op_types.
Expected<CampaignSpec> load_injecttf_config(const std::filesystem::path& path,
                                            const InjectTFRunOptions& options = {});
// The same from text (tests); `source` names it in messages.
Expected<CampaignSpec> parse_injecttf_config(const std::string& text,
                                             const std::filesystem::path& source,
                                             const InjectTFRunOptions& options = {});

// InjectTF names TensorFlow op types ("Add", "Relu"); the model may spell them
// otherwise. Rewrites every op target of `spec` to the op types of `graph`
// (Node::source_op, else the IR op name) that match case-insensitively, with
// "Add" and "AddV2" (TensorFlow's new name for tf.add) matching each other and,
// where the model has no op of the name itself, Conv2D matching Conv and
// MatMul matching Gemm (ONNX). Regenerates spec.text. An op type that matches
// nothing is an error listing the model's op types.
Status resolve_injecttf_op_types(CampaignSpec& spec, const Graph& graph);

// The nnfi campaign (our YAML format) equivalent to a converted spec; its
// canonical form, as parse_campaign writes it, is what spec.text holds.
std::string injecttf_campaign_text(const CampaignSpec& spec);

}  // namespace nnfi
