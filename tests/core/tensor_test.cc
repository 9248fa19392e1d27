// Tensor storage: owned buffers and views over memory the caller owns.
#include "nnfi/tensor.h"

#include <gtest/gtest.h>

#include <vector>

namespace nnfi {
namespace {

TEST(Tensor, ViewReadsAndWritesTheCallersMemory) {
  std::vector<float> buffer = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  Tensor view = Tensor::view(DType::kFloat32, {2, 3}, buffer.data());
  EXPECT_EQ(view.num_elements(), 6);
  EXPECT_EQ(view.data<float>(), buffer.data());
  view.data<float>()[4] = -1.0f;
  EXPECT_EQ(buffer[4], -1.0f);
  // A clone owns its copy; the view owns nothing, so no cache can key on it.
  Tensor copy = view.clone();
  buffer[0] = 9.0f;
  EXPECT_EQ(copy.data<float>()[0], 1.0f);
  EXPECT_EQ(copy.data<float>()[4], -1.0f);
  EXPECT_TRUE(view.storage().expired());
  EXPECT_FALSE(copy.storage().expired());
}

TEST(Tensor, EmptyViewHasNoElements) {
  float unused = 0.0f;
  const Tensor view = Tensor::view(DType::kFloat32, {0, 4}, &unused);
  EXPECT_EQ(view.num_elements(), 0);
  EXPECT_EQ(view.num_bytes(), 0u);
}

}  // namespace
}  // namespace nnfi
