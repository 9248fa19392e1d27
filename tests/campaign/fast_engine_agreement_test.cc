// The fast engine (cached prefix + masking + window-by-window recompute) and
// the naive engine (every faulty inference re-runs the whole model) give the
// same faults, the same outcomes and the same summaries, on at least 10,000
// random faults per model and every fault model, NaN and Inf included
// (issue 7). Models: a branching ONNX CNN (channels first: skip connection,
// concat, a shared tensor), a TensorFlow frozen graph (channels last:
// depthwise conv, unfused batch norm arithmetic, Relu6) and the real GTSRB
// Keras CNN of the fixtures.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "campaign/campaign_test_support.h"
#include "campaign/region_model.h"
#include "nnfi/data.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"
#include "tf/tf_test_builder.h"

namespace nnfi::testing {
namespace {

namespace tf = ::nnfi::tf;
using campaign::RegionModel;
using campaign::RegionOp;
using tf_files::add_const;
using tf_files::add_ints;
using tf_files::add_node;
using tf_files::add_placeholder;
using tf_files::set_ints;
using tf_files::set_string;
using tf_files::set_type;

// Every fault model, on every layer; `reps` repetitions of the plain bit
// flip set the number of faults.
std::string every_fault_model(int reps) {
  return R"(experiments:
  - name: random_bit
    target: {layers: each}
    fault: {model: bitflip, bits: random}
    probability: 1.0
    repetitions: )" +
         std::to_string(reps) + R"(
  - name: exponent_pairs
    target: {layers: each}
    fault: {model: bitflip, bits: exponent, count: 2}
    probability: 0.5
  - name: burst
    target: {layers: each}
    fault: {model: bitflip, bits: "20..31", burst: 3}
    faults_per_inference: [2]
  - name: stuck
    target: {layers: each}
    fault: {model: stuck_at, bits: [30], value: 1}
    probability: 1.0
  - name: zero
    target: {layers: each}
    fault: {model: zero}
    probability: 1.0
  - name: random_value
    target: {layers: each}
    fault: {model: random_value, low: -100, high: 100}
    probability: 1.0
  - name: nan
    target: {layers: each}
    fault: {model: set, value: nan}
    probability: 1.0
  - name: inf
    target: {layers: each}
    fault: {model: set, value: -inf}
    probability: 1.0
  - name: four_elements
    target: {layers: each}
    fault: {model: bitflip, bits: mantissa, scope: {elements: 4}}
    probability: 1.0
  - name: whole_tensor
    target: {layers: each}
    fault: {model: random_value, low: -1, high: 1, scope: tensor}
    probability: 0.2
)";
}

void write_tf_graph(const std::filesystem::path& file, bool runtime_batch_norm);

class FastEngineAgreement : public CampaignTest {
 protected:
  // The TF graph below and `images` random inputs (labels i % 5) in the
  // test's folder; returns the campaign lines that name them.
  std::string write_tf_campaign(int64_t images, uint32_t input_seed,
                                bool runtime_batch_norm = false) {
    write_tf_graph(path("model.pb"), runtime_batch_norm);
    EXPECT_TRUE(write_npy(path("x.npy"), random_tensor({images, 10, 10, 3}, input_seed, 0.0f, 1.0f))
                    .is_ok());
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < images; ++i) labels.push_back(i % 5);
    EXPECT_TRUE(write_npy(path("y.npy"), Tensor::from_vector<int64_t>(labels, {images})).is_ok());
    return "model: " + path("model.pb").string() + "\nfeed: x\nfetch: probs\n" +
           "data: {spec: \"npy:" + path("x.npy").string() + "," + path("y.npy").string() + "\"}\n";
  }

  // Runs `text` with both engines; checks they agree fault by fault and
  // that the window phase did real work. Returns the fast run's summary.
  nlohmann::json expect_agreement(const std::string& text, size_t min_faults) {
    const CampaignSpec spec = campaign(text);
    RunOptions naive;
    naive.engine = Engine::kNaive;
    const nlohmann::json fast = run(spec, "fast");
    const nlohmann::json reference = run(spec, "naive", naive);
    const std::vector<std::string> faults = fault_rows("fast");
    EXPECT_GE(faults.size(), min_faults);
    EXPECT_EQ(faults, fault_rows("naive"));
    EXPECT_EQ(unit_rows("fast"), unit_rows("naive"));
    EXPECT_EQ(fast["experiments"], reference["experiments"]);
    EXPECT_EQ(fast["golden"], reference["golden"]);
    // The window phase ran, masked some trials and handed others on.
    const nlohmann::json& window = fast["timing"]["window_phase"];
    EXPECT_GT(window.value("trials", 0), 0) << fast["timing"].dump();
    EXPECT_GT(window.value("masked", 0), 0);
    EXPECT_GT(window.value("batched", 0), 0);
    int64_t outcomes[4] = {0, 0, 0, 0};
    for (const auto& experiment : fast["experiments"]) {
      for (const auto& setting : experiment["settings"]) {
        outcomes[0] += setting["outcomes"]["masked"].get<int64_t>();
        outcomes[1] += setting["outcomes"]["benign"].get<int64_t>();
        outcomes[2] += setting["outcomes"]["sdc"].get<int64_t>();
        outcomes[3] += setting["outcomes"]["non_finite"].get<int64_t>();
      }
    }
    for (int64_t count : outcomes) EXPECT_GT(count, 0) << fast["experiments"].dump();
    return fast;
  }
};

TEST_F(FastEngineAgreement, BranchingOnnxModel) {
  write_branching_model(path(""), 48);
  expect_agreement("model: " + path("branching.onnx").string() + "\ndata: {spec: \"npy:" +
                       path("x.npy").string() + "," + path("y.npy").string() +
                       "\"}\nseed: 11\nbatch: 16\n" + every_fault_model(12),
                   10000);
}

// One setting over several sites: with every Relu as a site, a fault at
// relu1 changes conv2, whose Relu runs on conv2's window in the same step
// (RegionNode::fused_pointwise) and then takes faults of its own; with every
// Conv, conv2 takes faults itself, so its Relu runs apart.
TEST_F(FastEngineAgreement, FaultsAtAConvOrItsReluWithFaultsUpstream) {
  write_branching_model(path(""), 48);
  expect_agreement("model: " + path("branching.onnx").string() +
                       "\ndata: {spec: \"npy:" + path("x.npy").string() + "," +
                       path("y.npy").string() + "\"}\nseed: 13\nbatch: 16\n" + R"(experiments:
  - name: relus
    target: {ops: [Relu]}
    fault: {model: bitflip, bits: random}
    probability: 1.0
    repetitions: 16
  - name: convs
    target: {ops: [Conv]}
    fault: {model: bitflip, bits: random}
    probability: 1.0
    repetitions: 16
  - name: nan
    target: {ops: [Relu]}
    fault: {model: set, value: nan}
    probability: 1.0
  - name: one_layer_at_a_time
    target: {layers: each}
    fault: {model: bitflip, bits: random}
    probability: 1.0
)",
                   1000);
}

// x [N, 10, 10, 3] -> Conv2D 3x3 SAME -> BiasAdd -> Relu6 -> depthwise 3x3
// VALID -> x * scale + shift (an unfused batch norm) -> Relu -> MaxPool 2x2
// -> Reshape -> MatMul -> BiasAdd -> Softmax. With `runtime_batch_norm`,
// scale and shift are computed at every run from constants, as in TF1's
// MobileNet: scale = gamma * rsqrt(variance + eps), shift = beta - mean *
// scale (fault sites of their own).
void write_tf_graph(const std::filesystem::path& file, bool runtime_batch_norm) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 10, 10, 3});
  add_const(graph, "w1", random_tensor({3, 3, 3, 6}, 21, -0.5f, 0.5f));
  add_const(graph, "b1", random_tensor({6}, 22, -0.1f, 0.1f));
  tf::NodeDef* conv = add_node(graph, "conv1/Conv2D", "Conv2D", {"x", "w1"});
  set_ints(conv, "strides", {1, 1, 1, 1});
  set_string(conv, "padding", "SAME");
  add_node(graph, "conv1/BiasAdd", "BiasAdd", {"conv1/Conv2D", "b1"});
  add_node(graph, "conv1/Relu6", "Relu6", {"conv1/BiasAdd"});
  add_const(graph, "dw", random_tensor({3, 3, 6, 1}, 23, -0.5f, 0.5f));
  tf::NodeDef* depthwise =
      add_node(graph, "dw/depthwise", "DepthwiseConv2dNative", {"conv1/Relu6", "dw"});
  set_ints(depthwise, "strides", {1, 1, 1, 1});
  set_string(depthwise, "padding", "VALID");
  if (runtime_batch_norm) {
    add_const(graph, "bn/variance", random_tensor({6}, 24, 0.5f, 2.0f));
    add_const(graph, "bn/eps", random_tensor({1}, 29, 0.001f, 0.001f));
    add_const(graph, "bn/gamma", random_tensor({6}, 30, 0.5f, 1.5f));
    add_const(graph, "bn/mean", random_tensor({6}, 31, -0.2f, 0.2f));
    add_const(graph, "bn/beta", random_tensor({6}, 32, -0.2f, 0.2f));
    add_node(graph, "bn/batchnorm/add", "Add", {"bn/variance", "bn/eps"});
    add_node(graph, "bn/batchnorm/Rsqrt", "Rsqrt", {"bn/batchnorm/add"});
    add_node(graph, "bn/batchnorm/mul", "Mul", {"bn/batchnorm/Rsqrt", "bn/gamma"});
    add_node(graph, "bn/batchnorm/mul_2", "Mul", {"bn/mean", "bn/batchnorm/mul"});
    add_node(graph, "bn/batchnorm/sub", "Sub", {"bn/beta", "bn/batchnorm/mul_2"});
    add_node(graph, "bn/mul", "Mul", {"dw/depthwise", "bn/batchnorm/mul"});
    add_node(graph, "bn/add", "Add", {"bn/mul", "bn/batchnorm/sub"});
  } else {
    add_const(graph, "scale", random_tensor({6}, 24, 0.5f, 1.5f));
    add_const(graph, "shift", random_tensor({6}, 25, -0.2f, 0.2f));
    add_node(graph, "bn/mul", "Mul", {"dw/depthwise", "scale"});
    add_node(graph, "bn/add", "Add", {"bn/mul", "shift"});
  }
  add_node(graph, "bn/Relu", "Relu", {"bn/add"});
  tf::NodeDef* pool = add_node(graph, "pool/MaxPool", "MaxPool", {"bn/Relu"});
  set_ints(pool, "ksize", {1, 2, 2, 1});
  set_ints(pool, "strides", {1, 2, 2, 1});
  set_string(pool, "padding", "VALID");
  add_ints(graph, "flat_shape", {-1, 4 * 4 * 6}, {2});
  add_node(graph, "flatten/Reshape", "Reshape", {"pool/MaxPool", "flat_shape"});
  add_const(graph, "w2", random_tensor({96, 5}, 26, -0.5f, 0.5f));
  add_const(graph, "b2", random_tensor({5}, 27, -0.1f, 0.1f));
  add_node(graph, "dense/MatMul", "MatMul", {"flatten/Reshape", "w2"});
  add_node(graph, "dense/BiasAdd", "BiasAdd", {"dense/MatMul", "b2"});
  add_node(graph, "probs", "Softmax", {"dense/BiasAdd"});
  for (tf::NodeDef& node : *graph.mutable_node()) {
    if (node.op() != "Placeholder" && node.op() != "Const") set_type(&node, "T", tf::DT_FLOAT);
  }
  std::ofstream(file, std::ios::binary) << graph.SerializeAsString();
}

// One batch and one setting: the threads share the batch's trials, and one
// that has run out of them takes 64-channel chunks of the wide convs of a
// trial still running (region_help.h). Which chunks it takes depends on
// timing; the outcomes may not.
TEST_F(FastEngineAgreement, WideConvsSharedByIdleThreads) {
  write_wide_model(path(""), 24);
  const CampaignSpec spec = campaign("model: " + path("wide.onnx").string() +
                                     "\ndata: {spec: \"npy:" + path("x.npy").string() + "," +
                                     path("y.npy").string() + "\"}\nseed: 17\nbatch: 24\n" +
                                     R"(experiments:
  - name: conv1
    target: {layers: [conv1]}
    fault: {model: bitflip, bits: "20..31"}
    probability: 1.0
)");
  RunOptions naive;
  naive.engine = Engine::kNaive;
  const nlohmann::json fast = run(spec, "fast");
  const nlohmann::json reference = run(spec, "naive", naive);
  EXPECT_EQ(fault_rows("fast"), fault_rows("naive"));
  EXPECT_EQ(fast["experiments"], reference["experiments"]);
  const nlohmann::json& window = fast["timing"]["window_phase"];
  EXPECT_EQ(window.value("trials", 0), 24) << window.dump();
  EXPECT_GT(window.value("masked", 0), 0) << window.dump();
  EXPECT_GT(window.value("batched", 0), 0) << window.dump();
  RecordProperty("chunks_helped", std::to_string(window.value("chunks_helped", 0)));
  // The work counted is the work the faults caused: each windowed conv once,
  // whichever thread ran its chunks.
  RunOptions one_thread;
  one_thread.threads = 1;
  const nlohmann::json alone = run(spec, "fast1", one_thread);
  EXPECT_GT(window.value("multiply_adds", int64_t{0}), 0) << window.dump();
  EXPECT_EQ(window.value("multiply_adds", int64_t{0}),
            alone["timing"]["window_phase"].value("multiply_adds", int64_t{-1}));
}

TEST_F(FastEngineAgreement, TensorFlowFrozenGraph) {
  expect_agreement(write_tf_campaign(40, 28) + "seed: 12\nbatch: 16\n" + every_fault_model(20),
                   10000);
}

// TF1's unfused batch norm computes its scale and shift at every run: x *
// scale + shift then reads two values that are not constants but are the
// same for every image; trials read them from the golden run and go on
// window by window through the batch norm (before, every trial stopped there
// and ran the rest of the network whole). Faults into scale or shift
// themselves reach the whole tensor and go on batched.
TEST_F(FastEngineAgreement, BatchNormComputedAtRunTime) {
  expect_agreement(write_tf_campaign(32, 33, /*runtime_batch_norm=*/true) +
                       "seed: 16\nbatch: 16\n" + every_fault_model(20),
                   10000);

  // The batch norm's Mul and Add run on windows; what computes their scale
  // and shift does not (it has no image layout).
  Expected<std::shared_ptr<Graph>> model = load_model(path("model.pb"));
  ASSERT_TRUE(model.has_value()) << model.status().message();
  PlanOptions options;
  options.use_fast_kernels = false;
  Expected<std::shared_ptr<Plan>> plan = Plan::create(*model, {{1, 10, 10, 3}}, options);
  ASSERT_TRUE(plan.has_value()) << plan.status().message();
  const RegionModel regions(**plan, {});
  auto op_of = [&](const std::string& name) {
    for (size_t n = 0; n < (*model)->nodes.size(); ++n) {
      if ((*model)->nodes[n].name == name) return regions.node(static_cast<NodeId>(n)).op;
    }
    return RegionOp::kNone;
  };
  EXPECT_EQ(op_of("bn/mul"), RegionOp::kPointwise);
  EXPECT_EQ(op_of("bn/add"), RegionOp::kPointwise);
  EXPECT_EQ(op_of("bn/batchnorm/Rsqrt"), RegionOp::kNone);
  EXPECT_EQ(op_of("bn/batchnorm/sub"), RegionOp::kNone);
  // Each conv's pointwise nodes run on its window in the same step (their
  // layout is channels last): the bias add and Relu6, the batch norm's Mul
  // and Add and the Relu.
  auto id_of = [&](const std::string& name) {
    for (size_t n = 0; n < (*model)->nodes.size(); ++n) {
      if ((*model)->nodes[n].name == name) return static_cast<NodeId>(n);
    }
    return kNoNode;
  };
  EXPECT_EQ(regions.node(id_of("conv1/Conv2D")).fused_pointwise,
            (std::vector<NodeId>{id_of("conv1/BiasAdd"), id_of("conv1/Relu6")}));
  EXPECT_EQ(regions.node(id_of("dw/depthwise")).fused_pointwise,
            (std::vector<NodeId>{id_of("bn/mul"), id_of("bn/add"), id_of("bn/Relu")}));
}

// A trial that changes a conv's input and also injects inside the chain of
// pointwise nodes the conv runs on its window (RegionNode::fused_pointwise):
// the chain runs fused up to that node, whose output is stored for the
// injection, and the rest of the chain at its own turns.
TEST_F(FastEngineAgreement, FaultsInsideAConvsFusedChain) {
  expect_agreement(write_tf_campaign(32, 34) + "seed: 17\nbatch: 16\n" + R"(experiments:
  - name: at_the_chains_first_node
    target: {nodes: [conv1/Relu6, bn/mul]}
    fault: {model: bitflip, bits: random}
    probability: 1.0
    repetitions: 40
  - name: in_the_middle
    target: {nodes: [conv1/BiasAdd, bn/add]}
    fault: {model: bitflip, bits: "20..31"}
    probability: 1.0
    repetitions: 40
  - name: nan_in_the_middle
    target: {nodes: [conv1/Relu6, bn/add]}
    fault: {model: set, value: nan}
    probability: 1.0
    repetitions: 4
)",
                   5000);
}

class PooledTails : public FastEngineAgreement {
 protected:
  // The TF graph on 32 random images (labels all 1) with `settings`
  // as the campaign's header and experiments: the fast run (with `fast`
  // options) must match the naive one fault by fault; returns its
  // window_phase timing.
  nlohmann::json window_phase_of_agreeing_tf_run(const std::string& settings, RunOptions fast) {
    write_tf_graph(path("model.pb"), false);
    const int64_t images = 32;
    EXPECT_TRUE(
        write_npy(path("x.npy"), random_tensor({images, 10, 10, 3}, 31, 0.0f, 1.0f)).is_ok());
    std::vector<int64_t> labels(static_cast<size_t>(images), 1);
    EXPECT_TRUE(write_npy(path("y.npy"), Tensor::from_vector<int64_t>(labels, {images})).is_ok());
    const CampaignSpec spec =
        campaign("model: " + path("model.pb").string() +
                 "\nfeed: x\nfetch: probs\ndata: {spec: \"npy:" + path("x.npy").string() + "," +
                 path("y.npy").string() + "\"}\n" + settings);
    RunOptions naive;
    naive.engine = Engine::kNaive;
    const nlohmann::json summary = run(spec, "fast", fast);
    const nlohmann::json reference = run(spec, "naive", naive);
    EXPECT_EQ(fault_rows("fast"), fault_rows("naive"));
    EXPECT_EQ(summary["experiments"], reference["experiments"]);
    return summary["timing"]["window_phase"];
  }
};

TEST_F(PooledTails, AcrossUnitsAndSettingsOfABatch) {
  // Two conv layers, each its own setting, 6 repetitions, two batches: every
  // survivor leaves its windows at the Reshape, so the 24 units of a batch
  // share one tail run (fewer than 4 M multiply-adds: one chunk).
  const nlohmann::json window = window_phase_of_agreeing_tf_run(R"(seed: 14
batch: 16
experiments:
  - name: convs
    target: {layers: [conv1, dw], each: true}
    fault: {model: bitflip, bits: "23..30"}
    probability: 1.0
    repetitions: 6
)",
                                                                RunOptions{});
  ASSERT_GT(window.value("batched", 0), 24) << window.dump();
  EXPECT_EQ(window.value("tail_runs", 0), 2) << window.dump();
}

TEST_F(PooledTails, AcrossBatchesFromTheStash) {
  // One thread, so batches run one at a time (as a large model's do): a few
  // survivors per batch of 4 wait in the stash with copies of their golden
  // rows, and the tails of 4 batches run at once: two runs for 8 batches.
  RunOptions one_thread;
  one_thread.threads = 1;
  const nlohmann::json window = window_phase_of_agreeing_tf_run(R"(seed: 15
batch: 4
experiments:
  - name: conv
    target: {layers: [conv1]}
    fault: {model: bitflip, bits: "23..30"}
    probability: 1.0
)",
                                                                one_thread);
  ASSERT_GT(window.value("batched", 0), 4) << window.dump();
  EXPECT_EQ(window.value("tail_runs", 0), 2) << window.dump();
}

TEST_F(FastEngineAgreement, GtsrbKerasCnn) {
  NNFI_REQUIRE_FIXTURES();
  const std::string fixtures = NNFI_FIXTURES_DIR;
  expect_agreement("model: " + fixtures + "/keras/gtsrb_cnn_keras2.11.h5\n" +
                       "data: {spec: \"gtsrb:" + fixtures +
                       "/data/gtsrb_test_32x32\", resize: [30, 30], scale: 1, limit: 48}\n" +
                       "seed: 13\nbatch: 16\n" + every_fault_model(10),
                   10000);
}

}  // namespace
}  // namespace nnfi::testing
