// The ONNX backend node tests (Debian's libonnx-testdata) run through nnfi:
// one test per case whose model nnfi can import op-wise; cases using an op
// nnfi does not support are counted as not applicable. Applicable cases that
// fail for a documented limitation are listed in excluded.txt (skipped, with
// the reason); every other failure is a bug.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "import/onnx/onnx_importer.h"
#include "import/onnx/onnx_tensor.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"

namespace nnfi::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kNodeDir = "/usr/share/libonnx-testdata/data/node";
constexpr double kRtol = 1e-3;
constexpr double kAtol = 1e-5;
// Only the op check decides applicability (see onnx_node.cc).
constexpr const char* kOpNotSupported = "is not supported by nnfi; supported ops:";
// A kernel's prepare asking for a plan-time constant where the test feeds one.
constexpr const char* kNeedsConstant = "expected a constant known at plan time";

struct Scan {
  std::vector<std::string> all_cases;
  std::vector<std::string> applicable;          // what the tests run on
  std::map<std::string, std::string> excluded;  // case -> reason, from excluded.txt
};

std::map<std::string, std::string> read_excluded() {
  std::map<std::string, std::string> excluded;
  std::ifstream in(fs::path(NNFI_SOURCE_DIR) / "tests/conformance/excluded.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    std::string reason;
    std::getline(fields >> std::ws, reason);
    if (!name.empty()) excluded[name] = reason;
  }
  return excluded;
}

const Scan& scan() {
  static const Scan result = [] {
    Scan scan;
    std::error_code error;
    if (!fs::is_directory(kNodeDir, error)) return scan;
    for (const auto& entry : fs::directory_iterator(kNodeDir, error)) {
      if (fs::exists(entry.path() / "model.onnx")) {
        scan.all_cases.push_back(entry.path().filename().string());
      }
    }
    std::sort(scan.all_cases.begin(), scan.all_cases.end());
    for (const std::string& name : scan.all_cases) {
      auto graph = import_onnx(kNodeDir / name / "model.onnx");
      if (!graph && graph.status().message().find(kOpNotSupported) != std::string::npos) continue;
      scan.applicable.push_back(name);
    }
    scan.excluded = read_excluded();
    return scan;
  }();
  return result;
}

Expected<Tensor> read_tensor_pb(const fs::path& path) {
  NNFI_ASSIGN_OR_RETURN(onnx_import::FileBytes bytes, onnx_import::read_file_bytes(path));
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes.data.get(), static_cast<int>(bytes.size))) {
    return invalid_argument(path.string() + ": not a TensorProto");
  }
  Expected<Tensor> tensor = onnx_import::tensor_from_onnx(proto);
  if (!tensor) return tensor.status().with_context(path.string());
  return tensor;
}

std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0; fs::exists(dir / (prefix + std::to_string(i) + ".pb")); ++i) {
    files.push_back(dir / (prefix + std::to_string(i) + ".pb"));
  }
  return files;
}

// "" where they agree: same dtype and shape, floats within tolerance (NaN
// meets NaN, Inf the same Inf), integers and bools exactly.
std::string compare(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype() != expected.dtype()) {
    return "dtype " + std::string(dtype_name(actual.dtype())) + ", expected " +
           std::string(dtype_name(expected.dtype()));
  }
  if (actual.shape() != expected.shape()) {
    return "shape " + shape_to_string(actual.shape()) + ", expected " +
           shape_to_string(expected.shape());
  }
  const bool is_float = dtype_is_float(expected.dtype());
  for (int64_t i = 0; i < expected.num_elements(); ++i) {
    bool ok;
    if (is_float) {
      const double a = actual.element_as_double(i);
      const double e = expected.element_as_double(i);
      if (std::isnan(e)) {
        ok = std::isnan(a);
      } else if (std::isinf(e)) {
        ok = a == e;
      } else {
        ok = std::isfinite(a) && std::fabs(a - e) <= kAtol + kRtol * std::fabs(e);
      }
      if (!ok) {
        std::ostringstream text;
        text << "element " << i << " is " << a << ", expected " << e;
        return text.str();
      }
    } else if (actual.element_as_int64(i) != expected.element_as_int64(i)) {
      return "element " + std::to_string(i) + " is " + std::to_string(actual.element_as_int64(i)) +
             ", expected " + std::to_string(expected.element_as_int64(i));
    }
  }
  return "";
}

struct CaseResult {
  std::string failure;        // "" when every data set matched
  bool bound_inputs = false;  // integer inputs were bound as plan-time constants
};

// The model, with the integer graph inputs turned into constants holding
// `inputs`' values where `bind` (kernels want Reshape's shape, Squeeze's axes
// and Pad's pads at plan time; the node tests feed them). `fed` gets the
// indices of the inputs still fed at run time.
Expected<std::shared_ptr<Graph>> import_case(const fs::path& model, bool bind,
                                             const std::vector<Tensor>& inputs,
                                             std::vector<size_t>& fed) {
  fed.clear();
  if (!bind) {
    for (size_t i = 0; i < inputs.size(); ++i) fed.push_back(i);
    return import_onnx(model);
  }
  NNFI_ASSIGN_OR_RETURN(onnx_import::FileBytes bytes, onnx_import::read_file_bytes(model));
  onnx::ModelProto proto;
  NNFI_RETURN_IF_ERROR(onnx_import::parse_model(bytes.view(), &proto));
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<Graph> graph, onnx_import::build_graph(proto));
  if (inputs.size() != graph->inputs.size()) {
    return invalid_argument(std::to_string(inputs.size()) + " input files for " +
                            std::to_string(graph->inputs.size()) + " graph inputs");
  }
  std::vector<ValueId> still_fed;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Value& value = graph->values[graph->inputs[i]];
    if (value.dtype == DType::kInt64 || value.dtype == DType::kInt32) {
      value.constant = inputs[i].clone();
      value.shape = inputs[i].shape();
    } else {
      still_fed.push_back(graph->inputs[i]);
      fed.push_back(i);
    }
  }
  graph->inputs = still_fed;
  NNFI_RETURN_IF_ERROR(graph->finalize());
  return graph;
}

CaseResult run_case(const std::string& name) {
  const fs::path dir = kNodeDir / name;
  CaseResult result;
  auto first = import_onnx(dir / "model.onnx");
  if (!first) {
    if (first.status().message().find(kNeedsConstant) == std::string::npos) {
      result.failure = "import: " + first.status().message();
      return result;
    }
    result.bound_inputs = true;
  }
  int data_sets = 0;
  for (int set = 0; fs::exists(dir / ("test_data_set_" + std::to_string(set)));
       ++set, ++data_sets) {
    const fs::path set_dir = dir / ("test_data_set_" + std::to_string(set));
    const std::string where = "test_data_set_" + std::to_string(set) + ": ";
    auto fail = [&](const std::string& message) {
      result.failure = where + message;
      return result;
    };
    std::vector<Tensor> inputs;
    for (const fs::path& file : numbered_files(set_dir, "input_")) {
      auto tensor = read_tensor_pb(file);
      if (!tensor) return fail(tensor.status().message());
      inputs.push_back(std::move(tensor).value());
    }
    std::vector<size_t> fed;
    auto imported = import_case(dir / "model.onnx", result.bound_inputs, inputs, fed);
    if (!imported) return fail("import: " + imported.status().message());
    std::shared_ptr<const Graph> graph = *imported;
    if (fed.size() != graph->inputs.size()) {
      return fail(std::to_string(fed.size()) + " input files for " +
                  std::to_string(graph->inputs.size()) + " graph inputs");
    }
    std::vector<Shape> shapes;
    for (size_t i : fed) shapes.push_back(inputs[i].shape());
    std::vector<fs::path> outputs = numbered_files(set_dir, "output_");
    if (outputs.size() != graph->outputs.size()) {
      return fail(std::to_string(outputs.size()) + " output files for " +
                  std::to_string(graph->outputs.size()) + " graph outputs");
    }
    std::vector<Tensor> expected;
    for (const fs::path& file : outputs) {
      auto tensor = read_tensor_pb(file);
      if (!tensor) return fail(tensor.status().message());
      expected.push_back(std::move(tensor).value());
    }
    // Both kernel sets: the plan's choice of fast kernels and reference only.
    for (bool fast : {true, false}) {
      const std::string kernels = fast ? "(fast kernels) " : "(reference kernels) ";
      PlanOptions options;
      options.use_fast_kernels = fast;
      auto plan = Plan::create(graph, shapes, options);
      if (!plan) return fail(kernels + "plan: " + plan.status().message());
      Executor executor(*plan);
      for (size_t k = 0; k < fed.size(); ++k) {
        Status status = executor.set_input(k, inputs[fed[k]]);
        if (!status.is_ok()) {
          return fail(kernels + "input " + std::to_string(fed[k]) + ": " + status.message());
        }
      }
      Status status = executor.run();
      if (!status.is_ok()) return fail(kernels + "run: " + status.message());
      for (size_t o = 0; o < outputs.size(); ++o) {
        std::string mismatch = compare(executor.value(graph->outputs[o]), expected[o]);
        if (!mismatch.empty()) {
          return fail(kernels + "output " + std::to_string(o) + " ('" +
                      graph->values[graph->outputs[o]].name + "'): " + mismatch);
        }
      }
    }
  }
  if (data_sets == 0) result.failure = "no test_data_set_* folder";
  return result;
}

// Results of this process, so the summary reuses what the case tests ran.
const CaseResult& case_result(const std::string& name) {
  static std::map<std::string, CaseResult> results;
  auto it = results.find(name);
  if (it == results.end()) it = results.emplace(name, run_case(name)).first;
  return it->second;
}

TEST(OnnxConformanceCompare, ToleratesWithinRtolAndMatchesNaN) {
  Tensor expected = Tensor::from_vector<float>({1.0f, NAN, INFINITY, 0.0f}, {4});
  Tensor actual = Tensor::from_vector<float>({1.0005f, NAN, INFINITY, 5e-6f}, {4});
  EXPECT_EQ(compare(actual, expected), "");
}

TEST(OnnxConformanceCompare, RejectsValueNaNInfShapeAndDtypeMismatches) {
  Tensor expected = Tensor::from_vector<float>({1.0f, NAN, INFINITY}, {3});
  EXPECT_NE(compare(Tensor::from_vector<float>({1.01f, NAN, INFINITY}, {3}), expected), "");
  EXPECT_NE(compare(Tensor::from_vector<float>({1.0f, 0.0f, INFINITY}, {3}), expected), "");
  EXPECT_NE(compare(Tensor::from_vector<float>({1.0f, NAN, -INFINITY}, {3}), expected), "");
  EXPECT_NE(compare(Tensor::from_vector<float>({1.0f, NAN, INFINITY}, {1, 3}), expected), "");
  EXPECT_NE(compare(Tensor::from_vector<int64_t>({1, 0, 0}, {3}), expected), "");
  Tensor ints = Tensor::from_vector<int64_t>({int64_t{1} << 60, 2}, {2});
  EXPECT_NE(compare(Tensor::from_vector<int64_t>({(int64_t{1} << 60) + 1, 2}, {2}), ints), "");
}

class OnnxNodeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeTest, MatchesReferenceOutputs) {
  const std::string& name = GetParam();
  const std::string& failure = case_result(name).failure;
  auto excluded = scan().excluded.find(name);
  if (excluded != scan().excluded.end()) {
    if (failure.empty()) {
      GTEST_SKIP() << "excluded (" << excluded->second
                   << ") but passes now: remove it from tests/conformance/excluded.txt";
    }
    GTEST_SKIP() << "excluded: " << excluded->second << " [" << failure << "]";
  }
  EXPECT_EQ(failure, "") << name;
}

INSTANTIATE_TEST_SUITE_P(Onnx, OnnxNodeTest, ::testing::ValuesIn(scan().applicable),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OnnxNodeTest);

// A parameterized suite defined after OnnxNodeTest, so it runs after it.
class OnnxNodeSummary : public ::testing::TestWithParam<int> {};

TEST_P(OnnxNodeSummary, PrintsCounts) {
  const Scan& s = scan();
  if (s.all_cases.empty()) {
    GTEST_SKIP() << "SKIPPED: " << kNodeDir
                 << " is missing or empty; install the Debian package libonnx-testdata";
  }
  int passed = 0;
  int excluded = 0;
  int bound = 0;
  std::vector<std::string> failing;
  std::vector<std::string> stale;  // excluded but passing
  for (const std::string& name : s.applicable) {
    const bool is_excluded = s.excluded.count(name) != 0;
    const CaseResult& result = case_result(name);
    const bool ok = result.failure.empty();
    passed += ok ? 1 : 0;
    excluded += is_excluded ? 1 : 0;
    bound += ok && result.bound_inputs ? 1 : 0;
    if (!ok && !is_excluded) failing.push_back(name + ": " + result.failure);
    if (ok && is_excluded) stale.push_back(name);
  }
  std::vector<std::string> unknown;
  for (const auto& [name, reason] : s.excluded) {
    if (std::find(s.applicable.begin(), s.applicable.end(), name) == s.applicable.end()) {
      unknown.push_back(name);
    }
  }
  std::cout << "ONNX node conformance: " << passed << " passed of " << s.applicable.size()
            << " applicable (" << s.all_cases.size() << " cases in the package, " << excluded
            << " excluded)\n";
  std::cout << "  (" << bound << " of the passed cases ran with their integer inputs bound as "
            << "plan-time constants: shape, axes, pads)\n";
  for (const std::string& line : failing) std::cout << "  FAILING " << line << "\n";
  for (const std::string& name : stale) {
    std::cout << "  excluded but passing (remove from excluded.txt): " << name << "\n";
  }
  for (const std::string& name : unknown) {
    std::cout << "  excluded.txt names a case that is not applicable: " << name << "\n";
  }
  EXPECT_TRUE(failing.empty()) << failing.size() << " applicable cases fail (listed above)";
  EXPECT_TRUE(unknown.empty()) << "excluded.txt names cases that are not applicable";
}

INSTANTIATE_TEST_SUITE_P(Onnx, OnnxNodeSummary, ::testing::Values(0),
                         [](const ::testing::TestParamInfo<int>&) { return "All"; });

}  // namespace
}  // namespace nnfi::testing
