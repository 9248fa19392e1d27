// nnfi side of the inference benchmark (bench/run_inference_bench.sh compares it with ONNX
// Runtime): loads a model with nnfi::load_model, plans it for one batch size, times whole
// forward passes and writes the output of the last one as .npy.
//
// Timing is plain std::chrono, not Google Benchmark, on purpose: the ORT runner
// (bench/ort/run_ort.js) must follow exactly the same protocol for the ratio to mean something
// (same input, `warmup` untimed runs, then runs until --iters are done or --max-seconds have
// passed, at least one), and with reference kernels a single VGG16 pass can take minutes, which
// rules out Google Benchmark's own choice of iteration counts. Images/s = batch * runs / seconds;
// a run is set_input + Executor::run, like ORT's session.run.
//
//   nnfi_infer_bench --model m.onnx --input x.npy --batch 32 [--output y.npy]
//                    [--warmup 1] [--iters 20] [--max-seconds 10] [--reference]
//                    [--unfused] [--profile]
//
// Plans are made with PlanOptions::fuse_for_inference (what `nnfi infer` uses) unless --unfused.
//
// --profile: after the timed runs, runs the plan node by node as many times again and prints
// where the time goes (per op type and the slowest nodes), on stderr.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nnfi/data.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"

namespace nnfi::bench {
namespace {

struct Options {
  std::string model;
  std::string input;
  std::string output;
  std::string name;
  int64_t batch = 1;
  int warmup = 1;
  int iters = 20;
  double max_seconds = 10.0;
  bool reference = false;
  bool unfused = false;
  bool profile = false;
};

using Clock = std::chrono::steady_clock;

// Times `runs` passes node by node; prints the share per op type and the slowest nodes.
Status profile_nodes(Executor& executor, const Tensor& input, int runs) {
  const Plan& plan = executor.plan();
  const Graph& graph = plan.graph();
  std::vector<double> node_seconds(graph.nodes.size(), 0.0);
  for (int r = 0; r < runs; ++r) {
    NNFI_RETURN_IF_ERROR(executor.set_input(0, input));
    for (NodeId node = 0; node < static_cast<NodeId>(graph.nodes.size()); ++node) {
      const Clock::time_point start = Clock::now();
      NNFI_RETURN_IF_ERROR(executor.run_range(node, node + 1));
      node_seconds[node] += std::chrono::duration<double>(Clock::now() - start).count();
    }
  }
  double total = 0.0;
  std::map<std::string, double> per_op;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    total += node_seconds[n];
    per_op[std::string(op_type_name(graph.nodes[n].op))] += node_seconds[n];
  }
  std::fprintf(stderr, "PROFILE %d runs, %.3f ms per run\n", runs, total * 1000.0 / runs);
  for (const auto& [op, seconds] : per_op) {
    std::fprintf(stderr, "  %-20s %8.3f ms %5.1f%%\n", op.c_str(), seconds * 1000.0 / runs,
                 100.0 * seconds / total);
  }
  std::vector<size_t> order(graph.nodes.size());
  for (size_t n = 0; n < order.size(); ++n) order[n] = n;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return node_seconds[a] > node_seconds[b]; });
  for (size_t i = 0; i < order.size() && i < 25 && node_seconds[order[i]] > 0.0; ++i) {
    const Node& node = graph.nodes[order[i]];
    const Shape& out = plan.value_shape(node.outputs[0]);
    std::fprintf(stderr, "  #%-4zu %-18s %-28s %-20s %8.3f ms%s\n", order[i],
                 std::string(op_type_name(node.op)).c_str(), node.name.c_str(),
                 shape_to_string(out).c_str(), node_seconds[order[i]] * 1000.0 / runs,
                 plan.node_uses_fast_kernel(static_cast<NodeId>(order[i])) ? " fast" : "");
  }
  return Status::ok();
}

// The first `batch` images of `all` (N, ...) as a tensor of shape (batch, ...).
Expected<Tensor> take_batch(const Tensor& all, int64_t batch, const std::string& file) {
  if (all.rank() < 1 || all.dim(0) < batch) {
    return invalid_argument(file + ": shape " + shape_to_string(all.shape()) +
                            " holds fewer than " + std::to_string(batch) + " images");
  }
  Shape shape = all.shape();
  shape[0] = batch;
  Tensor out(DType::kFloat32, shape);
  std::memcpy(out.raw_data(), all.raw_data(), out.num_bytes());
  return out;
}

Status check_input_shape(const Graph& graph, const Shape& given) {
  const Value& input = graph.values[graph.inputs[0]];
  bool ok = input.shape.size() == given.size();
  for (size_t i = 0; ok && i < given.size(); ++i) {
    ok = input.shape[i] == kUnknownDim || input.shape[i] == given[i];
  }
  if (!ok) {
    return invalid_argument("model input '" + input.name + "' has shape " +
                            shape_to_string(input.shape) + ", the input file gives " +
                            shape_to_string(given));
  }
  return Status::ok();
}

Status run(const Options& options) {
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph, load_model(options.model));
  if (graph->inputs.size() != 1 || graph->outputs.empty()) {
    return unsupported(options.model + ": the benchmark needs exactly one input, found " +
                       std::to_string(graph->inputs.size()));
  }
  NNFI_ASSIGN_OR_RETURN(Tensor all, read_npy(options.input));
  if (all.dtype() != DType::kFloat32) {
    return unsupported(options.input + ": expected float32, found " +
                       std::string(dtype_name(all.dtype())));
  }
  NNFI_ASSIGN_OR_RETURN(Tensor input, take_batch(all, options.batch, options.input));
  NNFI_RETURN_IF_ERROR(check_input_shape(*graph, input.shape()));

  PlanOptions plan_options;
  plan_options.use_fast_kernels = !options.reference;
  plan_options.fuse_for_inference = !options.unfused;
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Plan> plan,
                        Plan::create(graph, {input.shape()}, plan_options));
  int fast_nodes = 0;
  int run_nodes = 0;
  int fused_nodes = 0;
  for (NodeId node = 0; node < static_cast<NodeId>(graph->nodes.size()); ++node) {
    if (plan->node_folded(node)) continue;
    if (plan->node_fused_away(node)) {
      ++fused_nodes;
      continue;
    }
    ++run_nodes;
    if (plan->node_uses_fast_kernel(node)) ++fast_nodes;
  }
  Executor executor(plan);

  for (int i = 0; i < options.warmup; ++i) {
    NNFI_RETURN_IF_ERROR(executor.set_input(0, input));
    NNFI_RETURN_IF_ERROR(executor.run());
  }
  const Clock::time_point start = Clock::now();
  double seconds = 0.0;
  int runs = 0;
  while (runs < options.iters && (runs == 0 || seconds < options.max_seconds)) {
    NNFI_RETURN_IF_ERROR(executor.set_input(0, input));
    NNFI_RETURN_IF_ERROR(executor.run());
    ++runs;
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }

  if (!options.output.empty()) {
    NNFI_RETURN_IF_ERROR(write_npy(options.output, executor.value(graph->outputs[0])));
  }
  if (options.profile) NNFI_RETURN_IF_ERROR(profile_nodes(executor, input, runs));
  // One machine-readable line; run_inference_bench.sh greps for it.
  std::printf(
      "RESULT engine=nnfi model=%s batch=%lld runs=%d seconds=%.4f images_per_s=%.3f "
      "ms_per_batch=%.3f fast_nodes=%d/%d fused_away=%d\n",
      options.name.c_str(), static_cast<long long>(options.batch), runs, seconds,
      static_cast<double>(options.batch) * runs / seconds, seconds * 1000.0 / runs, fast_nodes,
      run_nodes, fused_nodes);
  return Status::ok();
}

}  // namespace
}  // namespace nnfi::bench

int main(int argc, char** argv) {
  nnfi::bench::Options options;
  CLI::App app{"nnfi inference throughput on one ONNX model (see bench/README.md)"};
  app.add_option("--model", options.model, "ONNX model file")->required()->check(CLI::ExistingFile);
  app.add_option("--input", options.input, "float32 .npy (N, ...), the first --batch images")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--output", options.output, "write the last output here (.npy)");
  app.add_option("--name", options.name, "model name printed in the result line");
  app.add_option("--batch", options.batch, "batch size")->check(CLI::Range(1, 1 << 16));
  app.add_option("--warmup", options.warmup, "untimed runs first")->check(CLI::Range(0, 1000));
  app.add_option("--iters", options.iters, "timed runs at most")->check(CLI::Range(1, 1000000));
  app.add_option("--max-seconds", options.max_seconds, "stop timing after this (>= 1 run)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--reference", options.reference, "reference kernels only (no oneDNN)");
  app.add_flag("--unfused", options.unfused, "plan without PlanOptions::fuse_for_inference");
  app.add_flag("--profile", options.profile, "then time each node (stderr)");
  CLI11_PARSE(app, argc, argv);
  if (options.name.empty()) options.name = std::filesystem::path(options.model).stem().string();

  const nnfi::Status status = nnfi::bench::run(options);
  if (!status.is_ok()) {
    std::fprintf(stderr, "nnfi_infer_bench: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
