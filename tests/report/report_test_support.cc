#include "report/report_test_support.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "campaign/result_store.h"
#include "nnfi/campaign.h"
#include "nnfi/data.h"

namespace nnfi::testing {

namespace fs = std::filesystem;

std::filesystem::path run_small_campaign(const fs::path& dir) {
  const fs::path example = fs::path(NNFI_SOURCE_DIR) / "examples" / "fashion_mnist";
  fs::copy_file(example / "fashion_mnist_cnn.onnx", dir / "model.onnx",
                fs::copy_options::overwrite_existing);
  // The eight golden images twice, labelled with the golden top-1 (so the
  // fault-free accuracy is 100%).
  Expected<Tensor> images = read_npy(example / "golden_input.npy");
  Expected<Tensor> scores = read_npy(example / "golden_output.npy");
  EXPECT_TRUE(images.has_value() && scores.has_value());
  if (!images.has_value() || !scores.has_value()) return {};
  const int64_t per_image = images->num_elements() / 8;
  Tensor x(DType::kFloat32, {16, 1, 28, 28});
  std::vector<int64_t> labels;
  const int64_t classes = scores->num_elements() / 8;
  for (int64_t i = 0; i < 16; ++i) {
    std::copy_n(images->data<float>() + (i % 8) * per_image, per_image,
                x.data<float>() + i * per_image);
    const float* row = scores->data<float>() + (i % 8) * classes;
    labels.push_back(std::max_element(row, row + classes) - row);
  }
  EXPECT_TRUE(write_npy(dir / "x.npy", x).is_ok());
  EXPECT_TRUE(write_npy(dir / "y.npy", Tensor::from_vector<int64_t>(labels, {16})).is_ok());
  return run_campaign_text(dir, R"(model: model.onnx
data: {spec: "npy:x.npy,y.npy"}
seed: 11
batch: 8
experiments:
  - name: sweep
    target: {layers: each}
    fault: {model: bitflip, bits: random}
    probability: [0.0, 0.5, 1.0]
    repetitions: 2
    metric: ground_truth
  - name: criticality
    target: {layers: each}
    fault: {model: bitflip, bits: random}
    probability: 1.0
    repetitions: 3
    metric: golden
)",
                           "campaign");
}

std::filesystem::path run_campaign_text(const fs::path& dir, const std::string& yaml,
                                        const std::string& name) {
  std::ofstream(dir / (name + ".yaml")) << yaml;
  Expected<CampaignSpec> spec = load_campaign_file(dir / (name + ".yaml"));
  EXPECT_TRUE(spec.has_value()) << spec.status().message();
  if (!spec.has_value()) return {};
  RunOptions options;
  options.out_dir = dir / (name == "campaign" ? std::string("results") : name + "-results");
  options.progress = false;
  const Status status = run_campaign(*spec, options);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return options.out_dir;
}

void write_synthetic_store(const fs::path& dir, int layers, int probabilities, int repetitions,
                           int batches) {
  using namespace campaign;
  fs::create_directories(dir);
  const std::string text = R"(model: missing_model.onnx
data: "npy:x.npy,y.npy"
experiments:
  - name: sweep
    target: {layers: each}
    fault: {model: bitflip}
    probability: [0.5]
    repetitions: 1
)";
  Expected<CampaignSpec> spec = parse_campaign(text, dir / "synthetic.yaml");
  ASSERT_TRUE(spec.has_value()) << spec.status().message();
  const CampaignIdentity identity{text, "model-hash", "data-hash", "0", "test"};
  Expected<std::unique_ptr<ResultStore>> opened =
      ResultStore::open(dir / "results.sqlite", identity);
  ASSERT_TRUE(opened.has_value()) << opened.status().message();
  ResultStore& store = **opened;
  constexpr int64_t kImages = 100;
  const char* classes[] = {"Conv2D", "ReLU", "MaxPooling2D", "Dense"};
  ASSERT_TRUE(store.begin().is_ok());
  nlohmann::json layout = {{"batches", batches},
                           {"images", batches * kImages},
                           {"batch", kImages},
                           {"repetitions", {repetitions, repetitions}}};
  ASSERT_TRUE(store.set_campaign_value("layout", layout.dump()).is_ok());
  ASSERT_TRUE(store.set_campaign_value("source", (dir / "synthetic.yaml").string()).is_ok());
  ASSERT_TRUE(store.set_campaign_value("spec", campaign_spec_to_json(*spec)).is_ok());
  ASSERT_TRUE(store.set_campaign_value("model", "missing_model.onnx").is_ok());
  ASSERT_TRUE(store.set_campaign_value("data", "synthetic").is_ok());
  for (int b = 0; b < batches; ++b) {
    ASSERT_TRUE(store.put_batch({b, b * kImages, kImages, 0, 92, 0.01}).is_ok());
  }
  std::mt19937 random(5);
  for (int experiment = 0; experiment < 2; ++experiment) {
    const int count = experiment == 0 ? probabilities : 1;
    for (int l = 0; l < layers; ++l) {
      for (int j = 0; j < count; ++j) {
        SettingRow row;
        row.experiment = experiment;
        row.setting = l * count + j;
        row.experiment_name = experiment == 0 ? "sweep" : "criticality";
        row.group = "layer_" + std::to_string(l);
        row.group_kind = "layer";
        row.group_class = classes[l % 4];
        row.group_index = l;
        row.shape = "[32, 16, 16]";
        row.probability = count == 1 ? 1.0 : static_cast<double>(j) / (count - 1);
        row.metric = experiment == 0 ? "ground_truth" : "golden";
        row.sites = row.group;
        row.site_elements = 8192;
        ASSERT_TRUE(store.put_setting(row).is_ok());
        // Deeper layers and higher p: more damage.
        const double damage = row.probability * (0.1 + 0.8 * l / std::max(1, layers - 1));
        for (int r = 0; r < repetitions; ++r) {
          for (int b = 0; b < batches; ++b) {
            UnitRow unit;
            unit.experiment = experiment;
            unit.setting = row.setting;
            unit.repetition = r;
            unit.batch = b;
            unit.images = kImages;
            unit.faulted = static_cast<int64_t>(std::lround(row.probability * kImages));
            unit.faults = unit.faulted;
            const int64_t sdc = std::min<int64_t>(
                unit.faulted, static_cast<int64_t>(damage * kImages) + random() % 4);
            unit.sdc = sdc;
            unit.nonfinite = unit.faulted > 0 && l % 7 == 0 ? 1 : 0;
            unit.masked = (unit.faulted - sdc - unit.nonfinite) / 2;
            unit.benign = unit.faulted - sdc - unit.nonfinite - unit.masked;
            unit.correct = std::max<int64_t>(0, 92 - sdc);
            unit.agree = kImages - sdc;
            ASSERT_TRUE(store.put_unit(unit).is_ok());
            for (int f = 0; f < std::min<int64_t>(unit.faulted, 6); ++f) {
              FaultRow fault;
              fault.experiment = experiment;
              fault.setting = row.setting;
              fault.repetition = r;
              fault.image = b * kImages + f;
              fault.site = row.group;
              fault.element = random() % 8192;
              fault.bit = static_cast<int>(random() % 32);
              fault.before = 0x3f800000;
              fault.after = fault.before ^ (uint64_t{1} << fault.bit);
              fault.outcome = fault.bit >= 27   ? Outcome::kSdc
                              : fault.bit == 30 ? Outcome::kNonFinite
                              : fault.bit > 15  ? Outcome::kBenign
                                                : Outcome::kMasked;
              ASSERT_TRUE(store.put_fault(fault).is_ok());
            }
          }
        }
      }
    }
  }
  ASSERT_TRUE(store.commit().is_ok());
}

void drop_units(const fs::path& results, int64_t experiment, int64_t repetition, int64_t from_batch,
                int64_t batch_size) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((results / "results.sqlite").c_str(), &db), SQLITE_OK);
  const std::string sql = "DELETE FROM units WHERE experiment = " + std::to_string(experiment) +
                          " AND repetition = " + std::to_string(repetition) +
                          " AND batch >= " + std::to_string(from_batch) +
                          "; DELETE FROM faults WHERE experiment = " + std::to_string(experiment) +
                          " AND repetition = " + std::to_string(repetition) +
                          " AND image >= " + std::to_string(from_batch * batch_size);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

bool gnuplot_available() { return std::system("gnuplot --version >/dev/null 2>&1") == 0; }

int count_occurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

std::string first_duplicate_id(const std::string& html) {
  std::set<std::string> seen;
  for (size_t at = html.find(" id="); at != std::string::npos; at = html.find(" id=", at + 4)) {
    const char quote = html[at + 4];
    if (quote != '\'' && quote != '"') continue;
    const size_t end = html.find(quote, at + 5);
    if (end == std::string::npos) break;
    const std::string id = html.substr(at + 5, end - at - 5);
    if (!seen.insert(id).second) return id;
  }
  return "";
}

}  // namespace nnfi::testing
