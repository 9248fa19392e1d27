// Gemm and MatMul on the window kernels (a 1x1 convolution over an M-row,
// one-column image): against the reference kernels, a row's bits the same
// whatever rows run with it (batched tails of any size), AVX-512 and portable
// paths the same bits, and what the kernel declines.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/window_test_support.h"

namespace nnfi {
namespace {

using testing::bits_equal;
using testing::OpCase;
using testing::pick;
using testing::random_tensor;
using testing::run_window;

OpCase gemm_case(int64_t m, int64_t k, int64_t n, bool trans_b, bool with_c, uint32_t seed) {
  OpCase c;
  c.op = OpType::kGemm;
  c.inputs = {random_tensor({m, k}, seed),
              random_tensor(trans_b ? Shape{n, k} : Shape{k, n}, seed + 1)};
  if (with_c) c.inputs.push_back(random_tensor(seed % 2 == 0 ? Shape{n} : Shape{1, n}, seed + 2));
  if (trans_b) c.attrs.set("transB", int64_t{1});
  c.text = "Gemm M " + std::to_string(m) + " K " + std::to_string(k) + " N " + std::to_string(n) +
           (trans_b ? " transB" : "") + (with_c ? " C" : "");
  return c;
}

// Rows [first, first + count) of a's first input as a case of their own.
OpCase rows_of(const OpCase& c, int64_t first, int64_t count) {
  OpCase part = c;
  const Tensor& a = c.inputs[0];
  const int64_t k = a.shape().back();
  Tensor rows(DType::kFloat32, {count, k});
  std::copy(a.data<float>() + first * k, a.data<float>() + (first + count) * k, rows.data<float>());
  part.inputs[0] = rows;
  return part;
}

TEST(WindowDenseTest, GemmAndMatMulMatchReference) {
  std::mt19937 engine(11);
  for (uint32_t i = 0; i < 24; ++i) {
    // Widths on both sides of the 64-channel chunk and the 16-lane vector.
    OpCase c = gemm_case(pick(engine, 1, 40), pick(engine, 1, 300), pick(engine, 1, 150),
                         pick(engine, 0, 1) == 1, pick(engine, 0, 1) == 1, 100 + 3 * i);
    if (i % 4 == 3) {  // MatMul, A with batch dims folded into rows
      c.op = OpType::kMatMul;
      const int64_t k = c.inputs[1].dim(0);
      c.inputs = {random_tensor({2, pick(engine, 1, 9), k}, 500 + i),
                  random_tensor({k, c.inputs[1].dim(1)}, 600 + i)};
      c.attrs = Attributes();
      c.text = "MatMul A " + shape_to_string(c.inputs[0].shape()) + " B " +
               shape_to_string(c.inputs[1].shape());
    }
    SCOPED_TRACE(c.text);
    auto built = testing::build_window_kernel(c);
    ASSERT_TRUE(built.has_value()) << built.status().message();
    ASSERT_NE(built->kernel, nullptr);
    auto fast = run_window(c);
    auto reference = testing::run_reference_op(c.op, c.inputs, c.attrs);
    ASSERT_TRUE(fast.has_value() && reference.has_value());
    EXPECT_TRUE(testing::tensors_close(*fast, *reference, 1e-4, 1e-5));
  }
}

TEST(WindowDenseTest, ARowHasTheSameBitsWhateverRowsRunWithIt) {
  // VGG16-like widths: several chunks, a masked last vector, a long k.
  const OpCase whole = gemm_case(37, 1000, 150, true, true, 7);
  auto all = run_window(whole);
  ASSERT_TRUE(all.has_value());
  const int64_t n = 150;
  for (const auto& [first, count] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 1}, {5, 1}, {36, 1}, {3, 7}, {10, 16}, {20, 17}}) {
    auto part = run_window(rows_of(whole, first, count));
    ASSERT_TRUE(part.has_value());
    Tensor expected(DType::kFloat32, {count, n});
    std::copy(all->data<float>() + first * n, all->data<float>() + (first + count) * n,
              expected.data<float>());
    EXPECT_TRUE(bits_equal(*part, expected)) << "rows " << first << " +" << count;
  }
  // And with one thread or two.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  auto single = run_window(whole);
  omp_set_num_threads(threads);
  ASSERT_TRUE(single.has_value());
  EXPECT_TRUE(bits_equal(*single, *all));
}

TEST(WindowDenseTest, PortablePathGivesTheSameBits) {
  const OpCase c = gemm_case(9, 333, 70, false, true, 21);
  auto vector_path = run_window(c);
  ASSERT_TRUE(vector_path.has_value());
  testing::expect_portable_paths_give(c, *vector_path);
}

// Threads of a dense layer split its output channels by 64-channel chunks
// (WindowConv::run_chunks): each chunk range gives the bits of a whole run
// there and leaves the other channels alone, on every CPU path.
TEST(WindowDenseTest, ChunkRangesGiveTheBitsOfAWholeRun) {
  namespace window = kernels::window;
  window::ConvGeometry g;
  g.in_channels = 40;
  g.out_channels = 150;  // chunks of 64, 64 and 22 channels
  g.rows = kernels::WindowAxis{6, 3, 1, 1, 1, 1, 6};
  g.cols = g.rows;
  const Tensor w = random_tensor({150, 40, 3, 3}, 31);
  const Tensor b = random_tensor({150}, 32);
  const Tensor x = random_tensor({6, 6, 40}, 33);
  const window::WindowConv conv(g, w.data<float>(), b.data<float>());
  ASSERT_EQ(conv.chunks(), 3);
  const window::Window all{0, 6, 0, 6};
  for (int path = 0; path < 3; ++path) {
    testing::ScopedPortable portable(path > 0, path == 2);
    std::vector<float> whole(6 * 6 * 150);
    conv.run(x.data<float>(), all, all, whole.data());
    for (const auto& [first, last] :
         std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 3}, {2, 3}, {0, 3}}) {
      std::vector<float> part(whole.size(), -7.0f);
      conv.run_chunks(x.data<float>(), all, all, part.data(), first, last);
      for (size_t i = 0; i < part.size(); ++i) {
        const int64_t chunk = static_cast<int64_t>(i % 150) / 64;
        const bool inside = chunk >= first && chunk < last;
        if (inside) {
          ASSERT_EQ(std::memcmp(&part[i], &whole[i], sizeof(float)), 0)
              << "path " << path << " chunks " << first << ".." << last << " element " << i;
        } else {
          ASSERT_EQ(part[i], -7.0f) << "path " << path << " wrote outside its chunks at " << i;
        }
      }
    }
  }
}

TEST(WindowDenseTest, DeclinesWhatItDoesNotCover) {
  auto covered = [](const OpCase& c) {
    auto built = testing::build_window_kernel(c);
    return built.has_value() && built->kernel != nullptr;
  };
  OpCase c = gemm_case(4, 8, 6, false, true, 1);
  EXPECT_TRUE(covered(c));
  OpCase scaled = c;
  scaled.attrs.set("alpha", 0.5);
  EXPECT_FALSE(covered(scaled));
  OpCase beta = c;
  beta.attrs.set("beta", 2.0);
  EXPECT_FALSE(covered(beta));
  OpCase per_row_c = c;  // C with one row per output row is not a bias
  per_row_c.inputs[2] = random_tensor({4, 6}, 9);
  EXPECT_FALSE(covered(per_row_c));
  OpCase trans_a = c;
  trans_a.inputs[0] = random_tensor({8, 4}, 10);
  trans_a.attrs.set("transA", int64_t{1});
  EXPECT_FALSE(covered(trans_a));
  OpCase batched_b;  // MatMul by a stack of matrices
  batched_b.op = OpType::kMatMul;
  batched_b.inputs = {random_tensor({2, 3, 8}, 11), random_tensor({2, 8, 5}, 12)};
  EXPECT_FALSE(covered(batched_b));
}

}  // namespace
}  // namespace nnfi
