// ConvHelpBoard (region_help.h): a conv run through the board, alone or with
// a thread that has run out of trials taking some of its chunks, gives the
// bits of WindowConv::run; the waiting thread leaves once every trial is done.
#include "campaign/region_help.h"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include "kernels/window/window_kernels.h"
#include "support/test_support.h"

namespace nnfi {
namespace {

namespace window = kernels::window;
using campaign::ConvHelpBoard;
using testing::random_tensor;

struct ConvCase {
  window::ConvGeometry geometry;
  Tensor weights, bias, input;
};

ConvCase conv_case() {
  ConvCase c;
  c.geometry.in_channels = 48;
  c.geometry.out_channels = 300;  // five chunks, the last of 44 channels
  c.geometry.rows = kernels::WindowAxis{12, 3, 1, 1, 1, 1, 12};
  c.geometry.cols = c.geometry.rows;
  c.weights = random_tensor({300, 48, 3, 3}, 41);
  c.bias = random_tensor({300}, 42);
  c.input = random_tensor({12, 12, 48}, 43);
  return c;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(ConvHelpBoardTest, AloneItIsAPlainRun) {
  const ConvCase c = conv_case();
  const window::WindowConv conv(c.geometry, c.weights.data<float>(), c.bias.data<float>());
  const window::Window in{0, 12, 0, 12};
  const window::Window out{2, 9, 1, 12};
  std::vector<float> expected(static_cast<size_t>(out.area() * 300));
  conv.run(c.input.data<float>(), in, out, expected.data());
  ConvHelpBoard board(1);
  std::vector<float> got(expected.size(), -1.0f);
  board.run(conv, c.input.data<float>(), in, out, got.data());
  EXPECT_TRUE(same_bits(got, expected));
  board.finish_trial();
  board.help_until_done();  // nothing left: returns at once
  EXPECT_EQ(board.chunks_helped(), 0);
}

TEST(ConvHelpBoardTest, SharedChunksGiveTheBitsOfAWholeRun) {
  const ConvCase c = conv_case();
  const window::WindowConv conv(c.geometry, c.weights.data<float>(), c.bias.data<float>());
  ASSERT_EQ(conv.chunks(), 5);
  const window::Window in{0, 12, 0, 12};
  const std::vector<window::Window> outs = {{0, 12, 0, 12}, {3, 4, 5, 6}, {0, 5, 7, 12}};
  std::vector<std::vector<float>> expected;
  for (const window::Window& out : outs) {
    expected.emplace_back(static_cast<size_t>(out.area() * 300));
    conv.run(c.input.data<float>(), in, out, expected.back().data());
  }

  ConvHelpBoard board(1);  // one trial: this thread's
  std::thread helper([&board] { board.help_until_done(); });
  while (board.waiting() == 0) std::this_thread::yield();
  // Which chunks the helper takes depends on timing; run until it has taken
  // some (it spins for them, so a few runs do), checking every run's bits.
  int runs = 0;
  for (; runs < 2000 && (runs < 30 || board.chunks_helped() == 0); ++runs) {
    const size_t k = static_cast<size_t>(runs) % outs.size();
    std::vector<float> got(expected[k].size(), -1.0f);
    board.run(conv, c.input.data<float>(), in, outs[k], got.data());
    ASSERT_TRUE(same_bits(got, expected[k])) << "run " << runs;
  }
  EXPECT_GT(board.chunks_helped(), 0) << "after " << runs << " runs";
  board.finish_trial();
  helper.join();  // leaves once the trial is done
  EXPECT_EQ(board.waiting(), 0);
}

}  // namespace
}  // namespace nnfi
