// The window-by-window part of a trial (issue 7, DESIGN.md principle 5).
//
// A trial starts from the golden batch; its faults change a few elements of a
// site. Each following node that reads a changed value is recomputed only on
// the window of its output that the changes reach (conv and pool windows grow
// by the kernel's reach, pointwise ones keep the window), then compared with
// golden, and the window shrinks to what still differs. The trial is masked
// as soon as nothing differs; otherwise it stops at the first node that
// cannot work on windows (a dense layer, a flatten, a global pool), and hands
// the changed values over, as whole image rows, to the batched part of the
// engine (TrialEngine), which runs the rest of the network for many trials at
// once.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "campaign/region_model.h"
#include "campaign/targets.h"
#include "nnfi/fault.h"

namespace nnfi::campaign {

class ConvHelpBoard;
struct GoldenBatch;
struct ResumePlan;
struct Trial;

// One image row of a value that differs from golden.
struct ChangedRow {
  ValueId value = kNoValue;
  std::vector<float> data;
};

struct RegionOutcome {
  bool masked = false;
  int32_t stop = 0;              // position in ResumePlan::nodes the batched part starts at
  std::vector<ChangedRow> rows;  // changed values read from `stop` on
};

// Per thread: buffers of one image per value, reused from trial to trial.
class RegionWorker {
 public:
  explicit RegionWorker(const RegionModel& model) : model_(model) {}

  // Runs `trial` (a row of `golden`) window by window from the start of
  // resume.nodes; appends the faults it injects to trial.applied.
  Status run(const GoldenBatch& golden, const ResumePlan& resume,
             const std::vector<SettingSite>& sites, const std::vector<const FaultModel*>& models,
             Trial& trial, RegionOutcome* outcome);
  // Convs from now on run through `board` (shared with idle threads), or
  // alone with nullptr.
  void share_convs(ConvHelpBoard* board) { help_ = board; }
  // The fused multiply-adds of the convs this worker ran (or had helped)
  // since the last call.
  int64_t take_multiply_adds() { return std::exchange(multiply_adds_, 0); }

 private:
  enum class Damage : uint8_t { kNone, kWindow, kWhole };
  struct ValueState {
    Damage damage = Damage::kNone;
    Window window;  // kWindow: where the image may differ from golden
  };

  const float* golden_image(ValueId value) const;
  float* image(ValueId value);
  void set_damage(ValueId value, Damage damage, Window window);
  // Faults of `trial` at site `s` into `value` (the node's output already
  // computed, or golden).
  Status inject(const std::vector<SettingSite>& sites, const std::vector<const FaultModel*>& models,
                int s, Trial& trial);
  // Recomputes the window of `node`'s output its changed inputs reach; with
  // `fuse` (a prefix of its RegionNode::fused_pointwise), the last fused
  // node's output instead.
  Status run_node(NodeId node, std::span<const NodeId> fuse);
  // A pointwise node on buffers of `shape`: `windowed[i]` for its windowed
  // inputs, constants for the others.
  Status run_pointwise(const Node& node, const RegionNode& region,
                       const std::vector<float*>& windowed, const Shape& shape, float* output);

  const RegionModel& model_;
  const GoldenBatch* golden_ = nullptr;
  ConvHelpBoard* help_ = nullptr;
  int64_t row_ = 0;
  int64_t multiply_adds_ = 0;
  std::vector<ValueState> states_;
  std::vector<ValueId> touched_;  // values with damage != kNone this trial
  std::vector<std::vector<float>> images_;
  std::vector<float> draws_;  // scratch the first, position-only draw writes into
  std::vector<float> patch_in_, patch_out_, fused_out_[2];
  std::vector<std::vector<float>> pointwise_in_;  // per input of a pointwise node
  std::vector<Tensor> pointwise_views_;
};

}  // namespace nnfi::campaign
