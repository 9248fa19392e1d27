#include "campaign/campaign_test_support.h"

#include <sqlite3.h>

#include <cmath>

#include "import/onnx_test_builder.h"
#include "nnfi/data.h"
#include "support/test_support.h"

namespace nnfi::testing {
namespace {

std::vector<float> random_values(int64_t count, uint32_t seed, float scale) {
  Tensor tensor = random_tensor({count}, seed, -scale, scale);
  return std::vector<float>(tensor.data<float>(), tensor.data<float>() + count);
}

// x.npy holding `x` and y.npy the labels (i * step + offset) % 5, in `dir`.
void write_examples(const std::filesystem::path& dir, const Tensor& x, int64_t step,
                    int64_t offset) {
  const int64_t images = x.dim(0);
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < images; ++i) labels.push_back((i * step + offset) % 5);
  ASSERT_TRUE(write_npy(dir / "x.npy", x).is_ok());
  ASSERT_TRUE(write_npy(dir / "y.npy", Tensor::from_vector<int64_t>(labels, {images})).is_ok());
}

}  // namespace

void write_branching_model(const std::filesystem::path& dir, int64_t images) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {-1, 2, 8, 8});
  builder.add_initializer(float_tensor("w1", random_values(4 * 2 * 9, 1, 0.5f), {4, 2, 3, 3}));
  builder.add_initializer(float_tensor("b1", random_values(4, 2, 0.1f), {4}));
  builder.add_initializer(float_tensor("w2", random_values(4 * 4 * 9, 3, 0.4f), {4, 4, 3, 3}));
  builder.add_initializer(float_tensor("w3", random_values(4 * 4, 4, 0.5f), {4, 4, 1, 1}));
  builder.add_initializer(float_tensor("w4", random_values(5 * 8, 5, 0.8f), {5, 8}));
  builder.add_initializer(float_tensor("b4", random_values(5, 6, 0.1f), {5}));
  set_attr(builder.add_node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1"), "pads",
           std::vector<int64_t>{1, 1, 1, 1});
  builder.add_node("Relu", {"c1"}, {"r1"}, "relu1");
  set_attr(builder.add_node("Conv", {"r1", "w2"}, {"c2"}, "conv2"), "pads",
           std::vector<int64_t>{1, 1, 1, 1});
  builder.add_node("Relu", {"c2"}, {"r2"}, "relu2");
  // sqrt(v) runs at every inference but reads only a constant: a shared site
  // (as TF1's unfused batch norms compute rsqrt(variance + eps)).
  builder.add_initializer(float_tensor("v", {0.5f, 1.0f, 2.0f, 4.0f}, {4, 1, 1}));
  builder.add_node("Sqrt", {"v"}, {"sv"}, "scale_sqrt");
  builder.add_node("Mul", {"r2", "sv"}, {"r2s"}, "scale_mul");
  builder.add_node("Add", {"r1", "r2s"}, {"skip"}, "skip_add");
  auto& pool = builder.add_node("MaxPool", {"skip"}, {"p"}, "pool");
  set_attr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
  set_attr(pool, "strides", std::vector<int64_t>{2, 2});
  builder.add_node("Conv", {"p", "w3"}, {"c3"}, "conv3");
  set_attr(builder.add_node("Concat", {"p", "c3"}, {"cat"}, "concat"), "axis", int64_t{1});
  builder.add_node("GlobalAveragePool", {"cat"}, {"gap"}, "gap");
  builder.add_node("Flatten", {"gap"}, {"flat"}, "flatten");
  set_attr(builder.add_node("Gemm", {"flat", "w4", "b4"}, {"logits"}, "dense"), "transB",
           int64_t{1});
  builder.add_node("Softmax", {"logits"}, {"probs"}, "softmax");
  builder.add_output("probs");
  std::ofstream(dir / "branching.onnx", std::ios::binary) << builder.bytes();

  write_examples(dir, random_tensor({images, 2, 8, 8}, 7, 0.0f, 1.0f), 7, 3);
}

void write_wide_model(const std::filesystem::path& dir, int64_t images) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {-1, 4, 16, 16});
  const int64_t widths[] = {4, 8, 160, 136, 136, 136, 136, 136, 136};
  std::string input = "x";
  for (int layer = 1; layer <= 8; ++layer) {
    const std::string n = std::to_string(layer);
    const int64_t in = widths[layer - 1], out = widths[layer];
    // Weights scaled by fan-in, so values neither vanish nor overflow.
    builder.add_initializer(float_tensor(
        "w" + n, random_values(out * in * 9, 20 + layer, 1.5f / std::sqrt(static_cast<float>(in))),
        {out, in, 3, 3}));
    builder.add_initializer(float_tensor("b" + n, random_values(out, 30 + layer, 0.1f), {out}));
    set_attr(builder.add_node("Conv", {input, "w" + n, "b" + n}, {"c" + n}, "conv" + n), "pads",
             std::vector<int64_t>{1, 1, 1, 1});
    builder.add_node("Relu", {"c" + n}, {"r" + n}, "relu" + n);
    input = "r" + n;
  }
  auto& pool = builder.add_node("MaxPool", {input}, {"p"}, "pool");
  set_attr(pool, "kernel_shape", std::vector<int64_t>{2, 2});
  set_attr(pool, "strides", std::vector<int64_t>{2, 2});
  builder.add_node("Flatten", {"p"}, {"flat"}, "flatten");
  const int64_t features = 136 * 8 * 8;
  builder.add_initializer(
      float_tensor("wd", random_values(5 * features, 40, 0.05f), {5, features}));
  set_attr(builder.add_node("Gemm", {"flat", "wd"}, {"logits"}, "dense"), "transB", int64_t{1});
  builder.add_node("Softmax", {"logits"}, {"probs"}, "softmax");
  builder.add_output("probs");
  std::ofstream(dir / "wide.onnx", std::ios::binary) << builder.bytes();

  write_examples(dir, random_tensor({images, 4, 16, 16}, 8, 0.0f, 1.0f), 3, 1);
}

std::string fashion_model_path() {
  return std::string(NNFI_SOURCE_DIR) + "/examples/fashion_mnist/fashion_mnist_cnn.onnx";
}

std::string fashion_data_spec() {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir + "t10k-images-idx3-ubyte.gz")) return "";
  return "idx:" + dir + "t10k-images-idx3-ubyte.gz," + dir + "t10k-labels-idx1-ubyte.gz";
}

CampaignSpec CampaignTest::campaign(const std::string& text, const std::string& name) {
  const std::filesystem::path file = write_file(name, text);
  Expected<CampaignSpec> spec = load_campaign_file(file);
  EXPECT_TRUE(spec.has_value()) << spec.status().message();
  return spec.has_value() ? *spec : CampaignSpec{};
}

nlohmann::json CampaignTest::run(const CampaignSpec& spec, const std::string& out,
                                 RunOptions options) {
  options.out_dir = path(out);
  options.progress = false;
  Status status = run_campaign(spec, options);
  EXPECT_TRUE(status.is_ok()) << status.message();
  std::ifstream file(path(out) / "summary.json");
  return nlohmann::json::parse(file, nullptr, false);
}

namespace {

std::vector<std::string> rows_of(const std::filesystem::path& file, const char* sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << file;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr), SQLITE_OK);
  while (statement != nullptr && sqlite3_step(statement) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(statement); ++c) {
      const unsigned char* text = sqlite3_column_text(statement, c);
      // append(), not "|" + std::string: GCC 12 warns falsely (-Wrestrict) on the latter.
      if (c > 0) row.append("|");
      row.append(text ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(row);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

}  // namespace

std::vector<std::string> CampaignTest::fault_rows(const std::string& out) {
  return rows_of(path(out) / "results.sqlite",
                 "SELECT experiment, setting, repetition, image, site, site_key, element, before, "
                 "after, bit, outcome FROM faults ORDER BY experiment, setting, repetition, image, "
                 "site, element, before, after");
}

std::vector<std::string> CampaignTest::unit_rows(const std::string& out) {
  return rows_of(path(out) / "results.sqlite",
                 "SELECT experiment, setting, repetition, batch, images, faulted, faults, correct, "
                 "agree, masked, benign, sdc, nonfinite FROM units ORDER BY experiment, setting, "
                 "repetition, batch");
}

}  // namespace nnfi::testing
