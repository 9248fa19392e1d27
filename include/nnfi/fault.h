// Fault models, the counter-based random numbers that drive them, and the
// sites where faults can go. docs/fault-model.md is the user-facing contract
// (semantics, draw order, how a fault is regenerated from its keys).
//
// Randomness is a pure function of keys: a RandomStream for (seed,
// experiment, setting, repetition, image, site) yields the same numbers
// whatever the batch size, thread count or process, so every fault can be
// regenerated from its keys alone. The generator is Philox4x32-10 (Salmon et
// al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; Random123).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "nnfi/dtype.h"
#include "nnfi/graph.h"
#include "nnfi/runtime.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi {

// ---------------------------------------------------------------------------
// Random numbers

// One Philox4x32-10 block: 10 rounds of the 4x32 bijection keyed by `key`
// (Random123's philox4x32_R(10, ctr, key)).
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// What a stream of random numbers is about. Two keys that differ in any field
// give unrelated streams.
struct RandomKey {
  uint64_t seed = 0;
  uint64_t experiment = 0;
  uint64_t setting = 0;
  uint64_t repetition = 0;
  uint64_t image = 0;
  uint64_t site = 0;
};

// A stream of random numbers that is a pure function of (key, draw index).
// The key's six fields are hashed to 128 bits: 64 become the Philox key and
// 64 the upper half of the Philox counter; the lower half counts blocks. Each
// block gives two 64-bit draws. Cheap to construct: make one per use.
class RandomStream {
 public:
  // Starts at draw `first_draw` (0: the stream's beginning); RandomStream(key,
  // s.draws()) continues where stream s stands.
  explicit RandomStream(const RandomKey& key, uint64_t first_draw = 0);

  // The next 64-bit draw.
  uint64_t next_u64();
  // A double in [0, 1): the top 53 bits of one draw times 2^-53.
  double next_uniform();
  // An integer in [0, bound), unbiased (Lemire's multiply-shift with
  // rejection; usually one draw, rarely more). bound 0 is a caller bug: it
  // returns 0 and draws nothing.
  uint64_t next_below(uint64_t bound);
  // The index of the next draw: first_draw plus the draws taken so far.
  uint64_t draws() const { return next_draw_; }

 private:
  void fill_block(uint64_t block);

  std::array<uint32_t, 2> key_{};
  uint32_t stream_lo_ = 0, stream_hi_ = 0;  // upper half of the counter
  uint64_t next_draw_ = 0;
  uint64_t cached_block_ = ~uint64_t{0};
  std::array<uint32_t, 4> block_{};
  bool block_valid_ = false;
};

// ---------------------------------------------------------------------------
// Fault models: what happens to one chosen value

enum class FaultKind { kBitFlip, kStuckAt, kZero, kRandomValue, kSet };
enum class FaultScope { kElement, kElements, kTensor };

struct FaultModel {
  FaultKind kind = FaultKind::kBitFlip;
  // bitflip: the candidate bits (bit 0 = least significant of the stored
  // value); empty = every bit of the dtype. stuck_at: the stuck bits; empty =
  // one bit drawn uniformly per value.
  std::vector<int> bits;
  int count = 1;                  // bitflip: distinct bits flipped per value
  int burst = 1;                  // bitflip: a window of `burst` adjacent candidate bits
  int stuck_value = 0;            // stuck_at: 0 or 1
  double low = -1.0, high = 1.0;  // random_value: uniform in [low, high)
  double value = 0.0;             // set: a constant (NaN and +-Inf allowed on floats)
  FaultScope scope = FaultScope::kElement;
  int64_t elements = 1;  // kElements: how many distinct elements
};

std::string_view fault_kind_name(FaultKind kind);     // "bitflip", "stuck_at", ...
std::string_view fault_scope_name(FaultScope scope);  // "element", "elements", "tensor"

// One line for reports, e.g. "bitflip bits=[23..30] count=1".
std::string fault_model_description(const FaultModel& model);

// Bits of the stored value that faults act on: float32 32, float16 and
// bfloat16 16, int8 and uint8 8, int32 32; 0 for dtypes faults do not support.
int fault_bit_width(DType dtype);

// Checks `model` against the stored format `dtype`: bits in range and not
// repeated, count and burst possible with the candidate bits, options that
// the kind does not use left at their defaults, a non-empty random_value
// range, a set value the dtype can hold. Errors say what is allowed.
Status validate_fault_model(const FaultModel& model, DType dtype);

// One element changed: enough to replay it and to report it.
struct ElementFault {
  int64_t element = 0;  // flat index into the corrupted tensor (view)
  uint64_t before = 0;  // stored bits before (zero-extended)
  uint64_t after = 0;   // stored bits after
};

// A contiguous run of elements of one dtype: one image's slice of an
// activation, or a weight tensor.
struct TensorView {
  void* data = nullptr;
  DType dtype = DType::kFloat32;
  int64_t elements = 0;
};

// Draws the element(s) and bits from `rng` and corrupts `view`; returns one
// ElementFault per element written, in ascending element order (an element
// whose bits do not change, e.g. zero on 0.0, is still reported). The draw
// order is part of the contract: first the elements (kElement: one
// next_below(n); kElements: Floyd's sampling, k next_below calls; kTensor:
// none), then per element in ascending order its value draws (bitflip: count
// next_below calls over the shrinking candidate list, or one for the burst
// window; stuck_at without bits: one next_below(width); random_value: one
// draw; zero, set: none). See docs/fault-model.md. An invalid model (see
// validate_fault_model) or an empty view changes nothing and returns {}.
std::vector<ElementFault> inject_fault(const FaultModel& model, TensorView view, RandomStream& rng);

// Writes a recorded fault back (its `after` bits), for replay. A fault whose
// element is outside the view is ignored.
void apply_element_fault(TensorView view, const ElementFault& fault);

// The stored bits of element `index` (zero-extended); 0 outside the view.
uint64_t load_element_bits(TensorView view, int64_t index);

// ---------------------------------------------------------------------------
// Sites: where faults can go

enum class SiteKind { kNodeOutput, kLayerOutput, kWeight, kInput };
std::string_view site_kind_name(SiteKind kind);  // "node", "layer", "weight", "input"

struct Site {
  SiteKind kind = SiteKind::kNodeOutput;
  // Node name (its output k > 0: "name:k") / layer name / weight value name /
  // input value name. Stable: never the order in which hooks fired.
  std::string name;
  ValueId value = kNoValue;  // the value corrupted
  // The producer (node/layer output), the first consumer (weight), kNoNode (input).
  NodeId node = kNoNode;
  int32_t layer = -1;  // the layer (Graph::layers index) the site belongs to, -1 none
  // node: Node::source_op if set else the IR op name; layer: Layer::class_name;
  // weight: the first consumer's op (same rule as node); input: "Input".
  std::string op_type;
  // Activations: the shape of ONE image's slice (batch axis removed); weights:
  // the whole shape.
  Shape shape;
  // Elements per image (activations) or in the tensor (weights).
  int64_t elements = 0;
  // A node output computed at run time without the batch axis and without
  // depending on the input (e.g. rsqrt(variance + eps) in an unfused batch
  // norm): one tensor that every image of a batch reads. `shape` and
  // `elements` are the whole tensor's; a fault there reaches every image
  // computed with it.
  bool shared = false;
};

// Every site of `kind` in a planned graph, in plan order (node outputs by
// node, layers by index, weights by first consumer then input position,
// inputs in graph order). Activations are float values computed from a graph
// input whose first axis (in the plan) is the batch, i.e. the first axis of
// the first graph input, and, for a free batch, is -1 in the finalized graph
// (follows the batch); anything else (a reshaped constant, a value without
// the batch axis, a per-batch statistic) is not an activation site. Node
// outputs computed at run time that do not depend on the input at all are
// node sites with `shared` set. The result does not depend on the plan's
// batch. Weights are float graph
// constants read by a node that runs. Float values only.
std::vector<Site> enumerate_sites(const Graph& graph, const Plan& plan, SiteKind kind);

}  // namespace nnfi
