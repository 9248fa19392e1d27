// Bit-exactness of the window kernels (DESIGN.md, principle 5): every output
// window equals the same elements of the full output bit for bit, for any
// window (borders, single elements, the whole tensor), batch, thread count,
// and on both the AVX-512 and the portable path, NaN and Inf included.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/window/window_kernels.h"
#include "kernels/window_test_support.h"

namespace nnfi {
namespace {

using kernels::window::ConvGeometry;
using kernels::window::PoolGeometry;
using kernels::window::Window;
using kernels::window::WindowConv;
using testing::bits_equal;
using testing::OpCase;
using testing::pick;
using testing::ScopedPortable;

// Image n of a case as channels-last floats.
std::vector<float> image_hwc(const Tensor& x, int64_t n, bool channels_last) {
  const Shape& s = x.shape();
  const int64_t c = channels_last ? s[3] : s[1];
  const int64_t h = channels_last ? s[1] : s[2];
  const int64_t w = channels_last ? s[2] : s[3];
  const float* data = x.data<float>() + n * c * h * w;
  std::vector<float> out(static_cast<size_t>(c * h * w));
  for (int64_t i = 0; i < h * w; ++i) {
    for (int64_t k = 0; k < c; ++k) {
      out[i * c + k] = channels_last ? data[i * c + k] : data[k * h * w + i];
    }
  }
  return out;
}

// Replaces some elements by NaN (random payloads and signs) and +-Inf.
void sprinkle_non_finite(Tensor& t, std::mt19937& engine, int count) {
  float* data = t.data<float>();
  for (int i = 0; i < count; ++i) {
    const int64_t at = pick(engine, 0, t.num_elements() - 1);
    uint32_t bits = 0x7f800000u | static_cast<uint32_t>(pick(engine, 1, 0x7fffff));
    if (pick(engine, 0, 1) == 1) bits |= 0x80000000u;
    float value = 0;
    std::memcpy(&value, &bits, sizeof(value));
    if (pick(engine, 0, 2) == 0) value = pick(engine, 0, 1) == 1 ? testing::kInf : -testing::kInf;
    data[at] = value;
  }
}

// A window of the output with random position and size; some touch borders,
// some are single elements.
Window random_window(std::mt19937& engine, int64_t rows, int64_t cols) {
  Window w;
  switch (pick(engine, 0, 3)) {
    case 0:  // single element
      w.row_begin = pick(engine, 0, rows - 1);
      w.col_begin = pick(engine, 0, cols - 1);
      w.row_end = w.row_begin + 1;
      w.col_end = w.col_begin + 1;
      return w;
    case 1:  // touching the top-left or bottom-right border
      w.row_begin = pick(engine, 0, 1) == 0 ? 0 : pick(engine, 0, rows - 1);
      w.row_end = w.row_begin == 0 ? pick(engine, 1, rows) : rows;
      w.col_begin = pick(engine, 0, 1) == 0 ? 0 : pick(engine, 0, cols - 1);
      w.col_end = w.col_begin == 0 ? pick(engine, 1, cols) : cols;
      return w;
    default:
      w.row_begin = pick(engine, 0, rows - 1);
      w.row_end = pick(engine, w.row_begin + 1, rows);
      w.col_begin = pick(engine, 0, cols - 1);
      w.col_end = pick(engine, w.col_begin + 1, cols);
      return w;
  }
}

// The input elements of window `in` of a channels-last image, packed.
std::vector<float> crop(const std::vector<float>& image, int64_t image_cols, int64_t channels,
                        const Window& in) {
  std::vector<float> out(static_cast<size_t>(std::max<int64_t>(1, in.area() * channels)));
  for (int64_t r = in.row_begin; r < in.row_end; ++r) {
    for (int64_t c = in.col_begin; c < in.col_end; ++c) {
      std::memcpy(&out[((r - in.row_begin) * in.cols() + c - in.col_begin) * channels],
                  &image[(r * image_cols + c) * channels], channels * sizeof(float));
    }
  }
  return out;
}

// Runs `kernel(input, in, out, output)` on random windows of image 0 and
// checks each against the same elements of the full output, bit for bit.
template <typename Kernel>
void expect_windows_match_full(const kernels::WindowAxis& rows, const kernels::WindowAxis& cols,
                               int64_t in_channels, int64_t out_channels,
                               const std::vector<float>& image, std::mt19937& engine, int windows,
                               const Kernel& kernel) {
  const Window all_in{0, rows.input, 0, cols.input};
  const Window all_out{0, rows.output, 0, cols.output};
  std::vector<float> full(static_cast<size_t>(all_out.area() * out_channels));
  kernel(image.data(), all_in, all_out, full.data());
  for (int i = 0; i < windows; ++i) {
    const Window out = i == 0 ? all_out : random_window(engine, rows.output, cols.output);
    Window in = kernels::window::input_window(rows, cols, out);
    if (pick(engine, 0, 2) == 0) {  // a larger input window is allowed too
      in = kernels::window::window_union(in, random_window(engine, rows.input, cols.input));
    }
    const std::vector<float> cropped = crop(image, cols.input, in_channels, in);
    // NaN-filled: an element the kernel skips is caught.
    std::vector<float> got(static_cast<size_t>(out.area() * out_channels), std::nanf("7"));
    kernel(cropped.data(), in, out, got.data());
    for (int64_t r = out.row_begin; r < out.row_end; ++r) {
      for (int64_t c = out.col_begin; c < out.col_end; ++c) {
        const float* expected = &full[(r * cols.output + c) * out_channels];
        const float* actual =
            &got[((r - out.row_begin) * out.cols() + c - out.col_begin) * out_channels];
        ASSERT_EQ(std::memcmp(expected, actual, out_channels * sizeof(float)), 0)
            << "window rows [" << out.row_begin << ", " << out.row_end << ") cols ["
            << out.col_begin << ", " << out.col_end << "), element (" << r << ", " << c << ")";
      }
    }
  }
}

struct ConvUnderTest {
  ConvGeometry geometry;
  std::unique_ptr<WindowConv> conv;
  bool channels_last = false;
};

ConvUnderTest conv_of(const OpCase& c) {
  ConvUnderTest t;
  auto built = testing::build_window_kernel(c);
  EXPECT_TRUE(built.has_value()) << built.status().message();
  auto g = kernels::window::window_conv_geometry(built->node, built->inputs, built->outputs);
  EXPECT_TRUE(g.has_value()) << c.text;
  if (!g) return t;
  t.geometry = *g;
  t.conv = std::make_unique<WindowConv>(
      *g, c.inputs[1].data<float>(), c.inputs[2].defined() ? c.inputs[2].data<float>() : nullptr);
  t.channels_last = c.attrs.get_int("channels_last", 0) == 1;
  return t;
}

void check_conv_windows(const OpCase& c, std::mt19937& engine, int windows) {
  SCOPED_TRACE(c.text);
  ConvUnderTest t = conv_of(c);
  ASSERT_NE(t.conv, nullptr);
  const std::vector<float> image = image_hwc(c.inputs[0], 0, t.channels_last);
  expect_windows_match_full(t.geometry.rows, t.geometry.cols, t.geometry.in_channels,
                            t.geometry.out_channels, image, engine, windows,
                            [&](const float* input, const Window& in, const Window& out, float* y) {
                              t.conv->run(input, in, out, y);
                            });
}

TEST(WindowKernelsBitsTest, ConvEveryWindowEqualsTheFullOutput) {
  std::mt19937 engine(8001);
  for (uint32_t i = 0; i < 40; ++i) {
    check_conv_windows(testing::random_conv(engine, 300 + 7 * i, 1), engine, 25);
  }
}

TEST(WindowKernelsBitsTest, ConvPortableEveryWindowEqualsTheFullOutput) {
  ScopedPortable portable(true);
  std::mt19937 engine(8002);
  for (uint32_t i = 0; i < 15; ++i) {
    check_conv_windows(testing::random_conv(engine, 500 + 7 * i, 1), engine, 10);
  }
}

TEST(WindowKernelsBitsTest, ConvScalarEveryWindowEqualsTheFullOutput) {
  ScopedPortable portable(true, true);
  std::mt19937 engine(8005);
  for (uint32_t i = 0; i < 10; ++i) {
    check_conv_windows(testing::random_conv(engine, 600 + 7 * i, 1), engine, 8);
  }
}

TEST(WindowKernelsBitsTest, ConvNonFiniteInputsAndWeightsEveryWindowEqualsTheFullOutput) {
  std::mt19937 engine(8003);
  for (uint32_t i = 0; i < 25; ++i) {
    OpCase c = testing::random_conv(engine, 700 + 7 * i, 1);
    sprinkle_non_finite(c.inputs[0], engine, 6);
    if (i % 2 == 0) sprinkle_non_finite(c.inputs[1], engine, 2);
    if (i % 3 == 0 && c.inputs[2].defined()) sprinkle_non_finite(c.inputs[2], engine, 1);
    check_conv_windows(c, engine, 15);
    ScopedPortable portable(true);
    check_conv_windows(c, engine, 5);
  }
}

TEST(WindowKernelsBitsTest, ConvAvx512AndPortablePathsAgreeBitForBit) {
  if (!kernels::window::window_kernels_use_avx512()) {
    GTEST_LOG_(INFO) << "no AVX-512 on this CPU: both runs take the portable path";
  }
  std::mt19937 engine(8004);
  for (uint32_t i = 0; i < 50; ++i) {
    OpCase c = testing::random_conv(engine, 900 + 7 * i);
    if (i % 2 == 1) {  // dense: NaNs of different payloads meet in one accumulator
      sprinkle_non_finite(c.inputs[0], engine, static_cast<int>(c.inputs[0].num_elements() / 10));
      sprinkle_non_finite(c.inputs[1], engine, static_cast<int>(c.inputs[1].num_elements() / 10));
      if (c.inputs[2].defined()) sprinkle_non_finite(c.inputs[2], engine, 2);
    }
    SCOPED_TRACE(c.text);
    auto fast = testing::run_window(c);
    ASSERT_TRUE(fast.has_value()) << fast.status().message();
    testing::expect_portable_paths_give(c, *fast);
  }
}

TEST(WindowKernelsBitsTest, PoolAvx512AndPortablePathsAgreeBitForBit) {
  std::mt19937 engine(8007);
  for (uint32_t i = 0; i < 40; ++i) {
    OpCase c = testing::random_pool(engine, 1500 + 7 * i, i % 2 == 0);
    // Dense: several NaNs of different payloads meet in one window.
    sprinkle_non_finite(c.inputs[0], engine, static_cast<int>(c.inputs[0].num_elements() / 4));
    SCOPED_TRACE(c.text);
    auto fast = testing::run_window(c);
    ASSERT_TRUE(fast.has_value()) << fast.status().message();
    testing::expect_portable_paths_give(c, *fast);
  }
}

TEST(WindowKernelsBitsTest, FullResultsDoNotDependOnThreadsOrBatch) {
  std::mt19937 engine(8005);
  for (uint32_t i = 0; i < 20; ++i) {
    OpCase batch5 = i % 4 == 3 ? testing::random_pool(engine, 1100 + 7 * i, i % 8 == 3)
                               : testing::random_conv(engine, 1100 + 7 * i, 5);
    if (batch5.op != OpType::kConv) {  // pools pick their own batch: make it 5
      Shape s = batch5.inputs[0].shape();
      s[0] = 5;
      batch5.inputs[0] = testing::random_tensor(s, 1100 + 7 * i);
    }
    SCOPED_TRACE(batch5.text);
    sprinkle_non_finite(batch5.inputs[0], engine, 3);
    Expected<Tensor> one_thread = internal_error("not run");
    {
      testing::ScopedThreads threads(1);
      one_thread = testing::run_window(batch5);
    }
    Expected<Tensor> two_threads = internal_error("not run");
    {
      testing::ScopedThreads threads(2);
      two_threads = testing::run_window(batch5);
    }
    ASSERT_TRUE(one_thread.has_value() && two_threads.has_value());
    EXPECT_TRUE(bits_equal(*one_thread, *two_threads));
    // Image 3 alone (batch 1, 2 threads: split by rows) gives its row of the batch.
    const int64_t image = 3;
    OpCase single = batch5;
    Shape s = batch5.inputs[0].shape();
    const int64_t per_image = batch5.inputs[0].num_elements() / s[0];
    s[0] = 1;
    single.inputs[0] = Tensor(DType::kFloat32, s);
    std::memcpy(single.inputs[0].data<float>(), batch5.inputs[0].data<float>() + image * per_image,
                per_image * sizeof(float));
    testing::ScopedThreads threads(2);
    auto alone = testing::run_window(single);
    ASSERT_TRUE(alone.has_value()) << alone.status().message();
    const int64_t out_per_image = alone->num_elements();
    EXPECT_EQ(std::memcmp(alone->data<float>(), two_threads->data<float>() + image * out_per_image,
                          out_per_image * sizeof(float)),
              0);
  }
}

TEST(WindowKernelsBitsTest, PoolEveryWindowEqualsTheFullOutput) {
  std::mt19937 engine(8006);
  for (uint32_t i = 0; i < 40; ++i) {
    const bool max = i % 2 == 0;
    OpCase c = testing::random_pool(engine, 1300 + 7 * i, max);
    if (i % 3 == 0) sprinkle_non_finite(c.inputs[0], engine, 5);
    SCOPED_TRACE(c.text);
    auto built = testing::build_window_kernel(c);
    ASSERT_TRUE(built.has_value()) << built.status().message();
    auto g = kernels::window::window_pool_geometry(built->node, built->inputs, built->outputs);
    ASSERT_TRUE(g.has_value());
    const bool channels_last = c.attrs.get_int("channels_last", 0) == 1;
    const std::vector<float> image = image_hwc(c.inputs[0], 0, channels_last);
    expect_windows_match_full(
        g->rows, g->cols, g->channels, g->channels, image, engine, 25,
        [&](const float* input, const Window& in, const Window& out, float* y) {
          if (max) {
            kernels::window::max_pool_window(*g, input, in, out, y);
          } else {
            kernels::window::average_pool_window(*g, input, in, out, y);
          }
        });
  }
}

}  // namespace
}  // namespace nnfi
