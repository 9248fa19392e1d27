// The real fixture: ONNX Model Zoo mnist-8 (CNTK, opset 8, IR version 3)
// imported, run through Plan/Executor and compared with the golden outputs.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "nnfi/graph.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi::testing {
namespace {

// A minimal reader for little-endian float32 C-order .npy files (versions 1
// and 2), enough for the golden files; src/data has the real one.
Expected<Tensor> read_float_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path.string() + ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    return invalid_argument(path.string() + ": not an .npy file");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_length = 0;
  size_t offset = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(bytes[8]) |
                    static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8;
    offset = 10;
  } else {
    uint32_t length = 0;
    std::memcpy(&length, bytes.data() + 8, 4);
    header_length = length;
    offset = 12;
  }
  const std::string header = bytes.substr(offset, header_length);
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    return unsupported(path.string() + ": only C-order float32 is read here: " + header);
  }
  const size_t open = header.find('(', header.find("'shape'"));
  const size_t close = header.find(')', open);
  Shape shape;
  std::stringstream dims(header.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(dims, item, ',')) {
    if (item.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoll(item));
  }
  Tensor tensor(DType::kFloat32, shape);
  const size_t data_offset = offset + header_length;
  if (bytes.size() - data_offset != tensor.num_bytes()) {
    return invalid_argument(path.string() + ": data size does not match the shape");
  }
  std::memcpy(tensor.raw_data(), bytes.data() + data_offset, tensor.num_bytes());
  return tensor;
}

TEST(OnnxMnistTest, ImportsMnist8Structure) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = load_model(fixtures_dir() / "onnx/mnist-8.onnx");
  ASSERT_TRUE(graph) << graph.status().message();
  const Graph& g = **graph;
  // Initializers are listed among the inputs (IR version 3): one user input.
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.values[g.inputs[0]].name, "Input3");
  EXPECT_EQ(g.values[g.inputs[0]].shape, (Shape{1, 1, 28, 28}));
  ASSERT_EQ(g.outputs.size(), 1u);
  EXPECT_EQ(g.values[g.outputs[0]].name, "Plus214_Output_0");
  EXPECT_EQ(g.values[g.outputs[0]].shape, (Shape{1, 10}));
  EXPECT_EQ(g.nodes.size(), 12u);
  EXPECT_EQ(g.layers.size(), 12u);
  auto conv = g.find_node("Convolution28");
  ASSERT_TRUE(conv.has_value());
  EXPECT_EQ(g.nodes[*conv].op, OpType::kConv);
  EXPECT_EQ(g.layers[g.nodes[*conv].layer].class_name, "Conv");
  EXPECT_EQ(g.layer_parameter_count(g.nodes[*conv].layer), 8 * 1 * 5 * 5);
  auto pool = g.find_node("Pooling66");
  ASSERT_TRUE(pool.has_value());
  EXPECT_EQ(g.nodes[*pool].attributes.get_ints("kernel_shape"), (std::vector<int64_t>{2, 2}));
}

TEST(OnnxMnistTest, Mnist8MatchesGoldenOutputs) {
  NNFI_REQUIRE_FIXTURES();
  auto graph = import_onnx(fixtures_dir() / "onnx/mnist-8.onnx");
  ASSERT_TRUE(graph) << graph.status().message();
  auto input = read_float_npy(fixtures_dir() / "golden/mnist-8/input.npy");
  ASSERT_TRUE(input) << input.status().message();
  auto expected = read_float_npy(fixtures_dir() / "golden/mnist-8/output.npy");
  ASSERT_TRUE(expected) << expected.status().message();
  ASSERT_EQ(input->shape(), (Shape{16, 1, 1, 28, 28}));
  ASSERT_EQ(expected->shape(), (Shape{16, 10}));

  // The model's batch is fixed at 1: run each image alone, with the fast
  // kernels the plan picks and with reference kernels only.
  std::shared_ptr<const Graph> shared = *graph;
  const ValueId output = shared->outputs[0];
  for (bool fast : {true, false}) {
    PlanOptions options;
    options.use_fast_kernels = fast;
    auto plan = Plan::create(shared, {Shape{1, 1, 28, 28}}, options);
    ASSERT_TRUE(plan) << plan.status().message();
    Executor executor(*plan);
    for (int64_t image = 0; image < 16; ++image) {
      Tensor one(DType::kFloat32, {1, 1, 28, 28});
      std::memcpy(one.raw_data(), input->data<float>() + image * 784, 784 * sizeof(float));
      ASSERT_TRUE(executor.set_input(0, one).is_ok());
      Status status = executor.run();
      ASSERT_TRUE(status.is_ok()) << status.message();
      Tensor want(DType::kFloat32, {1, 10});
      std::memcpy(want.raw_data(), expected->data<float>() + image * 10, 10 * sizeof(float));
      EXPECT_TRUE(tensors_close(executor.value(output), want, 1e-5, 1e-5))
          << "image " << image << (fast ? " (fast kernels)" : " (reference kernels)");
    }
  }
}

}  // namespace
}  // namespace nnfi::testing
