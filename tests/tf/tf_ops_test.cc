// TF op conversions, checked on small graphs against plain loops written
// here (TF's semantics: NHWC, HWIO filters, SAME = extra pad at the end,
// AvgPool excluding padding, ...) and against hand-computed values.
#include <cmath>
#include <optional>

#include "support/test_support.h"
#include "tf/tf_test_builder.h"

namespace nnfi {
namespace {

using namespace testing::tf_files;  // NOLINT: test-local builders

// Builds "x" (a placeholder of x's shape) -> nodes added by `build` ->
// fetch, imports it with x fed, runs it on x.
template <typename Build>
Tensor run_on(const Tensor& x, const std::string& fetch, Build&& build, bool fast = false) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", x.shape(), tf_type(x.dtype()));
  build(graph);
  auto imported = import_graph_def(graph, feeds_fetches({"x"}, {fetch}));
  EXPECT_TRUE(imported.has_value()) << imported.status().message();
  if (!imported.has_value()) return Tensor();
  auto outputs = run_graph(*imported, {x}, fast);
  EXPECT_TRUE(outputs.has_value()) << outputs.status().message();
  return outputs.has_value() ? outputs->front() : Tensor();
}

Tensor floats(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(values, std::move(shape));
}

std::vector<float> values(const Tensor& tensor) {
  if (!tensor.defined()) return {};
  return std::vector<float>(tensor.data<float>(), tensor.data<float>() + tensor.num_elements());
}

// TF's output size and leading pad for SAME / VALID.
void window(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same, int64_t* out,
            int64_t* pad) {
  const int64_t extent = (k - 1) * dilation + 1;
  *out = same ? (in + stride - 1) / stride : (in - extent + stride) / stride;
  *pad = same ? std::max<int64_t>((*out - 1) * stride + extent - in, 0) / 2 : 0;
}

// x (N, H, W, C), filter (kH, kW, C, O) or, depthwise, (kH, kW, C, M).
Tensor naive_conv(const Tensor& x, const Tensor& f, int64_t stride, int64_t dilation, bool same,
                  bool depthwise) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const int64_t kh = f.dim(0), kw = f.dim(1), m = f.dim(3);
  int64_t oh, ow, pt, pl;
  window(h, kh, stride, dilation, same, &oh, &pt);
  window(w, kw, stride, dilation, same, &ow, &pl);
  const int64_t out_c = depthwise ? c * m : m;
  Tensor y(DType::kFloat32, {n, oh, ow, out_c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < out_c; ++o) {
          double sum = 0;
          for (int64_t u = 0; u < kh; ++u)
            for (int64_t v = 0; v < kw; ++v) {
              const int64_t r = i * stride + u * dilation - pt, s = j * stride + v * dilation - pl;
              if (r < 0 || r >= h || s < 0 || s >= w) continue;
              const float* px = x.data<float>() + ((b * h + r) * w + s) * c;
              if (depthwise) {
                const int64_t ci = o / m, mi = o % m;
                sum += px[ci] * f.data<float>()[((u * kw + v) * c + ci) * m + mi];
              } else {
                for (int64_t ci = 0; ci < c; ++ci) {
                  sum += px[ci] * f.data<float>()[((u * kw + v) * c + ci) * m + o];
                }
              }
            }
          y.data<float>()[((b * oh + i) * ow + j) * out_c + o] = static_cast<float>(sum);
        }
  return y;
}

Tensor naive_pool(const Tensor& x, int64_t k, int64_t stride, bool same, bool max) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  int64_t oh, ow, pt, pl;
  window(h, k, stride, 1, same, &oh, &pt);
  window(w, k, stride, 1, same, &ow, &pl);
  Tensor y(DType::kFloat32, {n, oh, ow, c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t ch = 0; ch < c; ++ch) {
          double acc = max ? -INFINITY : 0.0;
          int count = 0;
          for (int64_t u = 0; u < k; ++u)
            for (int64_t v = 0; v < k; ++v) {
              const int64_t r = i * stride + u - pt, s = j * stride + v - pl;
              if (r < 0 || r >= h || s < 0 || s >= w) continue;
              const float value = x.data<float>()[((b * h + r) * w + s) * c + ch];
              acc = max ? std::max<double>(acc, value) : acc + value;
              ++count;
            }
          y.data<float>()[((b * oh + i) * ow + j) * c + ch] =
              static_cast<float>(max ? acc : acc / count);
        }
  return y;
}

void add_conv(tf::GraphDef& graph, const std::string& op, const Tensor& filter, int64_t stride,
              int64_t dilation, const char* padding) {
  add_const(graph, "w", filter);
  tf::NodeDef* conv = add_node(graph, "conv", op, {"x", "w"});
  set_ints(conv, "strides", {1, stride, stride, 1});
  set_ints(conv, "dilations", {1, dilation, dilation, 1});
  set_string(conv, "padding", padding);
}

TEST(TfOpsTest, Conv2DMatchesTfSemantics) {
  const Tensor x = testing::random_tensor({2, 7, 6, 3}, 1);
  const Tensor filter = testing::random_tensor({3, 2, 3, 4}, 2);
  for (const char* padding : {"SAME", "VALID"}) {
    for (int64_t stride : {1, 2}) {
      for (int64_t dilation : {1, 2}) {
        if (stride > 1 && dilation > 1) continue;  // TF refuses both at once
        for (bool fast : {false, true}) {
          Tensor y = run_on(
              x, "conv",
              [&](tf::GraphDef& g) { add_conv(g, "Conv2D", filter, stride, dilation, padding); },
              fast);
          EXPECT_TRUE(testing::tensors_close(
              y, naive_conv(x, filter, stride, dilation, padding[0] == 'S', false), 1e-5, 1e-5))
              << padding << " stride " << stride << " dilation " << dilation;
        }
      }
    }
  }
}

TEST(TfOpsTest, DepthwiseConvMatchesTfSemantics) {
  const Tensor x = testing::random_tensor({1, 6, 5, 3}, 3);
  const Tensor filter = testing::random_tensor({3, 3, 3, 2}, 4);  // channel multiplier 2
  for (int64_t stride : {1, 2}) {
    Tensor y = run_on(x, "conv", [&](tf::GraphDef& g) {
      add_conv(g, "DepthwiseConv2dNative", filter, stride, 1, "SAME");
    });
    EXPECT_TRUE(
        testing::tensors_close(y, naive_conv(x, filter, stride, 1, true, true), 1e-5, 1e-5));
  }
}

// NCHW data: the same convolution on transposed data gives transposed results.
TEST(TfOpsTest, Conv2DNchwAgreesWithNhwc) {
  const Tensor x = testing::random_tensor({1, 5, 5, 2}, 5);
  const Tensor filter = testing::random_tensor({3, 3, 2, 3}, 6);
  Tensor nchw(DType::kFloat32, {1, 2, 5, 5});
  for (int64_t i = 0; i < 25; ++i)
    for (int64_t c = 0; c < 2; ++c) nchw.data<float>()[c * 25 + i] = x.data<float>()[i * 2 + c];
  Tensor y = run_on(nchw, "conv", [&](tf::GraphDef& g) {
    add_const(g, "w", filter);
    tf::NodeDef* conv = add_node(g, "conv", "Conv2D", {"x", "w"});
    set_ints(conv, "strides", {1, 1, 2, 2});
    set_string(conv, "padding", "SAME");
    set_string(conv, "data_format", "NCHW");
  });
  const Tensor expected = naive_conv(x, filter, 2, 1, true, false);  // (1, 3, 3, 3)
  ASSERT_EQ(y.shape(), (Shape{1, 3, 3, 3}));
  for (int64_t i = 0; i < 9; ++i)
    for (int64_t c = 0; c < 3; ++c) {
      EXPECT_NEAR(y.data<float>()[c * 9 + i], expected.data<float>()[i * 3 + c], 1e-5);
    }
}

TEST(TfOpsTest, PoolsMatchTfSemantics) {
  const Tensor x = testing::random_tensor({1, 5, 7, 2}, 7);
  for (bool max : {true, false}) {
    for (const char* padding : {"SAME", "VALID"}) {
      Tensor y = run_on(x, "pool", [&](tf::GraphDef& g) {
        tf::NodeDef* pool = add_node(g, "pool", max ? "MaxPool" : "AvgPool", {"x"});
        set_ints(pool, "ksize", {1, 3, 3, 1});
        set_ints(pool, "strides", {1, 2, 2, 1});
        set_string(pool, "padding", padding);
      });
      EXPECT_TRUE(testing::tensors_close(y, naive_pool(x, 3, 2, padding[0] == 'S', max), 1e-6))
          << (max ? "MaxPool " : "AvgPool ") << padding;
    }
  }
}

TEST(TfOpsTest, BiasAddAndFusedBatchNorm) {
  const Tensor x = floats({1, 2, 3, 4, 5, 6}, {1, 1, 3, 2});
  Tensor y = run_on(x, "bias", [](tf::GraphDef& g) {
    add_floats(g, "b", {10, 20}, {2});
    add_node(g, "bias", "BiasAdd", {"x", "b"});
  });
  EXPECT_EQ(values(y), (std::vector<float>{11, 22, 13, 24, 15, 26}));
  y = run_on(x, "bn", [](tf::GraphDef& g) {
    add_floats(g, "scale", {2, 1}, {2});
    add_floats(g, "offset", {0, 1}, {2});
    add_floats(g, "mean", {1, 2}, {2});
    add_floats(g, "var", {4, 0.25f}, {2});
    tf::NodeDef* bn =
        add_node(g, "bn", "FusedBatchNormV3", {"x", "scale", "offset", "mean", "var"});
    set_float(bn, "epsilon", 0.0f);
    set_bool(bn, "is_training", false);
  });
  // (x - mean) / sqrt(var) * scale + offset per channel.
  EXPECT_EQ(values(y), (std::vector<float>{0, 1, 2, 5, 4, 9}));
}

TEST(TfOpsTest, MatMulTransposesAndBatchMatMulAdjoint) {
  const Tensor x = floats({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = run_on(x, "mm", [](tf::GraphDef& g) {
    add_floats(g, "w", {1, 0, 1, 0, 1, 1}, {2, 3});  // used transposed: (3, 2)
    tf::NodeDef* mm = add_node(g, "mm", "MatMul", {"x", "w"});
    set_bool(mm, "transpose_b", true);
  });
  EXPECT_EQ(values(y), (std::vector<float>{4, 5, 10, 11}));
  y = run_on(x, "bmm", [](tf::GraphDef& g) {
    add_floats(g, "w", {1, 0, 1, 0, 1, 1}, {2, 3});
    tf::NodeDef* mm = add_node(g, "bmm", "BatchMatMulV2", {"x", "w"});
    set_bool(mm, "adj_y", true);
  });
  EXPECT_EQ(values(y), (std::vector<float>{4, 5, 10, 11}));
}

TEST(TfOpsTest, ElementwiseAndActivations) {
  const Tensor x = floats({-8, -1, 0, 4, 9}, {5});
  struct Case {
    const char* op;
    std::vector<float> expected;
  };
  const float e = std::exp(-1.0f) - 1.0f;
  const std::vector<Case> unary = {
      {"Abs", {8, 1, 0, 4, 9}},
      {"Neg", {8, 1, -0.0f, -4, -9}},
      {"Relu", {0, 0, 0, 4, 9}},
      {"Relu6", {0, 0, 0, 4, 6}},
      {"Square", {64, 1, 0, 16, 81}},
      {"LeakyRelu", {-1.6f, -0.2f, 0, 4, 9}},
      {"Elu", {std::exp(-8.0f) - 1, e, 0, 4, 9}},
  };
  for (const Case& c : unary) {
    Tensor y = run_on(x, "y", [&](tf::GraphDef& g) { add_node(g, "y", c.op, {"x"}); });
    const std::vector<float> got = values(y);
    ASSERT_EQ(got.size(), c.expected.size()) << c.op;
    for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], c.expected[i]) << c.op;
  }
  const Tensor pos = floats({1, 4, 16}, {3});
  EXPECT_EQ(values(run_on(pos, "y", [](tf::GraphDef& g) { add_node(g, "y", "Sqrt", {"x"}); })),
            (std::vector<float>{1, 2, 4}));
  EXPECT_EQ(values(run_on(pos, "y", [](tf::GraphDef& g) { add_node(g, "y", "Rsqrt", {"x"}); })),
            (std::vector<float>{1, 0.5f, 0.25f}));
  const std::vector<Case> binary = {{"RealDiv", {0.5f, 2, 8}}, {"Maximum", {2, 4, 16}},
                                    {"Minimum", {1, 2, 2}},    {"Sub", {-1, 2, 14}},
                                    {"AddV2", {3, 6, 18}},     {"Mul", {2, 8, 32}}};
  for (const Case& c : binary) {
    Tensor y = run_on(pos, "y", [&](tf::GraphDef& g) {
      add_floats(g, "two", {2}, {});
      add_node(g, "y", c.op, {"x", "two"});
    });
    EXPECT_EQ(values(y), c.expected) << c.op;
  }
}

TEST(TfOpsTest, SeluUsesTfConstantsWhereTheIrHasIt) {
  if (!op_type_from_name("Selu")) GTEST_SKIP() << "the IR has no Selu yet";
  Tensor y =
      run_on(floats({-1, 2}, {2}), "y", [](tf::GraphDef& g) { add_node(g, "y", "Selu", {"x"}); });
  EXPECT_NEAR(values(y)[0], 1.0507009873554805f * 1.6732632423543772f * (std::exp(-1.0f) - 1),
              1e-6);
  EXPECT_NEAR(values(y)[1], 1.0507009873554805f * 2, 1e-6);
}

TEST(TfOpsTest, ShapeOpsMoveElementsLikeTf) {
  const Tensor x = floats({1, 2, 3, 4, 5, 6}, {1, 2, 3});
  auto run = [&](const std::string& fetch, auto build) { return run_on(x, fetch, build); };
  Tensor y = run("t", [](tf::GraphDef& g) {
    add_ints(g, "perm", {0, 2, 1}, {3});
    add_node(g, "t", "Transpose", {"x", "perm"});
  });
  EXPECT_EQ(y.shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(values(y), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  y = run("s", [](tf::GraphDef& g) {
    set_ints(add_node(g, "s", "Squeeze", {"x"}), "squeeze_dims", {0});
  });
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  y = run("e", [](tf::GraphDef& g) {
    add_ints(g, "dim", {-1}, {});
    add_node(g, "e", "ExpandDims", {"x", "dim"});
  });
  EXPECT_EQ(y.shape(), (Shape{1, 2, 3, 1}));
  y = run("c", [](tf::GraphDef& g) {
    add_ints(g, "axis", {-1}, {});
    add_node(g, "c", "ConcatV2", {"x", "x", "axis"});
  });
  EXPECT_EQ(values(y), (std::vector<float>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}));
  y = run("p", [](tf::GraphDef& g) { set_int(add_node(g, "p", "Pack", {"x", "x"}), "axis", 2); });
  EXPECT_EQ(y.shape(), (Shape{1, 2, 2, 3}));
  EXPECT_EQ(values(y), (std::vector<float>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}));
  y = run("pad", [](tf::GraphDef& g) {
    add_ints(g, "paddings", {0, 0, 1, 0, 0, 1}, {3, 2});
    add_floats(g, "value", {9}, {});
    add_node(g, "pad", "PadV2", {"x", "paddings", "value"});
  });
  EXPECT_EQ(values(y), (std::vector<float>{9, 9, 9, 9, 1, 2, 3, 9, 4, 5, 6, 9}));
  y = run("m", [](tf::GraphDef& g) {
    add_ints(g, "paddings", {0, 0, 0, 0, 2, 0}, {3, 2});
    set_string(add_node(g, "m", "MirrorPad", {"x", "paddings"}), "mode", "REFLECT");
  });
  EXPECT_EQ(values(y), (std::vector<float>{3, 2, 1, 2, 3, 6, 5, 4, 5, 6}));
  y = run("r", [](tf::GraphDef& g) {
    add_ints(g, "shape", {3, -1}, {2});
    add_node(g, "r", "Reshape", {"x", "shape"});
  });
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
}

TEST(TfOpsTest, ReductionsWithKeepDims) {
  const Tensor x = floats({1, 5, 3, 4, 2, 6}, {2, 3});
  struct Case {
    const char* op;
    bool keep;
    Shape shape;
    std::vector<float> expected;
  };
  for (const Case& c : std::vector<Case>{{"Mean", false, {2}, {3, 4}},
                                         {"Sum", true, {2, 1}, {9, 12}},
                                         {"Max", false, {2}, {5, 6}}}) {
    Tensor y = run_on(x, "r", [&](tf::GraphDef& g) {
      add_ints(g, "axes", {1}, {});
      set_bool(add_node(g, "r", c.op, {"x", "axes"}), "keep_dims", c.keep);
    });
    EXPECT_EQ(y.shape(), c.shape) << c.op;
    EXPECT_EQ(values(y), c.expected) << c.op;
  }
}

TEST(TfOpsTest, CastArgMaxEqualFill) {
  const Tensor x = floats({0.5f, 2.7f, -1.2f, 3.0f, 1.0f, 0.0f}, {2, 3});
  Tensor y = run_on(x, "a", [](tf::GraphDef& g) {
    add_ints(g, "dim", {1}, {});
    set_type(add_node(g, "a", "ArgMax", {"x", "dim"}), "output_type", tf::DT_INT32);
  });
  ASSERT_EQ(y.dtype(), DType::kInt32);
  EXPECT_EQ(std::vector<int32_t>(y.data<int32_t>(), y.data<int32_t>() + 2),
            (std::vector<int32_t>{1, 0}));
  y = run_on(x, "c", [](tf::GraphDef& g) {
    set_type(add_node(g, "c", "Cast", {"x"}), "DstT", tf::DT_INT32);
  });
  ASSERT_EQ(y.dtype(), DType::kInt32);
  EXPECT_EQ(y.data<int32_t>()[1], 2);
  y = run_on(x, "eq", [](tf::GraphDef& g) {
    add_floats(g, "one", {1}, {});
    add_node(g, "eq", "Equal", {"x", "one"});
  });
  ASSERT_EQ(y.dtype(), DType::kBool);
  EXPECT_TRUE(y.data<bool>()[4]);
  EXPECT_FALSE(y.data<bool>()[0]);
  y = run_on(x, "sum", [](tf::GraphDef& g) {
    add_ints(g, "dims", {2, 3}, {2});
    add_floats(g, "v", {0.5f}, {});
    add_node(g, "fill", "Fill", {"dims", "v"});
    add_node(g, "sum", "AddV2", {"x", "fill"});
  });
  EXPECT_EQ(values(y), (std::vector<float>{0.5f + 0.5f, 2.7f + 0.5f, -1.2f + 0.5f, 3.0f + 0.5f,
                                           1.0f + 0.5f, 0.0f + 0.5f}));
}

// StridedSlice: masks, negative strides, ellipsis, new and shrunk axes, as
// numpy would index x = arange(24).reshape(2, 3, 4).
TEST(TfOpsTest, StridedSliceFollowsTfMasks) {
  std::vector<float> data(24);
  for (int i = 0; i < 24; ++i) data[i] = static_cast<float>(i);
  const Tensor x = floats(data, {2, 3, 4});
  struct Case {
    const char* what;
    std::vector<int32_t> begin, end, strides;
    int64_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_mask;
    Shape shape;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {"x[1, :, 1:3]",
       {1, 0, 1},
       {2, 0, 3},
       {1, 1, 1},
       2,
       2,
       0,
       0,
       1,
       {3, 2},
       {13, 14, 17, 18, 21, 22}},
      {"x[:, ::-1, -1]",
       {0, 0, -1},
       {0, 0, 0},
       {1, -1, 1},
       3,
       3,
       0,
       0,
       4,
       {2, 3},
       {11, 7, 3, 23, 19, 15}},
      {"x[..., 0]", {0, 0}, {0, 1}, {1, 1}, 0, 0, 1, 0, 2, {2, 3}, {0, 4, 8, 12, 16, 20}},
      {"x[-1, newaxis, 2]",
       {-1, 0, 2},
       {0, 0, 3},
       {1, 1, 1},
       0,
       0,
       0,
       2,
       5,
       {1, 4},
       {20, 21, 22, 23}},
  };
  for (const Case& c : cases) {
    Tensor y = run_on(x, "s", [&](tf::GraphDef& g) {
      const Shape n = {static_cast<int64_t>(c.begin.size())};
      add_ints(g, "begin", c.begin, n);
      add_ints(g, "end", c.end, n);
      add_ints(g, "strides", c.strides, n);
      tf::NodeDef* s = add_node(g, "s", "StridedSlice", {"x", "begin", "end", "strides"});
      set_int(s, "begin_mask", c.begin_mask);
      set_int(s, "end_mask", c.end_mask);
      set_int(s, "ellipsis_mask", c.ellipsis_mask);
      set_int(s, "new_axis_mask", c.new_axis_mask);
      set_int(s, "shrink_axis_mask", c.shrink_mask);
    });
    EXPECT_EQ(y.shape(), c.shape) << c.what;
    EXPECT_EQ(values(y), c.expected) << c.what;
  }
}

}  // namespace
}  // namespace nnfi
