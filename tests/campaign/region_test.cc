// The pieces of the window phase (src/campaign/region_*.h): which nodes can
// recompute window by window, and the window moves on one image.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "campaign/campaign_test_support.h"
#include "campaign/region_image.h"
#include "campaign/region_model.h"
#include "nnfi/model.h"
#include "support/test_support.h"

namespace nnfi::testing {
namespace {

using campaign::ImageLayout;
using campaign::RegionModel;
using campaign::RegionOp;
using kernels::window::Window;

ImageLayout layout(bool channels_last) {
  ImageLayout result;
  result.known = true;
  result.channels_last = channels_last;
  result.channels = 3;
  result.height = 5;
  result.width = 6;
  return result;
}

int64_t offset(const ImageLayout& l, int64_t ch, int64_t r, int64_t c) {
  return l.channels_last ? (r * l.width + c) * l.channels + ch : (ch * l.height + r) * l.width + c;
}

std::vector<float> image(const ImageLayout& l, uint32_t seed) {
  Tensor t = random_tensor({l.elements()}, seed);
  return std::vector<float>(t.data<float>(), t.data<float>() + l.elements());
}

TEST(RegionImage, DifferingWindowIsTheBoundingBoxOfChangedBits) {
  for (bool channels_last : {false, true}) {
    const ImageLayout l = layout(channels_last);
    const std::vector<float> golden = image(l, 1);
    std::vector<float> changed = golden;
    EXPECT_TRUE(campaign::differing_window(l, changed.data(), golden.data(), l.full()).empty());
    changed[offset(l, 2, 1, 4)] = std::nanf("");
    changed[offset(l, 0, 3, 2)] = -changed[offset(l, 0, 3, 2)];
    EXPECT_EQ(campaign::differing_window(l, changed.data(), golden.data(), l.full()),
              (Window{1, 4, 2, 5}));
    // Only `where` is looked at.
    EXPECT_EQ(campaign::differing_window(l, changed.data(), golden.data(), Window{0, 2, 0, 6}),
              (Window{1, 2, 4, 5}));
  }
}

TEST(RegionImage, SignedZeroAndNanPayloadsCountAsDifferent) {
  const ImageLayout l = layout(false);
  std::vector<float> golden(static_cast<size_t>(l.elements()), 0.0f);
  std::vector<float> changed = golden;
  changed[offset(l, 1, 4, 5)] = -0.0f;
  EXPECT_EQ(campaign::differing_window(l, changed.data(), golden.data(), l.full()),
            (Window{4, 5, 5, 6}));
  golden[offset(l, 1, 4, 5)] = std::numeric_limits<float>::quiet_NaN();
  changed[offset(l, 1, 4, 5)] = -std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(campaign::differing_window(l, changed.data(), golden.data(), l.full()).empty());
}

TEST(RegionImage, GatherTakesTheDamageInsideAndGoldenOutside) {
  for (bool channels_last : {false, true}) {
    const ImageLayout l = layout(channels_last);
    const std::vector<float> golden = image(l, 2);
    const std::vector<float> damaged = image(l, 3);
    const Window damage{1, 3, 2, 5};
    const Window want{0, 4, 1, 4};
    std::vector<float> last(static_cast<size_t>(want.area() * l.channels));
    std::vector<float> patch(last.size());
    campaign::gather_channels_last(l, golden.data(), damaged.data(), damage, want, last.data());
    campaign::gather_patch(l, golden.data(), damaged.data(), damage, want, patch.data());
    for (int64_t ch = 0; ch < l.channels; ++ch) {
      for (int64_t r = want.row_begin; r < want.row_end; ++r) {
        for (int64_t c = want.col_begin; c < want.col_end; ++c) {
          const bool inside = r >= damage.row_begin && r < damage.row_end &&
                              c >= damage.col_begin && c < damage.col_end;
          const float expected = (inside ? damaged : golden)[offset(l, ch, r, c)];
          const int64_t pixel = (r - want.row_begin) * want.cols() + (c - want.col_begin);
          EXPECT_EQ(last[pixel * l.channels + ch], expected);
          const int64_t at = channels_last ? pixel * l.channels + ch : ch * want.area() + pixel;
          EXPECT_EQ(patch[at], expected);
        }
      }
    }
    // Scattering the gathered window back gives the same image there.
    std::vector<float> back(golden.size(), 0.0f);
    std::vector<float> back_patch(golden.size(), 0.0f);
    campaign::scatter_channels_last(l, last.data(), want, back.data());
    campaign::scatter_patch(l, patch.data(), want, back_patch.data());
    EXPECT_EQ(back, back_patch);
  }
}

TEST(RegionImage, FillFromGoldenKeepsTheKeptWindow) {
  for (bool channels_last : {false, true}) {
    const ImageLayout l = layout(channels_last);
    const std::vector<float> golden = image(l, 4);
    const std::vector<float> trial = image(l, 5);
    std::vector<float> filled = trial;
    const Window kept{1, 3, 1, 3};
    const Window grown{0, 4, 1, 6};
    campaign::fill_from_golden(l, golden.data(), kept, grown, filled.data());
    for (int64_t ch = 0; ch < l.channels; ++ch) {
      for (int64_t r = 0; r < l.height; ++r) {
        for (int64_t c = 0; c < l.width; ++c) {
          const int64_t at = offset(l, ch, r, c);
          const bool in_kept = r >= 1 && r < 3 && c >= 1 && c < 3;
          const bool in_grown = r < 4 && c >= 1;
          EXPECT_EQ(filled[at], in_grown && !in_kept ? golden[at] : trial[at]);
        }
      }
    }
  }
}

TEST_F(CampaignTest, RegionModelCoversConvPoolAndPointwiseNodes) {
  write_branching_model(path(""), 4);
  Expected<std::shared_ptr<Graph>> model = load_model(path("branching.onnx"));
  ASSERT_TRUE(model.has_value()) << model.status().message();
  const std::shared_ptr<const Graph> graph = *model;
  PlanOptions options;
  options.use_fast_kernels = false;
  Expected<std::shared_ptr<Plan>> plan = Plan::create(graph, {{1, 2, 8, 8}}, options);
  ASSERT_TRUE(plan.has_value()) << plan.status().message();
  const RegionModel regions(**plan, {});
  auto op_of = [&](const std::string& name) {
    for (size_t n = 0; n < graph->nodes.size(); ++n) {
      if (graph->nodes[n].name == name) return regions.node(static_cast<NodeId>(n)).op;
    }
    return RegionOp::kNone;
  };
  EXPECT_EQ(op_of("conv1"), RegionOp::kConv);
  EXPECT_EQ(op_of("relu1"), RegionOp::kPointwise);
  EXPECT_EQ(op_of("skip_add"), RegionOp::kPointwise);  // two activations of one shape
  EXPECT_EQ(op_of("pool"), RegionOp::kMaxPool);
  EXPECT_EQ(op_of("conv3"), RegionOp::kConv);
  EXPECT_EQ(op_of("concat"), RegionOp::kNone);
  EXPECT_EQ(op_of("gap"), RegionOp::kNone);
  EXPECT_EQ(op_of("dense"), RegionOp::kNone);
  // A Relu that alone reads a conv's output runs on the conv's window; the
  // pool's output has two readers, conv3's is read by a Concat.
  auto id_of = [&](const std::string& name) {
    for (size_t n = 0; n < graph->nodes.size(); ++n) {
      if (graph->nodes[n].name == name) return static_cast<NodeId>(n);
    }
    return kNoNode;
  };
  EXPECT_EQ(regions.node(id_of("conv1")).fused_pointwise, std::vector<NodeId>{id_of("relu1")});
  EXPECT_EQ(regions.node(id_of("conv2")).fused_pointwise, std::vector<NodeId>{id_of("relu2")});
  EXPECT_TRUE(regions.node(id_of("pool")).fused_pointwise.empty());
  EXPECT_TRUE(regions.node(id_of("conv3")).fused_pointwise.empty());
  // A weight-fault campaign plans conv2 on the reference kernel: no windows there.
  NodeId conv2 = kNoNode;
  for (size_t n = 0; n < graph->nodes.size(); ++n) {
    if (graph->nodes[n].name == "conv2") conv2 = static_cast<NodeId>(n);
  }
  const RegionModel without_conv2(**plan, {conv2});
  EXPECT_FALSE(without_conv2.capable(conv2));
  EXPECT_GT(regions.capable_count(), without_conv2.capable_count());
}

}  // namespace
}  // namespace nnfi::testing
