// mnist-8 (ONNX model zoo, CNTK 2.5.1) through the library: load_model, a
// Plan for its fixed 1x1x28x28 input, an Executor per image; the logits must
// match the fixture's independent numpy forward pass.
#include <algorithm>
#include <memory>

#include "nnfi/data.h"
#include "nnfi/model.h"
#include "nnfi/runtime.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

// Runs the 16 golden inputs one at a time (the model's batch is fixed at 1).
void run_golden(bool use_fast_kernels, Tensor* output) {
  const auto model = testing::fixtures_dir() / "onnx/mnist-8.onnx";
  const auto golden = testing::fixtures_dir() / "golden/mnist-8";
  Expected<std::shared_ptr<Graph>> graph = load_model(model);
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  ASSERT_EQ((*graph)->inputs.size(), 1u);
  ASSERT_EQ((*graph)->outputs.size(), 1u);
  const ValueId fetch = (*graph)->outputs[0];
  EXPECT_EQ((*graph)->values[fetch].name, "Plus214_Output_0");

  PlanOptions options;
  options.use_fast_kernels = use_fast_kernels;
  Expected<std::shared_ptr<Plan>> plan = Plan::create(*graph, {{1, 1, 28, 28}}, options);
  ASSERT_TRUE(plan.has_value()) << plan.status().message();
  Executor executor(*plan);

  Expected<Tensor> input = read_npy(golden / "input.npy");
  ASSERT_TRUE(input.has_value()) << input.status().message();
  ASSERT_EQ(input->shape(), (Shape{16, 1, 1, 28, 28}));
  *output = Tensor(DType::kFloat32, {16, 10});
  for (int64_t row = 0; row < 16; ++row) {
    Tensor image(DType::kFloat32, {1, 1, 28, 28});
    std::copy_n(input->data<float>() + row * 784, 784, image.data<float>());
    ASSERT_TRUE(executor.set_input(0, image).is_ok());
    Status status = executor.run();
    ASSERT_TRUE(status.is_ok()) << status.message();
    const Tensor& logits = executor.value(fetch);
    ASSERT_EQ(logits.shape(), (Shape{1, 10}));
    std::copy_n(logits.data<float>(), 10, output->data<float>() + row * 10);
  }
}

TEST(Mnist8GoldenTest, FastKernelsMatchNumpyReference) {
  NNFI_REQUIRE_FIXTURES();
  Tensor output;
  ASSERT_NO_FATAL_FAILURE(run_golden(/*use_fast_kernels=*/true, &output));
  Expected<Tensor> expected = read_npy(testing::fixtures_dir() / "golden/mnist-8/output.npy");
  ASSERT_TRUE(expected.has_value()) << expected.status().message();
  // 1e-5 relative; the absolute floor covers logits near zero (|logit| <= 28).
  EXPECT_TRUE(testing::tensors_close(output, *expected, 1e-5, 1e-5));
}

TEST(Mnist8GoldenTest, ReferenceKernelsMatchNumpyReference) {
  NNFI_REQUIRE_FIXTURES();
  Tensor output;
  ASSERT_NO_FATAL_FAILURE(run_golden(/*use_fast_kernels=*/false, &output));
  Expected<Tensor> expected = read_npy(testing::fixtures_dir() / "golden/mnist-8/output.npy");
  ASSERT_TRUE(expected.has_value()) << expected.status().message();
  EXPECT_TRUE(testing::tensors_close(output, *expected, 1e-5, 1e-5));
}

TEST(Mnist8GoldenTest, PredictsTheGoldenClasses) {
  NNFI_REQUIRE_FIXTURES();
  Tensor output;
  ASSERT_NO_FATAL_FAILURE(run_golden(/*use_fast_kernels=*/true, &output));
  Expected<Tensor> expected = read_npy(testing::fixtures_dir() / "golden/mnist-8/output.npy");
  ASSERT_TRUE(expected.has_value());
  for (int row = 0; row < 16; ++row) {
    const float* a = output.data<float>() + row * 10;
    const float* e = expected->data<float>() + row * 10;
    EXPECT_EQ(std::max_element(a, a + 10) - a, std::max_element(e, e + 10) - e) << "row " << row;
  }
}

}  // namespace
}  // namespace nnfi
