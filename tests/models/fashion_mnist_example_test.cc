// The project's own demo model (examples/fashion_mnist, trained with PyTorch
// and exported to ONNX). It ships with the repository, so these tests run on
// every clone: PyTorch's outputs reproduced, and each image's outputs
// bit-identical whether it runs alone or inside the batch of 8.
#include <cstring>
#include <memory>

#include "nnfi/data.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

const std::filesystem::path kExample =
    std::filesystem::path(NNFI_SOURCE_DIR) / "examples/fashion_mnist";

// Runs `images` as one batch and returns a copy of the graph output.
Tensor run_batch(const std::shared_ptr<Graph>& graph, const Tensor& images, bool fast) {
  auto plan = Plan::create(graph, {images.shape()}, PlanOptions{.use_fast_kernels = fast});
  EXPECT_TRUE(plan.has_value()) << plan.status().message();
  if (!plan.has_value()) return {};
  Executor executor(*plan);
  EXPECT_TRUE(executor.set_input(0, images).is_ok());
  Status status = executor.run();
  EXPECT_TRUE(status.is_ok()) << status.message();
  return executor.value(graph->outputs[0]).clone();
}

class FashionMnistExample : public ::testing::TestWithParam<bool> {};

TEST_P(FashionMnistExample, ReproducesPyTorchOutputs) {
  auto graph = load_model(kExample / "fashion_mnist_cnn.onnx");
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  auto input = read_npy(kExample / "golden_input.npy");
  auto expected = read_npy(kExample / "golden_output.npy");
  ASSERT_TRUE(input.has_value()) << input.status().message();
  ASSERT_TRUE(expected.has_value()) << expected.status().message();
  Tensor output = run_batch(*graph, *input, GetParam());
  EXPECT_TRUE(testing::tensors_close(output, *expected, 1e-5, 1e-6));
}

TEST_P(FashionMnistExample, ImageAloneEqualsImageInBatchBitForBit) {
  auto graph = load_model(kExample / "fashion_mnist_cnn.onnx");
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  auto input = read_npy(kExample / "golden_input.npy");
  ASSERT_TRUE(input.has_value());
  Tensor batch_output = run_batch(*graph, *input, GetParam());
  const int64_t images = input->dim(0);
  const size_t image_floats = static_cast<size_t>(input->num_elements() / images);
  const size_t class_count = static_cast<size_t>(batch_output.num_elements() / images);
  for (int64_t i = 0; i < images; ++i) {
    Tensor one(DType::kFloat32, {1, 1, 28, 28});
    std::memcpy(one.data<float>(), input->data<float>() + i * image_floats,
                image_floats * sizeof(float));
    Tensor alone = run_batch(*graph, one, GetParam());
    EXPECT_EQ(std::memcmp(alone.data<float>(), batch_output.data<float>() + i * class_count,
                          class_count * sizeof(float)),
              0)
        << "image " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, FashionMnistExample, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Fast" : "Reference"; });

}  // namespace
}  // namespace nnfi
